//go:build duckdb

// Run by .ci/run (make test): go test -tags duckdb -run DuckDB ./internal/pqwrite/
// It needs cgo (libduckdb comes with the Go module).

package pqwrite

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
)

// TestDuckDBReadsDeltaInt32: DuckDB, an independent reader, reads 32-bit
// columns that the encoding trial made DELTA_BINARY_PACKED, unsigned and
// signed, with differences that wrap around 32 bits: the sums of the
// values it reads are those written.
func TestDuckDBReadsDeltaInt32(t *testing.T) {
	fields := []*Node{
		{Name: "seq", Optional: true, Physical: Int32, Logical: Unsigned, Bits: 32},
		{Name: "signed", Optional: true, Physical: Int32, Logical: Signed, Bits: 32},
	}
	w, buf := newWriter(t, fields)
	w.PageSize = 4 << 10
	var sum uint64
	var sumSigned int64
	for i := range 40000 {
		v := uint32(0x7fffc000) + uint32(i)*0x20000 // crosses 2^31 and 2^32
		sum += uint64(v)
		sumSigned += int64(int32(v))
		w.Columns()[0].Int32(0, int32(v))
		w.Columns()[1].Int32(0, int32(v))
		w.EndRow()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "delta.parquet")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var encodings string
	if err := db.QueryRow("SELECT string_agg(DISTINCT encodings, ';') FROM parquet_metadata('" + path + "')").Scan(&encodings); err != nil {
		t.Fatal(err)
	}
	if encodings != "DELTA_BINARY_PACKED, RLE" {
		t.Fatalf("encodings %q: the trial did not choose the delta encoding", encodings)
	}
	var got uint64
	var gotSigned int64
	var n int
	if err := db.QueryRow("SELECT count(*), sum(seq)::UBIGINT, sum(signed)::BIGINT FROM '"+path+"'").Scan(&n, &got, &gotSigned); err != nil {
		t.Fatal(err)
	}
	if n != 40000 || got != sum || gotSigned != sumSigned {
		t.Errorf("DuckDB read %d rows, sums %d and %d; want 40000, %d and %d", n, got, gotSigned, sum, sumSigned)
	}
}
