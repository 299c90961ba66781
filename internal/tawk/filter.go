package tawk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/benhoyt/goawk/interp"
)

// FilterError is a filter that tawk rejects; Message is what tawk writes
// to stderr for the same program (flowsift serve answers it with HTTP 400).
type FilterError struct{ Message string }

func (e *FilterError) Error() string { return e.Message }

// Select runs the tawk filter expr (a pattern such as
// `bitsanyset($tcpAnomaly, 0x000c) && $l7BytesSnt > 1000`) over a flow or
// packet file held in memory (header row first) and returns the 0-based
// indexes of the data rows it selects, in file order: exactly the rows
// `tawk 'expr' FILE` prints. An empty expr selects every row.
func Select(expr string, file []byte) ([]int, error) {
	br := bytes.IndexByte(file, '\n')
	if br < 0 {
		br = len(file)
	}
	header := strings.TrimRight(string(file[:br]), "\r")
	if strings.TrimSpace(expr) == "" {
		return nil, errors.New("tawk: empty filter")
	}
	o := &options{hdrChar: "%", fs: "\t", ofs: "\t"}
	var names []string
	if isHeaderLine(header, o.hdrChar) {
		var err error
		if names, err = sanitizeHeader(header, o); err != nil {
			return nil, filterErr(err)
		}
	}
	nat := &natives{stdout: io.Discard, stderr: io.Discard}
	funcs := nat.funcs()
	// Compile the program as the user wrote it first, so that every
	// message is the one `tawk 'expr'` gives.
	if _, _, err := compile(o, &awkCmd{program: expr}, names, funcs, "the flow file", false); err != nil {
		return nil, filterErr(err)
	}
	if cols, ok := onlyNamedColumns(expr, names); ok {
		// awk splits every record into fields: give it only the columns
		// the filter reads (same rows, same NR), several times faster on
		// wide flow files.
		file = project(file, cols)
		names = subset(names, cols)
	}
	var rows []int
	funcs["_fsSelect"] = func(nr int) int {
		rows = append(rows, nr-2) // NR 1 is the header row
		return 0
	}
	// A # comment in expr fails here too: a filter is one expression.
	wrapped := &awkCmd{program: "!_t2H && (" + expr + ") { _fsSelect(NR) }"}
	prog, cols, err := compile(o, wrapped, names, funcs, "the flow file", false)
	if err != nil {
		return nil, &FilterError{fmt.Sprintf("tawk: a filter is a pattern (an expression), not a program: %s", expr)}
	}
	vars := []string{"FS", o.fs, "OFS", o.ofs}
	for n, i := range cols {
		vars = append(vars, n, fmt.Sprint(i))
	}
	config := &interp.Config{
		Stdin:  bytes.NewReader(file),
		Output: io.Discard,
		Error:  io.Discard,
		Argv0:  "tawk",
		Vars:   vars,
		Funcs:  funcs,
		// A filter comes from a web form: no commands, no files.
		NoExec:       true,
		NoFileWrites: true,
		NoFileReads:  true,
	}
	if _, err := interp.ExecProgram(prog, config); err != nil {
		return nil, &FilterError{fmt.Sprintf("tawk: %v", err)}
	}
	return rows, nil
}

var dollarRe = lazyRegexp(`\$[ \t]*([A-Za-z_][A-Za-z_0-9]*)?`)
var lengthRe = lazyRegexp(`\blength\b[ \t]*(\()?`)

// onlyNamedColumns reports whether expr reads the record through $name
// references only (no $0, $N, $(expr), NF, COL, bare length, and no
// library function that reads fields), and returns those columns' numbers
// (0-based, ascending). Anything it cannot vouch for returns false: the
// filter then runs over whole rows.
func onlyNamedColumns(expr string, names []string) ([]int, bool) {
	if names == nil {
		return nil, false
	}
	index := map[string]int{}
	for i, n := range names {
		if _, dup := index[n]; !dup {
			index[n] = i
		}
	}
	used := map[int]bool{}
	for _, m := range dollarRe().FindAllStringSubmatch(expr, -1) {
		i, ok := index[m[1]]
		if !ok {
			return nil, false
		}
		used[i] = true
	}
	for _, m := range lengthRe().FindAllStringSubmatch(expr, -1) {
		if m[1] == "" {
			return nil, false // length without parentheses is length($0)
		}
	}
	ids := map[string]bool{}
	for _, id := range identRe().FindAllString(expr, -1) {
		switch id {
		case "NF", "COL", "FILENAME", "getline", "RS", "FS":
			return nil, false
		}
		ids[id] = true
	}
	if lib := libSource(ids, nil); strings.ContainsAny(lib, "$") || strings.Contains(lib, "NF") || strings.Contains(lib, "COL") {
		return nil, false
	}
	if len(used) == 0 || len(used) == len(names) {
		return nil, false
	}
	cols := make([]int, 0, len(used))
	for i := range names {
		if used[i] {
			cols = append(cols, i)
		}
	}
	return cols, true
}

// project keeps columns cols (ascending) of every line of a TAB-separated
// file; the header row keeps its leading %.
func project(file []byte, cols []int) []byte {
	out := make([]byte, 0, len(file)/8)
	for first := true; len(file) > 0; first = false {
		nl := bytes.IndexByte(file, '\n')
		line := file
		if nl >= 0 {
			line, file = file[:nl], file[nl+1:]
		} else {
			file = nil
		}
		if first && cols[0] > 0 {
			out = append(out, '%')
		}
		c, k := 0, 0
		for k < len(cols) {
			tab := bytes.IndexByte(line, '\t')
			f := line
			if tab >= 0 {
				f = line[:tab]
			}
			if c == cols[k] {
				if k > 0 {
					out = append(out, '\t')
				}
				out = append(out, f...)
				k++
			}
			if tab < 0 {
				break
			}
			line = line[tab+1:]
			c++
		}
		out = append(out, '\n')
	}
	return out
}

func subset(names []string, cols []int) []string {
	out := make([]string, len(cols))
	for k, c := range cols {
		out[k] = names[c]
	}
	return out
}

func filterErr(err error) error {
	var ee *exitError
	if errors.As(err, &ee) {
		return &FilterError{ee.msg}
	}
	return &FilterError{fmt.Sprintf("tawk: %v", err)}
}

// DecodedBit is one line of a `tawk -V NAME=VALUE` table that applies to
// the value: the bit's hex mask and description; Level is "", "info",
// "warn" or "error" (the table's colour).
type DecodedBit struct {
	Text  string
	Level string
}

// Decode returns the lines `tawk -V name=value` prints for the value
// (without colours and the two header lines); ok is false when tawk has no
// table for the column.
func Decode(name, value string) (lines []DecodedBit, ok bool) {
	table := docTable(name)
	if table == nil {
		return nil, false
	}
	levels := map[string]string{"#I": "info", "#W": "warn", "#E": "error"}
	for i, l := range table {
		if i < 2 || l.empty || !l.match(value) {
			continue
		}
		lines = append(lines, DecodedBit{Text: strings.TrimSpace(l.text), Level: levels[l.marker]})
	}
	return lines, true
}

// HasDecoder reports whether `tawk -V name` has a table.
func HasDecoder(name string) bool { return docTable(name) != nil }
