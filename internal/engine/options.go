// Package engine runs the pipeline: capture records → decoder → flow table
// → plugins → text sinks, and writes the end report (spec core.md).
package engine

import (
	"os"
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
	Filter     string // BPF expression ("" = none): trailing words or -F

	// Live capture (-i); docs/live.md.
	Interface string // -i: interface name or "any"
	Snaplen   int    // -S: snap length (0 = 262144)
	NoPromisc bool   // --no-promisc
	RingMB    int    // -B: ring size in MiB (0 = default)
	WritePcap string // --write-pcap: also save the captured frames (pcapng)
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
