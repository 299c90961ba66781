package engine

import (
	"errors"
	"fmt"
	"strings"

	"flowsift/internal/capture"
	"flowsift/internal/filter"
)

// source is what the reader reads records from: a capture file
// (capture.File) or a live capture (live.Handle).
type source interface {
	Next(rec *capture.Record) error
	LinkType() uint32
	Snaplen() uint32
	BytesRead() int64
	Size() int64
	LastRecord() (num uint64, off int64)
	Close() error
}

// usageError is a bad command line found only when the input is known
// (a filter expression libpcap refuses): exit status 2, before any output.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// openInput opens the interface, or the inputs up to the first readable
// one, and compiles the filter for its link type.
func (r *runner) openInput() error {
	o := r.opts
	if o.Filter != "" {
		r.filter = filter.New(o.Filter, o.Interface != "")
	}
	if o.Interface != "" {
		return r.openLive()
	}
	if len(o.Inputs) == 0 {
		return errors.New("One of '-r', '-R', '-D' or '-i' option is required")
	}
	for r.firstIdx = 0; r.firstIdx < len(o.Inputs); r.firstIdx++ {
		f, err := r.open(o.Inputs[r.firstIdx])
		if err == nil {
			r.first = f
			break
		}
		r.openErrs = append(r.openErrs, err)
	}
	if r.first == nil {
		return errNoInput
	}
	// The start-up lines mention the first input's format.
	if strings.HasPrefix(r.first.Format(), "pcapng") {
		r.firstFormat = "pcapng"
	}
	if r.filter == nil {
		return nil
	}
	_, err := r.filter.Prepare(r.first.LinkType(), r.first.Swapped())
	return r.filterError(err)
}

// filterError words a compilation error of the command line's filter.
func (r *runner) filterError(err error) error {
	if err == nil {
		return nil
	}
	return &usageError{msg: fmt.Sprintf("bad filter expression '%s': %v", r.opts.Filter, err)}
}

// reportFilterFailures names the link types met in a file that the
// filter cannot be compiled for (pcapng files mixing link types): their
// packets were skipped, as no libpcap capture with this filter has them.
func (r *runner) reportFilterFailures(path string) {
	if r.filter == nil {
		return
	}
	for _, lt := range r.filter.Failed[r.filterFailuresShown:] {
		desc, name := capture.LinkTypeName(lt)
		if name == "" {
			desc, name = "unknown", fmt.Sprint(lt)
		}
		msg := fmt.Sprintf("%s: the filter does not apply to link type %s [%s]: %v; its packets are skipped", path, desc, name, r.filter.Err(lt))
		r.warnLine(msg)
		r.rep.Warn(fmt.Sprintf("filter does not apply to link type %s: packets skipped", name))
	}
	r.filterFailuresShown = len(r.filter.Failed)
}
