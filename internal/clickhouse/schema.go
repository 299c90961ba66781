// Package clickhouse streams flowsift's rows into ClickHouse over its
// HTTP interface (docs/clickhouse.md): the table layout derived from the
// column declarations, the Native encoding of typed rows, batching,
// retries, and the failed-batch file that clickhouse-send re-sends.
package clickhouse

import (
	"fmt"
	"strconv"
	"strings"

	"flowsift/internal/column"
)

// The two columns every table has before the declared ones, so that many
// writers can share a table.
const (
	SensorColumn  = "sensor"      // -x
	CaptureColumn = "captureFile" // the capture file (or interface) the run reads
)

// Kind names a table: "flows" or "packets".
type Kind string

const (
	Flows   Kind = "flows"
	Packets Kind = "packets"
)

// Col is one column of a table as ClickHouse lists it in system.columns:
// a repeated compound is a Nested column, stored as one array column per
// part ("name.part").
type Col struct {
	Name string
	Type string
}

// Table is the layout of a flows or packets table for a set of column
// declarations.
type Table struct {
	Kind   Kind
	Name   string // table name (prefix applied)
	Source []column.Column
	Shapes []column.Shape
	// Cols are the physical columns in insert order: sensor, captureFile,
	// then the declared columns (Nested ones expanded).
	Cols []Col
	// notNull marks the declared columns (by index) that are part of the
	// sorting key: ClickHouse refuses Nullable columns there.
	notNull []bool
	// Key is the sorting key.
	Key []string
	// defs are the column definitions of CREATE TABLE.
	defs []string
	// distributed is set by CheckTables for a Distributed table: its
	// batches go as one block each (Output).
	distributed bool
}

// TableName is the name of a kind's table with the --clickhouse-table
// prefix ("" = none).
func TableName(prefix string, k Kind) string {
	if prefix == "" {
		return string(k)
	}
	return prefix + "_" + string(k)
}

// NewTable derives the table of kind k from the column declarations.
func NewTable(k Kind, name string, cols []column.Column) (*Table, error) {
	shapes, err := column.Shapes(cols)
	if err != nil {
		return nil, err
	}
	t := &Table{Kind: k, Name: name, Source: cols, Shapes: shapes, notNull: make([]bool, len(cols))}
	// Sorting key: sensor, time, index. The time and index columns are
	// those of basicFlow and the core; a run without basicFlow sorts by
	// what is left.
	timeCol, indCol := "timeFirst", "flowInd"
	if k == Packets {
		timeCol, indCol = "time", "pktNo"
	}
	t.Key = []string{SensorColumn}
	for _, want := range []string{timeCol, indCol} {
		for i, c := range cols {
			if c.Name == want && !shapes[i].Repeated && !shapes[i].Compound() {
				t.Key = append(t.Key, want)
				t.notNull[i] = true
			}
		}
	}
	t.Cols = []Col{{SensorColumn, "UInt32"}, {CaptureColumn, "String"}}
	t.defs = []string{quote(SensorColumn) + " UInt32", quote(CaptureColumn) + " String"}
	for i, c := range cols {
		s := shapes[i]
		def := quote(c.Name) + " "
		switch {
		case s.Repeated && s.Compound():
			var fields []string
			for _, p := range s.Parts {
				pt := "Nullable(" + partType(p) + ")"
				t.Cols = append(t.Cols, Col{c.Name + "." + p.Name, "Array(" + pt + ")"})
				fields = append(fields, quote(p.Name)+" "+pt)
			}
			def += "Nested(" + strings.Join(fields, ", ") + ")"
		case s.Compound():
			var parts []string
			for _, p := range s.Parts {
				parts = append(parts, "Nullable("+partType(p)+")")
			}
			typ := "Tuple(" + strings.Join(parts, ", ") + ")"
			t.Cols = append(t.Cols, Col{c.Name, typ})
			def += typ
		case s.Repeated:
			typ := "Array(Nullable(" + partType(s.Parts[0]) + "))"
			t.Cols = append(t.Cols, Col{c.Name, typ})
			def += typ
		default:
			typ := partType(s.Parts[0])
			if !t.notNull[i] {
				typ = "Nullable(" + typ + ")"
			}
			t.Cols = append(t.Cols, Col{c.Name, typ})
			def += typ
		}
		if c.Desc != "" {
			def += " COMMENT " + quoteString(c.Desc)
		}
		t.defs = append(t.defs, def)
	}
	return t, nil
}

// partType is the ClickHouse type of one part: the Parquet writer's types
// (docs/formats.md). A time is Int64 nanoseconds since 1970, what a
// Parquet TIMESTAMP(NANOS) holds: ClickHouse 18.16 (Debian's) has no
// DateTime64, and its DateTime keeps whole seconds only.
func partType(p column.Part) string {
	switch p.Kind {
	case column.KindUint, column.KindHex:
		return "UInt" + strconv.Itoa(p.Bits)
	case column.KindInt:
		return "Int" + strconv.Itoa(p.Bits)
	case column.KindFloat32, column.KindFloat64, column.KindDuration:
		return "Float64"
	case column.KindTime:
		return "Int64"
	}
	return "String"
}

// ColumnNames are the physical column names, quoted, comma-separated (the
// column list of INSERT).
func (t *Table) ColumnNames() string {
	names := make([]string, len(t.Cols))
	for i, c := range t.Cols {
		names[i] = quote(c.Name)
	}
	return strings.Join(names, ", ")
}

// has reports whether the table has a declared column name.
func (t *Table) has(name string) bool {
	for _, c := range t.Source {
		if c.Name == name {
			return true
		}
	}
	return false
}

// shardKey is the Distributed table's sharding key: a hash of the flow's
// two endpoints that is the same for both directions (XOR of each
// endpoint's hash), so that the A and B rows of a flow, and its packets,
// land on one shard. Without basicFlow's endpoints: the flow index.
func (t *Table) shardKey() string {
	if t.has("srcIP") && t.has("dstIP") && t.has("srcPort") && t.has("dstPort") {
		return "bitXor(cityHash64(ifNull(srcIP, ''), ifNull(srcPort, 0)), cityHash64(ifNull(dstIP, ''), ifNull(dstPort, 0)))"
	}
	if t.has("flowInd") {
		return "cityHash64(sensor, captureFile, flowInd)"
	}
	return "rand()"
}

// timeExpr is the partition expression: months of the sorting key's time
// (whole months are dropped at once when data ages out).
func (t *Table) partition() string {
	if len(t.Key) > 1 && (t.Key[1] == "timeFirst" || t.Key[1] == "time") {
		return "toYYYYMM(toDateTime(intDiv(" + t.Key[1] + ", 1000000000)))"
	}
	return ""
}

// DDL returns the CREATE TABLE statements of the table: a MergeTree table
// named t.Name, or with cluster a MergeTree table t.Name+"_local" (to be
// created on every shard) and a Distributed table t.Name over them.
func (t *Table) DDL(cluster string) string {
	var b strings.Builder
	local := t.Name
	if cluster != "" {
		local = t.Name + "_local"
	}
	fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s\n(\n    %s\n)\nENGINE = MergeTree\n", quote(local), strings.Join(t.defs, ",\n    "))
	if p := t.partition(); p != "" {
		fmt.Fprintf(&b, "PARTITION BY %s\n", p)
	}
	fmt.Fprintf(&b, "ORDER BY (%s);\n", strings.Join(t.Key, ", "))
	if cluster != "" {
		fmt.Fprintf(&b, "\nCREATE TABLE IF NOT EXISTS %s AS %s\nENGINE = Distributed(%s, currentDatabase(), %s, %s);\n",
			quote(t.Name), quote(local), quote(cluster), quote(local), t.shardKey())
	}
	return b.String()
}

// Diff compares the table's columns with those a server lists (name and
// type, in order): the columns the run writes that the server lacks
// (missing), those it has that the run does not write (extra), and those
// whose type differs (as "name: server type, want type").
func (t *Table) Diff(server []Col) (missing, extra, retyped []string) {
	have := map[string]string{}
	for _, c := range server {
		have[c.Name] = c.Type
	}
	want := map[string]bool{}
	for _, c := range t.Cols {
		want[c.Name] = true
		typ, ok := have[c.Name]
		switch {
		case !ok:
			missing = append(missing, c.Name)
		case typ != c.Type:
			retyped = append(retyped, fmt.Sprintf("%s: %s, flowsift writes %s", c.Name, typ, c.Type))
		}
	}
	for _, c := range server {
		if !want[c.Name] {
			extra = append(extra, c.Name)
		}
	}
	return missing, extra, retyped
}

// quote quotes an identifier with back quotes.
func quote(name string) string {
	return "`" + strings.ReplaceAll(strings.ReplaceAll(name, `\`, `\\`), "`", "\\`") + "`"
}

// quoteString quotes a string literal.
func quoteString(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
}
