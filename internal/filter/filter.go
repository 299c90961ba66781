package filter

import (
	"fmt"
	"os"
	"strings"
)

// DefaultSnaplen is the snap length the programs are compiled for (it
// only sets the value an accepting program returns).
const DefaultSnaplen = 262144

// Compile compiles expr for a capture of link type dlt (a DLT_ value, as
// libpcap numbers them). The error is libpcap's message, as tcpdump
// prints it.
func Compile(expr string, dlt uint32) (*Program, error) {
	ins, err := compile(expr, dlt, DefaultSnaplen)
	if err != nil {
		return nil, err
	}
	return NewProgram(ins)
}

// Filter is one expression compiled on demand for each link type met
// (pcapng files may mix them), as libpcap would compile it for a capture
// of that link type. Not safe for concurrent use: one reader owns it.
type Filter struct {
	expr   string
	dltOf  func(linkType uint32) uint32
	progs  map[uint32]*Program
	errs   map[uint32]error
	lastLT uint32
	last   *Program // program of lastLT; nil: that link type cannot be filtered
	// Failed lists the link types whose compilation failed, in order.
	Failed []uint32
}

// New returns a filter for expr; dltOf maps a record's link type to the
// DLT_ value libpcap compiles for (capture.DLT for files).
func New(expr string, dltOf func(uint32) uint32) *Filter {
	return &Filter{expr: expr, dltOf: dltOf, progs: map[uint32]*Program{}, errs: map[uint32]error{}, lastLT: ^uint32(0)}
}

// Expr is the expression.
func (f *Filter) Expr() string { return f.expr }

// Prepare compiles the expression for a link type now (so that a bad
// expression is found before any output is written).
func (f *Filter) Prepare(linkType uint32) (*Program, error) {
	if p, ok := f.progs[linkType]; ok {
		return p, nil
	}
	if err, ok := f.errs[linkType]; ok {
		return nil, err
	}
	p, err := Compile(f.expr, f.dltOf(linkType))
	if err != nil {
		f.errs[linkType] = err
		f.Failed = append(f.Failed, linkType)
		return nil, err
	}
	f.progs[linkType] = p
	return p, nil
}

// Err is the compilation error for a link type (nil if it compiled or was
// not met).
func (f *Filter) Err(linkType uint32) error { return f.errs[linkType] }

// Match reports whether a frame of the given link type passes. Packets of
// a link type the expression cannot be compiled for never pass (libpcap
// could not have captured them with this filter either).
func (f *Filter) Match(linkType uint32, data []byte, wireLen uint32) bool {
	if linkType != f.lastLT {
		f.last, _ = f.Prepare(linkType)
		f.lastLT = linkType
	}
	return f.last != nil && f.last.Match(data, wireLen)
}

// Join makes one expression of the trailing command-line words, as
// tcpdump does (separated by single spaces).
func Join(words []string) string { return strings.Join(words, " ") }

// ReadFile reads a filter file (-F): as Tranalyzer, '#' starts a comment
// that runs to the end of the line; lines are joined with spaces.
func ReadFile(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("cannot read filter file: %v", unwrapPath(err))
	}
	var words []string
	for _, line := range strings.Split(string(data), "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		words = append(words, strings.Fields(line)...)
	}
	return strings.Join(words, " "), nil
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return fmt.Errorf("%s: %v", pe.Path, pe.Err)
	}
	return err
}
