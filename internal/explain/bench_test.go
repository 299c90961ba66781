package explain

import (
	"os"
	"path/filepath"
	"testing"

	"flowsift/internal/engine"
	"flowsift/internal/plugins"
)

// benchCapture is the issue-6 benchmark capture (go run ./tools/bench
// builds it); the benchmarks skip when it is missing.
func benchCapture(b *testing.B) string {
	path := filepath.Join(os.TempDir(), "flowsift-bench", "bench-k40.pcap")
	if _, err := os.Stat(path); err != nil {
		b.Skipf("no %s (go run ./tools/bench builds it)", path)
	}
	return path
}

// BenchmarkAnalyze is flowsift explain on the benchmark capture, as the
// text view runs it.
func BenchmarkAnalyze(b *testing.B) {
	path := benchCapture(b)
	for b.Loop() {
		analyze(b, path, Options{Lines: TextLines})
	}
}

// BenchmarkAnalysis is the analysis alone (after the run), on the rows
// of the benchmark capture.
func BenchmarkAnalysis(b *testing.B) {
	path := benchCapture(b)
	opts := &engine.Options{ReadFile: path, Inputs: []string{path}, Sets: map[string]string{}}
	c, rows, err := collect(opts, plugins.Registry(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		a := newAnalysis(c)
		a.lines = TextLines
		a.run(rows)
	}
}
