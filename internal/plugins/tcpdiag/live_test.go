package tcpdiag

import (
	"bytes"
	"strings"
	"testing"

	"flowsift/internal/plugin"
	"flowsift/internal/report"
)

// TestLiveCaptureLine: in a live capture the report relates the segments
// missed by the capture to the kernel's drop counter.
func TestLiveCaptureLine(t *testing.T) {
	for _, c := range []struct {
		capLoss, recv, drop uint64
		want                string
	}{
		{3, 1000, 7, "Live capture: 7 of 1000 packets dropped by the kernel (capture losses are at least partly flowsift's own: a larger ring, -B, helps)"},
		{3, 1000, 0, "Live capture: 0 of 1000 packets dropped by the kernel (the capture losses happened before flowsift's socket: switch, mirror port, NIC)"},
		{0, 1000, 0, "Live capture: 0 of 1000 packets dropped by the kernel"},
	} {
		env := &plugin.Env{Live: true, KernelReceived: c.recv, KernelDropped: c.drop}
		p := New(env)
		p.tot.segs, p.tot.capLoss = 10, c.capLoss
		var buf bytes.Buffer
		p.Report(&report.Report{W: &buf})
		if !strings.Contains(buf.String(), "tcpDiag: "+c.want+"\n") {
			t.Errorf("report:\n%s\nwant the line %q", buf.String(), c.want)
		}
	}
	// Not live: no such line.
	p := New(&plugin.Env{})
	p.tot.segs = 10
	var buf bytes.Buffer
	p.Report(&report.Report{W: &buf})
	if strings.Contains(buf.String(), "Live capture") {
		t.Errorf("a file run mentions live capture:\n%s", buf.String())
	}
}
