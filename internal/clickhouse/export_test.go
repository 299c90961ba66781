package clickhouse

import "testing"

// UnescapeTSV lets the external tests read ClickHouse's TSV answers with
// the decoder the client itself uses.
var UnescapeTSV = unescapeTSV

// EncodedTestRows are the unit tests' table (its DDL, MergeTree) and its
// two rows in RowBinary, in one Native block, and in a Native block per
// row: the server tests hold them against the server's own encodings.
func EncodedTestRows(t *testing.T) (ddl string, rowBinary, native []byte, perRow [][]byte) {
	tb, c := testRowsCollected(t)
	return tb.DDL(""), c.b, nativeBytes(c.all), c.perRow
}

// Compress compresses in ClickHouse's block format (decompress=1).
func Compress(b []byte) []byte {
	var c compressor
	return c.append(nil, b)
}
