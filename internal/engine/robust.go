package engine

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"flowsift/internal/capture"
	"flowsift/internal/decode"
	"flowsift/internal/plugin"
	"flowsift/internal/report"
)

// exitStatus turns the run's outcome into the process exit status (see
// the Exit* constants): an interruption wins, then damaged input.
func (r *runner) exitStatus(code int) int {
	// A signal is how a live capture normally ends (as for tcpdump).
	if s := r.intr.status(); s != 0 && r.live == nil {
		return s
	}
	if code == ExitOK && r.c.Incomplete {
		return ExitDamaged
	}
	return code
}

// outputPaths are the files a run writes.
func (r *runner) outputPaths() []string {
	p := []string{r.prefix + "_headers.txt"}
	for _, f := range r.files {
		p = append(p, f.path)
	}
	if r.opts.LogFile {
		p = append(p, r.prefix+"_log.txt")
	}
	if r.opts.WritePcap != "" {
		p = append(p, r.opts.WritePcap)
	}
	return p
}

// markPartial renames the output files this run wrote to NAME.partial
// after an output error (full disk, I/O error) or an abort, so that no
// truncated file is taken for a complete one. Only files this run created
// are touched: an older file of the same name that the run did not get to
// write is left alone. A file not opened through create (--write-pcap) is
// judged by its modification time, with a second of slack because the
// file system's clock is coarser than the run's.
func (r *runner) markPartial() {
	if r.prefix == "" {
		return
	}
	for _, p := range r.outputPaths() {
		st, err := os.Stat(p)
		if err != nil {
			continue
		}
		if !slices.Contains(r.created, p) && st.ModTime().Before(r.start.Add(-time.Second)) {
			continue
		}
		if err := os.Rename(p, p+".partial"); err != nil {
			r.errLine("cannot mark " + p + " as partial: " + err.Error())
			continue
		}
		r.errLine("output incomplete: " + p + " renamed " + p + ".partial")
	}
}

// markPartialAfter is markPartial after a failed write: when the write
// that failed was not to one of the run's files (the end report on a full
// stdout), those files are complete and keep their names.
func (r *runner) markPartialAfter(err error) {
	if r.flowsCut {
		// The flows went to stdout (-w -) and were cut: the files that
		// describe that output (headers, log) belong to an incomplete run.
		r.markPartial()
		return
	}
	var pe *fs.PathError
	if errors.As(err, &pe) && r.prefix != "" && !slices.Contains(r.outputPaths(), pe.Path) {
		return
	}
	r.markPartial()
}

// checkLinkType warns once per file about a link type flowsift does not
// know: its frames are counted, not dissected (no flows).
func (r *runner) checkLinkType(f source, path string) {
	if desc, _ := capture.LinkTypeName(f.LinkType()); desc == "" {
		r.warnLine(path + ": unknown link type " +
			strconv.FormatUint(uint64(f.LinkType()), 10) + ": packets are counted but not dissected")
	}
}

// decodeGuard records dissector panics of one reader.
type decodeGuard struct {
	panics int
	first  string // location and value of the first one
	// decode replaces the decoder in tests (to make it panic).
	decode func(*decode.Packet)
}

// decode is the reader's Decode with a safety net: a dissector panic on a
// crafted frame (a bug) must not take the whole run down. The frame is
// then counted as a packet without flow, with bit 43 (stop dissecting),
// and the failure is reported, located, when the file is done.
func (rd *reader) decode(p *decode.Packet) {
	defer func() {
		if v := recover(); v != nil {
			*p = decode.Packet{TsSec: p.TsSec, TsNsec: p.TsNsec, CapLen: p.CapLen, WireLen: p.WireLen,
				LinkType: p.LinkType, Data: p.Data, Status: decode.StatStopDissect}
			rd.guard.panics++
			if rd.guard.first == "" {
				num, off := rd.f.LastRecord()
				rd.guard.first = fmt.Sprintf("record %d at byte %d: internal error while dissecting the frame (counted without flow; please report): %v", num, off, v)
			}
		}
	}()
	if rd.guard.decode != nil {
		rd.guard.decode(p)
		return
	}
	rd.dec.Decode(p)
}

// reportDecodePanics reports a reader's dissector panics once its file is
// done (the reader goroutine has finished with rd).
func (r *runner) reportDecodePanics(rd *reader, path string) {
	g := &rd.guard
	if g.panics == 0 {
		return
	}
	msg := path + ": " + g.first
	if g.panics > 1 {
		msg += fmt.Sprintf(" (and %d more frames)", g.panics-1)
	}
	r.errLine(msg)
	r.rep.Warn(fmt.Sprintf("%d frames could not be dissected (internal error)", g.panics))
	r.c.InputErrors++
	r.c.Incomplete = true
}

// recoverRun turns a panic of the run (a bug) into an error naming the
// packet, with the stack, and renames the output files *.partial: better
// than a crash that leaves truncated files under their final names.
func (r *runner) recoverRun(status *int) {
	v := recover()
	if v == nil {
		return
	}
	r.errLine(fmt.Sprintf("internal error after packet %d (please report): %v", r.c.Packets, v))
	r.stderr.Write(debug.Stack())
	r.markPartial()
	r.stopAfterPanic()
	*status = ExitFailed
}

// stopAfterPanic ends the goroutines of a run that ended in an internal
// error, the plugins' own and the writers', and closes its files, so that
// what was written reaches the .partial files and nothing outlives the run
// (flowsift serve runs many). A second failure there is ignored: the
// first is the one reported.
func (r *runner) stopAfterPanic() {
	defer func() { _ = recover() }()
	for _, pl := range r.plugins {
		if s, ok := pl.Plugin.(plugin.Stopper); ok {
			s.Stop()
		}
	}
	r.closeOutputs()
}

// errLine and warnLine write an [ERR] / [WRN] line to stderr.
func (r *runner) errLine(msg string)  { fmt.Fprintln(r.stderr, report.ErrLine(msg, r.errColour)) }
func (r *runner) warnLine(msg string) { fmt.Fprintln(r.stderr, report.WarnLine(msg, r.errColour)) }

// create creates an output file and remembers it. Without -w the files go
// next to the input, often a read-only evidence folder: the error then
// says how to put them elsewhere.
func (r *runner) create(path, what string) (*os.File, error) {
	f, err := os.Create(path)
	if err != nil {
		msg := fmt.Sprintf("cannot create %s: %v", what, err)
		if r.opts.Prefix == "" || r.opts.Prefix == "-" {
			msg += fmt.Sprintf(" (without -w the output goes next to the input, in %s; use -w DIR to write it elsewhere)", outputDir(path))
		}
		return nil, errors.New(msg)
	}
	r.created = append(r.created, path)
	return f, nil
}

// outputDir is the folder an output file lands in, for messages.
func outputDir(path string) string {
	d := filepath.Dir(path)
	if d == "." {
		return "the current folder"
	}
	return d + "/"
}

// removeOutputs deletes the files this run created (a run that read no
// packet at all).
func (r *runner) removeOutputs() {
	for _, p := range r.created {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			r.errLine("cannot remove " + p + ": " + err.Error())
		}
	}
}

// reportOpenErrors names each input that could not be opened (in order),
// when none could.
func (r *runner) reportOpenErrors() {
	for _, err := range r.openErrs {
		r.errLine(strings.TrimSpace(err.Error()))
	}
}
