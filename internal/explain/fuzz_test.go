package explain

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzExplain: any capture bytes give a result (or an error), never a
// panic or a hang, and the result marshals and renders. It exercises the
// facts plugin's parsing (fragments, checksums, keep-alives) and the
// analysis on whatever flows come out.
func FuzzExplain(f *testing.F) {
	if b, err := os.ReadFile("../../testdata/sample.pcap"); err == nil {
		f.Add(b, uint8(0))
		f.Add(b, uint8(1))
	}
	for _, p := range []string{"10_frag_crafted_ipv4.pcap", "12_checksum_bad_crafted.pcap", "16_ttl_change_crafted.pcap"} {
		if b, err := os.ReadFile(filepath.Join("/work/shared/corpus/generated", p)); err == nil && len(b) < 1<<16 {
			f.Add(b, uint8(3))
		}
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, flowN uint8) {
		path := filepath.Join(dir, "in.pcap")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := AnalyzeFlowForTest(path, uint64(flowN))
		if err != nil {
			return
		}
		if _, err := json.Marshal(res); err != nil {
			t.Fatal(err)
		}
		if err := WriteText(io.Discard, res, TextOptions{All: true}); err != nil {
			t.Fatal(err)
		}
	})
}
