package explain

import (
	"fmt"
	"sort"
	"strings"
)

// finish writes the findings' sentences, ranks them and builds the
// per-flow summaries.
func (a *analysis) finish() {
	for _, f := range a.find {
		sort.Slice(f.Flows, func(i, j int) bool { return f.Flows[i] < f.Flows[j] })
		f.Summary, f.Detail = a.words(f)
		a.res.Findings = append(a.res.Findings, *f)
	}
	sort.SliceStable(a.res.Findings, func(i, j int) bool {
		x, y := &a.res.Findings[i], &a.res.Findings[j]
		if sevRank(x.Severity) != sevRank(y.Severity) {
			return sevRank(x.Severity) > sevRank(y.Severity)
		}
		if x.impact != y.impact {
			return x.impact > y.impact
		}
		return x.Code < y.Code
	})
	// Rank the flows first: only the summaries asked for are written.
	var ranked []*conn
	for _, cn := range a.conns {
		if len(cn.codes) > 0 || a.all {
			ranked = append(ranked, cn)
		}
	}
	sort.SliceStable(ranked, func(i, j int) bool {
		x, y := ranked[i], ranked[j]
		if px, py := len(x.codes) > 0, len(y.codes) > 0; px != py {
			return px
		}
		if x.imp != y.imp {
			return x.imp > y.imp
		}
		return x.ind < y.ind
	})
	if a.lines > 0 && len(ranked) > a.lines {
		a.res.Capture.SummariesLeftOut = len(ranked) - a.lines
		ranked = ranked[:a.lines]
	}
	a.res.Capture.Summaries = make([]Summary, 0, len(ranked))
	for _, cn := range ranked {
		s := Summary{Flow: cn.ind, Proto: protoName(cn.a.proto), Client: cn.client(), Server: cn.server(),
			Codes: append([]string{}, cn.codes...), Problem: len(cn.codes) > 0, impact: cn.imp}
		s.Text = a.flowLine(cn)
		a.res.Capture.Summaries = append(a.res.Capture.Summaries, s)
	}
}

func protoName(p uint8) string {
	switch p {
	case 6:
		return "TCP"
	case 17:
		return "UDP"
	case 1:
		return "ICMP"
	case 58:
		return "ICMPv6"
	case 0:
		return "non-IP"
	}
	return fmt.Sprintf("IP protocol %d", p)
}

// codeWords are the short names of the codes in flow lines.
var codeWords = map[string]string{
	"loss_upstream": "loss before the capture point", "loss_downstream": "loss after the capture point",
	"reordering": "reordering", "spurious_retransmissions": "spurious retransmissions",
	"network_duplicates": "duplicated by the network", "capture_loss": "missing from the capture",
	"zero_window": "zero window", "window_limited": "window-limited", "rto": "retransmission timeouts",
	"syn_unanswered": "SYNs unanswered", "synack_lost": "SYN/ACKs lost", "refused": "refused",
	"reset_abort": "aborted by a reset", "rst_injected": "injected reset", "keepalive_dead_peer": "dead peer",
	"checksum_offload": "checksum offload", "checksum_bad": "bad checksums", "segments_above_mss": "segments above the MSS",
	"path_change": "TTL change", "ecn_congestion": "ECN congestion marks", "scan": "scan probe",
	"fragment_anomaly": "fragmentation fault", "ip_options": "IP options", "option_anomaly": "odd TCP options",
	"mptcp": "MPTCP", "capture_altered": "altered capture", "data_injected": "injected data", "illegal_flags": "illegal flag combinations", "sequence_gap": "sequence hole (one-sided)",
}

func (a *analysis) flowLine(cn *conn) string {
	d := cn.a
	var b strings.Builder
	fmt.Fprintf(&b, "flow %d %s %s → %s", cn.ind, protoName(d.proto), cn.client(), cn.server())
	pk := d.pkts
	by := d.bytes
	if cn.b != nil {
		pk += cn.b.pkts
		by += cn.b.bytes
	}
	fmt.Fprintf(&b, ", %s, %s, %s", plural(pk, "packet", "packets"), bytesWords(by), secs(cn.span()))
	if len(cn.codes) == 0 {
		b.WriteString(": no problem seen")
		return b.String()
	}
	var w []string
	for _, c := range cn.codes {
		s := codeWords[c]
		switch c {
		case "loss_upstream":
			s = plural(cn.sum(func(d *dirRow) uint64 { return uint64(d.lostUp) }), "segment", "segments") + " lost before the capture point"
		case "loss_downstream":
			s = plural(cn.sum(func(d *dirRow) uint64 { return uint64(d.lostDown) }), "segment", "segments") + " lost after the capture point"
		case "reordering":
			s = plural(cn.sum(func(d *dirRow) uint64 { return uint64(d.reor) }), "segment", "segments") + " reordered"
		case "reset_abort":
			if cn.noted("idle reset") {
				s = "idle connection closed with a reset"
			}
		case "zero_window":
			s = fmt.Sprintf("zero window for %s", secs(cn.a.zwTime+cn.bz()))
		case "rto":
			s = plural(cn.sum(func(d *dirRow) uint64 { return uint64(d.rto) }), "retransmission timeout", "retransmission timeouts")
		}
		w = append(w, s)
	}
	b.WriteString(": ")
	b.WriteString(strings.Join(w, ", "))
	return b.String()
}

// span is the time from the connection's first to its last packet.
func (cn *conn) span() float64 {
	first, last := cn.a.first, cn.a.last
	if b := cn.b; b != nil {
		first, last = min(first, b.first), max(last, b.last)
	}
	return last - first
}

func (cn *conn) bz() float64 {
	if cn.b != nil {
		return cn.b.zwTime
	}
	return 0
}

func (cn *conn) sum(f func(*dirRow) uint64) uint64 {
	var n uint64
	for _, d := range cn.rows() {
		n += f(d)
	}
	return n
}

func bytesWords(n uint64) string {
	switch {
	case n >= 10<<20:
		return fmt.Sprintf("%.0f MB", float64(n)/1e6)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 10000:
		return fmt.Sprintf("%.0f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d bytes", n)
}

func secs(s float64) string {
	switch {
	case s >= 100:
		return fmt.Sprintf("%.0f s", s)
	case s >= 1:
		return fmt.Sprintf("%.1f s", s)
	case s >= 0.001:
		return fmt.Sprintf("%.0f ms", s*1000)
	case s > 0:
		return fmt.Sprintf("%.0f µs", s*1e6)
	}
	return "0 s"
}

func pct(n, of uint64) string {
	if of == 0 {
		return "?"
	}
	p := 100 * float64(n) / float64(of)
	if p < 0.1 {
		return fmt.Sprintf("%.2f %%", p)
	}
	return fmt.Sprintf("%.1f %%", p)
}

func plural(n uint64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// flowsWords names the flows of a finding: "flow 3 (a → b)" or "flows 3, 4 and 9".
func (a *analysis) flowsWords(f *Finding) string {
	if len(f.Flows) == 1 {
		if cn := a.byInd[f.Flows[0]]; cn != nil {
			return cn.label()
		}
	}
	var l []string
	for i, x := range f.Flows {
		if i == 8 {
			l = append(l, fmt.Sprintf("%d more", len(f.Flows)-8))
			break
		}
		l = append(l, fmt.Sprint(x))
	}
	if len(l) == 1 {
		return "flow " + l[0]
	}
	return "flows " + strings.Join(l[:len(l)-1], ", ") + " and " + l[len(l)-1]
}

func pktWords(ev map[string]any, k, what string) string {
	if v, ok := ev[k].(uint64); ok && v > 0 {
		return fmt.Sprintf(" The first %s is packet %d.", what, v)
	}
	return ""
}

// words returns a finding's one-line summary and its paragraph.
func (a *analysis) words(f *Finding) (string, string) {
	ev := f.Evidence
	fl := a.flowsWords(f)
	u := func(k string) uint64 { return evU(ev, k) }
	switch f.Code {
	case "loss_upstream", "loss_downstream":
		where, means := "before the capture point", "between the sender and this capture point; the receiver never got these segments in their first transmission"
		if f.Code == "loss_downstream" {
			where, means = "after the capture point", "between this capture point and the receiver: the capture saw the segments leave, the receiver's acknowledgements show they never arrived"
		}
		n := u("lost_segments")
		s := fmt.Sprintf("%s lost %s (%s of %d data segments) in %s.", plural(n, "data segment", "data segments"), where, pct(n, u("data_segments")), u("data_segments"), fl)
		rec := "all recovered by fast retransmit"
		if t := u("timeouts"); t > 0 {
			rec = fmt.Sprintf("recovered by retransmission, %s waited for a retransmission timeout", plural(t, "time the sender", "times the sender"))
		}
		return s, s + " The loss is on the path " + means + "; " + rec + "." + pktWords(ev, "first_packet", "retransmitted or out-of-order segment")
	case "reordering":
		n := u("reordered_segments")
		s := fmt.Sprintf("The network reordered %s (%s of %d data segments) in %s.", plural(n, "segment", "segments"), pct(n, u("data_segments")), u("data_segments"), fl)
		lost := " Segments arrived after segments sent later; nothing was lost, the holes filled without retransmission."
		if u("lost_segments") > 0 {
			lost = " Segments arrived after segments sent later and filled their holes without retransmission."
		}
		return s, s + lost + " Reordering on the path (parallel links, load balancing) costs throughput when the sender mistakes it for loss." + pktWords(ev, "first_packet", "segment out of order")
	case "spurious_retransmissions":
		n := u("spurious_retransmissions")
		s := fmt.Sprintf("%s of %d were spurious in %s: the receiver already had the data.", plural(n, "retransmission", "retransmissions"), u("retransmissions"), fl)
		if n == u("retransmissions") {
			s = fmt.Sprintf("All %s were spurious in %s: the receiver already had the data.", plural(n, "retransmission", "retransmissions"), fl)
			if n == 1 {
				s = fmt.Sprintf("The only retransmission was spurious in %s: the receiver already had the data.", fl)
			}
		}
		why := " The sender retransmitted too early."
		if ev["caused_by_reordering"] == true {
			why = " Reordering on the path made the sender believe in loss; the retransmissions were spurious."
		}
		return s, s + why
	case "network_duplicates":
		n := u("duplicated_segments")
		s := fmt.Sprintf("The network duplicated %s (%s of %d data segments) in %s.", plural(n, "segment", "segments"), pct(n, u("data_segments")), u("data_segments"), fl)
		return s, s + " The copies are identical (same IP ID, sequence number and options): they are not retransmissions by the sender but copies made on the path (a looping or mirrored link, or a layer-2 fault)."
	case "ecn_congestion":
		n := u("ce_marked_segments")
		if n == 0 {
			s := fmt.Sprintf("The receiver signalled network congestion (ECN) in %s: %s echoed Congestion Experienced, the sender reduced its window %s.", fl, plural(u("ece_echoes"), "acknowledgement", "acknowledgements"), plural(u("window_reductions"), "time", "times"))
			return s, s + " A router after this capture point was congested and marked segments instead of dropping them; the sender slows down without losing data."
		}
		s := fmt.Sprintf("%s arrived marked Congestion Experienced (ECN) in %s.", plural(n, "segment", "segments"), fl)
		return s, s + fmt.Sprintf(" A router on the path was congested and marked %s of %d data segments instead of dropping them; the sender slows down without losing data.", pct(n, u("data_segments")), u("data_segments"))
	case "capture_loss":
		var parts []string
		if n := u("segments_missing_from_capture"); n > 0 {
			parts = append(parts, fmt.Sprintf("%s acknowledged by the receiver and never retransmitted are missing from the capture", plural(n, "data segment", "data segments")))
		}
		if n := u("kernel_drops"); n > 0 {
			parts = append(parts, fmt.Sprintf("the capture interface reports %s dropped by the kernel", plural(n, "packet", "packets")))
		}
		s := "The capture is incomplete: " + strings.Join(parts, "; ") + "."
		return s, s + " The network delivered these packets; the capture tool missed them. Do not count them as network loss; counts of loss and retransmission near them are unreliable. Flows: " + fl + "."
	case "zero_window":
		s := fmt.Sprintf("The receiver advertised a zero window for %s in %s.", secs(evF(ev, "stalled_s")), fl)
		return s, s + " The receiver's application is not reading fast enough: its buffer filled and the sender had to wait until the window opened again." + pktWords(ev, "first_zero_window_packet", "zero window advertisement")
	case "window_limited":
		s := fmt.Sprintf("The sender was limited by the receiver's window in %s.", fl)
		return s, s + " The data in flight reached the advertised receive window: throughput is bounded by the window divided by the round trip time, not by the network. A larger receive buffer (or window scaling) would help."
	case "rto":
		n := u("timeouts")
		s := fmt.Sprintf("The sender waited for a retransmission timeout %s in %s.", plural(n, "time", "times"), fl)
		if ev["receiver_silent"] == true {
			return s, s + " Nothing from the receiver appears in the capture: the data, or every acknowledgement, is lost on the path (or the receiver is gone); the sender backed off each time."
		}
		return s, s + " Loss could not be repaired by fast retransmit (too few segments in flight to trigger duplicate acknowledgements, or the retransmission was lost too); each timeout stalls the connection for at least 200 ms."
	case "syn_unanswered":
		s := fmt.Sprintf("Connection attempts got no answer in %s (%s in total).", fl, plural(u("syn_packets"), "SYN", "SYNs"))
		return s, s + " The client retried its SYN and never saw a SYN/ACK or a reset: a firewall drops the SYNs (or the host is down)." + pktWords(ev, "first_syn_packet", "SYN")
	case "synack_lost":
		s := fmt.Sprintf("The server answers but the client never gets the SYN/ACK in %s.", fl)
		return s, s + fmt.Sprintf(" %s went out and %s came back, yet the client kept retrying: the SYN/ACKs are lost on the return path; the port is open.", plural(u("syn_packets"), "SYN", "SYNs"), plural(u("synack_packets"), "SYN/ACK", "SYN/ACKs")) + pktWords(ev, "first_synack_packet", "SYN/ACK")
	case "refused":
		s := fmt.Sprintf("Connections refused in %s: the SYN was answered by a reset.", fl)
		return s, s + " Nothing listens on the port (or a firewall rejects with a reset)." + pktWords(ev, "first_reset_packet", "reset")
	case "reset_abort":
		by := ""
		if v, ok := ev["reset_by"].(string); ok {
			by = " The last reset came from " + v + "."
		}
		if u("aborts") == 0 {
			s := fmt.Sprintf("Idle connections were closed with a reset instead of a FIN in %s.", fl)
			return s, s + fmt.Sprintf(" The reset came after %s of silence: an application (a browser, a connection pool) dropped an idle connection. No data was in flight.", secs(evF(ev, "longest_idle_s"))) + by
		}
		s := fmt.Sprintf("Established connections were aborted by a reset in %s.", fl)
		if u("before_data") == u("aborts") {
			return s, s + by + " The reset came before any data was exchanged: one side refused the connection after accepting it (an application or a proxy closing at once, or a broken handshake)." + pktWords(ev, "reset_packet", "reset")
		}
		return s, s + by + " The connection ended without an orderly close while data was being exchanged: an application aborted it (or crashed)." + pktWords(ev, "reset_packet", "reset")
	case "rst_injected":
		s := fmt.Sprintf("A reset with a foreign TTL in %s: likely injected.", fl)
		return s, s + fmt.Sprintf(" Packet %d claims to come from %s with TTL %d (IP ID %d), a TTL that no other packet of this host in the capture has (it sends with %s). A middlebox or an attacker forged it.", u("rst_packet"), ev["claimed_sender"], ev["rst_ttl"], ev["rst_ip_id"], ttlWords(ev["host_ttls"]))
	case "keepalive_dead_peer":
		s := fmt.Sprintf("%s went unanswered in %s.", plural(u("unanswered_keepalives"), "keep-alive probe", "keep-alive probes"), fl)
		return s, s + " The peer stopped answering while the connection was idle (it crashed, or a firewall or NAT forgot the connection); the prober gave up and reset the connection." + pktWords(ev, "reset_packet", "reset")
	case "checksum_offload":
		s := fmt.Sprintf("Checksums left to the network card in %s.", fl)
		return s, s + fmt.Sprintf(" The packets sent by %s carry checksums that do not verify, yet the peer accepted them: the capture was taken on the sending host before the card filled the checksums in (checksum offload). This is an artefact of the capture, not a fault.", strings.Join(anyStrings(ev["hosts"]), ", "))
	case "data_injected":
		s := fmt.Sprintf("A data segment with a foreign TTL in %s: likely injected.", fl)
		return s, s + fmt.Sprintf(" Packet %d claims to come from %s with TTL %d while the packets before and after it have another TTL; it carries %s. A box on the side of the path raced the real server with its own data (a man-on-the-side injection); the real segment, when it follows, looks like a retransmission with different content.", u("packet"), ev["claimed_sender"], ev["ttl"], bytesWords(u("bytes")))
	case "illegal_flags":
		s := fmt.Sprintf("Segments with flags no TCP stack sends together in %s: %s.", fl, strings.Join(anyStrings(ev["combinations"]), "; "))
		return s, s + " Such segments are crafted (a scanner, a fingerprinting tool, an attack) or mangled by a broken middlebox; receivers treat them differently, which is why tools send them." + pktWords(ev, "first_packet", "such packet")
	case "sequence_gap":
		s := fmt.Sprintf("Holes in the sequence numbers of one-sided connections in %s.", fl)
		return s, s + " Only one direction of these connections is in the capture, and some of their data never appears: it was lost before the capture point and not retransmitted within the capture, or the capture missed it. Without the acknowledgements the two cannot be told apart."
	case "capture_altered":
		s := fmt.Sprintf("Checksums do not verify in %s, yet the peers answered: the capture was altered after it was taken.", fl)
		return s, s + fmt.Sprintf(" The IP header checksums of %s are wrong too, and no network card leaves those to offload: the addresses or TTLs were rewritten (anonymisation) without fixing the checksums. Not a network fault.", strings.Join(anyStrings(ev["hosts"]), ", "))
	case "checksum_bad":
		s := fmt.Sprintf("Packets with wrong checksums in %s.", fl)
		return s, s + " The checksums do not verify and the receivers did not answer these packets: they were corrupted (or crafted) and dropped." + pktWords(ev, "first_packet", "such packet")
	case "segments_above_mss":
		s := fmt.Sprintf("Segments of up to %d bytes, above the MSS of %d bytes, in %s.", u("largest_segment"), u("mss"), fl)
		return s, s + " The capture was taken on the sending host before segmentation offload (TSO/GSO) split these super-segments: an artefact of the capture point, not of the network."
	case "path_change":
		s := fmt.Sprintf("The TTL changed mid-connection in %s (TTLs between %d and %d).", fl, ev["ttl_min"], ev["ttl_max"])
		return s, s + " Packets of the same host arrived with different hop counts: the route changed during the connection (or another box answered for the host)." + pktWords(ev, "first_packet", "packet with a changed TTL")
	case "scan":
		s := fmt.Sprintf("%s scan from %s: %s on %s probed, %d answered.", ev["kind"], ev["scanner"], plural(u("ports"), "port", "ports"), plural(u("hosts"), "host", "hosts"), u("answered"))
		return s, s + " One source sent a few packets to many ports or hosts without exchanging data: a port scan." + pktWords(ev, "first_packet", "probe")
	case "fragment_anomaly":
		s := fmt.Sprintf("IP fragmentation faults in %s.", fl)
		var l []string
		if ev["overlapping_fragments"] == true {
			l = append(l, "fragments overlap with different extents")
		}
		if ev["odd_sized_fragments"] == true {
			l = append(l, "fragments other than the last are not a multiple of 8 bytes")
		}
		if ev["tiny_first_fragment"] == true {
			l = append(l, "a first fragment is too short to hold the transport header")
		}
		if n := u("incomplete_datagrams"); n > 0 {
			l = append(l, fmt.Sprintf("%s of %d never completed (fragments missing)", plural(n, "datagram", "datagrams"), u("fragmented_datagrams")))
		}
		return s, s + " " + capitalize(strings.Join(l, "; ")) + ". Such datagrams cannot be reassembled cleanly; crafted fragments are also a classic way to evade inspection." + pktWords(ev, "first_packet", "faulty fragment")
	case "ip_options":
		s := fmt.Sprintf("IPv4 options in %s.", fl)
		return s, s + " Options (record route, timestamp, source route, router alert) are rare on today's networks and many routers drop or slow-path such packets; source routing is a security concern."
	case "option_anomaly":
		s := fmt.Sprintf("Malformed or unusual TCP options in %s.", fl)
		return s, s + " Option lengths that do not fit, or option kinds no ordinary stack sends: crafted packets, a fingerprinting tool, or a broken middlebox."
	case "mptcp":
		s := fmt.Sprintf("Multipath TCP in %s.", fl)
		return s, s + " The connection uses MPTCP: its data may be spread over subflows on other addresses, so per-flow counts tell only part of the story."
	}
	return f.Code, f.Code
}

func anyStrings(v any) []string { l, _ := v.([]string); return l }

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func ttlWords(v any) string {
	l, _ := v.([]int)
	var w []string
	for _, t := range l {
		w = append(w, fmt.Sprint(t))
	}
	if len(w) == 1 {
		return "TTL " + w[0]
	}
	if len(w) > 6 {
		w = append(w[:6], "…")
	}
	return "TTLs " + strings.Join(w, ", ")
}
