// Package t2diff compares Tranalyzer-style flow and packet files cell by
// cell, the way ../shared/tools/t2cmp does: rows matched by (dir, flowInd)
// or pktNo, columns by name, numbers equal within a relative 1e-6. The
// golden tests use it to measure agreement with Tranalyzer.
package t2diff

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Table is a parsed text file: header names and rows.
type Table struct {
	Header []string
	Rows   [][]string
}

// Read parses a flow or packet file.
func Read(path string) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t := &Table{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		if line[0] == '%' {
			if t.Header == nil {
				t.Header = strings.Split(strings.TrimSpace(line[1:]), "\t")
			}
			continue
		}
		if line[0] == '#' {
			continue
		}
		t.Rows = append(t.Rows, strings.Split(line, "\t"))
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if t.Header == nil {
		return nil, fmt.Errorf("%s: no header line", path)
	}
	return t, nil
}

// Records returns the rows as maps from column name to cell.
func (t *Table) Records() []map[string]string {
	out := make([]map[string]string, len(t.Rows))
	for i, row := range t.Rows {
		m := make(map[string]string, len(t.Header))
		for j, c := range row {
			if j < len(t.Header) {
				m[t.Header[j]] = c
			}
		}
		out[i] = m
	}
	return out
}

// ColStat counts agreeing cells of one column.
type ColStat struct {
	Name     string
	Agree    int
	Total    int
	Examples []string
}

// Pct is the column's agreement in percent.
func (c *ColStat) Pct() float64 {
	if c.Total == 0 {
		return 100
	}
	return 100 * float64(c.Agree) / float64(c.Total)
}

// Result is the comparison of one or more file pairs.
type Result struct {
	Cols       map[string]*ColStat
	RowsRef    int
	RowsFound  int
	MissingCol []string
}

// NewResult returns an empty result.
func NewResult() *Result { return &Result{Cols: map[string]*ColStat{}} }

// Agreement is the overall cell agreement in percent.
func (r *Result) Agreement() float64 {
	a, t := 0, 0
	for _, c := range r.Cols {
		a += c.Agree
		t += c.Total
	}
	if t == 0 {
		return 100
	}
	return 100 * float64(a) / float64(t)
}

// AgreementExcept is the overall agreement over the columns not in skip
// (columns where flowsift differs on purpose, docs/compat.md).
func (r *Result) AgreementExcept(skip map[string]bool) float64 {
	a, t := 0, 0
	for name, c := range r.Cols {
		if skip[name] {
			continue
		}
		a += c.Agree
		t += c.Total
	}
	if t == 0 {
		return 100
	}
	return 100 * float64(a) / float64(t)
}

// RowsPct is the share of reference rows found in the candidate.
func (r *Result) RowsPct() float64 {
	if r.RowsRef == 0 {
		return 100
	}
	return 100 * float64(r.RowsFound) / float64(r.RowsRef)
}

// Sorted returns the column stats, worst first.
func (r *Result) Sorted() []*ColStat {
	out := make([]*ColStat, 0, len(r.Cols))
	for _, c := range r.Cols {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Pct() != out[j].Pct() {
			return out[i].Pct() < out[j].Pct()
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Summary is a one-line summary like t2cmp's.
func (r *Result) Summary() string {
	s := r.Sorted()
	worst := ""
	if len(s) > 0 {
		worst = fmt.Sprintf(" worst %s %.3f%%", s[0].Name, s[0].Pct())
	}
	return fmt.Sprintf("agreement %.3f%% rows %d/%d%s", r.Agreement(), r.RowsFound, r.RowsRef, worst)
}

// Equal reports whether two cells agree (t2cmp's rule: equal strings, or
// numbers within a relative 1e-6).
func Equal(a, b string) bool {
	if a == b {
		return true
	}
	x, ok1 := num(a)
	y, ok2 := num(b)
	if !ok1 || !ok2 {
		return false
	}
	if x == y {
		return true
	}
	return math.Abs(x-y) <= 1e-6*math.Max(math.Abs(x), math.Abs(y))
}

func num(s string) (float64, bool) {
	if strings.HasPrefix(s, "0x") && !strings.ContainsAny(s, "_;") {
		v, err := strconv.ParseUint(s[2:], 16, 64)
		return float64(v), err == nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) {
		return 0, false
	}
	return v, true
}

// Compare adds the comparison of ref and cand (files of the same kind) for
// the given columns (nil = all reference columns) to r.
func (r *Result) Compare(ref, cand *Table, cols []string) {
	keyCols := []string{"dir", "flowInd"}
	if idx(ref.Header, "pktNo") >= 0 {
		keyCols = []string{"pktNo"}
	}
	key := func(t *Table, row []string) string {
		var b strings.Builder
		for _, k := range keyCols {
			if i := idx(t.Header, k); i >= 0 && i < len(row) {
				b.WriteString(row[i])
			}
			b.WriteByte('|')
		}
		return b.String()
	}
	candRows := make(map[string][]string, len(cand.Rows))
	for _, row := range cand.Rows {
		candRows[key(cand, row)] = row
	}
	if cols == nil {
		cols = ref.Header
	}
	for _, name := range cols {
		ri, ci := idx(ref.Header, name), idx(cand.Header, name)
		if ri < 0 {
			continue
		}
		cs := r.Cols[name]
		if cs == nil {
			cs = &ColStat{Name: name}
			r.Cols[name] = cs
		}
		for _, row := range ref.Rows {
			cs.Total++
			crow, ok := candRows[key(ref, row)]
			if !ok || ci < 0 {
				continue
			}
			a, b := cell(row, ri), cell(crow, ci)
			if Equal(a, b) {
				cs.Agree++
			} else if len(cs.Examples) < 5 {
				cs.Examples = append(cs.Examples, fmt.Sprintf("%s: want %q got %q", key(ref, row), a, b))
			}
		}
	}
	r.RowsRef += len(ref.Rows)
	for _, row := range ref.Rows {
		if _, ok := candRows[key(ref, row)]; ok {
			r.RowsFound++
		}
	}
}

func cell(row []string, i int) string {
	if i < len(row) {
		return row[i]
	}
	return ""
}

func idx(h []string, name string) int {
	for i, n := range h {
		if n == name {
			return i
		}
	}
	return -1
}
