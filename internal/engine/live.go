package engine

import (
	"fmt"
	"strings"
	"time"

	"flowsift/internal/capture"
	"flowsift/internal/capture/live"
	"flowsift/internal/filter"
	"flowsift/internal/report"
)

// Live capture (-i, docs/live.md): the interface is one more source of
// records for the same reader, pipeline and outputs as files. What
// differs: quiet periods (the reader's idle ticks) end timed-out flows
// and the flow file is flushed about once a second, so that flows appear
// as they end; a signal is the normal end; the kernel's counters go into
// the end report.

// flushEvery is how often rows written during a live capture reach the files.
const flushEvery = time.Second

// tickLag keeps idle ticks this far behind the wall clock: frames the
// kernel timestamped earlier may still be in a ring block it has not
// handed over yet (the block timeout is 100 ms).
const tickLag = time.Second

func (r *runner) openLive() error {
	o := r.opts
	opts := live.Options{Interface: o.Interface, Snaplen: o.Snaplen, NoPromisc: o.NoPromisc, RingBytes: o.RingMB << 20}
	if r.filter != nil {
		opts.Filter = func(lt uint32) (*filter.Program, error) {
			p, err := r.filter.Prepare(lt, false)
			if err != nil {
				return nil, r.filterError(err)
			}
			// Every frame is filtered again in user space, after the
			// VLAN tag the kernel took off is back, so that the
			// expression means what it means on a capture file. The
			// kernel copy is only a pre-filter, and only where it sees
			// the same bytes: Ethernet frames, for expressions that do
			// not look at VLAN tags.
			if lt != 1 || mentionsVLAN(o.Filter) {
				return nil, nil
			}
			return p, nil
		}
	}
	h, err := live.Open(opts)
	if err != nil {
		if ue, ok := err.(*usageError); ok {
			return ue
		}
		return err
	}
	r.live = h
	if r.intr != nil {
		h.SetStop(&r.intr.flag)
	}
	if o.WritePcap != "" {
		r.pcapOut, err = capture.CreateNg(o.WritePcap, h.LinkType(), h.Snaplen(), o.Interface, "flowsift "+Version)
		if err != nil {
			return fmt.Errorf("cannot create the capture file: %v", err)
		}
	}
	return nil
}

func mentionsVLAN(expr string) bool {
	for _, w := range strings.FieldsFunc(expr, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_')
	}) {
		if w == "vlan" || w == "mpls" || w == "pppoes" || w == "geneve" {
			return true
		}
	}
	return false
}

// processLive reads the interface until a signal (or a capture error).
func (r *runner) processLive() int {
	h := r.live
	name := r.opts.Interface
	r.rep.Linef("Live capture on interface: %s", name)
	desc, ltName := capture.LinkTypeName(h.LinkType())
	r.rep.Linef("Link layer type: %s [%s/%d]", desc, ltName, capture.DLT(h.LinkType()))
	r.rep.Linef("Snapshot length: %d%s", h.Snaplen(), report.Suffix(uint64(h.Snaplen())))
	r.lastFlush = time.Now()
	r.readFile(h, name)
	r.c.ReadBytes += h.BytesRead()
	st, err := h.Stats()
	if err != nil {
		r.warnLine(name + ": kernel statistics unavailable: " + err.Error())
	}
	r.env.Live = true
	r.env.KernelReceived, r.env.KernelDropped = st.Received, st.Dropped
	if r.intr.interrupted() {
		r.rep.Info("capture stopped by " + r.intr.name())
	}
	if w := r.pcapOut; w != nil {
		r.pcapOut = nil
		end := time.Now()
		err := w.Close(&capture.NgStats{
			StartSec: uint64(r.start.Unix()), StartNsec: uint32(r.start.Nanosecond()),
			EndSec: uint64(end.Unix()), EndNsec: uint32(end.Nanosecond()),
			Received: st.Received, Dropped: st.Dropped})
		if err != nil {
			r.errLine("writing " + r.opts.WritePcap + ": " + err.Error())
			r.markPartial()
			return ExitFailed
		}
	}
	return 0
}

// liveTick runs after each batch of a live capture.
func (r *runner) liveTick(b *batch) {
	if b.tick && r.c.HaveFirst {
		t := time.Unix(int64(b.tickSec), int64(b.tickNsec)).Add(-tickLag)
		sec, nsec := uint64(t.Unix()), uint32(t.Nanosecond())
		c := &r.c
		if sec > c.LastSec || sec == c.LastSec && nsec > c.LastNsec {
			r.table.Expire(sec, nsec)
		}
	}
	if now := time.Now(); now.Sub(r.lastFlush) >= flushEvery {
		r.lastFlush = now
		r.flowOut.Flush()
		if r.pktOut != nil {
			r.pktOut.Flush()
		}
	}
}

// liveReport adds the kernel's counters to the end report.
func (r *runner) liveReport() {
	if r.live == nil {
		return
	}
	rp := r.rep
	recv, drop := r.env.KernelReceived, r.env.KernelDropped
	rp.Linef("Number of packets received by the kernel: %d%s", recv, report.Suffix(recv))
	rp.Linef("Number of packets dropped by the kernel: %d%s %s", drop, report.Suffix(drop), report.Pct(float64(drop), float64(recv)))
	if r.live.HardwareTimestamps() {
		rp.Info("hardware timestamps")
	}
}
