package clickhouse_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"flowsift/internal/cli"
	"flowsift/internal/clickhouse"
	"flowsift/internal/column"
	"flowsift/internal/corpus"
)

// generatedCaptures lists ../shared/corpus/generated/ (skips without it).
func generatedCaptures(t *testing.T) []corpus.Capture {
	t.Helper()
	shared := corpus.SharedDir()
	if shared == "" {
		t.Skip("../shared (corpus) not found; set FLOWSIFT_SHARED")
	}
	all, err := corpus.List(shared)
	if err != nil {
		t.Fatal(err)
	}
	var gen []corpus.Capture
	for _, c := range all {
		if strings.HasPrefix(c.Rel, "generated/") {
			gen = append(gen, c)
		}
	}
	if len(gen) == 0 {
		t.Fatal("no capture in corpus/generated")
	}
	return gen
}

// runCLI runs flowsift in this process.
func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := cli.Main(append([]string{"flowsift"}, args...), strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// TestCorpusOneServer (issue 17, 1a): every capture of the generated
// corpus sent with -s --format text,clickhouse to one server; per
// capture, the tables hold the text files' rows, every cell equal once
// turned back into text by its type.
func TestCorpusOneServer(t *testing.T) {
	caps := generatedCaptures(t)
	s := startServer(t)
	code, schema, stderr := runCLI("clickhouse-schema", "-s")
	if code != 0 {
		t.Fatalf("clickhouse-schema: %d %s", code, stderr)
	}
	s.execScript(schema)
	out := t.TempDir()
	began := time.Now()
	reports := sendAll(t, caps, out, s.URL)
	t.Logf("%d captures sent in %.1f s", len(caps), time.Since(began).Seconds())
	for i, c := range caps {
		stdout := reports[i]
		// The end report says what was sent and accepted.
		flows := readText(t, filepath.Join(out, c.Name+"_flows.txt"))
		pkts := readText(t, filepath.Join(out, c.Name+"_packets.txt"))
		for _, want := range []string{
			fmt.Sprintf("ClickHouse flows: %d rows sent, %d accepted (", len(flows.rows), len(flows.rows)),
			fmt.Sprintf("ClickHouse packets: %d rows sent, %d accepted (", len(pkts.rows), len(pkts.rows)),
		} {
			if !strings.Contains(stdout, want) {
				t.Errorf("%s: report lacks %q", c.Name, want)
			}
		}
	}
	flowCols, pktCols := defaultColumns(t)
	st := compareAll(t, s, "", out, caps, flowCols, pktCols)
	t.Logf("%d captures: %d flow rows, %d packet rows, %d cells equal to the text files (%d out-of-range times NULL, %d long durations nearest double, %d NaN signs)",
		len(caps), st[0].rows, st[1].rows, st[0].cells+st[1].cells,
		st[0].timeNull+st[1].timeNull, st[0].durationNear+st[1].durationNear, st[0].nanSign+st[1].nanSign)
}

// sendAll runs flowsift -s --format text,clickhouse on every capture,
// four at a time (a server answers each request after a while; the runs
// overlap those waits), and returns their reports.
func sendAll(t *testing.T, caps []corpus.Capture, out, url string) []string {
	t.Helper()
	bin := flowsiftBin(t)
	reports := make([]string, len(caps))
	errs := make([]string, len(caps))
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				c := caps[i]
				cmd := exec.Command(bin, "-r", c.Path, "-w", out+"/", "-s", "--format", "text,clickhouse", "--clickhouse", url)
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 3 {
					err = nil // damaged input: what was read is written
				}
				if err != nil {
					errs[i] = fmt.Sprintf("%s: %v\n%s", c.Name, err, stderr.String())
				}
				reports[i] = stdout.String()
			}
		}()
	}
	for i := range caps {
		work <- i
	}
	close(work)
	wg.Wait()
	for _, e := range errs {
		if e != "" {
			t.Fatal(e)
		}
	}
	return reports
}

// compareAll compares the flows and packets tables (prefix applied) with
// the text files of caps in dir, per capture.
func compareAll(t *testing.T, s *server, prefix, dir string, caps []corpus.Capture, flowCols, pktCols []column.Column) [2]compareStats {
	t.Helper()
	var st [2]compareStats
	for i, kind := range []clickhouse.Kind{clickhouse.Flows, clickhouse.Packets} {
		cols := flowCols
		if kind == clickhouse.Packets {
			cols = pktCols
		}
		got := selectRows(t, s, clickhouse.TableName(prefix, kind), kind, cols, "")
		seen := 0
		for _, c := range caps {
			path := filepath.Join(dir, c.Name+"_"+string(kind)+".txt")
			if _, err := os.Stat(path); err != nil {
				t.Fatalf("%s: %v", c.Name, err)
			}
			tf := readText(t, path)
			if strings.Join(tf.names, "\t") != strings.Join(names(cols), "\t") {
				t.Fatalf("%s: text columns differ from the declarations", path)
			}
			sortText(t, kind, tf)
			rows := got[filepath.Base(c.Path)]
			seen += len(rows)
			compareRows(t, c.Name+" "+string(kind), cols, rows, tf.rows, &st[i])
		}
		total := 0
		for _, rows := range got {
			total += len(rows)
		}
		if total != seen {
			t.Errorf("%s: %d rows of captures not sent", kind, total-seen)
		}
	}
	return st
}

func names(cols []column.Column) []string { return column.Names(cols) }
