// Package cli parses flowsift's command line: Tranalyzer's options with
// getopt semantics, flowsift's long options and its subcommands.
package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"flowsift/internal/colour"
	"flowsift/internal/engine"
	"flowsift/internal/filter"
	"flowsift/internal/plugin"
	"flowsift/internal/plugins"
	"flowsift/internal/plugins/tcpdiag"
	"flowsift/internal/subnet"

	"flowsift/internal/tawk"
	"flowsift/internal/tcol"
)

const usage = `Usage: flowsift [OPTION...] -r FILE|-i IFACE [-w PREFIX] [-s] [FILTER EXPRESSION]
       flowsift tawk [TAWK OPTIONS] PROGRAM [FILE...]
                   (tawk -V NAME=VALUE decodes a bit field, tawk -L FILE
                   every name=value of a report or log, tawk -g lists the
                   functions)
       flowsift tcol [FILE]
       flowsift serve -r CAPTURE [--addr 127.0.0.1:8080]   web view
       flowsift explain [--json] [--flow N] -r FILE   what went wrong, in words
       flowsift clickhouse-schema [--cluster NAME] [-s] [--plugins LIST]
                   the CREATE TABLE statements for --clickhouse
       flowsift clickhouse-send FILE... --clickhouse URL
                   send a failed-batch file again (docs/clickhouse.md)
       flowsift config [PLUGIN]        list plugins, switches and defaults
       flowsift install-aliases DIR    create tawk and tcol symlinks in DIR
       flowsift help | version

Input (exactly one):
  -r FILE        read a pcap/pcapng capture (gzip-compressed too); '-' = stdin
  -R FILE        read the captures listed in FILE (one per line, '#' comments)
                 as one long capture
  -D EXPR[:SCHR][,STOP]
                 read numbered files EXPR, EXPR1, EXPR2, ... up to STOP
  -i IFACE       capture live on a network interface ('any': all of them;
                 Linux, needs CAP_NET_RAW); stop with Ctrl-C
Filter (tcpdump's syntax, compiled by libpcap):
  EXPRESSION     the words after the options, e.g. 'tcp port 80 and host
                 10.0.0.1'; packets that do not match are not processed
  -F FILE        read the expression from FILE ('#' comments)
Live capture:
  -S LEN         snap length (default 262144)
  -B MIB         capture ring size in MiB (default 64)
  --no-promisc   do not put the interface into promiscuous mode
  --write-pcap FILE
                 also save the captured frames (those the filter passed)
                 as pcapng, with the kernel's counters at the end
Output (PREFIX_flows.txt, PREFIX_headers.txt, and the files below):
  -w PREFIX      output prefix, or an existing folder (or one ending in '/')
                 in which files are named after the input. Without -w the
                 files go NEXT TO THE INPUT (as with Tranalyzer), named after
                 it: big.pcap.gz -> big_flows.txt
  -w -           the flows to stdout; the report goes to PREFIX_log.txt
  -s             packet mode: also write PREFIX_packets.txt
  -l             write the end report to PREFIX_log.txt instead of stdout
Flow table:
  -f N           hash factor: keep at most N x 262144 flows in memory
  -x ID          sensor id (default 666)
flowsift:
  --plugins LIST comma-separated plugins to run (default:
                 basicFlow,basicStats,tcpFlags,tcpStates)
  --set PLUGIN.SWITCH=VALUE
                 set a switch (repeatable), e.g. --set tcpFlags.TCPFLGCNT=1;
                 'flowsift config' lists them all
  --format LIST  writers of the flow and packet files, comma-separated:
                 text (default), jsonl, csv, parquet (docs/formats.md),
                 clickhouse (rows into tables, no file; needs --clickhouse)
  --json-hex     JSON Lines: hex bit fields as "0x..." strings, not numbers
  --clickhouse URL
                 ClickHouse HTTP interface, http://HOST:8123/?database=DB plus
                 any settings; user and password in the URL or from
                 CLICKHOUSE_USER, CLICKHOUSE_PASSWORD. Alone it adds
                 clickhouse to the text output (docs/clickhouse.md)
  --clickhouse-table PREFIX
                 insert into PREFIX_flows, PREFIX_packets (default flows, packets)
  --clickhouse-retry SECONDS
                 retry a refused batch this long before giving up (default 60)
  --compress gzip|zstd
                 compress the text, JSON Lines and CSV files (.gz, .zst)
  --geo FILE     MaxMind database (.mmdb) for the country/organisation
                 columns; repeatable (e.g. a country and an ASN database)
  --color=WHEN   colour the report and messages: auto (default: only on a
                 terminal, not with NO_COLOR set or TERM=dumb), always, never
  --progress     show progress on stderr (default when stderr is a terminal)
  --no-progress  never show progress
  -h, --help     this text
  -V, --version  print the version
Accepted and ignored for compatibility: -e FILE, -p DIR, -b FILE, -c CPU,
-P PRIO, -M SEC, -m.

Exit status: 0 all input read and all output written; 1 no packet could be
read (then no file is written), no capture on the interface, or output
could not be written (files are then renamed NAME.partial), or ClickHouse
did not accept rows (they are kept in PREFIX_*.clickhouse-failed.jsonl);
2 bad command line, a bad filter included; 3 some input damaged or
missing (what could be read is written); 130/143 interrupted by
SIGINT/SIGTERM (what was read is written; a live capture ends this way,
with status 0).
`

// Main runs flowsift with argv (argv[0] included) and returns the exit code.
func Main(argv []string, stdin io.Reader, stdout, stderr io.Writer) int {
	args := argv[1:]
	if len(args) > 0 {
		switch args[0] {
		case "tawk":
			return tawk.Main(args[1:], stdin, stdout, stderr)
		case "tcol":
			return tcol.Main(args[1:], stdin, stdout, stderr)
		case "serve":
			return serveMain(args[1:], stdout, stderr)
		case "config":
			return config(args[1:], stdout, stderr)
		case "clickhouse-schema":
			return clickhouseSchema(args[1:], stdout, stderr)
		case "clickhouse-send":
			return clickhouseSend(args[1:], stdout, stderr)
		case "explain":
			return explainMain(args[1:], stdout, stderr)
		case "install-aliases":
			if len(args) == 2 && (args[1] == "-h" || args[1] == "--help") {
				fmt.Fprintln(stdout, "Usage: flowsift install-aliases DIR\nCreate the symbolic links DIR/tawk and DIR/tcol to this binary.")
				return 0
			}
			if len(args) != 2 {
				return usageFail(stderr, "install-aliases needs one folder: flowsift install-aliases DIR")
			}
			return installAliases(args[1], stderr)
		case "help":
			io.WriteString(stdout, usage)
			return 0
		case "version":
			fmt.Fprintln(stdout, versionLine())
			return 0
		}
	}
	opts, code, done := parse(argv, stdout, stderr)
	if done {
		return code
	}
	return engine.Run(opts, plugins.Registry(), stdout, stderr)
}

func installAliases(dir string, stderr io.Writer) int {
	st, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return failf(stderr, "install-aliases: folder %s does not exist (create it first, or name a folder on your PATH)", dir)
		}
		return failf(stderr, "install-aliases: %v", err)
	}
	if !st.IsDir() {
		return failf(stderr, "install-aliases: %s is not a folder", dir)
	}
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	if err == nil {
		err = tawk.InstallAliases(dir, exe)
	}
	if err != nil {
		return failf(stderr, "install-aliases: %v", err)
	}
	return 0
}

// config is 'flowsift config [PLUGIN]': every switch, or one plugin's.
func config(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprintln(stdout, "Usage: flowsift config [PLUGIN]\nList the core switches and every plugin's switches (or only PLUGIN's, or 'core'),\nwith default and meaning; set them with --set PLUGIN.SWITCH=VALUE.")
		return 0
	}
	if len(args) > 1 {
		return usageFail(stderr, "config takes at most one plugin name")
	}
	only := ""
	if len(args) == 1 {
		only = args[0]
		if !strings.EqualFold(only, "core") && plugins.Registry().Find(only) == nil {
			return usageFail(stderr, "config: unknown plugin %q (known: core, %s)", only, pluginNames())
		}
	}
	return listConfig(stdout, only)
}

// pluginNames lists the registered plugins, comma-separated.
func pluginNames() string {
	var names []string
	for _, reg := range plugins.Registry().All() {
		names = append(names, reg.Name)
	}
	return strings.Join(names, ", ")
}

// listConfig lists the switches; only names one plugin (or "core").
func listConfig(w io.Writer, only string) int {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	if only == "" || strings.EqualFold(only, "core") {
		fmt.Fprintln(bw, "Core switches (--set core.NAME=VALUE):")
		for _, s := range coreSwitches {
			fmt.Fprintf(bw, "  core.%-22s default %-8s %s\n", s.Name, s.Default, s.Help)
		}
	}
	for _, reg := range plugins.Registry().All() {
		if only != "" && !strings.EqualFold(only, reg.Name) {
			continue
		}
		def := ""
		if reg.Default {
			def = " (default)"
		}
		if only == "" {
			fmt.Fprintln(bw)
		}
		fmt.Fprintf(bw, "Plugin %s %s, order %d%s:\n", reg.Name, reg.Version, reg.Order, def)
		if len(reg.Switches) == 0 {
			fmt.Fprintln(bw, "  (no switches)")
		}
		for _, s := range reg.Switches {
			fmt.Fprintf(bw, "  %s.%-18s default %-8s %s\n", reg.Name, s.Name, s.Default, s.Help)
		}
		configColumns(bw, reg)
	}
	return 0
}

// configColumns lists a plugin's columns with the default switches, and
// what the bits of its own bit fields mean.
func configColumns(w io.Writer, reg *plugin.Registration) {
	s := plugin.Settings{}
	for _, sw := range reg.Switches {
		s[sw.Name] = sw.Default
	}
	p, err := reg.New(&plugin.Env{}, s)
	if err != nil {
		return
	}
	fmt.Fprintln(w, "  flow columns:")
	for _, c := range p.FlowColumns() {
		fmt.Fprintf(w, "    %-22s %-8s %s\n", c.Name, c.Type, c.Desc)
	}
	if pc := p.PacketColumns(); len(pc) > 0 {
		fmt.Fprintln(w, "  packet columns:")
		for _, c := range pc {
			fmt.Fprintf(w, "    %-22s %-8s %s\n", c.Name, c.Type, c.Desc)
		}
	}
	if reg.Name == tcpdiag.Name {
		fmt.Fprintln(w, "  diagFindings bits (also 'flowsift tawk -V diagFindings=VALUE'):")
		for _, b := range tcpdiag.FindingsDoc {
			fmt.Fprintf(w, "    0x%04x  %s\n", 1<<b.Bit, b.Desc)
		}
		fmt.Fprintf(w, "  diagVantage: %s\n", strings.Join(tcpdiag.VantageNames[:], ", "))
		fmt.Fprintf(w, "  diagPktClass: %s\n", strings.Join(tcpdiag.ClassNames[:], ", "))
	}
}

var coreSwitches = []plugin.Switch{
	{Name: "FLOW_TIMEOUT", Default: "182", Help: "idle timeout (s) of a flow; tcpStates sets its own for TCP flows"},
	{Name: "HASHTABLE_SIZE", Default: "262144", Help: "flows kept in memory before the least recently used pair is written early (flowStat bit 42); -f multiplies it"},
	{Name: "FIXT2BUGS", Default: "1", Help: "1: bytes past a short frame read as absent; 0: as Tranalyzer, they are bytes of earlier frames (l7Content), and a RARP body counts as padding (docs/compat.md)"},
}

// parse reads the command line with getopt semantics. done reports that
// the run is over (help, version or an error) with exit code code.
func parse(argv []string, stdout, stderr io.Writer) (o *engine.Options, code int, done bool) {
	o = &engine.Options{Sets: map[string]string{}, Progress: colour.IsTerminal(stderr)}
	o.CmdLine = strings.Join(argv, " ")
	args := argv[1:]
	fail := func(format string, a ...any) (*engine.Options, int, bool) {
		return nil, usageFail(stderr, format, a...), true
	}
	var inputs, dSpec, filterFile string
	var bpf []string
	nInput := 0
	withArg := "rRDwWefpbxFcPMSBi"
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "--") {
			name, val, hasVal := strings.Cut(a[2:], "=")
			need := func() (string, bool) { return optValue(args, &i, val, hasVal) }
			switch name {
			case "help":
				io.WriteString(stdout, usage)
				return nil, 0, true
			case "version":
				fmt.Fprintln(stdout, versionLine())
				return nil, 0, true
			case "color", "colour":
				mode := colour.Always // a bare --color, as in GNU tools
				if !hasVal && i+1 < len(args) {
					if _, err := colour.ParseMode(args[i+1]); err == nil {
						val, hasVal = args[i+1], true
						i++
					}
				}
				if hasVal {
					var err error
					if mode, err = colour.ParseMode(val); err != nil {
						return fail("%v", err)
					}
				}
				o.Colour = mode
			case "plugins":
				v, ok := need()
				if !ok {
					return fail("--plugins needs a list")
				}
				o.Plugins = strings.Split(v, ",")
			case "set":
				v, ok := need()
				if !ok {
					return fail("--set needs PLUGIN.SWITCH=VALUE")
				}
				k, val, ok := strings.Cut(v, "=")
				if !ok {
					return fail("--set %s: want PLUGIN.SWITCH=VALUE", v)
				}
				o.Sets[k] = val
			case "geo":
				v, ok := need()
				if !ok {
					return fail("--geo needs a file")
				}
				o.SubnetDBs = append(o.SubnetDBs, v)
				if len(o.SubnetDBs) > subnet.MaxGeo {
					return fail("--geo: at most %d databases (e.g. a country and an ASN database)", subnet.MaxGeo)
				}
			case "format", "compress", "json-hex":
				if msg := parseOutputOption(o, name, val, hasVal, need); msg != "" {
					return fail("%s", msg)
				}
			case "clickhouse", "clickhouse-table", "clickhouse-retry", "clickhouse-batch":
				v, ok := need()
				if !ok {
					return fail("--%s needs a value", name)
				}
				if msg := parseClickHouseOption(&o.ClickHouse, name, v); msg != "" {
					return fail("%s", msg)
				}
			case "progress":
				o.Progress = true
			case "no-progress":
				o.Progress = false
			case "no-promisc":
				o.NoPromisc = true
			case "write-pcap":
				v, ok := need()
				if !ok {
					return fail("--write-pcap needs a file")
				}
				o.WritePcap = v
			case "":
				bpf = append(bpf, args[i+1:]...)
				i = len(args)
			default:
				return fail("unknown option --%s", name)
			}
			continue
		}
		if len(a) < 2 || a[0] != '-' {
			bpf = append(bpf, a)
			continue
		}
		for j := 1; j < len(a); j++ {
			opt := a[j]
			var val string
			if strings.IndexByte(withArg, opt) >= 0 {
				if j+1 < len(a) {
					val = a[j+1:]
				} else if i+1 < len(args) {
					i++
					val = args[i]
				} else {
					return fail("option requires an argument -- '%c'", opt)
				}
				j = len(a)
			}
			switch opt {
			case 'h':
				io.WriteString(stdout, usage)
				return nil, 0, true
			case 'V':
				fmt.Fprintln(stdout, versionLine())
				return nil, 0, true
			case 'r':
				nInput++
				o.ReadFile = val
				inputs = val
			case 'R':
				nInput++
				o.ListFile = val
			case 'D':
				nInput++
				dSpec = val
			case 'i':
				nInput++
				o.Interface = val
			case 'w', 'W':
				o.Prefix = val
			case 's':
				o.PacketMode = true
			case 'l':
				o.LogFile = true
			case 'f':
				n, err := strconv.Atoi(val)
				if err != nil || n < 1 {
					return fail("-f %s: want a positive number", val)
				}
				o.HashFactor = n
			case 'x':
				n, err := strconv.Atoi(val)
				if err != nil {
					return fail("-x %s: want a number", val)
				}
				o.SensorID = n
			case 'F':
				filterFile = val
			case 'S':
				n, err := strconv.Atoi(val)
				if err != nil || n < 1 || n > 262144 {
					return fail("-S %s: want a snap length from 1 to 262144", val)
				}
				o.Snaplen = n
			case 'B':
				n, err := strconv.Atoi(val)
				if err != nil || n < 2 || n > 1<<16 {
					return fail("-B %s: want a ring size from 2 to 65536 MiB", val)
				}
				o.RingMB = n
			case 'e', 'p', 'b', 'c', 'P', 'M', 'm':
				// Accepted for compatibility; nothing to do in flowsift.
			default:
				return fail("invalid option -- '%c'", opt)
			}
		}
	}
	if nInput == 0 {
		return fail("One of '-r', '-R', '-D' or '-i' option is required")
	}
	if nInput > 1 {
		return fail("'-r', '-R', '-D' and '-i' options can only be used exclusively")
	}
	for k, v := range o.Sets {
		name, ok := strings.CutPrefix(k, "core.")
		if !ok {
			continue
		}
		known := false
		for _, sw := range coreSwitches {
			if sw.Name == name {
				known = true
			}
		}
		if !known {
			return fail("--set %s: the core has no switch %q (see 'flowsift config')", k, name)
		}
		if name == "FLOW_TIMEOUT" {
			if f, err := strconv.ParseFloat(v, 32); err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
				return fail("--set %s=%s: want a number of seconds (e.g. 60 or 0.5)", k, v)
			}
			continue
		}
		if _, err := strconv.Atoi(v); err != nil {
			return fail("--set %s=%s: %s takes a number", k, v, name)
		}
	}
	if err := plugins.Registry().Check(o.Plugins, o.Sets); err != nil {
		return fail("%v", err)
	}
	if filterFile != "" {
		if len(bpf) > 0 {
			// tcpdump's rule: -F wins over the words.
			fmt.Fprintf(stderr, "flowsift: warning: -F %s given: ignoring the expression %q\n", filterFile, strings.Join(bpf, " "))
		}
		expr, err := filter.ReadFile(filterFile)
		if err != nil {
			return fail("%v", err)
		}
		o.Filter = expr
	} else if len(bpf) > 0 {
		if st, err := os.Stat(bpf[0]); err == nil && !st.IsDir() {
			// "flowsift -r a.pcap b.pcap": the words would be a filter.
			return fail("%s is a file, not a filter expression: -r reads one capture; list several in a file for -R", bpf[0])
		}
		o.Filter = filter.Join(bpf)
	}
	if msg := checkClickHouse(o); msg != "" {
		return fail("%s", msg)
	}
	if o.WritePcap != "" && o.Interface == "" {
		return fail("--write-pcap saves a live capture: it needs -i")
	}
	if o.Filter != "" && !filter.Available {
		return fail("BPF filters are unavailable: this flowsift was built without cgo (libpcap)")
	}
	if o.Filter != "" {
		if err := filter.Ready(); err != nil {
			return fail("%v", err)
		}
	}
	switch {
	case o.ReadFile != "":
		o.Inputs = []string{inputs}
	case o.ListFile != "":
		list, err := readList(o.ListFile)
		if err != nil {
			return fail("%v", err)
		}
		if len(list) == 0 {
			return fail("%s: lists no capture file", o.ListFile)
		}
		o.Inputs = list
	case dSpec != "":
		list, err := numbered(dSpec)
		if err != nil {
			return fail("%v", err)
		}
		o.Inputs = list
		o.ReadFile = list[0]
	}
	return o, 0, false
}

// readList reads a -R list: one path per line, '#' comments. Unlike
// Tranalyzer, which skips missing or empty files silently (core.md §1),
// every entry is kept: the run names each one it cannot read and exits 3
// (docs/compat.md).
func readList(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read list file: %v", err)
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, "\r\n")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	return out, nil
}

// numbered expands -D EXPR[:SCHR][,STOP] into existing files EXPR, EXPR1, ...
// (the files present now; flowsift does not poll for new ones).
func numbered(spec string) ([]string, error) {
	stop := -1
	if i := strings.LastIndexByte(spec, ','); i >= 0 {
		n, err := strconv.Atoi(spec[i+1:])
		if err != nil {
			return nil, fmt.Errorf("-D %s: bad STOP", spec)
		}
		stop, spec = n, spec[:i]
	}
	if i := strings.LastIndexByte(spec, ':'); i >= 0 {
		spec = spec[:i]
	}
	var out []string
	if _, err := os.Stat(spec); err == nil {
		out = append(out, spec)
	}
	for n := 1; stop < 0 || n <= stop; n++ {
		name := spec + strconv.Itoa(n)
		if _, err := os.Stat(name); err != nil {
			break
		}
		out = append(out, name)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-D %s: no such file", spec)
	}
	return out, nil
}

// parseOutputOption handles --format, --compress and --json-hex; it
// returns an error message or "".
func parseOutputOption(o *engine.Options, name, val string, hasVal bool, need func() (string, bool)) string {
	if name == "json-hex" {
		if hasVal {
			return "--json-hex takes no value"
		}
		o.JSONHex = true
		return ""
	}
	v, ok := need()
	if !ok {
		return "--" + name + " needs a value"
	}
	if name == "compress" {
		if !slices.Contains(engine.Compressions, v) {
			return fmt.Sprintf("--compress %s: want one of %s", v, strings.Join(engine.Compressions, ", "))
		}
		o.Compress = v
		return ""
	}
	o.Formats = nil
	for _, f := range strings.Split(v, ",") {
		if !slices.Contains(engine.Formats, f) {
			return fmt.Sprintf("--format %s: unknown format %q (want %s)", v, f, strings.Join(engine.Formats, ", "))
		}
		if slices.Contains(o.Formats, f) {
			return fmt.Sprintf("--format %s: %s named twice", v, f)
		}
		o.Formats = append(o.Formats, f)
	}
	return ""
}

// optValue is the value of a long option: after '=' in the same argument,
// or else the next argument (i then moves past it); false when neither is.
func optValue(args []string, i *int, val string, hasVal bool) (string, bool) {
	if hasVal {
		return val, true
	}
	if *i+1 < len(args) {
		*i++
		return args[*i], true
	}
	return "", false
}
