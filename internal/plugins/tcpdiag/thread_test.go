package tcpdiag_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"flowsift/internal/corpus"
	"flowsift/internal/engine"
	"flowsift/internal/plugins"
	"flowsift/internal/plugins/tcpdiag"
)

// TestThreadSameBytes runs every capture of the corpus (and the truth
// captures) in flow mode with the analysis on its own goroutine and on the
// packet goroutine (tcpDiag.THREAD=0), and compares the flow files and the
// end reports byte for byte: with the default flow timeout, where most
// rows are written at the end, and with a timeout of 50 ms, where flows
// end and slots are reused all along the capture, so that the analysis
// goroutine is drained many times.
func TestThreadSameBytes(t *testing.T) {
	shared := shared(t)
	caps, err := corpus.List(shared)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, c := range caps {
		paths = append(paths, c.Path)
	}
	truth, _ := filepath.Glob(filepath.Join(shared, "corpus", "truth", "*.pcap"))
	paths = append(paths, truth...)
	if testing.Short() {
		paths = truth
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	threadedRuns, midRun := 0, 0
	for _, timeout := range []string{"", "0.05"} {
		for _, p := range paths {
			threaded := runDiag(t, p, timeout, "1")
			if threaded.syncs > 0 {
				threadedRuns++
			}
			if threaded.syncs > 1 {
				midRun++
			}
			plain := runDiag(t, p, timeout, "0")
			if plain.syncs != 0 {
				t.Fatalf("%s: THREAD=0 waited for an analysis goroutine", p)
			}
			if !bytes.Equal(threaded.flows, plain.flows) {
				t.Errorf("%s (timeout %q): flow files differ", p, timeout)
			}
			if threaded.report != plain.report {
				t.Errorf("%s (timeout %q): reports differ:\n%s\n---\n%s", p, timeout, threaded.report, plain.report)
			}
		}
	}
	if threadedRuns == 0 {
		t.Fatal("no run handed its segments to an analysis goroutine")
	}
	if midRun < 10 {
		t.Errorf("only %d runs drained the analysis goroutine before their end", midRun)
	}
	t.Logf("%d captures, twice: %d runs with the analysis goroutine, %d of them drained before their end", len(paths), threadedRuns, midRun)
}

type diagRun struct {
	flows  []byte
	report string
	syncs  int // the packet goroutine's waits for the analysis goroutine
}

func runDiag(t *testing.T, capture, timeout, thread string) diagRun {
	t.Helper()
	dir := t.TempDir()
	sets := map[string]string{"tcpDiag.THREAD": thread}
	if timeout != "" {
		sets["core.FLOW_TIMEOUT"] = timeout
	}
	var out bytes.Buffer
	opts := &engine.Options{ReadFile: capture, Inputs: []string{capture}, Prefix: dir + "/",
		Plugins: diagPlugins, Sets: sets}
	// A cut capture ends with its own exit status; both runs must agree.
	reg := plugins.Registry()
	var made []*tcpdiag.Plugin
	tcpdiag.RecordBuilt(reg, &made)
	st := engine.Run(opts, reg, &out, io.Discard)
	if len(made) != 1 {
		t.Fatalf("%s: %d tcpDiag plugins built", capture, len(made))
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*_flows.txt"))
	if len(files) != 1 {
		t.Fatalf("%s: flow files %q", capture, files)
	}
	flows, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	// What depends on the moment and the process, not on the capture.
	var kept []string
	for _, l := range strings.Split(out.String(), "\n") {
		if !strings.Contains(l, "PID:") && !strings.HasPrefix(l, "Date:") && !strings.Contains(l, "Time:") &&
			!strings.Contains(l, "Elapsed time") && !strings.Contains(l, "Memory usage") &&
			!strings.Contains(l, "/s") && !strings.Contains(l, "andwidth") {
			kept = append(kept, l)
		}
	}
	return diagRun{flows, fmt.Sprintf("exit %d\n%s", st, strings.Join(kept, "\n")), made[0].Syncs()}
}
