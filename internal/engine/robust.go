package engine

import (
	"fmt"
	"os"
	"strconv"

	"flowsift/internal/capture"
	"flowsift/internal/report"
)

// exitStatus turns the run's outcome into the process exit status (see
// the Exit* constants): an interruption wins, then damaged input.
func (r *runner) exitStatus(code int) int {
	if s := r.intr.status(); s != 0 {
		return s
	}
	if code == ExitOK && r.c.Incomplete {
		return ExitDamaged
	}
	return code
}

// outputPaths are the files a run writes.
func (r *runner) outputPaths() []string {
	p := []string{r.prefix + "_headers.txt", r.prefix + "_flows.txt"}
	if r.opts.PacketMode {
		p = append(p, r.prefix+"_packets.txt")
	}
	if r.opts.LogFile {
		p = append(p, r.prefix+"_log.txt")
	}
	return p
}

// markPartial renames the output files this run wrote to NAME.partial
// after an output error (full disk, I/O error) or an abort, so that no
// truncated file is taken for a complete one. Only files modified since
// the run started are touched: an older file of the same name that the
// run did not get to write is left alone.
func (r *runner) markPartial() {
	if r.prefix == "" {
		return
	}
	for _, p := range r.outputPaths() {
		st, err := os.Stat(p)
		if err != nil || st.ModTime().Before(r.start.Truncate(1e9)) {
			continue
		}
		if err := os.Rename(p, p+".partial"); err != nil {
			fmt.Fprintln(r.stderr, report.ErrLine("cannot mark "+p+" as partial: "+err.Error()))
			continue
		}
		fmt.Fprintln(r.stderr, report.ErrLine("output incomplete: "+p+" renamed "+p+".partial"))
	}
}

// checkLinkType warns once per file about a link type flowsift does not
// know: its frames are counted, not dissected (no flows).
func (r *runner) checkLinkType(f *capture.File, path string) {
	if desc, _ := capture.LinkTypeName(f.LinkType()); desc == "" {
		fmt.Fprintln(r.stderr, report.WarnLine(path+": unknown link type "+
			strconv.FormatUint(uint64(f.LinkType()), 10)+": packets are counted but not dissected"))
	}
}
