package clickhouse_test

import (
	"bytes"
	"testing"

	"flowsift/internal/clickhouse"
)

// TestNativeAgainstServer holds the Native encoder against a real
// server's own encoder and decoder: the test rows inserted in RowBinary
// come back in Native byte for byte as flowsift encodes them; inserted in
// Native (one block, and a block per row in one insert), they come back
// in RowBinary byte for byte as flowsift's RowBinary encoder wrote them,
// and the blocks of one insert make one part.
func TestNativeAgainstServer(t *testing.T) {
	s := startServer(t)
	ddl, rowBinary, native, perRow := clickhouse.EncodedTestRows(t)
	s.execScript(ddl)
	ask := func(query, params string, body []byte) []byte {
		t.Helper()
		b, err := s.post(query, params, body)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return b
	}
	// Inserts compressed, as flowsift sends them; answers in blocks of 100
	// rows at most.
	post := func(query string, body []byte) []byte { return ask(query, "&decompress=1", clickhouse.Compress(body)) }
	get := func(query string) []byte { return ask(query, "&max_block_size=100", nil) }
	post("INSERT INTO flows FORMAT RowBinary", rowBinary)
	if got := get("SELECT * FROM flows ORDER BY flowInd FORMAT Native"); !bytes.Equal(got, native) {
		t.Errorf("server's Native:\n%x\nflowsift's:\n%x", got, native)
	}
	for name, body := range map[string][]byte{"one block": native, "a block per row": bytes.Join(perRow, nil)} {
		s.query("TRUNCATE TABLE flows")
		post("INSERT INTO flows FORMAT Native", body)
		if got := get("SELECT * FROM flows ORDER BY flowInd FORMAT RowBinary"); !bytes.Equal(got, rowBinary) {
			t.Errorf("%s: server's RowBinary:\n%x\nflowsift's:\n%x", name, got, rowBinary)
		}
	}
	// Blocks of one insert make one part (of a partition): the test rows
	// are months apart, so the first one twice.
	s.query("TRUNCATE TABLE flows")
	post("INSERT INTO flows FORMAT Native", bytes.Join([][]byte{perRow[0], perRow[0]}, nil))
	if n := s.count("SELECT count() FROM system.parts WHERE database = 'default' AND table = 'flows' AND active AND rows = 2"); n != 1 {
		t.Errorf("two blocks in one insert: %d parts of 2 rows, want 1: %s", n,
			s.query("SELECT name, rows FROM system.parts WHERE database = 'default' AND table = 'flows' AND active FORMAT TSV"))
	}
}
