package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
)

// Table is a flow or packet file held in memory as written: the exact
// bytes (tawk filters run over them) and the start of every row.
type Table struct {
	Raw   []byte
	Names []string // column names, the header's leading % removed
	rows  []int32  // byte offset of each data row in Raw
	col   map[string]int
}

// ParseTable indexes a flow or packet file (header row first).
func ParseTable(raw []byte) (*Table, error) {
	nl := bytes.IndexByte(raw, '\n')
	if nl < 0 || len(raw) == 0 || raw[0] != '%' {
		return nil, errors.New("no header row")
	}
	if len(raw) > 1<<31-1 {
		return nil, errors.New("file larger than 2 GiB")
	}
	t := &Table{Raw: raw, col: map[string]int{}}
	t.Names = strings.Split(strings.TrimPrefix(string(raw[:nl]), "%"), "\t")
	for i, n := range t.Names {
		if _, dup := t.col[n]; !dup {
			t.col[n] = i
		}
	}
	for off := nl + 1; off < len(raw); {
		e := bytes.IndexByte(raw[off:], '\n')
		if e < 0 {
			e = len(raw) - off
		}
		t.rows = append(t.rows, int32(off))
		off += e + 1
	}
	return t, nil
}

// Len is the number of data rows.
func (t *Table) Len() int { return len(t.rows) }

// Col returns the column number of name, or -1.
func (t *Table) Col(name string) int {
	if i, ok := t.col[name]; ok {
		return i
	}
	return -1
}

func (t *Table) line(i int) []byte {
	start := int(t.rows[i])
	end := len(t.Raw)
	if i+1 < len(t.rows) {
		end = int(t.rows[i+1])
	}
	l := t.Raw[start:end]
	for len(l) > 0 && (l[len(l)-1] == '\n' || l[len(l)-1] == '\r') {
		l = l[:len(l)-1]
	}
	return l
}

// Row returns row i's fields.
func (t *Table) Row(i int) []string { return strings.Split(string(t.line(i)), "\t") }

// Field returns column c of row i without splitting the whole row.
func (t *Table) Field(i, c int) string {
	l := t.line(i)
	for ; c > 0; c-- {
		tab := bytes.IndexByte(l, '\t')
		if tab < 0 {
			return ""
		}
		l = l[tab+1:]
	}
	if tab := bytes.IndexByte(l, '\t'); tab >= 0 {
		l = l[:tab]
	}
	return string(l)
}

// Object is row i keyed by column name, values as in the file.
func (t *Table) Object(i int) map[string]string {
	f := t.Row(i)
	m := make(map[string]string, len(t.Names))
	for c, n := range t.Names {
		if c < len(f) {
			m[n] = f[c]
		} else {
			m[n] = ""
		}
	}
	return m
}

// appendObject appends row i as a JSON object, keys in column order.
func (t *Table) appendObject(b []byte, i int) []byte {
	f := t.Row(i)
	b = append(b, '{')
	for c, n := range t.Names {
		if c > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, n)
		b = append(b, ':')
		v := ""
		if c < len(f) {
			v = f[c]
		}
		b = appendJSONString(b, v)
	}
	return append(b, '}')
}

// appendJSONString quotes s for JSON, escaping <, > and & as well so
// that capture text stays inert wherever the JSON ends up.
func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // json.Marshal escapes HTML characters
	return append(b, q...)
}

// number parses a cell for numeric sorting and sums (hex too).
func number(s string) (float64, bool) {
	if strings.HasPrefix(s, "0x") {
		v, err := strconv.ParseUint(s[2:], 16, 64)
		return float64(v), err == nil
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}
