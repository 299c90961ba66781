package tawk

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// bitRow is one documented bit of a 3-column table.
type bitRow struct {
	bit    int
	marker string // "", "#I", "#W" or "#E"
	desc   string
}

// bitTable is a 3-column (bit | hex | description) -V table.
type bitTable struct {
	name   string
	header string // "bit | name | Description", padded as shipped
	width  int    // hex cell width including the leading space
	digits int    // hex digits shown
	groups int    // groups of 4 digits separated by spaces (1 = none)
	rows   []bitRow
}

const (
	escBold   = "\x1b[1m"
	escReset  = "\x1b[0m"
	escYellow = "\x1b[1;33m"
)

var markerColor = map[string]string{
	"#H": "\x1b[1m",
	"#I": "\x1b[0;34m",
	"#W": "\x1b[0;33m",
	"#E": "\x1b[0;31m",
	"":   "\x1b[0m",
}

var rule = strings.Repeat("=", 77)

// hexText formats 1<<bit the way the table shows it.
func (t *bitTable) hexText(v uint64) string {
	s := fmt.Sprintf("%0*x", t.digits, v)
	if t.groups > 1 {
		var b strings.Builder
		for i := 0; i < len(s); i += 4 {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(s[i : i+4])
		}
		s = b.String()
	}
	return "0x" + s
}

// docLine is one table line: marker slot and text after it.
type docLine struct {
	marker string
	text   string
	empty  bool
	// match decides whether the line is printed for a given value.
	match func(val string) bool
}

func (t *bitTable) lines() []docLine {
	out := []docLine{
		{marker: "#H", text: " " + t.header},
		{marker: "#H", text: " " + rule},
	}
	for i, r := range t.rows {
		if i > 0 && i%4 == 0 {
			out = append(out, docLine{empty: true})
		}
		h := uint64(1) << uint(r.bit)
		hex := t.hexText(h)
		cell := " " + hex + strings.Repeat(" ", max(0, t.width-1-len(hex)))
		out = append(out, docLine{
			marker: r.marker,
			text:   fmt.Sprintf("%4d |%s| %s", r.bit, cell, r.desc),
			match:  func(val string) bool { return parseDocValue(val)&h != 0 },
		})
	}
	return out
}

// ipOptRow is one row of the 5-cell ipOptCpCl_Num table.
type ipOptRow struct {
	cpcl  string // "1, 0" or "" (blank cell)
	class uint64
	bit   int
	text  string // "0x82, Security" or "" (row ends after the number cell)
}

var ipOptRows = []ipOptRow{
	{"0, 0", 0x00, 0, "0x00, End of Options List"},
	{"0, 0", 0x00, 1, "0x01, NOOP"},
	{"1, 0", 0x80, 2, "0x82, Security"},
	{"1, 0", 0x80, 3, "0x83, Loose Source Route"},
	{"0, 2", 0x40, 4, "0x44, Time Stamp"},
	{"1, 0", 0x80, 5, "0x85, Extended Security"},
	{"1, 0", 0x80, 6, "0x86, Commercial Security"},
	{"0, 0", 0x00, 7, "0x07, Record Route"},
	{"1, 0", 0x80, 8, "0x88, Stream ID"},
	{"1, 0", 0x80, 9, "0x89, Strict Source Route"},
	{"0, 0", 0x00, 10, "0x0a, Experimental Measurement"},
	{"0, 0", 0x00, 11, "0x0b, MTU Probe"},
	{"0, 0", 0x00, 12, "0x0c, MTU Reply"},
	{"1, 2", 0xc0, 13, "0xcd, Experimental Flow Control"},
	{"1, 0", 0x80, 14, "0x8E, Experimental Access Control"},
	{"0, 0", 0x00, 15, "0x0f, ENCODE"},
	{"1, 1", 0x80, 16, "0x90, IMI Traffic Descriptor"},
	{"1, 0", 0x80, 17, "0x91, Extended Internet Protocol"},
	{"0, 2", 0x40, 18, "0x52, Traceroute"},
	{"1, 0", 0x80, 19, "0x93, Address Extension"},
	{"1, 0", 0x80, 20, "0x94, Router Alert"},
	{"1, 0", 0x80, 21, "0x95, Selective Directed Broadcast"},
	{"1, 0", 0x80, 22, "0x96, -"},
	{"1, 0", 0x80, 23, "0x97, Dynamic Packet State"},
	{"1, 0", 0x80, 24, "0x98, Upstream Multicast Packet"},
	{"0, 0", 0x00, 25, "0x19, Quick-Start"},
	{"", 0x00, 26, ""},
	{"", 0x00, 27, ""},
	{"", 0x00, 28, ""},
	{"", 0x00, 29, ""},
	{"-", 0, 0, ""}, // empty line
	{"0, 0", 0x00, 30, "0x1e, RFC3692-style Experiment"},
	{"1, 0", 0x80, 30, "0x5e, RFC3692-style Experiment"},
	{"1, 2", 0xc0, 30, "0x9e, RFC3692-style Experiment"},
	{"0, 2", 0x40, 30, "0xde, RFC3692-style Experiment"},
}

func ipOptLines() []docLine {
	out := []docLine{
		{marker: "#H", text: " Cp, Cl | ipOptCpCl | bit | ipOptNum    | Value, Description"},
		{marker: "#H", text: " " + rule},
	}
	for _, r := range ipOptRows {
		if r.cpcl == "-" {
			out = append(out, docLine{empty: true})
			continue
		}
		cp := strings.Repeat(" ", 8)
		if r.cpcl != "" {
			cp = "  " + r.cpcl + "  "
		}
		num := uint64(1) << uint(r.bit)
		text := fmt.Sprintf("%s| 0x%02x      |%4d | 0x%04x %04x |", cp, r.class, r.bit, num>>16, num&0xffff)
		if r.text != "" {
			text += " " + r.text
		}
		class := r.class
		out = append(out, docLine{text: text, match: func(val string) bool {
			a, b, hasB := strings.Cut(val, "_")
			if class&parseDocValue(a) == 0 {
				return false
			}
			return !hasB || num&parseDocValue(b) != 0
		}})
	}
	return out
}

// docTable returns the lines of the -V table for name, or nil.
func docTable(name string) []docLine {
	if name == "ipOptCpCl_Num" {
		return ipOptLines()
	}
	for i := range bitTables {
		if bitTables[i].name == name {
			return bitTables[i].lines()
		}
	}
	return nil
}

// parseDocValue parses a -V value: 0x-prefixed hex up to the first
// non-hex character, or decimal (leading zeros are not octal); anything
// else is 0.
func parseDocValue(s string) uint64 {
	base, digits := 10, "0123456789"
	if len(s) > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		s, base, digits = s[2:], 16, "0123456789abcdefABCDEF"
	}
	n := 0
	for n < len(s) && strings.IndexByte(digits, s[n]) >= 0 {
		n++
	}
	v, err := strconv.ParseUint(s[:n], base, 64)
	if err != nil {
		return 0
	}
	return v
}

// validDocValue reports whether val is a number -V can decode: 0x-prefixed
// hex or decimal (for ipOptCpCl_Num, two of them joined by '_').
func validDocValue(name, val string) bool {
	parts := []string{val}
	if name == "ipOptCpCl_Num" {
		parts = strings.Split(val, "_")
		if len(parts) > 2 {
			return false
		}
	}
	for _, p := range parts {
		if !docValueRe().MatchString(p) {
			return false
		}
	}
	return true
}

var docValueRe = lazyRegexp(`^(0[xX][0-9a-fA-F]+|[0-9]+)$`)

// writeVarDoc prints the -V block for "name[=value]", with Tranalyzer's
// colours when colour is set; it reports false when no table documents
// name.
func writeVarDoc(w io.Writer, arg string, colour bool) bool {
	name, val, hasVal := strings.Cut(arg, "=")
	if hasVal {
		val, _, _ = strings.Cut(val, "=")
	}
	lines := docTable(name)
	if lines == nil {
		return false
	}
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	esc := func(e string) string {
		if colour {
			return e
		}
		return ""
	}
	bw.WriteString("\nThe " + esc(escYellow) + name + esc(escReset) + " column ")
	if hasVal {
		bw.WriteString("with value " + esc(escBold) + val + esc(escReset) + " ")
	}
	bw.WriteString("is to be interpreted as follows:\n\n")
	color := markerColor[""]
	for i, l := range lines {
		if l.empty {
			if !hasVal {
				bw.WriteString(esc(color) + esc(escReset) + "\n")
			}
			continue
		}
		color = markerColor[l.marker]
		if hasVal && i >= 2 && !l.match(val) {
			continue
		}
		bw.WriteString(esc(color) + "  " + l.text + esc(escReset) + "\n")
	}
	bw.WriteString("\n")
	return true
}

// decodeLog runs -V for every name=value token of a T2 log or report.
func decodeLog(w io.Writer, path string, colour bool) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(data), "\n") {
		for _, tok := range strings.Fields(line) {
			tok = strings.TrimSuffix(tok, ",")
			name, val, ok := strings.Cut(tok, "=")
			if !ok || name == "" || val == "" || strings.Contains(val, "=") {
				continue
			}
			if !writeVarDoc(w, tok, colour) {
				return name, nil
			}
		}
	}
	return "", nil
}
