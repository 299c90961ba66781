package cli

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"flowsift/internal/plugin"
	"flowsift/internal/plugins/tcpdiag"
)

// TestTcpDiagDocumented: every tcpDiag column and findings bit appears in
// `flowsift config` and in `flowsift tawk -V diagFindings`.
func TestTcpDiagDocumented(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main([]string{"flowsift", "config"}, nil, &out, &errb); code != 0 {
		t.Fatalf("config: exit %d: %s", code, errb.String())
	}
	p := tcpdiag.New(&plugin.Env{})
	for _, c := range append(p.FlowColumns(), p.PacketColumns()...) {
		if !strings.Contains(out.String(), c.Name) || !strings.Contains(out.String(), c.Desc) {
			t.Errorf("config lacks column %s (%s)", c.Name, c.Desc)
		}
	}
	out.Reset()
	if code := Main([]string{"flowsift", "tawk", "-V", "diagFindings=0xffff"}, nil, &out, &errb); code != 0 {
		t.Fatalf("tawk -V: exit %d: %s", code, errb.String())
	}
	for _, b := range tcpdiag.FindingsDoc {
		line := fmt.Sprintf("0x%04x", 1<<b.Bit)
		if !strings.Contains(out.String(), line) || !strings.Contains(out.String(), b.Desc) {
			t.Errorf("tawk -V lacks bit %d (%s)", b.Bit, b.Desc)
		}
	}
}
