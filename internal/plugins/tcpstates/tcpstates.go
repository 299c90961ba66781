// Package tcpstates is the tcpStates plugin (spec tcpStates.md): a
// simplified TCP state machine per flow direction that records anomalies
// and sets each direction's idle timeout, which drives flow termination.
package tcpstates

import (
	"flowsift/internal/column"
	"flowsift/internal/decode"
	"flowsift/internal/flow"
	"flowsift/internal/plugin"
	"flowsift/internal/report"
	"flowsift/internal/tcptrack"
)

const name = "tcpStates"

// Anomaly bits (tcpStates.md §1).
const (
	MalConEst  uint8 = 0x01 // malformed connection establishment
	MalTeardwn uint8 = 0x02 // malformed teardown
	MalFlgsEst uint8 = 0x04 // malformed flags during established connection
	PktsTerm   uint8 = 0x08 // packets after teardown
	PktsRst    uint8 = 0x10 // packets after reset
	RstTrans   uint8 = 0x40 // reset from sender
	Evil       uint8 = 0x80 // potential scan
)

// Connection states.
const (
	stNew uint8 = iota
	stEstablished
	stClosing
	stClosed
	stReset
)

// timeouts are the idle timeouts of a direction by state (seconds,
// float32 as in T2).
type timeouts [stReset + 1]float32

// timeoutSwitches name the switches of the state timeouts, in the order
// Tranalyzer registers them (core.md §9.1: 0.1, 120, 610, 10).
var timeoutSwitches = []struct {
	state uint8
	sw    plugin.Switch
}{
	{stReset, plugin.Switch{Name: "TIMEOUT_RESET", Default: "0.1", Help: "idle timeout (s) of a direction after a RST"}},
	{stNew, plugin.Switch{Name: "TIMEOUT_NEW", Default: "120", Help: "idle timeout (s) of a new connection, until established"}},
	{stEstablished, plugin.Switch{Name: "TIMEOUT_ESTABLISHED", Default: "610", Help: "idle timeout (s) of an established connection"}},
	{stClosing, plugin.Switch{Name: "TIMEOUT_CLOSING", Default: "120", Help: "idle timeout (s) after the first FIN"}},
	{stClosed, plugin.Switch{Name: "TIMEOUT_CLOSED", Default: "10", Help: "idle timeout (s) after the FIN was acknowledged"}},
}

// TCP flag bits.
const (
	fFIN = 0x01
	fSYN = 0x02
	fRST = 0x04
	fACK = 0x10
)

// Register adds tcpStates to r.
func Register(r *plugin.Registry) {
	r.Add(&plugin.Registration{
		Name:    name,
		Order:   132,
		Version: "0.9.3",
		Default: true,
		Switches: func() []plugin.Switch {
			var out []plugin.Switch
			for _, t := range timeoutSwitches {
				out = append(out, t.sw)
			}
			return out
		}(),
		New: func(env *plugin.Env, s plugin.Settings) (plugin.Plugin, error) {
			ts := New(env)
			for _, t := range timeoutSwitches {
				v, err := s.Timeout(t.sw.Name)
				if err != nil {
					return nil, err
				}
				ts.timeouts[t.state] = v
			}
			ts.registerTimeouts()
			return ts, nil
		},
	})
}

// defaultTimeouts are Tranalyzer's values (tcpStates.md §2).
var defaultTimeouts = timeouts{stNew: 120, stEstablished: 610, stClosing: 120, stClosed: 10, stReset: 0.1}

// registerTimeouts tells the flow table which timeouts flows may get.
func (ts *Plugin) registerTimeouts() {
	for _, t := range timeoutSwitches {
		ts.env.Timeouts = append(ts.env.Timeouts, ts.timeouts[t.state])
	}
}

var cols = []column.Column{{Name: "tcpStatesAFlags", Type: "H8", Desc: "TCP state machine anomalies"}}

// dir is the state of one direction.
type dir struct {
	state   uint8
	anom    uint8
	synSeen bool
	synAckd bool
	finSeen bool
	finAckd bool
	finScan bool
	synSeq  uint32 // compared by acks
	finSeq  uint32
}

// acks reports whether ack acknowledges the SYN or FIN at seq. T2 adds one
// without 32-bit wrap-around, so a SYN or FIN at 0xffffffff is never
// acknowledged.
func acks(ack, seq uint32) bool { return uint64(ack) == uint64(seq)+1 }

// Plugin is the tcpStates instance of one run.
type Plugin struct {
	env      *plugin.Env
	flows    flow.Store[dir]
	agg      uint8
	timeouts timeouts
	seg      tcptrack.Segment // parse of the current packet without the engine
}

// New returns a tcpStates plugin with Tranalyzer's timeouts.
func New(env *plugin.Env) *Plugin {
	ts := &Plugin{env: env, timeouts: defaultTimeouts}
	env.ReadsAtOutput(&ts.flows)
	return ts
}

// FlowColumns implements plugin.Plugin.
func (ts *Plugin) FlowColumns() []column.Column { return cols }

// PacketColumns implements plugin.Plugin.
func (ts *Plugin) PacketColumns() []column.Column { return cols }

// NewFlow resets the direction to NEW.
func (ts *Plugin) NewFlow(f *flow.Flow, _ *decode.Packet) {
	*ts.flows.At(f.Slot) = dir{}
}

// side couples a direction's state with its flow, whose timeout follows
// the state.
type side struct {
	d  *dir
	f  *flow.Flow
	to *timeouts
}

func (s side) set(state uint8) {
	s.d.state = state
	s.f.Timeout = s.to[state]
}

// Packet runs the state machine (tcpStates.md §3).
func (ts *Plugin) Packet(f *flow.Flow, p *decode.Packet, pw column.Writer) {
	P := side{ts.flows.At(f.Slot), f, &ts.timeouts}
	if tcpHeader(f, p) {
		var R side
		if f.Partner != nil {
			R = side{ts.flows.At(f.Partner.Slot), f.Partner, &ts.timeouts}
		}
		seg := ts.segment(p)
		// T2 reads the flags byte from a 13-byte header too (tcpHeader).
		flags := seg.Flags
		if !seg.HasFlags && p.L4Off+13 < len(p.Data) {
			flags = p.Data[p.L4Off+13]
		}
		step(P, R, flags, seg.Seq, seg.Ack)
	}
	if pw != nil {
		pw.ColH(uint64(P.d.anom), 2)
	}
}

// segment returns the shared tracker's parse of p, or parses p itself when
// the plugin runs without the engine (tests).
func (ts *Plugin) segment(p *decode.Packet) *tcptrack.Segment {
	if ts.env.TCP.Current(p) {
		return &ts.env.TCP.Seg
	}
	tcptrack.Parse(p, &ts.seg)
	return &ts.seg
}

// tcpHeader reports whether p is a TCP packet the machine looks at: an IP
// flow's TCP packet with fragment offset 0 and at least 13 captured L4
// bytes.
func tcpHeader(f *flow.Flow, p *decode.Packet) bool {
	return (f.IPVer == 4 || f.IPVer == 6) && p.Proto == 6 && p.FragOff == 0 &&
		p.SnapL4Len >= 13 && p.L4Off >= 0 && p.L4Off+12 <= len(p.Data)
}

// step applies one packet with flags F, sequence and acknowledgement
// numbers to direction P and its partner R (R.d nil when absent).
func step(P, R side, F uint8, seq, ack uint32) {
	arsf := F & (fACK | fRST | fSYN | fFIN)
	sfr := F & (fSYN | fFIN | fRST)
	hasR := R.d != nil
	if x := F & 0x3f; x == 0x29 || x == 0 { // Xmas or NULL
		P.d.anom |= Evil
	}

	switch P.d.state {
	case stNew:
		switch {
		case sfr == fSYN:
			P.d.synSeen = true
			P.d.synSeq = seq
			P.set(stNew)
			if F&fACK != 0 {
				if hasR {
					if acks(ack, R.d.synSeq) {
						R.d.synAckd = true
					} else {
						establishBad(P, R)
					}
				} else {
					P.set(stEstablished)
					P.d.anom |= MalConEst
				}
			}
		case hasR && arsf == fACK:
			if acks(ack, R.d.synSeq) {
				R.d.synAckd = true
				if P.d.synAckd {
					P.set(stEstablished)
					R.set(stEstablished)
				}
			} else {
				establishBad(P, R)
			}
		case hasR && arsf == fRST|fACK:
			P.set(stReset)
			P.d.anom |= RstTrans
			R.set(stReset)
		case F&fRST != 0:
			P.d.anom |= RstTrans | MalConEst
			P.set(stReset)
			if hasR {
				R.d.anom |= MalConEst
				R.set(stReset)
			} else {
				P.d.anom |= Evil
			}
		case arsf == fFIN|fACK:
			P.d.finSeen = true
			P.d.finSeq = seq
			P.d.anom |= MalConEst
			P.set(stClosing)
			if hasR {
				R.d.anom |= MalConEst
				if R.d.finSeen && acks(ack, R.d.finSeq) {
					R.d.finAckd = true
				}
			} else {
				P.d.finScan = true
			}
		case arsf == fFIN:
			P.d.anom |= Evil
		default:
			P.set(stEstablished)
			P.d.anom |= MalConEst
			if hasR {
				R.set(stEstablished)
				R.d.anom |= MalConEst
			}
		}

	case stEstablished:
		if F&(fSYN|fACK) != fACK {
			P.d.anom |= MalFlgsEst
			if hasR {
				R.d.anom |= MalFlgsEst
			}
		}
		if F&fFIN != 0 {
			P.d.finSeen = true
			P.d.finSeq = seq
			P.set(stClosing)
			if F&fACK != 0 && hasR && R.d.finSeen && acks(ack, R.d.finSeq) {
				R.d.finAckd = true
			}
		}
		if F&fRST != 0 {
			reset(P, R)
		}

	case stClosing:
		if F&fRST != 0 {
			reset(P, R)
		}
		if F&fACK != 0 && hasR && R.d.finSeen && acks(ack, R.d.finSeq) {
			R.d.finAckd = true
		}
		if P.d.finSeen && P.d.finAckd && hasR && R.d.finSeen && R.d.finAckd {
			P.set(stClosed)
			R.set(stClosed)
		}

	case stClosed:
		P.d.anom |= PktsTerm
		if F&fRST != 0 {
			reset(P, R)
		}

	case stReset:
		P.d.anom |= PktsRst
	}
}

// establishBad moves both directions to ESTABLISHED with MAL_CON_EST (a
// wrong acknowledgement of the partner's SYN).
func establishBad(P, R side) {
	P.set(stEstablished)
	R.set(stEstablished)
	P.d.anom |= MalConEst
	R.d.anom |= MalConEst
}

// reset is the RST rule after establishment: P resets with RST_TRANS and
// MAL_TEARDWN, the partner resets with MAL_TEARDWN.
func reset(P, R side) {
	P.set(stReset)
	P.d.anom |= RstTrans | MalTeardwn
	if R.d != nil {
		R.set(stReset)
		R.d.anom |= MalTeardwn
	}
}

// FlowOutput writes the anomalies with the end-of-flow rules (§4); a
// complete teardown clears the partner's fin_scan too, which shows in its
// row when it is written after this one.
func (ts *Plugin) FlowOutput(f *flow.Flow, w column.Writer) {
	P := ts.flows.At(f.Slot)
	a := P.anom
	if (f.IPVer == 4 || f.IPVer == 6) && f.Key.Proto == 6 {
		if f.Partner == nil {
			a |= MalConEst | MalTeardwn
		} else {
			R := ts.flows.At(f.Partner.Slot)
			if !(P.synSeen && R.synSeen && P.synAckd && R.synAckd) {
				a |= MalConEst
			}
			if !(P.finSeen && R.finSeen && P.finAckd && R.finAckd) {
				a |= MalTeardwn
			} else {
				P.finScan = false
				R.finScan = false
			}
		}
		if P.finScan {
			a |= Evil
		}
		ts.agg |= a
	}
	w.ColH(uint64(a), 2)
}

// Report writes the aggregate line when any TCP flow had anomalies.
func (ts *Plugin) Report(r *report.Report) {
	if ts.agg == 0 {
		return
	}
	const hx = "0123456789abcdef"
	r.Plugin(name, "Aggregated tcpStatesAFlags=0x"+string([]byte{hx[ts.agg>>4], hx[ts.agg&15]}))
}
