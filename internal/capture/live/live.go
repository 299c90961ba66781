// Package live captures packets from a network interface (Linux
// AF_PACKET with a TPACKET_V3 memory-mapped ring) and delivers them as
// capture.Records, like a capture file that never ends.
package live

import (
	"errors"

	"flowsift/internal/filter"
)

// Options configure a capture.
type Options struct {
	Interface string // interface name, or "any" for all of them
	Snaplen   int    // bytes kept of each frame (0: DefaultSnaplen)
	NoPromisc bool   // leave the interface's promiscuous mode alone
	RingBytes int    // ring size (0: DefaultRingBytes)
	// Filter, if set, is called with the link type of the frames the
	// handle will deliver, before any socket exists; it returns the
	// program to attach in the kernel (nil: none), or an error that
	// Open returns as it is. Callers that filter in user space too may
	// attach a program only as a pre-filter.
	Filter func(linkType uint32) (*filter.Program, error)
}

const (
	// DefaultSnaplen is tcpdump's default snap length.
	DefaultSnaplen = 262144
	// DefaultRingBytes is the default ring size: 64 MiB absorbs about a
	// second of a 500 Mbit/s burst while the main goroutine is busy.
	DefaultRingBytes = 64 << 20
)

// Stats are the kernel's counters for the socket (since Open).
type Stats struct {
	Received uint64 // packets that passed the kernel filter
	Dropped  uint64 // of those, packets lost because the ring was full
}

// ErrIdle is returned by Next when no packet arrived for a while; the
// record then carries only the current time (TsSec/TsNsec), so that the
// caller can end idle flows.
var ErrIdle = errors.New("no packet")

// PermissionError: the process may not open a packet socket.
type PermissionError struct{ Interface string }

func (e *PermissionError) Error() string {
	return "live capture on " + e.Interface + " needs the CAP_NET_RAW capability: run as root or grant it with 'setcap cap_net_raw+ep' on the flowsift binary"
}

// NoInterfaceError: the interface does not exist.
type NoInterfaceError struct{ Interface string }

func (e *NoInterfaceError) Error() string { return e.Interface + ": no such network interface" }
