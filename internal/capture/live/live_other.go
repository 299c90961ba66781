//go:build !linux

package live

import (
	"errors"
	"sync/atomic"

	"flowsift/internal/capture"
)

// Handle is a live capture (Linux only).
type Handle struct{}

// Open fails: live capture is implemented for Linux only.
func Open(o Options) (*Handle, error) {
	return nil, errors.New("live capture (-i) is only supported on Linux")
}

func (h *Handle) Next(rec *capture.Record) error { return errors.New("unsupported") }
func (h *Handle) LinkType() uint32               { return 0 }
func (h *Handle) Snaplen() uint32                { return 0 }
func (h *Handle) BytesRead() int64               { return 0 }
func (h *Handle) Size() int64                    { return 0 }
func (h *Handle) LastRecord() (uint64, int64)    { return 0, 0 }
func (h *Handle) SetStop(stop *atomic.Bool)      {}
func (h *Handle) Close() error                   { return nil }
func (h *Handle) Stats() (Stats, error)          { return Stats{}, nil }
func (h *Handle) HardwareTimestamps() bool       { return false }
func (h *Handle) KernelFilter() bool             { return false }
