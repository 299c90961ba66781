package explain

import (
	"fmt"
	"sort"

	"flowsift/internal/sink"
)

// FlowDetail is the timeline of one flow (explain --flow N).
type FlowDetail struct {
	Flow      uint64  `json:"flow"`
	Summary   string  `json:"summary"`
	Handshake *HS     `json:"handshake,omitempty"`
	Events    []Event `json:"events"`
	Found     bool    `json:"found"`
}

// HS is the three-way handshake with its round trip split at the capture
// point: server side (SYN → SYN/ACK) and client side (SYN/ACK → ACK).
type HS struct {
	SynPkt, SynAckPkt, AckPkt uint64
	ServerSideRTT             float64 `json:"server_side_rtt_s"`
	ClientSideRTT             float64 `json:"client_side_rtt_s"`
	SynRetries                int     `json:"syn_retries"`
}

// Event is one phase or episode of the timeline.
type Event struct {
	Kind     string  `json:"kind"`
	Start    float64 `json:"start_s"` // seconds since the flow's first packet
	Duration float64 `json:"duration_s"`
	First    uint64  `json:"first_packet"`
	Last     uint64  `json:"last_packet"`
	Packets  int     `json:"packets"`
	Bytes    uint64  `json:"bytes"`
	Dir      string  `json:"direction"`
	Text     string  `json:"text"`
}

// packetWant are the packet columns the timeline reads.
var packetWant = []string{"pktNo", "flowInd", "time", "srcIP", "srcPort", "tcpFlags", "l7Len", "tcpWin", "diagPktClass"}

type pkt struct {
	num     uint64
	t       float64
	fromA   bool
	flags   uint64
	l7      uint64
	win     uint64
	class   string
	rawWinZ bool
}

// episodeGap ends an episode of one kind: packets of the kind further
// apart than a few round trips belong to separate episodes.
func episodeGap(rtt float64) float64 { return min(max(4*rtt, 0.02), 0.5) }

func (a *analysis) detail(ind uint64, t *sink.Table) *FlowDetail {
	fd := &FlowDetail{Flow: ind, Events: []Event{}}
	cn := a.byInd[ind]
	if cn == nil || t == nil || t.Len() == 0 {
		fd.Summary = fmt.Sprintf("flow %d is not in the capture", ind)
		return fd
	}
	fd.Found = true
	fd.Summary = a.flowLine(cn)
	var ps []pkt
	for i := 0; i < t.Len(); i++ {
		src := t.Value(i, "srcIP").Addr
		sp := t.Value(i, "srcPort").U
		ps = append(ps, pkt{
			num: t.Value(i, "pktNo").U, t: t.Value(i, "time").F,
			fromA: src == cn.a.src && sp == uint64(cn.a.sport),
			flags: t.Value(i, "tcpFlags").U & 0xff, l7: t.Value(i, "l7Len").U,
			win: t.Value(i, "tcpWin").U, class: t.Value(i, "diagPktClass").S,
		})
	}
	t0 := ps[0].t
	dirOf := func(p pkt) string {
		if p.fromA {
			return "client → server"
		}
		return "server → client"
	}
	// Handshake.
	var hs HS
	var synT, synAckT float64
	for _, p := range ps {
		switch {
		case p.flags&flSYN != 0 && p.flags&flACK == 0 && p.fromA:
			if hs.SynPkt == 0 {
				hs.SynPkt, synT = p.num, p.t
			} else {
				hs.SynRetries++
			}
		case p.flags&flSYN != 0 && p.flags&flACK != 0 && !p.fromA && hs.SynAckPkt == 0:
			hs.SynAckPkt, synAckT = p.num, p.t
			hs.ServerSideRTT = p.t - synT
		case p.flags&flACK != 0 && p.flags&(flSYN|flRST) == 0 && p.fromA && hs.SynAckPkt != 0 && hs.AckPkt == 0:
			hs.AckPkt = p.num
			hs.ClientSideRTT = p.t - synAckT
		}
	}
	if hs.SynPkt != 0 {
		fd.Handshake = &hs
		txt := fmt.Sprintf("SYN at packet %d", hs.SynPkt)
		if hs.SynRetries > 0 {
			txt += fmt.Sprintf(", retried %s", plural(uint64(hs.SynRetries), "time", "times"))
		}
		if hs.SynAckPkt != 0 {
			txt += fmt.Sprintf(", SYN/ACK at packet %d (%s server side)", hs.SynAckPkt, secs(hs.ServerSideRTT))
		} else {
			txt += ", never answered"
		}
		if hs.AckPkt != 0 {
			txt += fmt.Sprintf(", ACK at packet %d (%s client side); round trip %s", hs.AckPkt, secs(hs.ClientSideRTT), secs(hs.ServerSideRTT+hs.ClientSideRTT))
		}
		fd.Events = append(fd.Events, Event{Kind: "handshake", First: hs.SynPkt, Last: max(hs.AckPkt, hs.SynAckPkt, hs.SynPkt), Text: txt + "."})
	}
	// Data phases per direction: data packets with gaps below 1 s.
	for _, fromA := range []bool{true, false} {
		var ev *Event
		var lastT float64
		for _, p := range ps {
			if p.fromA != fromA || p.l7 == 0 {
				continue
			}
			if ev != nil && p.t-lastT > 1 {
				fd.Events = append(fd.Events, closeData(*ev))
				ev = nil
			}
			if ev == nil {
				ev = &Event{Kind: "data", Start: p.t - t0, First: p.num, Dir: dirOf(p)}
			}
			ev.Last, ev.Packets, ev.Bytes = p.num, ev.Packets+1, ev.Bytes+p.l7
			ev.Duration = p.t - t0 - ev.Start
			lastT = p.t
		}
		if ev != nil {
			fd.Events = append(fd.Events, closeData(*ev))
		}
	}
	gap := episodeGap(hs.ServerSideRTT + hs.ClientSideRTT)
	// Episodes of retransmission, reordering, duplication and zero window.
	kinds := map[string]string{"retx": "retransmission", "retx_spur": "spurious retransmission", "reord": "reordering", "dup": "network duplicate", "probe": "zero-window probe", "keepalive": "keep-alive"}
	open := map[string]*Event{}
	lastT := map[string]float64{}
	flush := func(k string) {
		if e := open[k]; e != nil {
			e.Text = fmt.Sprintf("%s: %s %s, %s into the flow.", e.Dir, plural(uint64(e.Packets), kinds[k], kinds[k]+"s"), pktRange(e), secs(e.Start))
			fd.Events = append(fd.Events, *e)
			delete(open, k)
		}
	}
	var zw *Event
	for _, p := range ps {
		if _, ok := kinds[p.class]; ok {
			k := p.class
			if e := open[k]; e != nil && p.t-lastT[k] > gap {
				flush(k)
			}
			if open[k] == nil {
				open[k] = &Event{Kind: k, Start: p.t - t0, First: p.num, Dir: dirOf(p)}
			}
			e := open[k]
			e.Last, e.Packets, e.Duration = p.num, e.Packets+1, p.t-t0-e.Start
			lastT[k] = p.t
		}
		if p.flags&(flSYN|flRST) == 0 && p.flags&flACK != 0 {
			if p.win == 0 && zw == nil {
				zw = &Event{Kind: "zero_window", Start: p.t - t0, First: p.num, Dir: dirOf(p)}
			} else if p.win > 0 && zw != nil && dirOf(p) == zw.Dir {
				zw.Last, zw.Duration = p.num, p.t-t0-zw.Start
				zw.Text = fmt.Sprintf("%s advertised a zero window at packet %d, %s into the flow; it opened again at packet %d after %s.", receiverOf(zw.Dir), zw.First, secs(zw.Start), p.num, secs(zw.Duration))
				fd.Events = append(fd.Events, *zw)
				zw = nil
			}
		}
	}
	for _, k := range []string{"retx", "retx_spur", "reord", "dup", "probe", "keepalive"} {
		flush(k)
	}
	if zw != nil {
		zw.Text = fmt.Sprintf("%s advertised a zero window at packet %d, %s into the flow, and never opened it again in the capture.", receiverOf(zw.Dir), zw.First, secs(zw.Start))
		fd.Events = append(fd.Events, *zw)
	}
	// The close.
	for _, p := range ps {
		if p.flags&(flFIN|flRST) != 0 {
			what := "FIN"
			if p.flags&flRST != 0 {
				what = "RST"
			}
			fd.Events = append(fd.Events, Event{Kind: "close", Start: p.t - t0, First: p.num, Last: p.num, Packets: 1, Dir: dirOf(p),
				Text: fmt.Sprintf("%s from the %s at packet %d, %s into the flow.", what, senderOf(dirOf(p)), p.num, secs(p.t-t0))})
		}
	}
	sortEvents(fd.Events)
	return fd
}

func receiverOf(dir string) string {
	if dir == "client → server" {
		return "The client"
	}
	return "The server"
}

func senderOf(dir string) string {
	if dir == "client → server" {
		return "client"
	}
	return "server"
}

func closeData(e Event) Event {
	rate := ""
	if e.Duration > 0 {
		rate = fmt.Sprintf(", %.1f Mbit/s", float64(e.Bytes)*8/e.Duration/1e6)
	}
	e.Text = fmt.Sprintf("%s: %s in %s %s%s, %s into the flow.", e.Dir, bytesWords(e.Bytes), plural(uint64(e.Packets), "segment", "segments"), pktRange(&e), rate, secs(e.Start))
	return e
}

// pktRange is "at packet N" or "at packets N–M over D".
func pktRange(e *Event) string {
	if e.First == e.Last {
		return fmt.Sprintf("at packet %d", e.First)
	}
	return fmt.Sprintf("at packets %d–%d over %s", e.First, e.Last, secs(e.Duration))
}

func sortEvents(ev []Event) {
	sort.SliceStable(ev, func(i, j int) bool { return ev[i].First < ev[j].First })
}
