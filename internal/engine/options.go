// Package engine runs the pipeline: capture records → decoder → flow table
// → plugins → text sinks, and writes the end report (spec core.md).
package engine

import (
	"os"

	"flowsift/internal/column"
	"flowsift/internal/sink"
	"path/filepath"
	"strings"
)

// Options are the run's settings (the command line, parsed).
type Options struct {
	ReadFile   string   // -r
	ListFile   string   // -R
	Inputs     []string // the capture files, resolved from -r / -R
	Prefix     string   // -w as given ("" = next to the input)
	PacketMode bool     // -s
	LogFile    bool     // -l: end report to PREFIX_log.txt
	HashFactor int      // -f
	SensorID   int      // -x
	Plugins    []string // nil = default set
	Sets       map[string]string
	CmdLine    string // argv joined by spaces, for the headers file
	SubnetDB   string // optional MaxMind database
	Progress   bool   // progress on stderr
	Collect    *Collect
}

// OutputPrefix computes PREFIX from the input name and -w (core.md §3).
func OutputPrefix(input, w string) (string, error) {
	if input == "-" {
		input = "stdin"
	}
	if w == "" {
		return stripExt(input), nil
	}
	if st, err := os.Stat(w); err == nil && st.IsDir() {
		base := filepath.Base(input)
		if !strings.HasSuffix(w, "/") {
			w += "/"
		}
		return w + stripExt(base), nil
	}
	if strings.HasSuffix(w, "/") {
		// A directory that does not exist yet: create it, name files after the input.
		if err := os.MkdirAll(w, 0o755); err != nil {
			return "", err
		}
		return w + stripExt(filepath.Base(input)), nil
	}
	if i := strings.LastIndexByte(w, '/'); i > 0 {
		if err := os.MkdirAll(w[:i], 0o755); err != nil {
			return "", err
		}
	}
	return w, nil
}

// stripExt removes everything from the last '.' of the whole path.
func stripExt(p string) string {
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return p
}

// Collect asks a run to keep its rows in memory (flowsift explain). With
// Options.Prefix empty no file is written and the end report is dropped;
// with a prefix the files are written as usual and the rows kept as well.
type Collect struct {
	// Flows receives every flow row (the engine creates it), with the
	// columns named in FlowWant (nil: all); Packets likewise with PacketWant.
	Flows                *sink.Recorder
	FlowWant, PacketWant []string
	// FlowRow, when set, receives each flow row as it is written instead
	// of Flows keeping it (sink.Recorder.Stream).
	FlowRow func(row *sink.Table)
	// PacketsOfFlow > 0 keeps the packet rows of that flow (flowInd) in
	// Packets, as packet mode would write them.
	PacketsOfFlow uint64
	Packets       *sink.Recorder

	// Filled by the run.
	FlowColumns, PacketColumns []column.Column
	Counters                   Counters
	Inputs                     []InputInfo
}

// InputInfo describes one capture file read by the run.
type InputInfo struct {
	Path     string
	Format   string
	LinkType uint32
	Snaplen  uint32
	// Kernel drop counters from pcapng interface statistics (HaveDrops
	// false when the file has none).
	HaveDrops      bool
	IfDrop, OSDrop uint64
}
