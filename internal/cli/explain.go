package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"flowsift/internal/colour"
	"flowsift/internal/engine"
	"flowsift/internal/explain"
	"flowsift/internal/plugins"
)

const explainUsage = `Usage: flowsift explain [--json] [--all] [--flow N] -r FILE [-w PREFIX]

Tells what went wrong in a capture, in words, with the evidence: capture
health (is it complete, where was it taken, offload artefacts), findings
ranked by impact, and one line per problem flow. Nothing is written to
disk unless -w is given (then the flow files are written as usual).

Options:
  -r FILE, -R FILE, -D EXPR   input, as for flowsift ('-r -' reads stdin)
  -w PREFIX                   also write the flow files
  --json                      machine-readable: {"capture", "health", "findings"}
  --flow N                    one flow (flowInd N) in detail, as a timeline
  --all                       a line for every flow, not only the problem flows
  --color[=WHEN], --no-color  colours: auto (default: on a terminal, unless
                              NO_COLOR is set), always, never
  -h, --help                  this text

Examples:
  flowsift explain -r trace.pcap
  flowsift explain --json -r trace.pcap | jq '.findings[].code'
  flowsift explain --flow 3 -r trace.pcap
  tcpdump -w - -i eth0 | flowsift explain -r -
`

func explainMain(args []string, stdout, stderr io.Writer) int {
	var rest []string
	asJSON, all := false, false
	color := colour.Enabled(stdout, colour.Auto)
	var flowN uint64
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, val, hasVal := strings.Cut(a, "=")
		switch name {
		case "--json":
			asJSON = true
		case "--all":
			all = true
		case "--color", "--colour":
			mode := colour.Always
			if hasVal {
				m, err := colour.ParseMode(val)
				if err != nil {
					fmt.Fprintln(stderr, "flowsift explain:", err)
					return 2
				}
				mode = m
			}
			color = colour.Enabled(stdout, mode)
		case "--no-color", "--no-colour":
			color = false
		case "-h", "--help":
			io.WriteString(stdout, explainUsage)
			return 0
		case "--flow":
			if !hasVal {
				if i+1 >= len(args) {
					fmt.Fprintln(stderr, "flowsift explain: --flow needs a flow index")
					return 2
				}
				i++
				val = args[i]
			}
			n, err := strconv.ParseUint(val, 10, 64)
			if err != nil || n == 0 {
				fmt.Fprintf(stderr, "flowsift explain: --flow %s: want a flow index (flowInd, from 1)\n", val)
				return 2
			}
			flowN = n
		case "-s", "--plugins":
			fmt.Fprintf(stderr, "flowsift explain: %s is not an explain option\n", a)
			return 2
		default:
			rest = append(rest, a)
		}
	}
	opts, code, done := parse(append([]string{"flowsift"}, rest...), stdout, stderr)
	if done {
		return code
	}
	opts.Progress = false
	xo := explain.Options{Flow: flowN, All: all}
	if !asJSON && !all {
		xo.Lines = explain.TextLines // the text shows no more
	}
	res, err := explain.AnalyzeFlow(opts, plugins.Registry(), xo)
	if err != nil {
		fmt.Fprintln(stderr, "flowsift explain:", err)
		return engine.ExitFailed
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return engine.ExitFailed
		}
	} else if err := explain.WriteText(stdout, res, explain.TextOptions{Color: color, All: all}); err != nil {
		return engine.ExitFailed
	}
	if flowN > 0 && (res.Capture.Detail == nil || !res.Capture.Detail.Found) {
		return 1
	}
	return 0
}
