package tcpdiag

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"flowsift/internal/flow"
	"flowsift/internal/plugin"
	"flowsift/internal/tcptrack"
)

// TestThreadFailureReported: when the analysis goroutine panics, the packet
// goroutine panics in turn with its message (where the engine reports an
// internal error), whether it is adding jobs and waits for a batch that
// never comes back, or drains; it never hangs, and no goroutine is left.
func TestThreadFailureReported(t *testing.T) {
	for _, c := range []struct {
		name string
		jobs int // jobs added after the bad one
	}{
		{"at drain", 10},
		{"while adding", batches * jobsPerBatch * 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			p := newPlugin(&plugin.Env{TCP: tcptrack.New()}, true)
			p.NewFlow(&flow.Flow{Slot: 0}, nil)
			if p.thread == nil {
				t.Fatal("the analysis did not get its goroutine")
			}
			p.add().kind = 99
			got := func() (msg any) {
				defer func() { msg = recover() }()
				for range c.jobs {
					j := p.add()
					j.kind, j.slot = jobNewFlow, 0
				}
				p.drain()
				return nil
			}()
			if s, _ := got.(string); !strings.Contains(s, "tcpDiag analysis: unknown job kind 99") {
				t.Fatalf("panic %v, want the analysis goroutine's", got)
			}
			for i := 0; runtime.NumGoroutine() > before; i++ {
				if i == 100 {
					t.Fatalf("%d goroutines left, %d before", runtime.NumGoroutine(), before)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// TestThreadOnlyWithoutPacketRows: packet rows need each packet's class
// when Packet returns, so runs that write or record them analyse on the
// packet goroutine.
func TestThreadOnlyWithoutPacketRows(t *testing.T) {
	for _, c := range []struct {
		name string
		env  plugin.Env
		want bool
	}{
		{"flow mode", plugin.Env{}, true},
		{"packet rows", plugin.Env{PacketRows: true}, false},
	} {
		c.env.TCP = tcptrack.New()
		p := newPlugin(&c.env, true)
		p.NewFlow(&flow.Flow{Slot: 0}, nil)
		if got := p.thread != nil; got != c.want {
			t.Errorf("%s: threaded %v, want %v", c.name, got, c.want)
		}
		if p.thread != nil {
			p.end()
		}
	}
	// Another reader of the endpoints on the packet goroutine keeps the
	// analysis there too.
	env := &plugin.Env{TCP: tcptrack.New()}
	env.TCP.KeepEndpoints()
	p := newPlugin(env, true)
	p.NewFlow(&flow.Flow{Slot: 0}, nil)
	if p.thread != nil {
		t.Error("threaded beside another endpoint reader")
	}
}
