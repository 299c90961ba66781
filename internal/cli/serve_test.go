package cli

import (
	"bytes"
	"strings"
	"testing"
)

func TestServeCommandLine(t *testing.T) {
	for _, c := range []struct {
		args []string
		rc   int
		msg  string
	}{
		{[]string{"serve"}, 2, "give exactly one of -r and -R"},
		{[]string{"serve", "-r", "a.pcap", "-R", "list"}, 2, "give exactly one of -r and -R"},
		{[]string{"serve", "--bogus"}, 2, "unknown argument --bogus"},
		{[]string{"serve", "-r"}, 2, "-r needs a value"},
		{[]string{"serve", "-r", "/nonexistent/x.pcap"}, 1, "no such file"},
		{[]string{"serve", "-R", "/nonexistent/list"}, 1, "no readable capture file listed"},
		{[]string{"serve", "-r", "../../testdata/sample.pcap", "--addr", "256.0.0.1:1"}, 1, "flowsift serve:"},
	} {
		var out, errb bytes.Buffer
		rc := Main(append([]string{"flowsift"}, c.args...), nil, &out, &errb)
		if rc != c.rc || !strings.Contains(errb.String(), c.msg) {
			t.Errorf("%v: status %d, stderr %q; want %d and %q", c.args, rc, errb.String(), c.rc, c.msg)
		}
	}
	var out bytes.Buffer
	if rc := Main([]string{"flowsift", "serve", "--help"}, nil, &out, &out); rc != 0 || !strings.Contains(out.String(), "Usage: flowsift serve -r CAPTURE|FOLDER") {
		t.Errorf("serve --help: %d %q", rc, out.String())
	}
}
