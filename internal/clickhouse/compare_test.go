package clickhouse_test

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"flowsift/internal/clickhouse"
	"flowsift/internal/column"
	"flowsift/internal/engine"
	"flowsift/internal/plugins"
	"flowsift/internal/sink"
)

// The comparison of a table with the text files: every row selected with
// FORMAT TSV, every cell turned back into the text file's cell by the
// column's type (docs/formats.md: the Parquet writer's rules) and
// compared.

// textFile is a text flow or packet file: its column names and rows.
type textFile struct {
	names []string
	rows  [][]string
}

func readText(t *testing.T, path string) textFile {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var tf textFile
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "%") {
			tf.names = strings.Split(line[1:], "\t")
			continue
		}
		tf.rows = append(tf.rows, strings.Split(line, "\t"))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return tf
}

// defaultColumns are the flow and packet columns of the default plugins.
func defaultColumns(t *testing.T) (flows, packets []column.Column) {
	t.Helper()
	flows, packets, err := engine.Columns(&engine.Options{}, plugins.Registry())
	if err != nil {
		t.Fatal(err)
	}
	return flows, packets
}

// orderKey sorts text rows as the SELECTs do: flows by flowInd, dir;
// packets by pktNo.
func sortText(t *testing.T, kind clickhouse.Kind, tf textFile) {
	t.Helper()
	num := func(s string) uint64 {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("row key %q: %v", s, err)
		}
		return n
	}
	if kind == clickhouse.Flows {
		sort.SliceStable(tf.rows, func(i, j int) bool {
			a, b := num(tf.rows[i][1]), num(tf.rows[j][1])
			if a != b {
				return a < b
			}
			return tf.rows[i][0] < tf.rows[j][0]
		})
		return
	}
	sort.SliceStable(tf.rows, func(i, j int) bool { return num(tf.rows[i][0]) < num(tf.rows[j][0]) })
}

// orderBy is the SELECT's order, matching sortText.
func orderBy(kind clickhouse.Kind) string {
	if kind == clickhouse.Flows {
		return "flowInd, dir"
	}
	return "pktNo"
}

// selectRows selects the declared columns of table, grouped by
// captureFile: captureFile → TSV rows (fields split, not unescaped).
func selectRows(t *testing.T, s *server, table string, kind clickhouse.Kind, cols []column.Column, where string) map[string][][]string {
	t.Helper()
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = "`" + c.Name + "`"
	}
	q := "SELECT captureFile, " + strings.Join(names, ", ") + " FROM " + table
	if where != "" {
		q += " WHERE " + where
	}
	q += " ORDER BY captureFile, " + orderBy(kind) + " FORMAT TSV"
	out := map[string][][]string{}
	for _, line := range strings.Split(strings.TrimSuffix(s.query(q), "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != len(cols)+1 {
			t.Fatalf("%s: row of %d fields, want %d", table, len(f), len(cols)+1)
		}
		out[f[0]] = append(out[f[0]], f[1:])
	}
	return out
}

// compareStats counts what compareRows checked.
type compareStats struct {
	rows, cells int
	// Cells the ClickHouse type cannot hold exactly, checked for what
	// they must be instead (as in the Parquet round trip).
	timeNull, durationNear, nanSign int
}

// compareRows compares table rows (TSV fields) with text rows, cell by
// cell; it reports at most a few differences.
func compareRows(t *testing.T, what string, cols []column.Column, got, want [][]string, st *compareStats) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d rows in ClickHouse, %d in the text file", what, len(got), len(want))
		return
	}
	shapes, err := column.Shapes(cols)
	if err != nil {
		t.Fatal(err)
	}
	bad := 0
	for r := range want {
		if len(want[r]) != len(cols) {
			t.Fatalf("%s row %d: %d text cells, %d columns", what, r, len(want[r]), len(cols))
		}
		for c := range cols {
			cell, err := textCell(shapes[c], got[r][c])
			st.cells++
			if err == nil && cell == want[r][c] {
				continue
			}
			if err == nil && special(shapes[c], got[r][c], want[r][c], st) {
				continue
			}
			bad++
			if bad <= 5 {
				t.Errorf("%s row %d column %s: ClickHouse %q → %q (%v), text %q", what, r, cols[c].Name, got[r][c], cell, err, want[r][c])
			}
		}
		st.rows++
	}
	if bad > 5 {
		t.Errorf("%s: %d cells differ", what, bad)
	}
}

// special accepts the cells whose typed value cannot reproduce the text,
// after checking that the value is what it must be: a time outside Int64
// nanoseconds is NULL; a duration longer than a double's digits is the
// nearest double; a NaN is printed by ClickHouse without its sign (the
// RowBinary value keeps it).
func special(s column.Shape, got, want string, st *compareStats) bool {
	if len(s.Parts) != 1 || s.Repeated {
		return false
	}
	switch s.Parts[0].Kind {
	case column.KindTime:
		if got != `\N` {
			return false
		}
		secText, _, ok := strings.Cut(want, ".")
		sec, err := strconv.ParseUint(secText, 10, 64)
		if ok && err == nil && (int64(sec) > math.MaxInt64/1_000_000_000-1 || int64(sec) < math.MinInt64/1_000_000_000+1) {
			st.timeNull++
			return true
		}
	case column.KindDuration:
		d, err1 := strconv.ParseFloat(got, 64)
		secText, nsText, ok := strings.Cut(want, ".")
		sec, err2 := strconv.ParseUint(secText, 10, 64)
		ns, err3 := strconv.ParseUint(nsText, 10, 32)
		if ok && err1 == nil && err2 == nil && err3 == nil && float64(int64(sec))+float64(ns)/1e9 == d {
			st.durationNear++
			return true
		}
	case column.KindFloat32, column.KindFloat64:
		if got == "nan" && want == "-nan" {
			st.nanSign++
			return true
		}
	}
	return false
}

// textCell turns a TSV field of a column of shape s into the text cell.
func textCell(s column.Shape, field string) (string, error) {
	var vals []lit
	reps := 1
	switch {
	case s.Repeated && s.Compound():
		return "", fmt.Errorf("repeated compound (Nested) not compared")
	case s.Compound():
		v, err := parseLiteral(field)
		if err != nil {
			return "", err
		}
		if len(v.list) != len(s.Parts) {
			return "", fmt.Errorf("tuple of %d, want %d", len(v.list), len(s.Parts))
		}
		vals = v.list
		allNull := true
		for _, e := range v.list {
			allNull = allNull && e.null
		}
		if allNull {
			reps = 0
		}
	case s.Repeated:
		v, err := parseLiteral(field)
		if err != nil {
			return "", err
		}
		vals, reps = v.list, len(v.list)
	default:
		if field == `\N` {
			vals, reps = []lit{{null: true}}, 0
		} else {
			vals = []lit{{s: clickhouse.UnescapeTSV(field)}}
		}
	}
	row := sink.Row{Cells: []sink.Cell{{Start: 0, Reps: int32(reps)}}}
	np := len(s.Parts)
	for i := 0; i < reps*np; i++ {
		v, err := typedValue(s.Parts[i%np], vals[i], &row)
		if err != nil {
			return "", err
		}
		row.Vals = append(row.Vals, v)
	}
	return string(sink.AppendCellText(nil, []column.Shape{s}, &row, 0)), nil
}

// typedValue is the typed value of one ClickHouse value of part p.
func typedValue(p column.Part, v lit, row *sink.Row) (sink.TypedValue, error) {
	if v.null {
		return sink.TypedValue{}, nil
	}
	tv := sink.TypedValue{Kind: p.Kind}
	switch p.Kind {
	case column.KindUint, column.KindHex:
		u, err := strconv.ParseUint(v.s, 10, p.Bits)
		tv.U = u
		return tv, err
	case column.KindInt:
		i, err := strconv.ParseInt(v.s, 10, p.Bits)
		tv.U = uint64(i)
		return tv, err
	case column.KindFloat32, column.KindFloat64:
		f, err := strconv.ParseFloat(v.s, 64)
		tv.U = math.Float64bits(f)
		return tv, err
	case column.KindTime:
		ns, err := strconv.ParseInt(v.s, 10, 64)
		return sink.TimeValue(ns), err
	case column.KindDuration:
		d, err := strconv.ParseFloat(v.s, 64)
		return sink.DurationValue(d), err
	}
	tv.Off = uint32(len(row.Bytes))
	row.Bytes = append(row.Bytes, v.s...)
	tv.Len = uint32(len(v.s))
	return tv, nil
}

// lit is a parsed ClickHouse text value: NULL, a scalar, or a list (array
// or tuple).
type lit struct {
	null bool
	s    string
	list []lit
}

// parseLiteral parses an array or tuple as ClickHouse prints it in TSV:
// [1,NULL], ('a\'b',2); strings quoted and backslash-escaped.
func parseLiteral(s string) (lit, error) {
	v, rest, err := parseValue(s)
	if err == nil && rest != "" {
		err = fmt.Errorf("trailing %q", rest)
	}
	return v, err
}

func parseValue(s string) (lit, string, error) {
	if s == "" {
		return lit{}, s, fmt.Errorf("value expected")
	}
	switch s[0] {
	case '[', '(':
		end := byte(']')
		if s[0] == '(' {
			end = ')'
		}
		s = s[1:]
		v := lit{list: []lit{}}
		if s != "" && s[0] == end {
			return v, s[1:], nil
		}
		for {
			e, rest, err := parseValue(s)
			if err != nil {
				return v, rest, err
			}
			v.list = append(v.list, e)
			if rest == "" {
				return v, rest, fmt.Errorf("unterminated list")
			}
			if rest[0] == end {
				return v, rest[1:], nil
			}
			if rest[0] != ',' {
				return v, rest, fmt.Errorf("unexpected %q", rest)
			}
			s = rest[1:]
		}
	case '\'':
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			switch s[i] {
			case '\'':
				return lit{s: b.String()}, s[i+1:], nil
			case '\\':
				i++
				if i < len(s) {
					b.WriteString(clickhouse.UnescapeTSV(`\` + s[i:i+1]))
				}
			default:
				b.WriteByte(s[i])
			}
		}
		return lit{}, "", fmt.Errorf("unterminated string")
	}
	i := strings.IndexAny(s, ",])")
	if i < 0 {
		i = len(s)
	}
	tok := s[:i]
	if tok == "NULL" {
		return lit{null: true}, s[i:], nil
	}
	return lit{s: tok}, s[i:], nil
}
