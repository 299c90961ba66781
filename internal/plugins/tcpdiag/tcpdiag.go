// Package tcpdiag is flowsift's own TCP diagnosis plugin (not Tranalyzer's,
// not loaded by default): per flow direction it counts what really
// happened to the segments that direction sent — lost (before or after the
// capture point), retransmitted, spuriously retransmitted, reordered,
// duplicated by the network, CE-marked, missed by the capture — and where
// the capture point sits. The words are those of docs/tcpdiag.md.
//
// It reads the shared TCP tracker (internal/tcptrack) and keeps only its
// own diagnosis state: a small record per direction (192 bytes), for
// directions that send data a send record (128 bytes), and for directions
// that leave the in-order path a scoreboard of unfinished sequence ranges;
// send records and scoreboards come from pools.
//
// Evidence used, from whatever side the capture was taken:
//   - the send order of frames: the IPv4 ID of a per-socket counter, else
//     the TCP timestamp (TSval, ties broken by sequence number), else the
//     time a frame arrives after the hole it fills;
//   - exact frame identity (IP and TCP headers) for network duplicates;
//   - the receiver's cumulative ACKs, SACK and D-SACK blocks for what
//     happened after the capture point, and ACK timing against the
//     data-to-ACK delay measured in the same capture.
package tcpdiag

import (
	"fmt"
	"runtime"

	"flowsift/internal/cacheline"
	"flowsift/internal/column"
	"flowsift/internal/decode"
	"flowsift/internal/flow"
	"flowsift/internal/plugin"
	"flowsift/internal/report"
)

// Name is the plugin name.
const Name = "tcpDiag"

// Findings bits (column diagFindings), decoded by `flowsift tawk -V`.
const (
	FindLossUpstream   uint16 = 1 << 0  // segments lost before the capture point
	FindLossDownstream uint16 = 1 << 1  // segments lost after the capture point
	FindReordering     uint16 = 1 << 2  // the network reordered segments
	FindSpurious       uint16 = 1 << 3  // spurious retransmissions
	FindSpuriousReord  uint16 = 1 << 4  // spurious retransmissions caused by reordering
	FindDuplication    uint16 = 1 << 5  // the network duplicated segments
	FindCaptureLoss    uint16 = 1 << 6  // data acknowledged that the capture never saw
	FindCE             uint16 = 1 << 7  // ECN congestion experienced marks
	FindWindowLimited  uint16 = 1 << 8  // in flight reached the receiver's window
	FindZeroWindow     uint16 = 1 << 9  // stalled by a zero receive window
	FindRTO            uint16 = 1 << 10 // retransmission after a timeout
	FindKeepAlive      uint16 = 1 << 11 // keep-alive probes
	FindZeroWinProbe   uint16 = 1 << 12 // zero-window probes
	FindNoFeedback     uint16 = 1 << 13 // data without any acknowledgement in the capture
	FindLostRetx       uint16 = 1 << 14 // a retransmission was lost as well
	FindSynRetry       uint16 = 1 << 15 // SYN or SYN/ACK retransmitted
)

// BitDoc documents one bit of a bit-field column for `tawk -V`.
type BitDoc struct {
	Bit    int
	Marker string // "", "#I", "#W" or "#E" as in Tranalyzer's tables
	Desc   string
}

// FindingsDoc is the `tawk -V diagFindings` table.
var FindingsDoc = []BitDoc{
	{0, "#W", "Data lost before the capture point (upstream)"},
	{1, "#W", "Data lost after the capture point (downstream)"},
	{2, "#I", "Network reordered data segments"},
	{3, "#W", "Spurious retransmissions (the receiver already had the data)"},
	{4, "#I", "Spurious retransmissions caused by reordering"},
	{5, "#I", "Network duplicated data segments"},
	{6, "#W", "Capture loss: data acknowledged but never captured"},
	{7, "#I", "ECN congestion experienced (CE) marks"},
	{8, "#I", "Sender limited by the receive window"},
	{9, "#W", "Zero receive window stall"},
	{10, "#W", "Retransmission timeout"},
	{11, "#I", "Keep-alive probes"},
	{12, "#I", "Zero-window probes"},
	{13, "#I", "Data never acknowledged in the capture (one-sided capture)"},
	{14, "#W", "A retransmission was lost too"},
	{15, "#W", "SYN or SYN/ACK retransmitted"},
}

// Vantage values (column diagVantage): where the capture point sits on the
// path of this direction's data.
const (
	VantageUnknown  uint8 = 0
	VantageSender   uint8 = 1
	VantageReceiver uint8 = 2
	VantageMiddle   uint8 = 3
)

// VantageNames are the diagVantage cells.
var VantageNames = [...]string{"unknown", "sender", "receiver", "middle"}

// Packet classes (packet column diagPktClass).
const (
	ClassNone uint8 = iota
	ClassNew
	ClassRetx
	ClassSpurious
	ClassReordered
	ClassDup
	ClassKeepAlive
	ClassProbe
)

// ClassNames are the diagPktClass cells.
var ClassNames = [...]string{"-", "new", "retx", "retx_spur", "reord", "dup", "keepalive", "probe"}

// Register adds tcpDiag to the registry (not a default plugin).
func Register(r *plugin.Registry) {
	r.Add(&plugin.Registration{
		Name:    Name,
		Order:   135,
		Version: "1.0",
		Switches: []plugin.Switch{
			{Name: "THREAD", Default: "1", Help: "1: analyse on a goroutine of its own when the run writes no packet rows and has two or more processors (the same results); 0: on the packet goroutine"},
		},
		New: func(env *plugin.Env, s plugin.Settings) (plugin.Plugin, error) {
			return newPlugin(env, s.Bool("THREAD") && runtime.GOMAXPROCS(0) > 1), nil
		},
	})
}

var flowCols = []column.Column{
	{Name: "diagDataSegs", Type: "U32", Desc: "TCP data segments sent by this direction in the capture (network duplicates included)"},
	{Name: "diagLost", Type: "U32", Desc: "TCP data transmissions lost in the network, before or after the capture point"},
	{Name: "diagRetx", Type: "U32", Desc: "TCP retransmissions (segments re-carrying sent bytes; probes and keep-alives excluded)"},
	{Name: "diagRetxSpur", Type: "U32", Desc: "TCP spurious retransmissions (the receiver already had every byte)"},
	{Name: "diagReord", Type: "U32", Desc: "TCP data segments delivered after a segment sent later (RFC 4737)"},
	{Name: "diagDup", Type: "U32", Desc: "TCP data segments duplicated by the network"},
	{Name: "diagCE", Type: "U32", Desc: "TCP segments that arrived CE-marked (ECN)"},
	{Name: "diagCapLoss", Type: "U32", Desc: "TCP data segments delivered by the network but missing from the capture"},
	{Name: "diagVantage", Type: "SC", Desc: "Capture point on this direction's path: sender, receiver, middle or unknown"},
	{Name: "diagFindings", Type: "H16", Desc: "tcpDiag findings"},
	{Name: "diagLostUp", Type: "U32", Desc: "TCP data transmissions lost before the capture point"},
	{Name: "diagLostDown", Type: "U32", Desc: "TCP data transmissions lost after the capture point"},
	{Name: "diagRTO", Type: "U32", Desc: "TCP retransmissions after a retransmission timeout"},
	{Name: "diagZeroWinTime", Type: "D", Desc: "Time this direction was stalled by a zero receive window (s)"},
	{Name: "diagDataAckRTT", Type: "D", Desc: "Minimum delay from a data segment to its acknowledgement at the capture point (s)"},
	{Name: "diagHsRTT", Type: "D", Desc: "Handshake round trip time through the capture point (s)"},
}

var pktCols = []column.Column{
	{Name: "diagPktClass", Type: "SC", Desc: "What this data segment was: new, retx, retx_spur, reord, dup, keepalive, probe (- for no data)"},
}

// Plugin is the tcpDiag instance of a run.
type Plugin struct {
	_ cacheline.Pad
	// Read for every packet on the packet goroutine.
	env *plugin.Env
	// thread is the hand-over to the analysis goroutine (thread.go), nil
	// while the analysis runs on the packet goroutine.
	thread *thread
	// wantThread: the run allows the analysis goroutine, decided at the
	// first flow (the tracker must agree).
	wantThread, decided bool
	_                   cacheline.Pad

	// The analysis state: the analysis goroutine's while it runs.
	dirs  flow.Store[dir]
	pool  []*board
	free  []int32
	recs  flow.Pool[sendRec] // of the directions that sent data, by dir.rec
	dups  dupCache
	class uint8 // class of the current packet
	// Newly acknowledged spans of the ACK being read (see feedback).
	news [maxSacked + 8]span
	// Arrivals reported by the ACK being read (see orderArrivals).
	ev  [24]arrival
	nev int
	// jobFlow is the flow identity of the job being done (identity reads
	// FlowInd and Slot).
	jobFlow flow.Flow
	_       cacheline.Pad

	// Run totals for the end report (packet goroutine, at output).
	tot totals
	agg uint16
}

type totals struct {
	segs, lost, lostUp, lostDown, retx, spur, reord, dup, ce, capLoss, rto uint64
	dirs                                                                   uint64
}

// New returns a tcpDiag plugin that analyses on the packet goroutine.
func New(env *plugin.Env) *Plugin { return newPlugin(env, false) }

// newPlugin returns a tcpDiag plugin; with thread, the analysis runs on a
// goroutine of its own when the run writes no packet rows.
func newPlugin(env *plugin.Env, thread bool) *Plugin {
	p := &Plugin{env: env}
	p.wantThread = thread && env != nil && !env.PacketRows && env.TCP != nil
	env.ReadsAtOutput(dirsAhead{p})
	if env.TCP != nil {
		env.TCP.KeepEndpoints()
	}
	p.dups.init()
	return p
}

// FlowColumns implements plugin.Plugin.
func (p *Plugin) FlowColumns() []column.Column { return flowCols }

// PacketColumns implements plugin.Plugin.
func (p *Plugin) PacketColumns() []column.Column { return pktCols }

// NewFlow implements plugin.Plugin.
func (p *Plugin) NewFlow(f *flow.Flow, _ *decode.Packet) {
	if !p.decided {
		// Every plugin is built now: the tracker knows whether tcpDiag
		// is its endpoints' only reader.
		p.decided = true
		if p.wantThread && p.env.TCP.DeferEndpoints() {
			p.thread = newThread()
		}
	}
	if p.thread != nil {
		j := p.add()
		j.kind, j.slot = jobNewFlow, f.Slot
		return
	}
	p.newDir(f.Slot)
}

// newDir resets slot's record for a new flow.
func (p *Plugin) newDir(slot int32) {
	d := p.dirs.At(slot)
	p.release(d)
	*d = dir{}
}

// dirsAhead is p's records as the engine asks for them ahead of
// FlowOutput: not while the analysis goroutine has jobs, as it may be
// growing the store (it waits once drained).
type dirsAhead struct{ p *Plugin }

func (a dirsAhead) Prefetch(slot int32) {
	if t := a.p.thread; t == nil || !t.pending {
		a.p.dirs.Prefetch(slot)
	}
}

// rec returns d's sendRec, taking a zeroed one from the pool on first use.
func (p *Plugin) rec(d *dir) *sendRec {
	if d.rec != 0 { // every data segment: the look-up inlines, For does not
		return p.recs.At(d.rec)
	}
	x, _ := p.recs.For(&d.rec)
	// Data starts right after a SYN seen (hi); the first data frame sets
	// lo otherwise. Until a sendRec exists nothing moves hi.
	x.lo = d.hi
	return x
}

// recIf returns d's sendRec, or nil while d has none: what reads it
// must take nil for zero values.
func (p *Plugin) recIf(d *dir) *sendRec { return p.recs.Of(d.rec) }

// board returns d's scoreboard, taking one from the pool on first use.
func (p *Plugin) board(d *dir) *board {
	if d.sb == 0 {
		var i int32
		if n := len(p.free); n > 0 {
			i = p.free[n-1]
			p.free = p.free[:n-1]
		} else {
			p.pool = append(p.pool, new(board))
			i = int32(len(p.pool) - 1)
		}
		p.pool[i].reset()
		d.sb = i + 1
	}
	return p.pool[d.sb-1]
}

func (p *Plugin) release(d *dir) {
	if d.sb != 0 {
		p.free = append(p.free, d.sb-1)
		d.sb = 0
	}
	if d.rec != 0 {
		p.recs.Put(d.rec)
		d.rec = 0
	}
}

// Packet implements plugin.Plugin.
func (p *Plugin) Packet(f *flow.Flow, pk *decode.Packet, pw column.Writer) {
	// Everything comes from the shared tracker: without it (a plugin test
	// without the engine) there is no endpoint state to diagnose with.
	tr := p.env.TCP
	if p.thread != nil { // no packet rows: nothing to write now
		if tr.Current(pk) && tr.Seg.TCP && tr.Seg.HasFlags {
			p.handOverSegment(f, &tr.Seg)
		}
		return
	}
	p.class = ClassNone
	if tr.Current(pk) && tr.Seg.TCP && tr.Seg.HasFlags && tr.Self() != nil && (f.IPVer == 4 || f.IPVer == 6) {
		self, peer, seg := tr.Self(), tr.Peer(), &tr.Seg
		d := p.dirs.At(f.Slot)
		var o *dir
		if f.Partner != nil {
			o = p.dirs.At(f.Partner.Slot)
		}
		p.segment(f, d, o, self, peer, seg)
	}
	if pw != nil {
		pw.Col()
		pw.StrClassString(ClassNames[p.class])
	}
}

// FlowOutput implements plugin.Plugin.
func (p *Plugin) FlowOutput(f *flow.Flow, w column.Writer) {
	if p.thread != nil {
		p.drain()
	}
	d := p.dirs.At(f.Slot)
	var o *dir
	if f.Partner != nil {
		o = p.dirs.At(f.Partner.Slot)
	}
	r := p.result(f, d, o)
	var ackDelay int64
	if sr := p.recIf(d); sr != nil {
		ackDelay = sr.minAckDelay
	}
	p.account(d, &r) // gives d's records back to the pools
	u := func(v int32) {
		w.ColU(uint64(max(v, 0)))
	}
	u(r.segs)
	u(r.lost)
	u(r.retx)
	u(r.spur)
	u(r.reord)
	u(r.dup)
	u(r.ce)
	u(r.capLoss)
	w.Col()
	w.StrClassString(VantageNames[r.vantage])
	w.ColH(uint64(r.findings), 4)
	u(r.lostUp)
	u(r.lostDown)
	u(d.rto)
	w.Col()
	w.F64(float64(d.zwTime) / 1e9)
	w.Col()
	w.F64(nsToSec(ackDelay))
	w.Col()
	w.F64(nsToSec(p.hsRTT(f, d, o)))
}

func nsToSec(ns int64) float64 {
	if ns <= 0 {
		return 0
	}
	return float64(ns) / 1e9
}

// account adds a direction's result to the run totals once (a flow row is
// written once; the partner's row accounts for the partner).
func (p *Plugin) account(d *dir, r *result) {
	if d.accounted {
		return
	}
	d.accounted = true
	t := &p.tot
	t.dirs++
	t.segs += uint64(max(r.segs, 0))
	t.lost += uint64(max(r.lost, 0))
	t.lostUp += uint64(max(r.lostUp, 0))
	t.lostDown += uint64(max(r.lostDown, 0))
	t.retx += uint64(max(r.retx, 0))
	t.spur += uint64(max(r.spur, 0))
	t.reord += uint64(max(r.reord, 0))
	t.dup += uint64(max(r.dup, 0))
	t.ce += uint64(max(r.ce, 0))
	t.capLoss += uint64(max(r.capLoss, 0))
	t.rto += uint64(max(d.rto, 0))
	p.agg |= r.findings
	p.release(d)
}

// Report implements plugin.Plugin.
func (p *Plugin) Report(r *report.Report) {
	if p.thread != nil {
		p.end()
	}
	t := &p.tot
	if t.segs == 0 && p.agg == 0 {
		return
	}
	r.Plugin(Name, fmt.Sprintf("TCP data segments: %d, lost: %d (before the capture point: %d, after: %d)",
		t.segs, t.lost, t.lostUp, t.lostDown))
	r.Plugin(Name, fmt.Sprintf("TCP retransmissions: %d (spurious: %d, after a timeout: %d)", t.retx, t.spur, t.rto))
	r.Plugin(Name, fmt.Sprintf("TCP reordered: %d, network duplicates: %d, CE-marked: %d, missed by the capture: %d",
		t.reord, t.dup, t.ce, t.capLoss))
	if p.env.Live {
		r.Plugin(Name, liveCaptureLine(t.capLoss, p.env.KernelReceived, p.env.KernelDropped))
	}
	r.Plugin(Name, fmt.Sprintf("Aggregated diagFindings=0x%04x", p.agg))
}

// liveCaptureLine says, for a live capture (-i), whether the segments
// "missed by the capture" may be the capture's own fault: the kernel's
// drop counter for flowsift's socket tells.
func liveCaptureLine(capLoss, received, dropped uint64) string {
	s := fmt.Sprintf("Live capture: %d of %d packets dropped by the kernel", dropped, received)
	switch {
	case dropped > 0:
		return s + " (capture losses are at least partly flowsift's own: a larger ring, -B, helps)"
	case capLoss > 0:
		return s + " (the capture losses happened before flowsift's socket: switch, mirror port, NIC)"
	}
	return s
}
