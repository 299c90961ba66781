package engine

import (
	"io"
	"os"
	"runtime"
	"syscall"
	"testing"
)

// TestInterruptSequence drives the signal loop with injected signals: the
// first sets the stop flag and the status, the second runs the abort hook
// (outputs renamed *.partial) and exits at once with the first signal's
// status.
func TestInterruptSequence(t *testing.T) {
	for _, c := range []struct {
		first, second os.Signal
		status        int
		name          string
	}{
		{syscall.SIGINT, syscall.SIGINT, ExitSIGINT, "SIGINT"},
		{syscall.SIGTERM, syscall.SIGINT, ExitSIGTERM, "SIGTERM"},
	} {
		exited := make(chan int, 1)
		aborted := make(chan bool, 1)
		in := &interrupt{done: make(chan struct{}), ch: make(chan os.Signal, 2), quit: make(chan struct{}),
			exit: func(code int) { exited <- code }}
		abort := func() { aborted <- true }
		in.abort.Store(&abort)
		go in.loop(io.Discard, false)
		if in.interrupted() || in.status() != 0 {
			t.Fatal("interrupted before any signal")
		}
		in.ch <- c.first
		<-in.done
		if !in.interrupted() || in.status() != c.status || in.name() != c.name {
			t.Errorf("%s: interrupted %v, status %d, name %s", c.name, in.interrupted(), in.status(), in.name())
		}
		in.ch <- c.second
		// The immediate exit uses the second signal's number.
		if code := <-exited; code != 128+int(c.second.(syscall.Signal)) {
			t.Errorf("%s then %s: exit %d", c.first, c.second, code)
		}
		if !<-aborted {
			t.Error("abort hook not run")
		}
	}
}

// chanReader returns the chunks sent on c, blocking in between.
type chanReader chan []byte

func (c chanReader) Read(p []byte) (int, error) {
	b, ok := <-c
	if !ok {
		return 0, io.EOF
	}
	return copy(p, b), nil
}

// TestStopReader: after stop, Read hands over what the pump already took
// from a quiet source, then returns io.EOF although the pump may be
// blocked in the source's Read; without stop, data and EOF pass through.
func TestStopReader(t *testing.T) {
	src := make(chanReader)
	stop := make(chan struct{})
	s := newStopReader(src, stop)
	src <- []byte("abc")
	src <- []byte("de")
	for len(s.data) < 2 { // both chunks handed over; the pump waits for a free one
		runtime.Gosched()
	}
	close(stop)
	got, err := io.ReadAll(s)
	if string(got) != "abcde" || err != nil {
		t.Errorf("read %q, %v; want \"abcde\" and no error", got, err)
	}
	close(src)

	src = make(chanReader, 2)
	src <- []byte("xyz")
	close(src)
	got, err = io.ReadAll(newStopReader(src, make(chan struct{})))
	if string(got) != "xyz" || err != nil {
		t.Errorf("read %q, %v; want \"xyz\"", got, err)
	}
}
