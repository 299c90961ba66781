//go:build !cgo

package filter

import "errors"

// Available reports whether this build can compile filter expressions:
// without cgo there is no libpcap to compile them.
const Available = false

var errUnavailable = errors.New("BPF filters are unavailable: this flowsift was built without cgo (libpcap); rebuild with CGO_ENABLED=1 and libpcap-dev installed")

// Ready reports why filter expressions cannot be compiled here.
func Ready() error { return errUnavailable }

func compile(expr string, linkType uint32, src Source, snaplen int) ([]Instruction, error) {
	return nil, errUnavailable
}

func referenceMatch(ins []Instruction, data []byte, wireLen uint32) bool {
	panic("no reference interpreter without cgo")
}
