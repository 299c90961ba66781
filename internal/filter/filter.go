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
	// scratch holds a frame with its header word swapped.
	scratch []byte
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
// could not have captured them with this filter either). swapped says
// that the frame comes from a file written in the other byte order than
// the host's (see HostOrderHeader).
func (f *Filter) Match(linkType uint32, data []byte, wireLen uint32, swapped bool) bool {
	if linkType != f.lastLT {
		f.last, _ = f.Prepare(linkType)
		f.lastLT = linkType
	}
	if f.last == nil {
		return false
	}
	if swapped && HostOrderHeader(linkType) && len(data) >= 4 {
		// libpcap compiles the family test for the file's byte order; the
		// program here is compiled for the host's, so the frame's family
		// word is swapped instead (on a copy).
		f.scratch = append(f.scratch[:0], data[3], data[2], data[1], data[0])
		f.scratch = append(f.scratch, data[4:]...)
		data = f.scratch
	}
	return f.last.Match(data, wireLen)
}

// HostOrderHeader reports whether frames of a link type start with a
// 32-bit word in the capturing host's byte order that filters test
// (LINKTYPE_NULL and LINKTYPE_ENC: an address family).
func HostOrderHeader(linkType uint32) bool { return linkType == 0 || linkType == 109 }

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
