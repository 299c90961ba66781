//go:build duckdb

package engine_test

// An independent reader of the typed files: DuckDB (through its Go
// driver, cgo) reads every Parquet and JSON Lines file of the generated
// corpus, and its values of chosen columns must give back the text cells.
// Run by .ci/run: go test -tags duckdb -run DuckDB ./internal/engine/

import (
	"database/sql"
	"fmt"
	"io"
	"math"
	"math/big"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	"flowsift/internal/cli"
	"flowsift/internal/column"
	"flowsift/internal/sink"
)

// Chosen columns: integers, signed ones, hex bit fields, times, durations,
// floats, strings quoted and not, raw strings, MACs, addresses, lists and
// a compound.
var duckFlowCols = []string{"flowInd", "flowStat", "timeFirst", "duration", "hdrDesc", "srcMac", "srcIP", "srcIPOrg", "avgIAT", "tcpFlags", "ipOptCpCl_Num", "tcpJA4T", "padBytesSnt"}
var duckPacketCols = []string{"pktNo", "flowStat", "time", "pktIAT", "hdrDesc", "srcIP", "seqDiff", "tcpFlags", "tcpOpts", "l7Content"}

func TestDuckDBReadsTypedFiles(t *testing.T) {
	caps, flowCols, pktCols := corpusWithColumns(t)
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// One thread: rows come back in file order.
	if _, err := db.Exec("SET threads = 1"); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	var files, rowsN, cells, stats int
	for _, c := range caps {
		if !strings.HasPrefix(c.Rel, "generated/") {
			continue
		}
		prefix := filepath.Join(out, c.Name)
		code := cli.Main([]string{"flowsift", "-r", c.Path, "-w", prefix, "-s", "--format", "text,jsonl,parquet", "--no-progress"}, nil, io.Discard, io.Discard)
		if code != 0 && code != 3 {
			t.Fatalf("%s: exit %d", c.Rel, code)
		}
		for _, kind := range []string{"flows", "packets"} {
			cols, chosen := flowCols, duckFlowCols
			if kind == "packets" {
				cols, chosen = pktCols, duckPacketCols
			}
			want := readTextCells(t, prefix+"_"+kind+".txt", cols)
			paths := map[string]string{"parquet": prefix + "_" + kind + ".parquet", "jsonl": prefix + "_" + kind + ".jsonl"}
			if kind == "packets" {
				// The packet file of Parquet alone, written in place
				// (on one processor).
				alone := prefix + "-alone"
				procs := runtime.GOMAXPROCS(1)
				code := cli.Main([]string{"flowsift", "-r", c.Path, "-w", alone, "-s", "--format", "parquet", "--no-progress"}, nil, io.Discard, io.Discard)
				runtime.GOMAXPROCS(procs)
				if code != 0 && code != 3 {
					t.Fatalf("%s: --format parquet: exit %d", c.Rel, code)
				}
				paths["parquet alone"] = alone + "_packets.parquet"
			}
			for _, name := range []string{"parquet", "jsonl", "parquet alone"} {
				path, format := paths[name], strings.TrimSuffix(name, " alone")
				if path == "" {
					continue
				}
				n := duckCount(t, db, path, format)
				if n != len(want) {
					t.Errorf("%s: DuckDB counts %d rows, want %d", path, n, len(want))
					continue
				}
				files++
				rowsN += n
				if n == 0 {
					continue
				}
				cells += duckCompare(t, db, path, format, cols, chosen, want)
				if format == "parquet" {
					stats += duckStats(t, db, path, cols)
				}
			}
		}
	}
	t.Logf("DuckDB read %d files, %d rows; %d cells of the chosen columns equal the text files'; %d column chunk statistics equal the values", files, rowsN, cells, stats)
	if files < 100 || cells == 0 || stats == 0 {
		t.Fatalf("too little compared: %d files, %d cells", files, cells)
	}
}

// duckStats compares the statistics of every scalar column chunk, as
// DuckDB reads them from the footer, with the least and greatest value and
// the nulls DuckDB finds in the column (files of one row group).
func duckStats(t *testing.T, db *sql.DB, path string, cols []column.Column) int {
	t.Helper()
	type chunk struct {
		min, max sql.NullString
		nulls    int64
	}
	rows, err := db.Query(fmt.Sprintf("SELECT path_in_schema, row_group_id, stats_min_value, stats_max_value, stats_null_count FROM parquet_metadata('%s')", path))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	chunks := map[string]chunk{}
	groups := map[int64]bool{}
	for rows.Next() {
		var name string
		var group int64
		var c chunk
		if err := rows.Scan(&name, &group, &c.min, &c.max, &c.nulls); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		chunks[name] = c
		groups[group] = true
	}
	rows.Close()
	if len(groups) != 1 {
		return 0
	}
	shapes, err := column.Shapes(cols)
	if err != nil {
		t.Fatal(err)
	}
	// One query for every scalar column: least, greatest, nulls.
	var scalar []string
	var sel []string
	for i, c := range cols {
		if shapes[i].Repeated || shapes[i].Compound() {
			continue
		}
		scalar = append(scalar, c.Name)
		sel = append(sel, fmt.Sprintf(`CAST(min("%[1]s") AS VARCHAR), CAST(max("%[1]s") AS VARCHAR), count(*) - count("%[1]s")`, c.Name))
	}
	wants := make([]chunk, len(scalar))
	var ptrs []any
	for i := range wants {
		ptrs = append(ptrs, &wants[i].min, &wants[i].max, &wants[i].nulls)
	}
	if err := db.QueryRow(fmt.Sprintf("SELECT %s FROM read_parquet('%s')", strings.Join(sel, ", "), path)).Scan(ptrs...); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	n := 0
	for i, name := range scalar {
		got, ok := chunks[name]
		if !ok {
			t.Errorf("%s: no statistics of %s", path, name)
			continue
		}
		want := wants[i]
		// A double's zero bounds are widened to -0.0 (min) and +0.0 (max),
		// as the format asks.
		for _, b := range []*sql.NullString{&got.min, &got.max, &want.min, &want.max} {
			if b.String == "-0.0" {
				b.String = "0.0"
			}
		}
		if got != want {
			t.Errorf("%s %s: statistics min %v max %v nulls %d, values min %v max %v nulls %d", path, name, got.min, got.max, got.nulls, want.min, want.max, want.nulls)
			continue
		}
		n++
	}
	return n
}

func duckSource(path, format string) string {
	if format == "parquet" {
		return fmt.Sprintf("read_parquet('%s')", path)
	}
	return fmt.Sprintf("read_json('%s', format = 'newline_delimited')", path)
}

func duckCount(t *testing.T, db *sql.DB, path, format string) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM " + duckSource(path, format)).Scan(&n); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return n
}

// duckCompare selects the chosen columns and compares their values,
// turned back into text cells, with the text file's.
func duckCompare(t *testing.T, db *sql.DB, path, format string, cols []column.Column, chosen []string, want [][]string) int {
	t.Helper()
	idx := map[string]int{}
	for i, c := range cols {
		idx[c.Name] = i
	}
	var sel []string
	for _, name := range chosen {
		c := cols[idx[name]]
		if format == "parquet" && c.Type == "U64.U32" && !c.Duration {
			// The Go driver scans no TIMESTAMPTZ_NS: take its nanoseconds.
			sel = append(sel, fmt.Sprintf(`epoch_ns("%s")`, name))
		} else {
			sel = append(sel, `"`+name+`"`)
		}
	}
	rows, err := db.Query("SELECT " + strings.Join(sel, ", ") + " FROM " + duckSource(path, format))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer rows.Close()
	n, r := 0, 0
	vals := make([]any, len(chosen))
	ptrs := make([]any, len(chosen))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for i, name := range chosen {
			j := idx[name]
			s, err := column.Shapes(cols[j : j+1])
			if err != nil {
				t.Fatal(err)
			}
			w := want[r][j]
			if !duckCellMatches(s[0], format, vals[i], w) {
				t.Errorf("%s row %d %s: DuckDB gives %#v (%T), text %q", path, r+1, name, vals[i], vals[i], w)
				return n
			}
			n++
		}
		r++
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return n
}

// duckCellMatches converts DuckDB's value of a cell back to text through
// the typed values and compares. JSON numbers are doubles to DuckDB: a
// float, time or duration read from JSON must equal the text parsed as a
// double.
func duckCellMatches(s column.Shape, format string, v any, want string) bool {
	if v == nil {
		return want == ""
	}
	if s.Repeated {
		list, ok := v.([]any)
		if !ok {
			return false
		}
		parts := strings.Split(want, ";")
		if want == "" {
			parts = nil
		}
		if len(parts) != len(list) {
			return false
		}
		for i, e := range list {
			if !duckRepMatches(s, format, e, parts[i]) {
				return false
			}
		}
		return true
	}
	return duckRepMatches(s, format, v, want)
}

func duckRepMatches(s column.Shape, format string, v any, want string) bool {
	if !s.Compound() {
		return duckPartMatches(s, s.Parts[0], format, v, want)
	}
	wants := strings.Split(want, "_")
	if len(wants) != len(s.Parts) {
		return false
	}
	switch x := v.(type) {
	case map[string]any: // Parquet: a struct of named parts
		for i, p := range s.Parts {
			if !duckPartMatches(s, p, format, x[p.Name], wants[i]) {
				return false
			}
		}
		return true
	case []any: // JSON: an array of parts
		if len(x) != len(s.Parts) {
			return false
		}
		for i, p := range s.Parts {
			if !duckPartMatches(s, p, format, x[i], wants[i]) {
				return false
			}
		}
		return true
	}
	return false
}

func duckPartMatches(s column.Shape, p column.Part, format string, v any, want string) bool {
	row := &sink.Row{}
	val := sink.TypedValue{Kind: p.Kind}
	switch p.Kind {
	case column.KindUint, column.KindHex, column.KindInt:
		u, ok := duckInt(v)
		if !ok {
			return false
		}
		val.U = u
	case column.KindFloat32, column.KindFloat64:
		f, ok := v.(float64)
		if !ok {
			return false
		}
		if format == "jsonl" {
			w, err := strconv.ParseFloat(want, 64)
			return err == nil && (w == f || math.IsNaN(w) && math.IsNaN(f))
		}
		val.U = math.Float64bits(f)
	case column.KindTime, column.KindDuration:
		if format == "jsonl" {
			f, ok := v.(float64)
			w, err := strconv.ParseFloat(want, 64)
			return ok && err == nil && f == w
		}
		if p.Kind == column.KindTime {
			ns, ok := v.(int64)
			if !ok {
				return false
			}
			val = sink.TimeValue(ns)
		} else {
			f, ok := v.(float64)
			if !ok {
				return false
			}
			val = sink.DurationValue(f)
		}
	default:
		str, ok := v.(string)
		if !ok {
			return false
		}
		row.Bytes = []byte(str)
		val.Len = uint32(len(str))
	}
	return string(sink.AppendPartText(nil, s, p, val, row)) == want
}

// duckInt accepts the driver's integer types (and whole doubles, as DuckDB
// may type a JSON number).
func duckInt(v any) (uint64, bool) {
	switch x := v.(type) {
	case uint8:
		return uint64(x), true
	case uint16:
		return uint64(x), true
	case uint32:
		return uint64(x), true
	case uint64:
		return x, true
	case int8:
		return uint64(int64(x)), true
	case int16:
		return uint64(int64(x)), true
	case int32:
		return uint64(int64(x)), true
	case int64:
		return uint64(x), true
	case *big.Int: // HUGEINT, which DuckDB infers for some JSON integers
		if x.IsInt64() {
			return uint64(x.Int64()), true
		}
		if x.IsUint64() {
			return x.Uint64(), true
		}
	}
	return 0, false
}
