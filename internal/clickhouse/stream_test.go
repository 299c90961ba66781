package clickhouse_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"flowsift/internal/clickhouse"
	"flowsift/internal/column"
	"flowsift/internal/sink"
)

// TestStreamRefusedEarly: the server refuses an insert while its batch is
// still being streamed (the table is gone: the answer comes before the
// body's end). The run neither hangs nor loses a row: the batch is sent
// again whole, refused again, and kept; once the table exists,
// clickhouse-send delivers every row, once.
func TestStreamRefusedEarly(t *testing.T) {
	s := startServer(t)
	cols := []column.Column{{Name: "flowInd", Type: "U64"}, {Name: "timeFirst", Type: "U64.U32"}, {Name: "hdrDesc", Type: "SC:R"}}
	tb, err := clickhouse.NewTable(clickhouse.Flows, "late_flows", cols)
	if err != nil {
		t.Fatal(err)
	}
	c, err := clickhouse.NewClient(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	c.Retry = time.Second
	failed := filepath.Join(t.TempDir(), "run_flows"+clickhouse.FailedSuffix)
	out, err := clickhouse.NewOutput(c, tb, clickhouse.OutputConfig{Sensor: 5, Capture: "x.pcap", FailedPath: failed})
	if err != nil {
		t.Fatal(err)
	}
	a := sink.NewAsyncOutputs(out)
	const rows = 30000 // several blocks: the first one is refused before the last is made
	for i := 0; i < rows; i++ {
		a.Col()
		a.U(uint64(i))
		a.Col()
		a.Time(1700000000+uint64(i), 1)
		a.Col()
		a.Rep()
		a.StrClassString("eth:ipv4")
		a.Rep()
		a.StrClassString(fmt.Sprint(i))
		a.EndRow()
	}
	done := make(chan struct{})
	go func() {
		a.Close()
		out.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("the output did not end within 60 s")
	}
	st := out.Stats()
	if out.Failure() == nil || !strings.Contains(out.Failure().Error(), "late_flows") || st.Accepted != 0 || st.Kept != rows || st.Sent != rows {
		t.Fatalf("failure %v; stats %+v", out.Failure(), st)
	}
	if n := countLines(t, failed); n != rows {
		t.Fatalf("%d rows kept, want %d", n, rows)
	}
	s.execScript(tb.DDL(""))
	res, err := clickhouse.SendFile(context.Background(), c, "late_flows", failed, clickhouse.DefaultBatchRows)
	if err != nil || res.Accepted != rows {
		t.Fatalf("clickhouse-send: %+v %v", res, err)
	}
	got := s.query("SELECT count(), uniqExact(flowInd), sum(flowInd), min(sensor), max(sensor), any(captureFile), sum(length(hdrDesc)), countIf(hdrDesc[2] = toString(flowInd)) FROM late_flows FORMAT TSV")
	want := fmt.Sprintf("%d\t%d\t%d\t5\t5\tx.pcap\t%d\t%d\n", rows, rows, rows*(rows-1)/2, 2*rows, rows)
	if got != want {
		t.Errorf("table: %q, want %q", got, want)
	}
}
