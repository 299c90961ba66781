// Package tawk is flowsift's tawk: awk (GoAWK) over Tranalyzer's
// TAB-separated flow and packet files, with column access by name
// ($tcpAnomaly), tawk's function library and the -V bit-field decoder.
package tawk

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/benhoyt/goawk/interp"
	"github.com/benhoyt/goawk/parser"
	"github.com/klauspost/compress/zstd"

	"flowsift/internal/colour"
	"flowsift/internal/tcol"
)

const usageText = `Usage: tawk [OPTIONS] 'PROGRAM' FILE
       tawk [OPTIONS] -I FILE 'PROGRAM'
       ... | tawk [OPTIONS] 'PROGRAM'

awk for Tranalyzer/flowsift TAB-separated files: $name is the column
named name in the header row, and tawk's function library is available
(tawk -g lists it, tawk -d NAME documents a function).

Options:
  -I, --input FILE         input file (may be gzip- or zstd-compressed)
  -N, --header-row NUM     the column names are on row NUM
  -s CHAR                  first character of the header row (default %)
  -F, --field-separator FS input field separator (default TAB)
  -O, --ofs FS             output field separator (default TAB)
      --csv                comma-separated input and output, names on row 1
  -H, --no-header          do not output the header row(s)
  -c[=u]                   print a comment block first (u: date in UTC)
  -t                       check that every $name is a column
  -r                       like -t, and rename columns clashing with awk names (name_)
  -l[=N], --list[=N]       list the column numbers and names (N per line)
  -g[=N], --func[=N]       list the functions (N per line)
  -d, --doc NAME           document function NAME ('all' for every function)
  -V, --var NAME[=VALUE]   decode the bit field NAME (VALUE: hex or decimal)
  -L, --decode-log FILE    decode every name=value token of a T2 log/report
      --color=WHEN         colours of -V and messages: auto (on a terminal, unless
                           NO_COLOR is set or TERM=dumb), always, never
  -n, -e                   accepted for compatibility (no extra functions)
  -h, -?, --help           this help
Other arguments (-v var=value, -f progfile, more files) are passed to awk.
`

// options are the parsed tawk command line.
type options struct {
	input     string
	headerRow int
	hdrChar   string
	fs, ofs   string
	csv       bool
	noHeader  bool
	comment   string // "", "local" or "u"
	check     bool
	rename    bool
	list      int // 0: no; else entries per line
	funcs     int
	doc       []string
	vars      []string
	logFile   string
	awkArgs   []string // passed-through arguments, in order
	help      bool
	colour    colour.Mode // --color
}

// exitError carries an exit status.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// Main runs tawk with args (program name excluded) and returns the exit
// status. It never panics: internal errors become exit status 2.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) (rc int) {
	out := bufio.NewWriterSize(stdout, 64*1024)
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "tawk: internal error: %v\n", r)
			rc = 2
		}
		if err := out.Flush(); err != nil && rc == 0 {
			rc = 2
		}
	}()
	err := run(args, stdin, out, stdout, stderr)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			out.Flush()
			fmt.Fprintln(stderr, ee.msg)
		}
		return ee.code
	}
	out.Flush()
	fmt.Fprintf(stderr, "tawk: %v\n", err)
	return 2
}

func fail(code int, format string, a ...any) error {
	return &exitError{code, fmt.Sprintf(format, a...)}
}

// optValue handles "-X v", "-Xv", "-X=v" and "--long=v" / "--long v".
func optValue(args []string, i *int, a, short, long string) (string, bool, error) {
	switch {
	case a == short || (long != "" && a == long):
		if *i+1 >= len(args) {
			return "", true, fail(2, "tawk: option %s requires an argument", a)
		}
		*i++
		return args[*i], true, nil
	case long != "" && strings.HasPrefix(a, long+"="):
		return a[len(long)+1:], true, nil
	case strings.HasPrefix(a, short+"=") && len(short) == 2:
		return a[3:], true, nil
	case strings.HasPrefix(a, short) && len(short) == 2 && len(a) > 2:
		return a[2:], true, nil
	}
	return "", false, nil
}

// optOptional handles "-l", "-l=3", "--list", "--list=3".
func optOptional(a, short, long string, def int) (int, bool) {
	for _, p := range []string{short, long} {
		if a == p {
			return def, true
		}
		if strings.HasPrefix(a, p+"=") {
			n, err := strconv.Atoi(a[len(p)+1:])
			if err != nil || n < 1 {
				n = def
			}
			return n, true
		}
	}
	return 0, false
}

func parseArgs(args []string) (*options, error) {
	o := &options{hdrChar: "%", fs: "\t", ofs: "\t"}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if v, ok, err := optValue(args, &i, a, "-I", "--input"); ok || err != nil {
			o.input = v
			if err != nil {
				return nil, err
			}
			continue
		}
		if v, ok, err := optValue(args, &i, a, "-N", "--header-row"); ok || err != nil {
			if err != nil {
				return nil, err
			}
			n, perr := strconv.Atoi(v)
			if perr != nil || n < 1 {
				return nil, fail(2, "tawk: -N: invalid row number '%s'", v)
			}
			o.headerRow = n
			continue
		}
		if v, ok, err := optValue(args, &i, a, "-F", "--field-separator"); ok || err != nil {
			if err != nil {
				return nil, err
			}
			o.fs = unescapeFS(v)
			continue
		}
		if v, ok, err := optValue(args, &i, a, "-O", "--ofs"); ok || err != nil {
			if err != nil {
				return nil, err
			}
			o.ofs = unescapeFS(v)
			continue
		}
		if v, ok, err := optValue(args, &i, a, "-V", "--var"); ok || err != nil {
			if err != nil {
				return nil, err
			}
			o.vars = append(o.vars, v)
			continue
		}
		if v, ok, err := optValue(args, &i, a, "-d", "--doc"); ok || err != nil {
			if err != nil {
				return nil, err
			}
			o.doc = append(o.doc, v)
			continue
		}
		if v, ok, err := optValue(args, &i, a, "-L", "--decode-log"); ok || err != nil {
			if err != nil {
				return nil, err
			}
			o.logFile = v
			continue
		}
		if n, ok := optOptional(a, "-l", "--list", 1); ok {
			o.list = n
			continue
		}
		if n, ok := optOptional(a, "-g", "--func", 4); ok {
			o.funcs = n
			continue
		}
		if a == "--color" || a == "--colour" || strings.HasPrefix(a, "--color=") || strings.HasPrefix(a, "--colour=") {
			o.colour = colour.Always // a bare --color, as in GNU tools
			if _, v, ok := strings.Cut(a, "="); ok {
				m, err := colour.ParseMode(v)
				if err != nil {
					return nil, fail(2, "tawk: %v", err)
				}
				o.colour = m
			}
			continue
		}
		switch a {
		case "-s":
			if i+1 >= len(args) {
				return nil, fail(2, "tawk: option -s requires an argument")
			}
			i++
			o.hdrChar = args[i]
			continue
		case "--csv":
			o.csv, o.fs, o.ofs, o.headerRow = true, ",", ",", 1
			continue
		case "--zeek":
			return nil, fail(2, "tawk: --zeek is not supported")
		case "-H", "--no-header":
			o.noHeader = true
			continue
		case "-c":
			o.comment = "local"
			continue
		case "-c=u":
			o.comment = "u"
			continue
		case "-t":
			o.check = true
			continue
		case "-r":
			o.check, o.rename = true, true
			continue
		case "-n", "-e":
			continue
		case "-h", "-?", "--help":
			o.help = true
			continue
		case "-k", "-x", "-X", "-P", "-b", "-D":
			return nil, fail(2, "tawk: option %s (packet extraction / Wireshark / manual) is not supported", a)
		case "-v", "-f":
			// awk options with an argument: pass both on.
			o.awkArgs = append(o.awkArgs, a)
			if i+1 < len(args) {
				i++
				o.awkArgs = append(o.awkArgs, args[i])
			}
			continue
		}
		if i == len(args)-1 && o.input == "" && isRegular(a) {
			o.input = a
			continue
		}
		o.awkArgs = append(o.awkArgs, a)
	}
	return o, nil
}

func unescapeFS(s string) string {
	switch s {
	case `\t`, "tab", "TAB":
		return "\t"
	}
	return s
}

func isRegular(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// awkCmd is the passed-through awk command line, split gawk-style.
type awkCmd struct {
	program  string
	progName string // file of -f, for messages
	assigns  []string
	operands []string
}

func splitAwkArgs(args []string) (*awkCmd, error) {
	c := &awkCmd{}
	var progFiles []string
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if len(a) < 2 || a[0] != '-' {
			break
		}
		switch {
		case a == "-v" || a == "-f":
			if i+1 >= len(args) {
				return nil, fail(2, "tawk: option %s requires an argument", a)
			}
			i++
			if a == "-v" {
				c.assigns = append(c.assigns, args[i])
			} else {
				progFiles = append(progFiles, args[i])
			}
		case strings.HasPrefix(a, "-v"):
			c.assigns = append(c.assigns, a[2:])
		case strings.HasPrefix(a, "-f"):
			progFiles = append(progFiles, a[2:])
		default:
			return nil, fail(2, "tawk: unknown option %s (see tawk --help)", a)
		}
	}
	rest := args[i:]
	if len(progFiles) > 0 {
		var b strings.Builder
		for _, f := range progFiles {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, fail(2, "tawk: %v", err)
			}
			b.Write(data)
			b.WriteByte('\n')
		}
		c.program = b.String()
		c.progName = strings.Join(progFiles, ",")
	} else {
		if len(rest) == 0 {
			return nil, fail(1, "Program is required")
		}
		c.program, rest = rest[0], rest[1:]
	}
	c.operands = rest
	for _, as := range c.assigns {
		if name, _, ok := strings.Cut(as, "="); !ok || !identRe().MatchString(name) || identRe().FindString(name) != name {
			return nil, fail(2, "tawk: invalid -v assignment '%s'", as)
		}
	}
	return c, nil
}

// run is tawk; rawStdout is the stream behind stdout (whether it is a
// terminal decides the colours).
func run(args []string, stdin io.Reader, stdout *bufio.Writer, rawStdout, stderr io.Writer) error {
	o, err := parseArgs(args)
	if err != nil {
		return err
	}
	outColour := colour.Enabled(rawStdout, o.colour)
	errColour := colour.Enabled(stderr, o.colour)
	noDoc := func(what, name string) error {
		return fail(1, "%s", colour.Paint(errColour, colour.Red, fmt.Sprintf("No documentation available for %s '%s'", what, name)))
	}
	if o.help {
		stdout.WriteString(usageText)
		return nil
	}
	switch {
	case len(o.doc) > 0:
		if n := writeFuncDoc(stdout, o.doc); n != "" {
			return noDoc("function", n)
		}
		return nil
	case o.funcs > 0:
		return listFuncs(stdout, o.funcs)
	case len(o.vars) > 0:
		for _, v := range o.vars {
			name, val, hasVal := strings.Cut(v, "=")
			if hasVal && docTable(name) != nil && !validDocValue(name, val) {
				return fail(2, "tawk: -V %s: '%s' is not a number (hexadecimal 0x... or decimal)", v, val)
			}
			if !writeVarDoc(stdout, v, outColour) {
				return noDoc("variable", name)
			}
		}
		return nil
	case o.logFile != "":
		name, err := decodeLog(stdout, o.logFile, outColour)
		if err != nil {
			return fail(1, "tawk: %v", err)
		}
		if name != "" {
			return noDoc("variable", name)
		}
		return nil
	}

	// Input: the named file (maybe gzip or zstd) or stdin; peek the header row.
	var in io.Reader = stdin
	if in == nil {
		in = strings.NewReader("")
	}
	inName := "stdin"
	if o.input != "" && o.input != "-" {
		f, err := os.Open(o.input)
		if err != nil {
			return fail(1, "tawk: %v", err)
		}
		defer f.Close()
		in, inName = f, o.input
	}
	br := bufio.NewReaderSize(in, 256*1024)
	if magic, _ := br.Peek(4); len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fail(1, "tawk: %s: %v", inName, err)
		}
		br = bufio.NewReaderSize(zr, 256*1024)
	} else if bytes.Equal(magic, zstdMagic) {
		// flowsift --compress zstd
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return fail(1, "tawk: %s: %v", inName, err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 256*1024)
	}
	if o.list > 0 {
		names, _, _ := readHeader(br, o)
		return listColumns(stdout, names, o.list)
	}

	cmd, err := splitAwkArgs(o.awkArgs)
	if err != nil {
		return err
	}
	names, peeked, herr := readHeader(br, o)
	if herr != nil {
		return herr
	}
	input := io.MultiReader(bytes.NewReader(peeked), br)

	nat := &natives{stdout: stdout, stderr: stderr, outColour: outColour, errColour: errColour}
	funcs := nat.funcs()
	prog, cols, err := compile(o, cmd, names, funcs, inName, errColour)
	if err != nil {
		return err
	}

	if o.comment != "" {
		writeComment(stdout, o, inName, cmd)
	}

	vars := []string{"FS", o.fs, "OFS", o.ofs}
	for n, i := range cols {
		vars = append(vars, n, strconv.Itoa(i))
	}
	for _, as := range cmd.assigns {
		n, v, _ := strings.Cut(as, "=")
		vars = append(vars, n, unescapeAssign(v))
	}
	config := &interp.Config{
		Stdin:  input,
		Output: stdout,
		Error:  stderr,
		Argv0:  "tawk",
		Vars:   vars,
		Funcs:  funcs,
	}
	if len(cmd.operands) > 0 {
		config.Args = append(config.Args, cmd.operands...)
		if o.input != "" {
			config.Args = append(config.Args, "-")
		}
	}
	// Field splitting allocates per record and the live heap is tiny, so
	// collect less often while the program runs (restored afterwards;
	// about 20% less CPU on large flow files).
	if prev := debug.SetGCPercent(400); prev > 400 || prev < 0 {
		debug.SetGCPercent(prev)
	} else {
		defer debug.SetGCPercent(prev)
	}
	status, err := interp.ExecProgram(prog, config)
	if err != nil {
		return fail(2, "tawk: %v", err)
	}
	if status != 0 {
		return &exitError{code: status}
	}
	return nil
}

// compile rewrites cmd's program for the columns names (the header row)
// and parses it with tawk's prelude and library: every message tawk gives
// for a bad program comes from here (inName names the input in them).
func compile(o *options, cmd *awkCmd, names []string, funcs map[string]any, inName string, errColour bool) (*parser.Program, map[string]int, error) {
	// Column name -> number (sanitized names, as tawk's variables).
	var cols map[string]int
	if names != nil {
		cols = map[string]int{}
		for i, n := range names {
			if o.rename && reserved(n) {
				n += "_"
			}
			if _, dup := cols[n]; !dup {
				cols[n] = i + 1
			}
		}
	}

	info, err := rewrite(cmd.program, cols)
	if err != nil {
		var ce *colError
		if errors.As(err, &ce) && o.check {
			return nil, nil, checkError(ce.name, cols, errColour)
		}
		if errors.As(err, &ce) && oneColumnOf(names, o) {
			return nil, nil, fail(2, "tawk: unknown column $%s: the header row of %s is one single column; the file is TAB-separated, not comma-separated (drop --csv)", ce.name, inName)
		}
		return nil, nil, fail(2, "tawk: %v\n%s", err, caret(cmd.program, ce.line, ce.col))
	}
	if names == nil {
		// Without a header row $name would silently be $0 (name is an
		// unset variable): whole lines, or binary for a capture file.
		assigned := map[string]bool{}
		for _, as := range cmd.assigns {
			n, _, _ := strings.Cut(as, "=")
			assigned[n] = true
		}
		var used []string
		for n := range info.fieldOf {
			if !specialVars[n] && !info.names[n] && !assigned[n] {
				used = append(used, n)
			}
		}
		if len(used) > 0 {
			sort.Strings(used)
			return nil, nil, fail(2, "tawk: %s has no column header (no line starting with '%s' followed by column names), so $%s names no column: give a flowsift/Tranalyzer flow or packet file, -N ROW for the row holding the names, or use $1, $2, ...", inName, o.hdrChar, used[0])
		}
	}
	if o.check {
		for n := range info.fieldOf {
			if _, ok := cols[n]; !ok && !specialVars[n] && !info.names[n] {
				return nil, nil, checkError(n, cols, errColour)
			}
		}
	}

	// Assemble: prelude (header rule, COL), user program, library.
	defined := map[string]bool{}
	for _, m := range funcDefRe().FindAllStringSubmatch(info.src, -1) {
		defined[m[1]] = true
	}
	setName := ""
	if o.input != "" && o.input != "-" && len(cmd.operands) == 0 {
		setName = o.input
	}
	prelude := buildPrelude(o, names, setName)
	preludeLines := strings.Count(prelude, "\n")
	src := prelude + info.src + "\n" + libSource(info.calls, defined)
	if info.calls["aggr"] || info.calls["aggrrep"] || info.calls["t2sort"] || info.calls["t2rsort"] {
		src += "END { _t2o = _t2aggrout(OFS) _t2sortout(); if (_t2o != \"\") printf \"%s\", _t2o }\n"
	}
	prog, err := parser.ParseProgram([]byte(src), &parser.ParserConfig{Funcs: funcs})
	if err != nil {
		var pe *parser.ParseError
		if errors.As(err, &pe) {
			line := pe.Position.Line - preludeLines
			last := strings.Count(cmd.program, "\n") + 1
			if line > last && pe.Position.Line <= preludeLines+last+1 {
				// The parser hit the end of the user's program.
				return nil, nil, fail(2, "tawk: syntax error at end of program: %s\n%s", pe.Message, caret(cmd.program, last, len(lastLine(cmd.program))+1))
			}
			if line >= 1 && line <= last {
				return nil, nil, fail(2, "tawk: syntax error at line %d, column %d: %s\n%s", line, pe.Position.Column, pe.Message, caret(cmd.program, line, pe.Position.Column))
			}
			return nil, nil, fail(2, "tawk: error in program: %s", pe.Message)
		}
		return nil, nil, fail(2, "tawk: %v", err)
	}
	return prog, cols, nil
}

var funcDefRe = lazyRegexp(`(?m)\bfunc(?:tion)?\s+([A-Za-z_][A-Za-z_0-9]*)`)

// unescapeAssign applies awk's escape processing to a -v value.
func unescapeAssign(v string) string {
	if !strings.Contains(v, `\`) {
		return v
	}
	r := strings.NewReplacer(`\t`, "\t", `\n`, "\n", `\\`, `\`, `\"`, `"`, `\/`, "/", `\r`, "\r")
	return r.Replace(v)
}

// isHeaderLine implements the header rule: the header character,
// optional whitespace, then a letter, a backslash or a parenthesis.
func isHeaderLine(line, hc string) bool {
	if hc == "" || !strings.HasPrefix(line, hc) {
		return false
	}
	rest := strings.TrimLeft(line[len(hc):], " \t")
	if rest == "" {
		return false
	}
	c := rest[0]
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '\\' || c == '(' || c == ')'
}

// readHeader reads lines up to the header row and returns its sanitized
// names and the bytes consumed (to be replayed to awk). Without a header
// row in the first 4 MiB, names is nil.
func readHeader(br *bufio.Reader, o *options) ([]string, []byte, error) {
	var peeked []byte
	for n := 1; len(peeked) < 4<<20; n++ {
		line, err := br.ReadBytes('\n')
		peeked = append(peeked, line...)
		if len(line) == 0 && err != nil {
			break
		}
		s := strings.TrimRight(string(line), "\r\n")
		if (o.headerRow > 0 && n == o.headerRow) || (o.headerRow == 0 && isHeaderLine(s, o.hdrChar)) {
			names, herr := sanitizeHeader(s, o)
			return names, peeked, herr
		}
		if err != nil || (o.headerRow > 0 && n >= o.headerRow) {
			break
		}
	}
	return nil, peeked, nil
}

func sanitizeHeader(line string, o *options) ([]string, error) {
	if o.headerRow == 0 {
		line = strings.TrimLeft(strings.TrimPrefix(line, o.hdrChar), " \t")
	}
	var parts []string
	if len(o.fs) == 1 || o.fs == " " {
		if o.fs == " " {
			parts = strings.Fields(line)
		} else {
			parts = strings.Split(line, o.fs)
		}
	} else {
		re, err := regexp.Compile(o.fs)
		if err != nil {
			return nil, fail(2, "tawk: invalid field separator: %v", err)
		}
		parts = re.Split(line, -1)
	}
	names := make([]string, len(parts))
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, fail(1, "Column %d has an empty name", i+1)
		}
		p = nameSanitizer.Replace(p)
		if p[0] >= '0' && p[0] <= '9' {
			p = "_" + p
		}
		names[i] = p
	}
	return names, nil
}

var nameSanitizer = strings.NewReplacer(" ", "_", "(", "_", ")", "_", "{", "_", "}", "_",
	"[", "_", "]", "_", "-", "_", ".", "_", "/", "_")

// reserved reports names that cannot be awk variables (keywords, builtin
// and library functions, special variables).
func reserved(n string) bool {
	if specialVars[n] {
		return true
	}
	switch n {
	case "BEGIN", "END", "break", "continue", "delete", "do", "else", "exit", "for",
		"function", "getline", "if", "in", "next", "nextfile", "print", "printf", "return",
		"while", "atan2", "close", "cos", "exp", "fflush", "gsub", "index", "int", "length",
		"log", "match", "rand", "sin", "split", "sprintf", "sqrt", "srand", "sub", "substr",
		"system", "tolower", "toupper", "COL":
		return true
	}
	for _, f := range library {
		if f.name == n {
			return true
		}
	}
	return false
}

// buildPrelude returns the awk code run before the user's program: COL
// from the peeked header and the header rule of every record. It ends
// with a newline and does not change the user's line numbering beyond
// its own line count.
func buildPrelude(o *options, names []string, filename string) string {
	var b strings.Builder
	hv := 1
	if o.noHeader {
		hv = 0
	}
	fmt.Fprintf(&b, "BEGIN { _t2hv = %d", hv)
	for i, n := range names {
		fmt.Fprintf(&b, "; COL[%q] = %d; COL[%d] = %q", n, i+1, i+1, n)
	}
	b.WriteString(" }\n")
	if filename != "" {
		// The input reaches GoAWK as a stream (it may be gzip): name it.
		fmt.Fprintf(&b, "FNR == 1 { FILENAME = %s }\n", strconv.Quote(filename))
	} else {
		b.WriteString("\n")
	}
	next := ""
	if o.noHeader {
		next = "; next"
	}
	if o.headerRow > 0 {
		fmt.Fprintf(&b, "{ if (NR == %d) { _t2H = 1; _t2col()%s } else _t2H = 0 }\n", o.headerRow, next)
	} else {
		fmt.Fprintf(&b, "{ if (substr($0, 1, %d) == %s && $0 ~ /%s/) { _t2H = 1; _t2col()%s } else _t2H = 0 }\n",
			len(o.hdrChar), strconv.Quote(o.hdrChar), "^"+regexp.QuoteMeta(o.hdrChar)+`[ \t]*[A-Za-z\\()]`, next)
	}
	strip := ""
	if o.headerRow == 0 {
		strip = fmt.Sprintf("sub(/^%s[ \\t]*/, \"\", _s); ", regexp.QuoteMeta(o.hdrChar))
	}
	fmt.Fprintf(&b, "function _t2col(   _s, _a, _n, _i) { delete COL; _s = $0; %s_n = split(_s, _a, FS); for (_i = 1; _i <= _n; _i++) { _s = _a[_i]; gsub(/^[ \\t]+|[ \\t]+$/, \"\", _s); COL[_s] = _i; COL[_i] = _s } }\n", strip)
	return b.String()
}

func lastLine(s string) string {
	return s[strings.LastIndexByte(s, '\n')+1:]
}

// caret shows the program line with a caret under column col.
func caret(prog string, line, col int) string {
	lines := strings.Split(prog, "\n")
	if line < 1 || line > len(lines) {
		return ""
	}
	l := lines[line-1]
	pad := strings.Map(func(r rune) rune {
		if r == '\t' {
			return '\t'
		}
		return ' '
	}, l[:min(max(col-1, 0), len(l))])
	return "    " + l + "\n    " + pad + "^"
}

// oneColumnOf reports a header row read as one single column that holds
// TABs: a flow file read with --csv (or another -F).
func oneColumnOf(names []string, o *options) bool {
	return len(names) == 1 && o.fs != "\t" && strings.Contains(names[0], "\t")
}

// checkError is -t's report for a missing column.
func checkError(name string, cols map[string]int, errColour bool) error {
	var b strings.Builder
	b.WriteString(colour.Paint(errColour, colour.Red, fmt.Sprintf("Column '%s' not found", name)))
	var hints []string
	for c := range cols {
		if isColumnName(c) && strings.Contains(strings.ToLower(c), strings.ToLower(name)) {
			hints = append(hints, c)
		}
	}
	if s := suggest(name, cols); s != "" && !contains(hints, s) {
		hints = append(hints, s)
	}
	sort.Slice(hints, func(i, j int) bool { return cols[hints[i]] < cols[hints[j]] })
	for _, h := range hints {
		fmt.Fprintf(&b, "\nDid you mean '%s'?", h)
	}
	return &exitError{1, b.String()}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func writeComment(w io.Writer, o *options, inName string, cmd *awkCmd) {
	t := time.Now()
	if o.comment == "u" {
		t = t.UTC()
	}
	fmt.Fprintf(w, "# Generated with tawk from '%s'\n", inName)
	fmt.Fprintf(w, "# Date: %s\n", t.Format("2006-01-02T15:04:05-0700"))
	if len(cmd.assigns) > 0 {
		var parts []string
		for _, a := range cmd.assigns {
			n, v, _ := strings.Cut(a, "=")
			parts = append(parts, fmt.Sprintf("-v %s=%q", n, v))
		}
		fmt.Fprintf(w, "# Variables and libraries used: %s\n", strings.Join(parts, " "))
	}
	fmt.Fprintf(w, "# Filter used: %s\n", strings.Join(append([]string{cmd.program}, cmd.operands...), " "))
}

func listColumns(w io.Writer, names []string, per int) error {
	if names == nil {
		return fail(1, "tawk: no header row found")
	}
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			if i%per == 0 {
				b.WriteByte('\n')
			} else {
				b.WriteByte('\t')
			}
		}
		fmt.Fprintf(&b, "%3d\t%s", i+1, n)
	}
	b.WriteByte('\n')
	return tcol.Align(strings.NewReader(b.String()), w)
}

func listFuncs(w io.Writer, per int) error {
	var names []string
	for _, f := range library {
		if !strings.HasPrefix(f.name, "_") {
			names = append(names, f.name)
		}
	}
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			if i%per == 0 {
				b.WriteByte('\n')
			} else {
				b.WriteByte('\t')
			}
		}
		b.WriteString(n)
	}
	b.WriteByte('\n')
	return tcol.Align(strings.NewReader(b.String()), w)
}

// writeFuncDoc documents the functions names; it returns the first name
// that has no documentation ("" when all had).
func writeFuncDoc(w io.Writer, names []string) string {
	for _, n := range names {
		found := false
		for _, f := range library {
			if n == "all" || n == "funcs" || f.name == n {
				fmt.Fprintf(w, "%s\n    %s\n", f.sig, f.help)
				found = true
			}
		}
		if !found {
			return n
		}
	}
	return ""
}

// zstdMagic starts every zstd frame (RFC 8878).
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
