package engine_test

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"

	"flowsift/internal/cli"
	"flowsift/internal/column"
	"flowsift/internal/corpus"
	"flowsift/internal/engine"
	"flowsift/internal/plugins"
	"flowsift/internal/sink"
)

// corpusWithColumns lists the corpus captures (the test skips without
// ../shared) and the default flow and packet columns.
func corpusWithColumns(t *testing.T) ([]corpus.Capture, []column.Column, []column.Column) {
	t.Helper()
	shared := corpus.SharedDir()
	if shared == "" {
		t.Skip("../shared not found")
	}
	caps, err := corpus.List(shared)
	if err != nil {
		t.Fatal(err)
	}
	flowCols, pktCols, err := engine.Columns(&engine.Options{}, plugins.Registry())
	if err != nil {
		t.Fatal(err)
	}
	return caps, flowCols, pktCols
}

// TestFormatsRoundTrip runs every corpus capture with -s and all four
// formats and converts the JSON Lines, CSV and Parquet flow and packet
// files back to text cells, which must equal the text files' cells. A
// second run with Parquet alone, on one processor, checks the packet file
// written in place, without the tape (sink.NewRows).
func TestFormatsRoundTrip(t *testing.T) {
	caps, flowCols, pktCols := corpusWithColumns(t)
	out := t.TempDir()
	cells := map[string]int{}
	nfiles := 0
	nearest := 0 // Parquet cells beyond their type (see compareCells)
	for _, c := range caps {
		prefix := filepath.Join(out, strings.ReplaceAll(c.Rel, "/", "_"))
		code := cli.Main([]string{"flowsift", "-r", c.Path, "-w", prefix, "-s", "--format", "text,jsonl,csv,parquet", "--no-progress"}, nil, io.Discard, io.Discard)
		if code != 0 && code != 3 {
			t.Errorf("%s: exit %d", c.Rel, code)
			continue
		}
		for _, kind := range []string{"flows", "packets"} {
			cols := flowCols
			if kind == "packets" {
				cols = pktCols
			}
			want := readTextCells(t, prefix+"_"+kind+".txt", cols)
			for format, read := range map[string]func(*testing.T, string, []column.Column) [][]string{
				"csv": readCSVCells, "jsonl": readJSONLCells, "parquet": readParquetCells,
			} {
				got := read(t, prefix+"_"+kind+"."+format, cols)
				var approx *int
				if format == "parquet" {
					approx = &nearest
				}
				cells[format] += compareCells(t, c.Rel+" "+kind+"."+format, cols, want, got, approx)
				nfiles++
			}
			if kind == "packets" {
				cells["parquet alone"] += compareParquetAlone(t, c.Path, prefix, cols, want, &nearest)
				nfiles++
			}
		}
	}
	t.Logf("%d captures, %d files compared; cells equal to the text files': %v; Parquet cells beyond their type (durations beyond a double's digits, times beyond TIMESTAMP(NANOS)): %d", len(caps), nfiles, cells, nearest)
	if len(caps) < 50 || cells["parquet"] == 0 || cells["parquet alone"] == 0 {
		t.Fatalf("too little compared: %d captures, %v", len(caps), cells)
	}
}

// compareParquetAlone runs capture with -s --format parquet and the
// arguments args, and compares the packet file's cells with want (the
// text file's); it returns the number of equal cells.
func compareParquetAlone(t *testing.T, capture, prefix string, cols []column.Column, want [][]string, approx *int, args ...string) int {
	t.Helper()
	// On one processor the packet file of Parquet alone is written in
	// place (openOutputs); the tape's is the one of the run with every
	// format.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	alone := prefix + "-alone"
	code := cli.Main(append([]string{"flowsift", "-r", capture, "-w", alone, "-s", "--format", "parquet", "--no-progress"}, args...), nil, io.Discard, io.Discard)
	if code != 0 && code != 3 {
		t.Errorf("%s: --format parquet: exit %d", capture, code)
		return 0
	}
	return compareCells(t, alone+"_packets.parquet", cols, want, readParquetCells(t, alone+"_packets.parquet", cols), approx)
}

// compareCells compares cell by cell and returns the number of equal
// cells. With approx (Parquet), two kinds of cells that a Parquet type
// cannot hold exactly are checked for what they must be instead, and
// counted in *approx: a duration whose signed nanoseconds exceed 2^53 (a
// double cannot keep every digit; only Tranalyzer's wrapped negative
// durations get there) must be the nearest double; a time outside the
// TIMESTAMP(NANOS) range (tcpBtm's wrapped estimates) must be null.
func compareCells(t *testing.T, name string, cols []column.Column, want, got [][]string, approx *int) int {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d rows, want %d", name, len(got), len(want))
		return 0
	}
	n := 0
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Errorf("%s row %d: %d cells, want %d", name, i+1, len(got[i]), len(want[i]))
			return n
		}
		for j := range want[i] {
			if got[i][j] != want[i][j] && approx != nil {
				if cols[j].Duration && nearestDouble(got[i][j], want[i][j]) || cols[j].Type == "U64.U32" && !cols[j].Duration && got[i][j] == "" && !timestampRange(want[i][j]) {
					*approx++
					continue
				}
			}
			if got[i][j] != want[i][j] {
				t.Errorf("%s row %d %s: %q, want %q", name, i+1, cols[j].Name, got[i][j], want[i][j])
				return n
			}
			n++
		}
	}
	return n
}

// readTextCells reads a text file's rows; the header must name cols.
func readTextCells(t *testing.T, path string, cols []column.Column) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if lines[0] != "%"+strings.Join(column.Names(cols), "\t") {
		t.Fatalf("%s: header %q", path, lines[0])
	}
	var rows [][]string
	for _, l := range lines[1:] {
		rows = append(rows, strings.Split(l, "\t"))
	}
	return rows
}

func readCSVCells(t *testing.T, path string, cols []column.Column) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = len(cols)
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if strings.Join(recs[0], "\t") != strings.Join(column.Names(cols), "\t") {
		t.Fatalf("%s: header %q", path, recs[0])
	}
	return recs[1:]
}

// readJSONLCells converts each object back to text cells through the
// typed values: the keys must be the column names in order.
func readJSONLCells(t *testing.T, path string, cols []column.Column) [][]string {
	t.Helper()
	shapes, err := column.Shapes(cols)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	var rows [][]string
	for sc.Scan() {
		d := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		d.UseNumber()
		if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
			t.Fatalf("%s: line %d: not an object", path, len(rows)+1)
		}
		var row sink.Row
		var cells []string
		for i := range cols {
			key, err := d.Token()
			if err != nil || key != cols[i].Name {
				t.Fatalf("%s line %d: key %v, want %s (%v)", path, len(rows)+1, key, cols[i].Name, err)
			}
			var v any
			if err := d.Decode(&v); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			row = sink.Row{}
			row.Cells = []sink.Cell{{}}
			s := shapes[i]
			reps := []any{v}
			if s.Repeated {
				reps = v.([]any)
			} else if v == nil {
				reps = nil
			}
			for _, rep := range reps {
				parts := []any{rep}
				if s.Compound() {
					parts = rep.([]any)
				}
				for p, pv := range parts {
					row.Vals = append(row.Vals, jsonValue(t, s.Parts[p], pv, &row))
				}
				row.Cells[0].Reps++
			}
			cells = append(cells, string(sink.AppendCellText(nil, []column.Shape{s}, &row, 0)))
		}
		if tok, err := d.Token(); err != nil || tok != json.Delim('}') {
			t.Fatalf("%s line %d: more keys than columns", path, len(rows)+1)
		}
		rows = append(rows, cells)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

func jsonValue(t *testing.T, p column.Part, v any, row *sink.Row) sink.TypedValue {
	t.Helper()
	if v == nil {
		return sink.TypedValue{}
	}
	val := sink.TypedValue{Kind: p.Kind}
	switch p.Kind {
	case column.KindUint, column.KindHex:
		u, err := strconv.ParseUint(string(v.(json.Number)), 10, 64)
		if err != nil {
			t.Fatalf("%v: %v", v, err)
		}
		val.U = u
	case column.KindInt:
		i, err := strconv.ParseInt(string(v.(json.Number)), 10, 64)
		if err != nil {
			t.Fatalf("%v: %v", v, err)
		}
		val.U = uint64(i)
	case column.KindFloat32, column.KindFloat64:
		var f float64
		switch x := v.(type) {
		case json.Number:
			f, _ = strconv.ParseFloat(string(x), 64)
		case string:
			f = nonFinite(x)
		}
		if p.Kind == column.KindFloat32 {
			f = float64(float32(f))
		}
		val.U = math.Float64bits(f)
	case column.KindTime, column.KindDuration:
		sec, nsec, _ := strings.Cut(string(v.(json.Number)), ".")
		val.U, _ = strconv.ParseUint(sec, 10, 64)
		n, _ := strconv.ParseUint(nsec, 10, 32)
		val.N = uint32(n)
	default:
		s := v.(string)
		val.Off, val.Len = uint32(len(row.Bytes)), uint32(len(s))
		row.Bytes = append(row.Bytes, s...)
	}
	return val
}

func nonFinite(s string) float64 {
	switch s {
	case "nan":
		return math.NaN()
	case "-nan":
		return math.Copysign(math.NaN(), -1)
	case "inf":
		return math.Inf(1)
	}
	return math.Inf(-1)
}

// readParquetCells reads a Parquet file with parquet-go's row reader and
// converts each row back to text cells through the typed values.
func readParquetCells(t *testing.T, path string, cols []column.Column) [][]string {
	t.Helper()
	shapes, err := column.Shapes(cols)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	fields := pf.Schema().Fields()
	if len(fields) != len(cols) {
		t.Fatalf("%s: %d fields, want %d", path, len(fields), len(cols))
	}
	for i, fl := range fields {
		if fl.Name() != cols[i].Name {
			t.Fatalf("%s: field %d is %s, want %s", path, i, fl.Name(), cols[i].Name)
		}
	}
	var rows [][]string
	buf := make([]parquet.Row, 64)
	for _, rg := range pf.RowGroups() {
		rr := rg.Rows()
		for {
			n, err := rr.ReadRows(buf)
			for _, pr := range buf[:n] {
				rows = append(rows, parquetRowCells(t, shapes, pr))
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
		}
		rr.Close()
	}
	return rows
}

func parquetRowCells(t *testing.T, shapes []column.Shape, pr parquet.Row) []string {
	// Values by leaf column, in order.
	byLeaf := map[int][]parquet.Value{}
	for _, v := range pr {
		byLeaf[v.Column()] = append(byLeaf[v.Column()], v)
	}
	var cells []string
	leaf := 0
	for _, s := range shapes {
		np := len(s.Parts)
		maxDef := 1
		if s.Compound() {
			maxDef++
		}
		if s.Repeated {
			maxDef++
		}
		row := sink.Row{Cells: []sink.Cell{{}}}
		first := byLeaf[leaf]
		reps := len(first)
		if len(first) == 1 && first[0].DefinitionLevel() == 0 {
			reps = 0 // null cell or empty list
		}
		for rep := 0; rep < reps; rep++ {
			for p := 0; p < np; p++ {
				v := byLeaf[leaf+p][rep]
				if v.DefinitionLevel() < maxDef {
					row.Vals = append(row.Vals, sink.TypedValue{})
					continue
				}
				row.Vals = append(row.Vals, parquetValue(s.Parts[p], v, &row))
			}
			row.Cells[0].Reps++
		}
		cells = append(cells, string(sink.AppendCellText(nil, []column.Shape{s}, &row, 0)))
		leaf += np
	}
	return cells
}

func parquetValue(p column.Part, v parquet.Value, row *sink.Row) sink.TypedValue {
	val := sink.TypedValue{Kind: p.Kind}
	switch p.Kind {
	case column.KindUint, column.KindHex:
		if p.Bits == 64 {
			val.U = v.Uint64()
		} else {
			val.U = uint64(v.Uint32())
		}
	case column.KindInt:
		if p.Bits == 64 {
			val.U = uint64(v.Int64())
		} else {
			val.U = uint64(int64(v.Int32()))
		}
	case column.KindFloat32, column.KindFloat64:
		val.U = math.Float64bits(v.Double())
	case column.KindTime:
		val = sink.TimeValue(v.Int64())
	case column.KindDuration:
		val = sink.DurationValue(v.Double())
	default:
		s := v.ByteArray()
		val.Off, val.Len = uint32(len(row.Bytes)), uint32(len(s))
		row.Bytes = append(row.Bytes, s...)
	}
	return val
}

// timestampRange reports whether a time cell fits a Parquet
// TIMESTAMP(NANOS) (the years 1677 to 2262, seconds read as signed).
func timestampRange(text string) bool {
	v := sink.TypedValue{Kind: column.KindTime}
	sec, nsec, _ := strings.Cut(text, ".")
	v.U, _ = strconv.ParseUint(sec, 10, 64)
	n, _ := strconv.ParseUint(nsec, 10, 32)
	v.N = uint32(n)
	_, ok := v.TimeNanos()
	return ok
}

// nearestDouble reports whether a duration's text is beyond a double's
// precision and got is what the nearest double of want gives back.
func nearestDouble(got, want string) bool {
	v := sink.TypedValue{Kind: column.KindDuration}
	sec, nsec, _ := strings.Cut(want, ".")
	v.U, _ = strconv.ParseUint(sec, 10, 64)
	n, _ := strconv.ParseUint(nsec, 10, 32)
	v.N = uint32(n)
	ns, ok := v.TimeNanos()
	if ok && ns < 1<<53 && ns > -(1<<53) {
		return false
	}
	return string(sink.AppendPartText(nil, column.Shape{}, column.Part{Kind: column.KindDuration}, sink.DurationValue(v.Seconds()), nil)) == got
}

var _ = fmt.Sprint

// TestCompressedOutputs: --compress gzip and zstd write NAME.gz / NAME.zst
// whose content is exactly the uncompressed run's; Parquet is not wrapped.
func TestCompressedOutputs(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join("..", "..", "testdata", "sample.pcap")
	run := func(prefix string, extra ...string) {
		args := append([]string{"flowsift", "-r", in, "-w", filepath.Join(dir, prefix), "-s", "--format", "text,jsonl,csv,parquet", "--no-progress"}, extra...)
		if code := cli.Main(args, nil, io.Discard, io.Discard); code != 0 {
			t.Fatalf("%v: exit %d", extra, code)
		}
	}
	run("plain")
	run("gz", "--compress", "gzip")
	run("zst", "--compress", "zstd")
	for _, kind := range []string{"flows", "packets"} {
		for _, ext := range []string{".txt", ".jsonl", ".csv"} {
			want, err := os.ReadFile(filepath.Join(dir, "plain_"+kind+ext))
			if err != nil {
				t.Fatal(err)
			}
			gzb, err := os.ReadFile(filepath.Join(dir, "gz_"+kind+ext+".gz"))
			if err != nil {
				t.Fatal(err)
			}
			zr, err := gzip.NewReader(bytes.NewReader(gzb))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(zr)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("gzip %s%s: %d bytes (%v), want %d", kind, ext, len(got), err, len(want))
			}
			zsb, err := os.ReadFile(filepath.Join(dir, "zst_"+kind+ext+".zst"))
			if err != nil {
				t.Fatal(err)
			}
			zd, _ := zstd.NewReader(nil)
			got, err = zd.DecodeAll(zsb, nil)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("zstd %s%s: %d bytes (%v), want %d", kind, ext, len(got), err, len(want))
			}
			if len(gzb) >= len(want) || len(zsb) >= len(want) {
				t.Errorf("%s%s: not smaller: gzip %d, zstd %d, plain %d", kind, ext, len(gzb), len(zsb), len(want))
			}
		}
		b, _ := os.ReadFile(filepath.Join(dir, "gz_"+kind+".parquet"))
		if !bytes.HasPrefix(b, []byte("PAR1")) || !bytes.HasSuffix(b, []byte("PAR1")) {
			t.Errorf("gz_%s.parquet is not a plain Parquet file", kind)
		}
	}
	// tawk reads the compressed text files.
	var out bytes.Buffer
	for _, p := range []string{"gz_flows.txt.gz", "zst_flows.txt.zst"} {
		out.Reset()
		if code := cli.Main([]string{"flowsift", "tawk", "flow(1) { print $flowInd, $dir }", filepath.Join(dir, p)}, nil, &out, io.Discard); code != 0 || out.String() != "flowInd\t%dir\n1\tA\n1\tB\n" {
			t.Errorf("tawk %s: exit %d, %q", p, code, out.String())
		}
	}
}

// TestJSONHex: --json-hex writes hex bit fields as Tranalyzer's strings.
func TestJSONHex(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join("..", "..", "testdata", "sample.pcap")
	for _, hex := range []bool{false, true} {
		args := []string{"flowsift", "-r", in, "-w", filepath.Join(dir, "x"), "--format", "jsonl", "--no-progress"}
		if hex {
			args = append(args, "--json-hex")
		}
		if code := cli.Main(args, nil, io.Discard, io.Discard); code != 0 {
			t.Fatalf("exit %d", code)
		}
		b, _ := os.ReadFile(filepath.Join(dir, "x_flows.jsonl"))
		first, _, _ := strings.Cut(string(b), "\n")
		want := `"flowStat":288230376151728128,`
		want2 := `"ethType":2048,`
		if hex {
			want = `"flowStat":"0x0400000000004000",`
			want2 = `"ethType":"0x0800",`
		}
		if !strings.Contains(first, want) || !strings.Contains(first, want2) || !strings.HasPrefix(first, `{"dir":"A","flowInd":1,`) {
			t.Errorf("json-hex=%v: %s", hex, first)
		}
		if _, err := os.Stat(filepath.Join(dir, "x_flows.txt")); err == nil {
			t.Errorf("--format jsonl wrote a text file")
		}
		os.Remove(filepath.Join(dir, "x_flows.jsonl"))
	}
}

// TestFormatsDocTable: docs/formats.md lists every column of the flow and
// packet files with the types the writers use.
func TestFormatsDocTable(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "formats.md"))
	if err != nil {
		t.Fatal(err)
	}
	flowCols, pktCols, err := engine.Columns(&engine.Options{}, plugins.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, cols := range [][]column.Column{flowCols, pktCols} {
		if tab := engine.ColumnTypeTable(cols); !strings.Contains(string(doc), tab) {
			t.Errorf("docs/formats.md lacks the current table:\n%s", tab)
		}
	}
}

// TestFormatsRoundTripSwitches: the same round trip with tcpDiag and the
// switches that change columns (a 16-part compound, decimal ToS parts,
// hex seq/ack in the packet file) over the generated corpus.
func TestFormatsRoundTripSwitches(t *testing.T) {
	shared := corpus.SharedDir()
	if shared == "" {
		t.Skip("../shared not found")
	}
	caps, err := corpus.List(shared)
	if err != nil {
		t.Fatal(err)
	}
	opts := &engine.Options{
		Plugins: []string{"basicFlow", "basicStats", "tcpFlags", "tcpStates", "tcpDiag"},
		Sets:    map[string]string{"tcpFlags.TCPFLGCNT": "1", "tcpFlags.IPTOS": "1", "tcpFlags.SPKTMD_SEQACKHEX": "1"},
	}
	flowCols, pktCols, err := engine.Columns(opts, plugins.Registry())
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"--plugins", strings.Join(opts.Plugins, ",")}
	for k, v := range opts.Sets {
		args = append(args, "--set", k+"="+v)
	}
	out := t.TempDir()
	cells := map[string]int{}
	approx := 0
	for _, c := range caps {
		if !strings.HasPrefix(c.Rel, "generated/") {
			continue
		}
		prefix := filepath.Join(out, c.Name)
		code := cli.Main(append([]string{"flowsift", "-r", c.Path, "-w", prefix, "-s", "--format", "text,jsonl,csv,parquet", "--no-progress"}, args...), nil, io.Discard, io.Discard)
		if code != 0 && code != 3 {
			t.Fatalf("%s: exit %d", c.Rel, code)
		}
		for _, kind := range []string{"flows", "packets"} {
			cols := flowCols
			if kind == "packets" {
				cols = pktCols
			}
			want := readTextCells(t, prefix+"_"+kind+".txt", cols)
			cells["csv"] += compareCells(t, c.Rel+" "+kind+".csv", cols, want, readCSVCells(t, prefix+"_"+kind+".csv", cols), nil)
			cells["jsonl"] += compareCells(t, c.Rel+" "+kind+".jsonl", cols, want, readJSONLCells(t, prefix+"_"+kind+".jsonl", cols), nil)
			cells["parquet"] += compareCells(t, c.Rel+" "+kind+".parquet", cols, want, readParquetCells(t, prefix+"_"+kind+".parquet", cols), &approx)
			if kind == "packets" {
				cells["parquet alone"] += compareParquetAlone(t, c.Path, prefix, cols, want, &approx, args...)
			}
		}
	}
	t.Logf("cells equal to the text files': %v (Parquet cells beyond their type: %d)", cells, approx)
	if cells["parquet"] == 0 || cells["parquet alone"] == 0 {
		t.Fatal("nothing compared")
	}
}
