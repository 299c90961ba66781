package tawk

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestSelect: Select picks exactly the data rows `tawk -H 'expr'` prints,
// whether it runs over the referenced columns only or over whole rows.
func TestSelect(t *testing.T) {
	f := writeFlows(t)
	file, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(file), "\n"), "\n")
	for _, c := range []struct {
		expr    string
		reduced bool
		want    []int
	}{
		{`bitsanyset($tcpAnomaly, 0x000c)`, true, []int{0, 3}},
		{`bitsanyset($tcpAnomaly, 0x000c) && $numBytesSnt > 1000`, true, []int{0, 3}},
		{`$flowInd == 2`, true, []int{2}},
		{`$dir == "A" && length($srcIP) > 7`, true, []int{0, 3}},
		{`flow(36)`, false, []int{3}},
		{`NF > 3 && $flowInd == 1`, false, []int{0, 1}},
		{`tcp() && port(80)`, false, []int{0, 1}},
		{`$0 ~ /fe80/`, false, []int{2}},
	} {
		names := strings.Split(strings.TrimPrefix(lines[0], "%"), "\t")
		if _, ok := onlyNamedColumns(c.expr, names); ok != c.reduced {
			t.Errorf("%q: column projection %v, want %v", c.expr, ok, c.reduced)
		}
		got, err := Select(c.expr, file)
		if err != nil {
			t.Errorf("%q: %v", c.expr, err)
			continue
		}
		var out bytes.Buffer
		Main([]string{"-H", c.expr, f}, nil, &out, &bytes.Buffer{})
		var want []int
		for _, l := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
			for i, row := range lines[1:] {
				if l == row {
					want = append(want, i)
				}
			}
		}
		if !reflect.DeepEqual(got, c.want) || !reflect.DeepEqual(want, c.want) {
			t.Errorf("%q: Select %v, tawk %v, want %v", c.expr, got, want, c.want)
		}
	}
	for _, bad := range []string{`$flowInd ==`, `{ print }`, `BEGIN { x = 1 }`, `$nosuch > 1`} {
		_, err := Select(bad, file)
		var stderr bytes.Buffer
		Main([]string{bad, f}, nil, &bytes.Buffer{}, &stderr)
		fe, ok := err.(*FilterError)
		if !ok {
			t.Errorf("%q: error %v", bad, err)
			continue
		}
		if msg := strings.TrimSpace(stderr.String()); msg != "" && fe.Message != msg {
			t.Errorf("%q: %q, tawk says %q", bad, fe.Message, msg)
		}
	}
}

func TestDecode(t *testing.T) {
	lines, ok := Decode("tcpAnomaly", "0x000c")
	if !ok || len(lines) != 2 || !strings.HasSuffix(lines[0].Text, "| SEQ Fast retransmission") || !strings.Contains(lines[1].Text, "0x0008") {
		t.Errorf("Decode tcpAnomaly=0x000c: %+v", lines)
	}
	lines, ok = Decode("diagFindings", "0x0402")
	if !ok || len(lines) != 2 || !strings.HasSuffix(lines[1].Text, "| Retransmission timeout") {
		t.Errorf("Decode diagFindings=0x0402: %+v", lines)
	}
	if _, err := Select(`system("touch /tmp/flowsift-select-exec") == 0`, []byte("%a\n1\n")); err == nil {
		t.Error("a filter ran a command")
	}
	if _, ok := Decode("srcIP", "1"); ok {
		t.Error("srcIP has no decoder")
	}
}

func FuzzSelect(f *testing.F) {
	file := []byte("%dir\tflowInd\ttcpAnomaly\tsrcIP\nA\t1\t0x000c\t10.0.0.1\nB\t1\t0x0000\t10.0.0.2\n")
	for _, s := range []string{`$flowInd == 1`, `bitsanyset($tcpAnomaly, 4)`, `$srcIP ~ /\.2$/`, `length($dir) > 0 && NR > 1`, `{`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		rows, err := Select(expr, file)
		if err == nil {
			for _, r := range rows {
				if r < 0 || r > 1 {
					t.Fatalf("%q: row %d", expr, r)
				}
			}
		}
	})
}
