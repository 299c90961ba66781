package explain

import (
	"fmt"
	"io"
	"strings"
)

// TextOptions shape the text rendering.
type TextOptions struct {
	Color bool // ANSI colours (terminal only)
	All   bool // a line for every flow, not only the 20 worst problem flows
}

// maxFlowLines is the number of problem flows listed without --all.
const maxFlowLines = TextLines

// TextLines is the Options.Lines that WriteText needs without All.
const TextLines = 20

// WriteText renders r as an expert's note.
func WriteText(w io.Writer, r *Result, o TextOptions) error {
	var b strings.Builder
	bold := func(s string) string {
		if o.Color {
			return "\x1b[1m" + s + "\x1b[0m"
		}
		return s
	}
	sev := func(s string) string {
		label := map[string]string{SevError: "ERROR", SevWarning: "WARNING", SevInfo: "INFO"}[s]
		if !o.Color {
			return label
		}
		c := map[string]string{SevError: "31", SevWarning: "33", SevInfo: "36"}[s]
		return "\x1b[1;" + c + "m" + label + "\x1b[0m"
	}
	c := &r.Capture
	fmt.Fprintf(&b, "%s %s: %d packets, %s, %d flows (%d TCP) over %s.\n\n", bold("Capture"), strings.Join(c.Files, ", "), c.Packets, bytesWords(c.Bytes), c.Flows, c.TCPFlows, secs(c.Duration))

	if c.Detail != nil {
		writeDetail(&b, c.Detail, bold)
		_, err := io.WriteString(w, b.String())
		return err
	}

	h := &r.Health
	b.WriteString(bold("Capture health") + "\n")
	if h.Complete {
		b.WriteString("  The capture is complete: every data segment acknowledged by a receiver is in it")
		if h.KernelDrops != nil {
			b.WriteString(" and the capture interface reports no kernel drop")
		}
		b.WriteString(".\n")
	} else {
		if h.CaptureLoss > 0 {
			fmt.Fprintf(&b, "  The capture is incomplete: %s acknowledged by the receiver never appear in it.\n", plural(h.CaptureLoss, "data segment", "data segments"))
		}
		if h.KernelDrops != nil && *h.KernelDrops > 0 {
			fmt.Fprintf(&b, "  The capture interface reports %s dropped by the kernel.\n", plural(*h.KernelDrops, "packet", "packets"))
		}
		if h.SnapCutHeaders > 0 {
			fmt.Fprintf(&b, "  The snap length (%d bytes) cut protocol headers in %s.\n", c.Snaplen, plural(h.SnapCutHeaders, "flow direction", "flow directions"))
		}
	}
	if len(h.Vantage) > 0 {
		counts := map[string]int{}
		var order []string
		for _, v := range h.Vantage {
			if counts[v.Point] == 0 {
				order = append(order, v.Point)
			}
			counts[v.Point]++
		}
		if len(h.Vantage) == 1 {
			fmt.Fprintf(&b, "  Capture point for %s: %s.\n", h.Vantage[0].Endpoint, h.Vantage[0].Point)
		} else {
			var l []string
			for _, p := range order {
				l = append(l, fmt.Sprintf("%s for %s", p, plural(uint64(counts[p]), "connection", "connections")))
			}
			fmt.Fprintf(&b, "  Capture point: %s.\n", strings.Join(l, "; "))
		}
	}
	if h.ChecksumOffl {
		b.WriteString("  Checksums were left to the network card (offload): not errors.\n")
	}
	if h.AboveMSS {
		b.WriteString("  Segments larger than the MSS: taken before segmentation offload.\n")
	}
	for _, n := range h.Notes {
		fmt.Fprintf(&b, "  %s\n", n)
	}
	for _, t := range h.TimeAnomalies {
		fmt.Fprintf(&b, "  Time: %s.\n", t)
	}
	b.WriteString("\n")

	b.WriteString(bold("Findings") + "\n")
	if len(r.Findings) == 0 {
		b.WriteString("  Nothing wrong found.\n")
	}
	for i, f := range r.Findings {
		fmt.Fprintf(&b, "%2d. %s %s\n", i+1, sev(f.Severity), wrap(f.Detail, 6, 78))
	}
	b.WriteString("\n")

	var lines []Summary
	for _, s := range c.Summaries {
		if s.Problem || o.All {
			lines = append(lines, s)
		}
	}
	more := c.SummariesLeftOut
	if !o.All && len(lines) > maxFlowLines {
		more += len(lines) - maxFlowLines
		lines = lines[:maxFlowLines]
	}
	if len(lines) > 0 {
		if o.All {
			b.WriteString(bold("Flows") + "\n")
		} else {
			b.WriteString(bold("Problem flows") + "\n")
		}
		for _, s := range lines {
			fmt.Fprintf(&b, "  %s\n", s.Text)
		}
		if more > 0 {
			fmt.Fprintf(&b, "  … and %d more problem %s (--all lists every flow).\n", more, map[bool]string{true: "flow", false: "flows"}[more == 1])
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeDetail(b *strings.Builder, d *FlowDetail, bold func(string) string) {
	b.WriteString(bold(capitalize(d.Summary)) + "\n")
	if !d.Found {
		return
	}
	for _, e := range d.Events {
		label := map[string]string{"handshake": "Handshake", "data": "Data", "close": "Close", "zero_window": "Zero window",
			"retx": "Loss", "retx_spur": "Spurious", "reord": "Reordering", "dup": "Duplicates", "probe": "Probes", "keepalive": "Keep-alive"}[e.Kind]
		fmt.Fprintf(b, "  %-11s %s\n", label, wrap(e.Text, 14, 78))
	}
}

// wrap folds s at width, indenting continuation lines by indent.
func wrap(s string, indent, width int) string {
	words := strings.Fields(s)
	var b strings.Builder
	col := indent
	for i, w := range words {
		n := len([]rune(w))
		if i > 0 {
			if col+1+n > width {
				b.WriteString("\n" + strings.Repeat(" ", indent))
				col = indent
			} else {
				b.WriteByte(' ')
				col++
			}
		}
		b.WriteString(w)
		col += n
	}
	return b.String()
}
