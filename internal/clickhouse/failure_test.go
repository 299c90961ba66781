package clickhouse_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"flowsift/internal/clickhouse"
	"flowsift/internal/corpus"
)

// countLines counts the lines of a file (0 when it does not exist).
func countLines(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		n++
	}
	return n
}

// TestServerStoppedMidRun (issue 17, 1c): the server stops while a
// capture is being read. flowsift retries for the bounded time, exits 1
// naming the failed-batch files, which hold exactly the rows the table
// did not get; after a restart clickhouse-send delivers them, and the
// tables then equal the text files: no row lost, none twice.
func TestServerStoppedMidRun(t *testing.T) {
	caps := generatedCaptures(t)
	var c corpus.Capture
	for _, cp := range caps {
		if cp.Name == "02_loss_bulk_sender_side" {
			c = cp
		}
	}
	if c.Path == "" {
		t.Fatal("02_loss_bulk_sender_side not in the corpus")
	}
	pcap, err := os.ReadFile(c.Path)
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t)
	_, schema, _ := runCLI("clickhouse-schema", "-s")
	s.execScript(schema)

	// The capture arrives on stdin: the first half, then (server stopped)
	// the rest. Named like the file, so that the outputs are.
	out := t.TempDir()
	prefix := filepath.Join(out, c.Name)
	cmd := exec.Command(flowsiftBin(t), "-r", "-", "-w", prefix, "-s", "--format", "text,clickhouse",
		"--clickhouse", s.URL, "--clickhouse-retry", "2", "--clickhouse-batch", "100")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	half := len(pcap) / 2
	if _, err := stdin.Write(pcap[:half]); err != nil {
		t.Fatal(err)
	}
	// Wait until packet rows arrive and then stay unchanged for longer
	// than the batch age bound: nothing is in flight when the server stops.
	var sent int64
	stable := time.Now()
	deadline := time.Now().Add(60 * time.Second)
	for {
		n := s.count("SELECT count() FROM packets")
		if n != sent {
			sent, stable = n, time.Now()
		}
		if sent > 0 && time.Since(stable) > 3*time.Second {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no stable packet rows in the table after 60 s (%d)", sent)
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.stop()
	if _, err := stdin.Write(pcap[half:]); err != nil {
		t.Fatal(err)
	}
	stdin.Close()
	err = cmd.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, stderr.String())
	}
	flowFailed := clickhouse.FailedPath(prefix, clickhouse.Flows)
	pktFailed := clickhouse.FailedPath(prefix, clickhouse.Packets)
	for _, want := range []string{"rows not accepted are kept in " + pktFailed, "flowsift clickhouse-send " + flowFailed + " --clickhouse"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	// The text files are complete and keep their names.
	flows := readText(t, prefix+"_flows.txt")
	pkts := readText(t, prefix+"_packets.txt")
	t.Logf("%d packet rows accepted before the stop; stderr:\n%s", sent, stderr.String())

	s.start()
	gotPkts := s.count("SELECT count() FROM packets")
	gotFlows := s.count("SELECT count() FROM flows")
	if gotPkts != sent {
		t.Errorf("packets table: %d rows after the restart, %d before the stop", gotPkts, sent)
	}
	keptPkts, keptFlows := countLines(t, pktFailed), countLines(t, flowFailed)
	if int(gotPkts)+keptPkts != len(pkts.rows) || keptPkts == 0 {
		t.Errorf("packets: %d in the table + %d kept, text file %d", gotPkts, keptPkts, len(pkts.rows))
	}
	if int(gotFlows)+keptFlows != len(flows.rows) || keptFlows == 0 {
		t.Errorf("flows: %d in the table + %d kept, text file %d", gotFlows, keptFlows, len(flows.rows))
	}
	// The end report says it too.
	if !strings.Contains(stdout.String(), "ClickHouse packets: ") || !strings.Contains(stdout.String(), " kept in "+pktFailed) {
		t.Errorf("report:\n%s", stdout.String())
	}

	code, sendOut, sendErr := runFlowsift(t, nil, "clickhouse-send", flowFailed, pktFailed, "--clickhouse", s.URL)
	if code != 0 {
		t.Fatalf("clickhouse-send: exit %d\n%s", code, sendErr)
	}
	t.Logf("clickhouse-send: %s", sendOut)
	for _, f := range []string{flowFailed, pktFailed} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s not removed after it was sent", f)
		}
	}
	// Name the capture as the run did (stdin) for the comparison.
	c.Path = "stdin"
	flowCols, pktCols := defaultColumns(t)
	st := compareAll(t, s, "", out, []corpus.Capture{c}, flowCols, pktCols)
	if st[0].rows != len(flows.rows) || st[1].rows != len(pkts.rows) {
		t.Errorf("compared %d flow and %d packet rows", st[0].rows, st[1].rows)
	}

	// SIGINT, as for files: what was read is written, and sent.
	prefix2 := filepath.Join(out, "interrupted")
	cmd = exec.Command(flowsiftBin(t), "-r", "-", "-w", prefix2, "-s", "-x", "99", "--format", "text,clickhouse", "--clickhouse", s.URL)
	if stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	stdout.Reset()
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	if _, err := stdin.Write(pcap[:half]); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(60 * time.Second)
	for s.count("SELECT count() FROM packets WHERE sensor = 99") == 0 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("no packet rows of the second run after 60 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	cmd.Process.Signal(os.Interrupt)
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("SIGINT: %v\n%s", err, stderr.String())
	}
	flows2 := readText(t, prefix2+"_flows.txt")
	pkts2 := readText(t, prefix2+"_packets.txt")
	nf := s.count("SELECT count() FROM flows WHERE sensor = 99")
	np := s.count("SELECT count() FROM packets WHERE sensor = 99")
	if int(nf) != len(flows2.rows) || int(np) != len(pkts2.rows) || np == 0 || np >= int64(len(pkts.rows)) {
		t.Errorf("interrupted run: tables %d flows, %d packets; text files %d, %d", nf, np, len(flows2.rows), len(pkts2.rows))
	}
	t.Logf("interrupted run: %d flow rows and %d packet rows in the tables and the text files", nf, np)
}
