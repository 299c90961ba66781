package filter

import (
	"fmt"
	"os"
	"strings"

	"flowsift/internal/capture"
)

// DefaultSnaplen is the snap length the programs are compiled for (it
// only sets the value an accepting program returns).
const DefaultSnaplen = 262144

// Source says how the capture the expression applies to is read, which
// changes what libpcap's compiler generates for some link types (e.g.
// the address-family values of DLT_NULL).
type Source int

const (
	File        Source = iota // a capture file in the host's byte order
	FileSwapped               // a capture file in the other byte order
	Live                      // an interface of this host
)

// Compile compiles expr for a capture of link type linkType (LINKTYPE_,
// as in capture files). The error is libpcap's message, as tcpdump
// prints it.
func Compile(expr string, linkType uint32, src Source) (*Program, error) {
	ins, err := compile(expr, linkType, src, DefaultSnaplen)
	if err != nil {
		return nil, err
	}
	return NewProgram(ins)
}

// Filter is one expression compiled on demand for each link type met
// (pcapng files may mix them) and byte order, as libpcap would compile it
// for such a capture. Not safe for concurrent use: one reader owns it.
type Filter struct {
	expr    string
	live    bool
	progs   map[uint32]*Program // by key (link type, swapped bit)
	errs    map[uint32]error
	lastKey uint32
	last    *Program // program of lastKey; nil: cannot be filtered
	// Failed lists the link types the compilation failed for, in order.
	Failed []uint32
}

const swappedKey = 1 << 31 // link types fit in 26 bits (capture.LinkTypeMask)

// New returns a filter for expr, for capture files or (live) for
// interfaces of this host.
func New(expr string, live bool) *Filter {
	return &Filter{expr: expr, live: live, progs: map[uint32]*Program{}, errs: map[uint32]error{}, lastKey: ^uint32(0)}
}

// Expr is the expression.
func (f *Filter) Expr() string { return f.expr }

// Prepare compiles the expression for a link type now (so that a bad
// expression is found before any output is written); swapped: the file's
// byte order is not the host's.
func (f *Filter) Prepare(linkType uint32, swapped bool) (*Program, error) {
	key, src := linkType&capture.LinkTypeMask, File
	switch {
	case f.live:
		src = Live
	case swapped:
		key |= swappedKey
		src = FileSwapped
	}
	if p, ok := f.progs[key]; ok {
		return p, nil
	}
	if err, ok := f.errs[key]; ok {
		return nil, err
	}
	p, err := Compile(f.expr, linkType&capture.LinkTypeMask, src)
	if err != nil {
		f.errs[key] = err
		if _, other := f.errs[key^swappedKey]; !other {
			f.Failed = append(f.Failed, key&^swappedKey)
		}
		return nil, err
	}
	f.progs[key] = p
	return p, nil
}

// Err is the compilation error for a link type (nil if it compiled or was
// not met).
func (f *Filter) Err(linkType uint32) error {
	if err := f.errs[linkType]; err != nil {
		return err
	}
	return f.errs[linkType|swappedKey]
}

// Match reports whether a frame of the given link type passes; swapped
// says the frame comes from a file in the other byte order than the
// host's. Packets of a link type the expression cannot be compiled for
// never pass (libpcap could not have captured them with this filter).
func (f *Filter) Match(linkType uint32, data []byte, wireLen uint32, swapped bool) bool {
	key := linkType
	if swapped && !f.live {
		key |= swappedKey
	}
	if key != f.lastKey {
		f.last, _ = f.Prepare(linkType, swapped)
		f.lastKey = key
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
