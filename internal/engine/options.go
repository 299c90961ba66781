// Package engine runs the pipeline: capture records → decoder → flow table
// → plugins → text sinks, and writes the end report (spec core.md).
package engine

import (
	"os"

	"flowsift/internal/colour"
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
	CmdLine    string   // argv joined by spaces, for the headers file
	SubnetDBs  []string // MaxMind databases (--geo, repeatable)
	Progress   bool     // progress on stderr
	Colour     colour.Mode
	Formats    []string // --format: writers of the flow and packet files (nil = text)
	JSONHex    bool     // --json-hex: hex bit fields as "0x..." strings in JSON Lines
	Compress   string   // --compress: "", "gzip" or "zstd" (text, JSON Lines, CSV)
	ClickHouse ClickHouseOptions
	Collect    *Collect
	Filter     string // BPF expression ("" = none): trailing words or -F

	// Live capture (-i); docs/live.md.
	Interface string // -i: interface name or "any"
	Snaplen   int    // -S: snap length (0 = 262144)
	NoPromisc bool   // --no-promisc
	RingMB    int    // -B: ring size in MiB (0 = default)
	WritePcap string // --write-pcap: also save the captured frames (pcapng)
}

// OutputPrefix computes PREFIX from the input name and -w (core.md §3),
// with one deliberate difference (docs/compat.md): the name is taken from
// the file name only, without its capture and compression extensions
// (big.pcap.gz → big), where Tranalyzer cuts the whole path at its last
// dot (big.pcap).
func OutputPrefix(input, w string) (string, error) {
	if input == "-" {
		input = "stdin"
	}
	if w == "" {
		return filepath.Join(filepath.Dir(input), outputName(input)), nil
	}
	if st, err := os.Stat(w); err == nil && st.IsDir() {
		if !strings.HasSuffix(w, "/") {
			w += "/"
		}
		return w + outputName(input), nil
	}
	if strings.HasSuffix(w, "/") {
		// A directory that does not exist yet: create it, name files after the input.
		if err := os.MkdirAll(w, 0o755); err != nil {
			return "", err
		}
		return w + outputName(input), nil
	}
	if i := strings.LastIndexByte(w, '/'); i > 0 {
		if err := os.MkdirAll(w[:i], 0o755); err != nil {
			return "", err
		}
	}
	return w, nil
}

// captureExts are the extensions of captures and of their compression,
// removed from an output name after the input's last extension.
var captureExts = []string{".gz", ".pcap", ".pcapng", ".cap", ".dmp", ".ntar"}

// outputName is the base of the output file names for input: its file
// name without the last extension and without any capture extension
// before it (x.pcapng.cap → x, trace.2024 → trace).
func outputName(input string) string {
	name := filepath.Base(input)
	strip := func(ext string) bool {
		if len(name) > len(ext) && strings.HasSuffix(strings.ToLower(name), ext) {
			name = name[:len(name)-len(ext)]
			return true
		}
		return false
	}
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		name = name[:i]
	}
	for again := true; again; {
		again = false
		for _, ext := range captureExts {
			if strip(ext) {
				again = true
			}
		}
	}
	return name
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
