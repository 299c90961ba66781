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
	if _, _, err := compile(o, &awkCmd{program: expr}, names, funcs); err != nil {
		return nil, filterErr(err)
	}
	var rows []int
	funcs["_fsSelect"] = func(nr int) int {
		rows = append(rows, nr-2) // NR 1 is the header row
		return 0
	}
	// A # comment in expr fails here too: a filter is one expression.
	wrapped := &awkCmd{program: "!_t2H && (" + expr + ") { _fsSelect(NR) }"}
	prog, cols, err := compile(o, wrapped, names, funcs)
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
	}
	if _, err := interp.ExecProgram(prog, config); err != nil {
		return nil, &FilterError{fmt.Sprintf("tawk: %v", err)}
	}
	return rows, nil
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
