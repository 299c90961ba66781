// Package explain tells what went wrong in a capture, in words, with the
// evidence: it runs the analysis in memory with tcpDiag and a small facts
// plugin loaded, reads the flow rows by column name, and derives capture
// health, findings ranked by impact and one summary per problem flow.
// Rendering (text.go) is separate from the analysis, so that other views
// (flowsift serve) show the same Result.
package explain

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"
	"strings"

	"flowsift/internal/engine"
	"flowsift/internal/hugepage"
	"flowsift/internal/plugin"
	"flowsift/internal/sink"
)

// Severities of a finding.
const (
	SevInfo    = "info"
	SevWarning = "warning"
	SevError   = "error"
)

// Result is what explain found. It marshals to
// {"capture": {...}, "health": {...}, "findings": [...]}.
type Result struct {
	Capture  Capture   `json:"capture"`
	Health   Health    `json:"health"`
	Findings []Finding `json:"findings"`
}

// Capture describes the input and carries the per-flow summaries.
type Capture struct {
	Files     []string  `json:"files"`
	Format    string    `json:"format"`
	LinkType  uint32    `json:"link_type"`
	Snaplen   uint32    `json:"snaplen"`
	Packets   uint64    `json:"packets"`
	Bytes     uint64    `json:"bytes"`
	Flows     int       `json:"flows"`
	TCPFlows  int       `json:"tcp_flows"`
	Start     float64   `json:"start"`
	Duration  float64   `json:"duration_s"`
	Summaries []Summary `json:"flow_summaries"`
	// SummariesLeftOut counts the summaries beyond Options.Lines, not made.
	SummariesLeftOut int `json:"flow_summaries_left_out,omitempty"`
	// Detail is the timeline of one flow (explain --flow N).
	Detail *FlowDetail `json:"flow_detail,omitempty"`
}

// Health says whether the capture itself can be trusted.
type Health struct {
	Complete       bool      `json:"complete"`
	CaptureLoss    uint64    `json:"capture_loss_segments"`
	KernelDrops    *uint64   `json:"kernel_drops,omitempty"`
	SnapCutHeaders uint64    `json:"flows_with_headers_cut"`
	Vantage        []Vantage `json:"vantage"`
	ChecksumOffl   bool      `json:"checksum_offload"`
	AboveMSS       bool      `json:"segments_above_mss"`
	TimeAnomalies  []string  `json:"time_anomalies"`
	Notes          []string  `json:"notes"`
}

// Vantage is where the capture sits on one connection.
type Vantage struct {
	Flow     uint64 `json:"flow"`
	Endpoint string `json:"connection"`
	Point    string `json:"capture_point"`
}

// Finding is one problem of the capture, with all the flows that show it.
type Finding struct {
	Code     string         `json:"code"`
	Severity string         `json:"severity"`
	Summary  string         `json:"summary"`
	Detail   string         `json:"detail"`
	Flows    []uint64       `json:"flows"`
	Evidence map[string]any `json:"evidence"`
	impact   float64
}

// Summary is the one-line account of a flow.
type Summary struct {
	Flow    uint64   `json:"flow"`
	Proto   string   `json:"proto"`
	Client  string   `json:"client"`
	Server  string   `json:"server"`
	Codes   []string `json:"codes"`
	Text    string   `json:"text"`
	Problem bool     `json:"problem"`
	impact  float64
}

// Options are explain's own settings.
type Options struct {
	Flow uint64 // > 0: the timeline of this flow
	All  bool   // a summary for every flow, not only the problem flows
	// Lines > 0 makes only the summaries of the Lines highest-ranked
	// flows (the text view shows 20): the others cost nothing.
	Lines int
}

// Analyze runs the capture named by opts through the engine in memory
// and explains it. opts.Plugins and opts.Collect are set here.
func Analyze(opts *engine.Options, reg *plugin.Registry) (*Result, error) {
	return AnalyzeFlow(opts, reg, Options{})
}

// AnalyzeFlow is Analyze with explain's own options.
func AnalyzeFlow(opts *engine.Options, reg *plugin.Registry, xo Options) (*Result, error) {
	// The rows kept for the analysis are long-lived and few (one per flow
	// direction): collect less often while they pile up.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	c, rows, err := collect(opts, reg, xo)
	if err != nil {
		return nil, err
	}
	a := newAnalysis(c)
	a.all, a.lines = xo.All, xo.Lines
	a.run(rows)
	if xo.Flow > 0 {
		a.res.Capture.Detail = a.detail(xo.Flow, c.Packets.Table(c.PacketColumns))
	}
	return a.res, nil
}

// collect runs the capture through the engine in memory and returns what
// the run collected and its flow rows.
func collect(opts *engine.Options, reg *plugin.Registry, xo Options) (*engine.Collect, []*dirRow, error) {
	o := *opts
	o.Plugins = explainPlugins
	// Of basicStats explain reads three counts; the facts plugin keeps
	// them at a fraction of its cost, unless basicStats' own output is
	// asked for: flow files (-w), the packets of --flow, its settings.
	counts := o.Prefix == "" && xo.Flow == 0 && !setsOf(o.Sets, "basicStats")
	if counts {
		o.Plugins = slices.DeleteFunc(slices.Clone(o.Plugins), func(n string) bool { return n == "basicStats" })
	}
	r2 := registryWithFacts(reg, counts)
	var rows []*dirRow
	var rr rowReader
	o.Collect = &engine.Collect{PacketsOfFlow: xo.Flow, FlowWant: flowWant, PacketWant: packetWant,
		FlowRow: func(t *sink.Table) { rows = append(rows, rr.readRow(t, 0)) }}
	o.Progress = false
	var errBuf strings.Builder
	status := engine.Run(&o, r2, discard{}, &errBuf)
	c := o.Collect
	if c.Flows == nil {
		return nil, nil, errors.New(strings.TrimSpace(errBuf.String()))
	}
	if status == engine.ExitFailed && c.Counters.Packets == 0 {
		return nil, nil, errors.New(strings.TrimSpace(errBuf.String()))
	}
	return c, rows, nil
}

// explainPlugins are the plugins of explain's run.
var explainPlugins = []string{"basicFlow", "basicStats", "tcpFlags", "tcpStates", "tcpDiag", factsName}

// registryWithFacts is reg with the facts plugin added (counts: see
// registerFacts).
func registryWithFacts(reg *plugin.Registry, counts bool) *plugin.Registry {
	r2 := &plugin.Registry{}
	for _, rg := range reg.All() {
		r2.Add(rg)
	}
	if r2.Find(factsName) == nil {
		registerFacts(r2, counts)
	}
	return r2
}

// setsOf reports whether sets holds a switch of the plugin.
func setsOf(sets map[string]string, plugin string) bool {
	for k := range sets {
		if p, _, ok := strings.Cut(k, "."); ok && strings.EqualFold(p, plugin) {
			return true
		}
	}
	return false
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

// dirRow is one flow row: one direction of a connection, the values
// explain reads, by column name.
type dirRow struct {
	ind, stat   uint64
	first, last float64
	src, dst    netip.Addr
	pkts, bytes uint64
	vantage     string
	zwTime      float64 // s
	// facts
	rstTime, lastOther, zwAdvTime                      float64 // s
	ttlSet                                             [4]uint64
	firstPkt, synPkt, rstPkt, ttlChgPkt, belowPkt      uint64 // packet numbers
	zeroWinPkt, finPkt, blipPkt, badFlagsPkt, fragPkt  uint64
	csumPkt, blipData                                  uint64
	tcpOpts                                            uint32
	segs, lost, retx, spur, reor, dup, ce, capLoss     uint32
	lostUp, lostDown, rto                              uint32
	rstCnt, rstIPID, ttlChg, belowCnt, blips, ece, cwr uint32
	fragDgrams, fragDone, csumChecked, csumBad         uint32
	kaUnanswered, zwAdv                                uint32
	sport, dport, maxL7, ipFlags, ipOpt, mss, mptbf    uint16
	tcpFStat, tcpFlags, anomaly, findings              uint16
	dir, proto, rstTTL, ttlMin, ttlMax, blipTTL        uint8
	badFlags, fragBad                                  uint8
}

type conn struct {
	ind   uint64
	a, b  *dirRow // a: the initiator's row; b nil for a lone flow
	codes []string
	notes []string
	imp   float64
	// Room for the first code and note: most connections have at most one.
	code1, note1 [1]string
}

type analysis struct {
	c     *engine.Collect
	res   *Result
	conns []*conn
	byInd map[uint64]*conn
	find  map[string]*Finding
	all   bool
	lines int
}

func newAnalysis(c *engine.Collect) *analysis {
	return &analysis{c: c, res: &Result{Findings: []Finding{}}, byInd: map[uint64]*conn{}, find: map[string]*Finding{}}
}

// rowFields are the flow columns explain reads (the first value of each)
// and the dirRow field each fills; xTTLSet, a repeated cell, is read
// apart. The fields are as wide as their column's declared type. The
// counts come from basicStats or, without it, from the facts plugin
// (countCols): a run has one of each pair.
var rowFields = []struct {
	name string
	set  func(d *dirRow, v *sink.Value)
}{
	{"flowInd", func(d *dirRow, v *sink.Value) { d.ind = v.U }},
	{"flowStat", func(d *dirRow, v *sink.Value) { d.stat = v.U }},
	{"pktsSnt", func(d *dirRow, v *sink.Value) { d.pkts = v.U }},
	{"l7BytesSnt", func(d *dirRow, v *sink.Value) { d.bytes = v.U }},
	{"xPktsSnt", func(d *dirRow, v *sink.Value) { d.pkts = v.U }},
	{"xL7BytesSnt", func(d *dirRow, v *sink.Value) { d.bytes = v.U }},
	{"xMaxL7PktSz", func(d *dirRow, v *sink.Value) { d.maxL7 = uint16(v.U) }},
	{"xFirstPkt", func(d *dirRow, v *sink.Value) { d.firstPkt = v.U }},
	{"xSynPkt", func(d *dirRow, v *sink.Value) { d.synPkt = v.U }},
	{"xRstPkt", func(d *dirRow, v *sink.Value) { d.rstPkt = v.U }},
	{"xTTLChgPkt", func(d *dirRow, v *sink.Value) { d.ttlChgPkt = v.U }},
	{"xBelowPkt", func(d *dirRow, v *sink.Value) { d.belowPkt = v.U }},
	{"xZeroWinPkt", func(d *dirRow, v *sink.Value) { d.zeroWinPkt = v.U }},
	{"xFinPkt", func(d *dirRow, v *sink.Value) { d.finPkt = v.U }},
	{"xFragPkt", func(d *dirRow, v *sink.Value) { d.fragPkt = v.U }},
	{"xCsumPkt", func(d *dirRow, v *sink.Value) { d.csumPkt = v.U }},
	{"xTTLBlipPkt", func(d *dirRow, v *sink.Value) { d.blipPkt = v.U }},
	{"xTTLBlipData", func(d *dirRow, v *sink.Value) { d.blipData = v.U }},
	{"xBadFlagsPkt", func(d *dirRow, v *sink.Value) { d.badFlagsPkt = v.U }},
	{"tcpOptions", func(d *dirRow, v *sink.Value) { d.tcpOpts = uint32(v.U) }},
	{"diagDataSegs", func(d *dirRow, v *sink.Value) { d.segs = uint32(v.U) }},
	{"diagLost", func(d *dirRow, v *sink.Value) { d.lost = uint32(v.U) }},
	{"diagRetx", func(d *dirRow, v *sink.Value) { d.retx = uint32(v.U) }},
	{"diagRetxSpur", func(d *dirRow, v *sink.Value) { d.spur = uint32(v.U) }},
	{"diagReord", func(d *dirRow, v *sink.Value) { d.reor = uint32(v.U) }},
	{"diagDup", func(d *dirRow, v *sink.Value) { d.dup = uint32(v.U) }},
	{"diagCE", func(d *dirRow, v *sink.Value) { d.ce = uint32(v.U) }},
	{"diagCapLoss", func(d *dirRow, v *sink.Value) { d.capLoss = uint32(v.U) }},
	{"diagLostUp", func(d *dirRow, v *sink.Value) { d.lostUp = uint32(v.U) }},
	{"diagLostDown", func(d *dirRow, v *sink.Value) { d.lostDown = uint32(v.U) }},
	{"diagRTO", func(d *dirRow, v *sink.Value) { d.rto = uint32(v.U) }},
	{"xRstCnt", func(d *dirRow, v *sink.Value) { d.rstCnt = uint32(v.U) }},
	{"xRstIPID", func(d *dirRow, v *sink.Value) { d.rstIPID = uint32(v.U) }},
	{"xTTLChg", func(d *dirRow, v *sink.Value) { d.ttlChg = uint32(v.U) }},
	{"xBelowCnt", func(d *dirRow, v *sink.Value) { d.belowCnt = uint32(v.U) }},
	{"xECE", func(d *dirRow, v *sink.Value) { d.ece = uint32(v.U) }},
	{"xCWR", func(d *dirRow, v *sink.Value) { d.cwr = uint32(v.U) }},
	{"xFragDgrams", func(d *dirRow, v *sink.Value) { d.fragDgrams = uint32(v.U) }},
	{"xFragDone", func(d *dirRow, v *sink.Value) { d.fragDone = uint32(v.U) }},
	{"xCsumChecked", func(d *dirRow, v *sink.Value) { d.csumChecked = uint32(v.U) }},
	{"xCsumBad", func(d *dirRow, v *sink.Value) { d.csumBad = uint32(v.U) }},
	{"xKAUnanswered", func(d *dirRow, v *sink.Value) { d.kaUnanswered = uint32(v.U) }},
	{"xZeroWinAdv", func(d *dirRow, v *sink.Value) { d.zwAdv = uint32(v.U) }},
	{"xTTLBlips", func(d *dirRow, v *sink.Value) { d.blips = uint32(v.U) }},
	{"srcPort", func(d *dirRow, v *sink.Value) { d.sport = uint16(v.U) }},
	{"dstPort", func(d *dirRow, v *sink.Value) { d.dport = uint16(v.U) }},
	{"maxL7PktSz", func(d *dirRow, v *sink.Value) { d.maxL7 = uint16(v.U) }},
	{"ipFlags", func(d *dirRow, v *sink.Value) { d.ipFlags = uint16(v.U) }},
	{"ipOptCnt", func(d *dirRow, v *sink.Value) { d.ipOpt = uint16(v.U) }},
	{"tcpFStat", func(d *dirRow, v *sink.Value) { d.tcpFStat = uint16(v.U) }},
	{"tcpFlags", func(d *dirRow, v *sink.Value) { d.tcpFlags = uint16(v.U) }},
	{"tcpAnomaly", func(d *dirRow, v *sink.Value) { d.anomaly = uint16(v.U) }},
	{"tcpMSS", func(d *dirRow, v *sink.Value) { d.mss = uint16(v.U) }},
	{"tcpMPTBF", func(d *dirRow, v *sink.Value) { d.mptbf = uint16(v.U) }},
	{"diagFindings", func(d *dirRow, v *sink.Value) { d.findings = uint16(v.U) }},
	{"dir", func(d *dirRow, v *sink.Value) { d.dir = uint8(v.U) }},
	{"l4Proto", func(d *dirRow, v *sink.Value) { d.proto = uint8(v.U) }},
	{"xRstTTL", func(d *dirRow, v *sink.Value) { d.rstTTL = uint8(v.U) }},
	{"xTTLMin", func(d *dirRow, v *sink.Value) { d.ttlMin = uint8(v.U) }},
	{"xTTLMax", func(d *dirRow, v *sink.Value) { d.ttlMax = uint8(v.U) }},
	{"xTTLBlipTTL", func(d *dirRow, v *sink.Value) { d.blipTTL = uint8(v.U) }},
	{"xBadFlags", func(d *dirRow, v *sink.Value) { d.badFlags = uint8(v.U) }},
	{"xFragBad", func(d *dirRow, v *sink.Value) { d.fragBad = uint8(v.U) }},
	{"timeFirst", func(d *dirRow, v *sink.Value) { d.first = v.F }},
	{"timeLast", func(d *dirRow, v *sink.Value) { d.last = v.F }},
	{"diagZeroWinTime", func(d *dirRow, v *sink.Value) { d.zwTime = v.F }},
	{"xZeroWinAdvTime", func(d *dirRow, v *sink.Value) { d.zwAdvTime = float64(v.U) / 1e9 }},
	{"xRstTime", func(d *dirRow, v *sink.Value) { d.rstTime = float64(v.U) / 1e9 }},
	{"xLastOtherTime", func(d *dirRow, v *sink.Value) { d.lastOther = float64(v.U) / 1e9 }},
	{"srcIP", func(d *dirRow, v *sink.Value) { d.src = v.Addr }},
	{"dstIP", func(d *dirRow, v *sink.Value) { d.dst = v.Addr }},
	{"diagVantage", func(d *dirRow, v *sink.Value) { d.vantage = vantageName(v.S) }},
}

// flowWant are the flow columns explain reads: the others are not kept.
var flowWant = func() []string {
	l := []string{"xTTLSet"}
	for _, f := range rowFields {
		l = append(l, f.name)
	}
	return l
}()

// vantageName returns tcpDiag's vantage word without keeping the
// decoded string of every row.
func vantageName(s string) string {
	for _, v := range [...]string{"sender", "receiver", "middle", "unknown", "-"} {
		if s == v {
			return v
		}
	}
	return s
}

// rowReader turns flow rows into dirRows. The positions of its columns
// are looked up once (every row of a run has the same columns), and the
// dirRows come from blocks that double up to maxRowBlock rows; the large
// ones are backed by huge pages (first touches of fresh memory are page
// faults, costly in a virtual machine: a 2 MiB page takes one fault
// instead of 512).
type rowReader struct {
	table     *sink.Table
	cols      []int // of rowFields
	ttlSet    int
	block     []dirRow
	blockSize int
}

const maxRowBlock = 8192 // 3.3 MB

// readRow turns row i of t into a dirRow.
func (r *rowReader) readRow(t *sink.Table, i int) *dirRow {
	if t != r.table {
		r.table, r.cols = t, r.cols[:0]
		for _, f := range rowFields {
			r.cols = append(r.cols, t.Col(f.name))
		}
		r.ttlSet = t.Col("xTTLSet")
	}
	if len(r.block) == 0 {
		r.blockSize = min(max(2*r.blockSize, 64), maxRowBlock)
		r.block = make([]dirRow, r.blockSize)
		hugepage.AdviseSlice(r.block)
	}
	d := &r.block[0]
	r.block = r.block[1:]
	for k, f := range rowFields {
		if v := t.CellAt(i, r.cols[k]); len(v) > 0 {
			f.set(d, &v[0])
		}
	}
	k := 0
	for _, v := range t.CellAt(i, r.ttlSet) {
		if v.Kind == 'R' {
			k++
		} else if k < 4 {
			d.ttlSet[k] = v.U
		}
	}
	return d
}

func (a *analysis) run(rows []*dirRow) {
	// Mostly two rows per connection: room for that many at once.
	a.byInd = make(map[uint64]*conn, len(rows)/2)
	a.conns = make([]*conn, 0, len(rows)/2)
	var block []conn
	for _, d := range rows {
		cn := a.byInd[d.ind]
		if cn == nil {
			if len(block) == 0 {
				block = make([]conn, max(len(rows)/2, 16))
				hugepage.AdviseSlice(block)
			}
			cn = &block[0]
			block = block[1:]
			cn.ind = d.ind
			cn.codes, cn.notes = cn.code1[:0], cn.note1[:0]
			a.byInd[d.ind] = cn
			a.conns = append(a.conns, cn)
		}
		if d.stat&1 == 0 && cn.a == nil {
			cn.a = d
		} else if cn.b == nil {
			cn.b = d
		} else {
			cn.a = d
		}
	}
	for _, cn := range a.conns {
		if cn.a == nil {
			cn.a, cn.b = cn.b, nil
		}
	}
	slices.SortFunc(a.conns, func(x, y *conn) int { return cmp.Compare(x.ind, y.ind) }) // flowInd is unique
	a.capture()
	a.health()
	a.tcpFindings()
	a.handshakes()
	a.scans()
	a.injected()
	a.handshakeFindings()
	a.resets()
	a.ipFindings()
	a.finish()
}

func (a *analysis) capture() {
	c := a.c
	cp := &a.res.Capture
	for _, in := range c.Inputs {
		cp.Files = append(cp.Files, filepath.Base(in.Path))
		if cp.Format == "" {
			cp.Format, cp.LinkType, cp.Snaplen = in.Format, in.LinkType, in.Snaplen
		}
	}
	k := c.Counters
	cp.Packets, cp.Bytes = k.Packets, k.Bytes
	if k.HaveFirst {
		cp.Start = float64(k.FirstSec) + float64(k.FirstNsec)/1e9
		cp.Duration = float64(k.LastSec) + float64(k.LastNsec)/1e9 - cp.Start
	}
	cp.Flows = len(a.conns)
	for _, cn := range a.conns {
		if cn.a.proto == 6 {
			cp.TCPFlows++
		}
	}
	cp.Summaries = []Summary{}
}

// endpoint is "addr:port" (IPv6 in brackets).
func endpoint(ip netip.Addr, port uint16) string {
	if !ip.IsValid() {
		return "-"
	}
	return netip.AddrPortFrom(ip, port).String()
}

func (cn *conn) client() string { return endpoint(cn.a.src, cn.a.sport) }
func (cn *conn) server() string { return endpoint(cn.a.dst, cn.a.dport) }
func (cn *conn) label() string {
	return fmt.Sprintf("flow %d (%s → %s)", cn.ind, cn.client(), cn.server())
}

// rows returns the connection's rows.
func (cn *conn) rows() []*dirRow {
	if cn.b == nil {
		return []*dirRow{cn.a}
	}
	return []*dirRow{cn.a, cn.b}
}

// peer returns the other row of d's connection (nil for a lone flow).
func (cn *conn) peer(d *dirRow) *dirRow {
	if d == cn.a {
		return cn.b
	}
	return cn.a
}

// add records that cn shows code, with its contribution to the finding's
// impact (bytes or segments affected, scaled by the caller).
func (a *analysis) add(code, sev string, cn *conn, impact float64) *Finding {
	f := a.find[code]
	if f == nil {
		f = &Finding{Code: code, Severity: sev, Evidence: map[string]any{}, Flows: []uint64{}}
		a.find[code] = f
	}
	if sevRank(sev) > sevRank(f.Severity) {
		f.Severity = sev
	}
	if cn != nil {
		if len(f.Flows) == 0 || f.Flows[len(f.Flows)-1] != cn.ind {
			f.Flows = append(f.Flows, cn.ind)
		}
		has := false
		for _, c := range cn.codes {
			has = has || c == code
		}
		if !has {
			cn.codes = append(cn.codes, code)
		}
		cn.imp += impact * float64(sevRank(sev))
	}
	f.impact += impact
	return f
}

func sevRank(s string) int {
	switch s {
	case SevError:
		return 3
	case SevWarning:
		return 2
	}
	return 1
}

// addU adds v to the count under k (counts are uint64 whatever the
// width of the field they come from).
func addU[T uint8 | uint16 | uint32 | uint64](m map[string]any, k string, v T) {
	x, _ := m[k].(uint64)
	m[k] = x + uint64(v)
}

// firstPkt keeps the smallest non-zero packet number under k.
func firstPkt(m map[string]any, k string, v uint64) {
	if v == 0 {
		return
	}
	if x, ok := m[k].(uint64); !ok || v < x {
		m[k] = v
	}
}

// dirLabel describes a direction of cn: "client → server" or the reverse.
func (cn *conn) dirLabel(d *dirRow) string {
	if d == cn.a {
		return "client → server"
	}
	return "server → client"
}

// tcpFindings reads tcpDiag's counts per direction.
func (a *analysis) tcpFindings() {
	for _, cn := range a.conns {
		if cn.a.proto != 6 {
			continue
		}
		for _, d := range cn.rows() {
			mss := float64(max(d.maxL7, 536))
			if d.lostUp > 0 {
				f := a.add("loss_upstream", lossSev(d), cn, float64(d.lostUp)*mss)
				a.lossEvidence(f, cn, d, d.lostUp)
			}
			if d.lostDown > 0 {
				f := a.add("loss_downstream", lossSev(d), cn, float64(d.lostDown)*mss)
				a.lossEvidence(f, cn, d, d.lostDown)
			}
			// A retransmission that fills a hole is easily taken for a
			// reordered segment (above all at the sender, where reordering
			// is inferred from SACK): a few next to many losses prove nothing.
			if d.reor >= 3 && uint64(d.reor)*4 >= uint64(d.lost) {
				f := a.add("reordering", SevInfo, cn, float64(d.reor)*mss/2)
				addU(f.Evidence, "reordered_segments", d.reor)
				addU(f.Evidence, "lost_segments", d.lost)
				addU(f.Evidence, "data_segments", d.segs)
				firstPkt(f.Evidence, "first_packet", d.belowPkt)
			}
			if d.spur > 0 {
				f := a.add("spurious_retransmissions", SevInfo, cn, float64(d.spur)*mss)
				addU(f.Evidence, "spurious_retransmissions", d.spur)
				addU(f.Evidence, "retransmissions", d.retx)
				if d.findings&(1<<4) != 0 {
					f.Evidence["caused_by_reordering"] = true
				}
			}
			// The real segment that follows injected data is no copy.
			// One copy is no pattern (and the likeliest misreading).
			if d.dup >= 2 && !(d.blipData > 0 && d.dup <= d.blips) {
				f := a.add("network_duplicates", SevInfo, cn, float64(d.dup)*mss/4)
				addU(f.Evidence, "duplicated_segments", d.dup)
				addU(f.Evidence, "data_segments", d.segs)
			}
			// CE marks are seen after the marking router; before it, the
			// receiver's ECE echoes and the sender's CWR answers show them.
			if p := cn.peer(d); d.ce > 0 || d.segs > 0 && p != nil && p.ece > 0 && d.cwr > 0 {
				f := a.add("ecn_congestion", SevInfo, cn, float64(max(d.ce, d.cwr))*mss/4)
				addU(f.Evidence, "ce_marked_segments", d.ce)
				addU(f.Evidence, "data_segments", d.segs)
				if p != nil {
					addU(f.Evidence, "ece_echoes", p.ece)
				}
				addU(f.Evidence, "window_reductions", d.cwr)
			}
			if d.capLoss > 0 {
				f := a.add("capture_loss", SevWarning, cn, float64(d.capLoss)*mss)
				addU(f.Evidence, "segments_missing_from_capture", d.capLoss)
			}
			if d.rto > 0 {
				f := a.add("rto", SevWarning, cn, float64(d.rto)*mss*4)
				addU(f.Evidence, "timeouts", d.rto)
				if p := cn.peer(d); p == nil || p.pkts == 0 {
					f.Evidence["receiver_silent"] = true
				}
			}
			// The zero window is advertised by the receiver of d's data
			// (the other row); tcpDiag measures the sender's stall, the
			// advertisements themselves show it in captures that start
			// mid-connection too.
			if p := cn.peer(d); d.findings&(1<<9) != 0 || d.zwTime > 0 || p != nil && p.zwAdv > 0 && d.segs > 0 {
				stall := d.zwTime
				if p != nil {
					stall = max(stall, p.zwAdvTime)
				}
				f := a.add("zero_window", SevWarning, cn, stall*1e5+mss)
				f.Evidence["stalled_s"] = evF(f.Evidence, "stalled_s") + stall
				if p != nil {
					firstPkt(f.Evidence, "first_zero_window_packet", p.zeroWinPkt)
					addU(f.Evidence, "zero_window_episodes", p.zwAdv)
				}
			}
			if d.findings&(1<<8) != 0 {
				f := a.add("window_limited", SevInfo, cn, mss)
				f.Evidence["directions"] = evU(f.Evidence, "directions") + 1
			}
		}
		a.keepalive(cn)
	}
}

func evF(m map[string]any, k string) float64 { x, _ := m[k].(float64); return x }
func evU(m map[string]any, k string) uint64  { x, _ := m[k].(uint64); return x }

func lossSev(d *dirRow) string {
	if d.segs > 0 && float64(d.lost)/float64(d.segs) >= 0.05 {
		return SevError
	}
	return SevWarning
}

func (a *analysis) lossEvidence(f *Finding, cn *conn, d *dirRow, n uint32) {
	addU(f.Evidence, "lost_segments", n)
	addU(f.Evidence, "data_segments", d.segs)
	addU(f.Evidence, "retransmissions", d.retx)
	addU(f.Evidence, "timeouts", d.rto)
	firstPkt(f.Evidence, "first_packet", d.belowPkt)
}

// keepalive: keep-alives that the peer never answers, then a reset or
// a timeout.
func (a *analysis) keepalive(cn *conn) {
	for _, d := range cn.rows() {
		if d.kaUnanswered < 2 && (d.kaUnanswered == 0 || d.rstCnt == 0) {
			continue
		}
		f := a.add("keepalive_dead_peer", SevWarning, cn, 1000)
		f.Evidence["prober"] = endpoint(d.src, d.sport)
		addU(f.Evidence, "unanswered_keepalives", d.kaUnanswered)
		firstPkt(f.Evidence, "reset_packet", d.rstPkt)
		cn.notes = append(cn.notes, "dead peer")
	}
}

const (
	flSYN    = 0x02
	flRST    = 0x04
	flACK    = 0x10
	flFIN    = 0x01
	flSYNACK = 0x0200
)

func (d *dirRow) has(fl uint16) bool { return d != nil && d.tcpFlags&fl != 0 }

// established: both SYNs seen and the initiator acknowledged.
func (cn *conn) established() bool {
	return cn.a.has(flSYN) && cn.b != nil && cn.b.has(flSYN) && cn.b.has(flACK) && cn.a.has(flACK)
}

// handshakes finds SYNs without answer, lost SYN/ACKs and refusals.
func (a *analysis) handshakes() {
	for _, cn := range a.conns {
		d := cn.a
		if d.proto != 6 || !d.has(flSYN) || d.has(flACK) || d.synPkt == 0 {
			continue
		}
		b := cn.b
		switch {
		case b == nil || b.pkts == 0:
			if d.pkts >= 2 { // retried: not just a capture that ends
				cn.notes = append(cn.notes, "syn_unanswered")
			}
		case b.has(flSYN) && b.has(flACK):
			// The client retries (or the server repeats its SYN/ACK) and
			// never acknowledges nor resets: the SYN/ACKs do not reach it.
			if !d.has(flRST) && (d.pkts >= 2 || b.pkts >= 2) {
				cn.notes = append(cn.notes, "synack_lost")
			}
		case b.has(flRST):
			cn.notes = append(cn.notes, "refused")
		}
	}
}

func (cn *conn) noted(s string) bool {
	for _, n := range cn.notes {
		if n == s {
			return true
		}
	}
	return false
}

// scans: one source probing many ports or hosts with a few packets each.
func (a *analysis) scans() {
	type probe struct {
		targets map[netip.AddrPort]bool
		hosts   map[netip.Addr]bool
		ports   map[uint16]bool
		conns   []*conn
		open    int
		kinds   map[string]int
	}
	// A source needs 10 targets, so 10 probing flows: the targets, hosts
	// and ports are counted only for the sources that have as many.
	cands := map[netip.Addr][]*conn{}
	for _, cn := range a.conns {
		d := cn.a
		if !d.src.IsValid() || (d.proto != 6 && d.proto != 17) || d.pkts > 4 || d.bytes > 0 && d.proto == 6 {
			continue
		}
		if d.proto == 17 && d.pkts > 2 {
			continue
		}
		cands[d.src] = append(cands[d.src], cn)
	}
	bySrc := map[netip.Addr]*probe{}
	for src, conns := range cands {
		if len(conns) < 10 {
			continue
		}
		p := &probe{targets: map[netip.AddrPort]bool{}, hosts: map[netip.Addr]bool{}, ports: map[uint16]bool{}, kinds: map[string]int{}, conns: conns}
		bySrc[src] = p
		for _, cn := range conns {
			d := cn.a
			p.targets[target(d.dst, d.dport)] = true
			p.hosts[d.dst] = true
			p.ports[d.dport] = true
			p.kinds[scanKind(d)]++
			if cn.b != nil && (cn.b.has(flSYNACK) || cn.b.has(flSYN) && cn.b.has(flACK) || d.proto == 17 && cn.b.pkts > 0) {
				p.open++
			}
		}
	}
	srcs := make([]netip.Addr, 0, len(bySrc))
	for s := range bySrc {
		srcs = append(srcs, s)
	}
	sort.Slice(srcs, func(i, j int) bool { return srcs[i].Less(srcs[j]) })
	for _, s := range srcs {
		p := bySrc[s]
		if len(p.targets) < 10 || len(p.ports) < 10 && len(p.hosts) < 10 {
			continue
		}
		f := a.add("scan", SevWarning, nil, float64(len(p.targets))*100)
		for _, cn := range p.conns {
			a.add("scan", SevWarning, cn, 100)
			cn.notes = append(cn.notes, "scan")
		}
		kind, best := "", 0
		for k, n := range p.kinds {
			if n > best || n == best && k < kind {
				kind, best = k, n
			}
		}
		f.Evidence["scanner"] = s.String()
		f.Evidence["kind"] = kind
		f.Evidence["targets"] = uint64(len(p.targets))
		f.Evidence["hosts"] = uint64(len(p.hosts))
		f.Evidence["ports"] = uint64(len(p.ports))
		f.Evidence["answered"] = uint64(p.open)
		firstPkt(f.Evidence, "first_packet", p.conns[0].a.firstPkt)
	}
}

// handshakeFindings reports the failed handshakes that are not part of a
// scan and not answered by a forged reset.
func (a *analysis) handshakeFindings() {
	for _, cn := range a.conns {
		if cn.noted("scan") || cn.noted("injected") {
			continue
		}
		switch {
		case cn.noted("syn_unanswered"):
			f := a.add("syn_unanswered", SevError, cn, 5000)
			addU(f.Evidence, "syn_packets", cn.a.pkts)
			firstPkt(f.Evidence, "first_syn_packet", cn.a.synPkt)
		case cn.noted("synack_lost"):
			f := a.add("synack_lost", SevError, cn, 5000)
			addU(f.Evidence, "syn_packets", cn.a.pkts)
			addU(f.Evidence, "synack_packets", cn.b.pkts)
			firstPkt(f.Evidence, "first_synack_packet", cn.b.synPkt)
		case cn.noted("refused"):
			f := a.add("refused", SevWarning, cn, 500)
			firstPkt(f.Evidence, "first_reset_packet", cn.b.rstPkt)
		}
	}
}

// target is the key of a scan target: equal when endpoint(ip, port)
// is (any port of an invalid address is "-"), without making the string.
func target(ip netip.Addr, port uint16) netip.AddrPort {
	if !ip.IsValid() {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(ip, port)
}

func scanKind(d *dirRow) string {
	if d.proto == 17 {
		return "UDP"
	}
	fl := d.tcpFlags & 0xff
	switch {
	case fl&flSYN != 0 && fl&flACK != 0:
		return "connect"
	case fl&flSYN != 0:
		return "SYN"
	case fl == 0:
		return "NULL"
	case fl&0x29 == 0x29:
		return "Xmas"
	case fl&flFIN != 0:
		return "FIN"
	case fl&flACK != 0:
		return "ACK"
	}
	return "TCP"
}

// injected: an RST with a TTL that no other packet of its claimed sender
// has, in any flow of the capture: another box sent it.
func (a *analysis) injected() {
	type host struct {
		ttls [4]uint64
		pkts uint64
	}
	hosts := map[netip.Addr]*host{}
	for _, cn := range a.conns {
		for _, d := range cn.rows() {
			h := hosts[d.src]
			if h == nil {
				h = &host{}
				hosts[d.src] = h
			}
			for k := range h.ttls {
				h.ttls[k] |= d.ttlSet[k]
			}
			h.pkts += d.pkts - uint64(d.rstCnt)
		}
	}
	for _, cn := range a.conns {
		// A scanner's crafted probes carry odd TTLs; its kernel's resets do not.
		if cn.a.proto != 6 || cn.noted("scan") {
			continue
		}
		for _, d := range cn.rows() {
			h := hosts[d.src]
			if d.rstCnt == 0 || h.pkts < 2 || nearestTTL(h.ttls, uint8(d.rstTTL)) < injectHops {
				continue
			}
			f := a.add("rst_injected", SevError, cn, 10000)
			cn.notes = append(cn.notes, "injected")
			firstPkt(f.Evidence, "rst_packet", d.rstPkt)
			if _, ok := f.Evidence["rst_ttl"]; !ok {
				f.Evidence["rst_ttl"] = uint64(d.rstTTL)
				f.Evidence["rst_ip_id"] = uint64(d.rstIPID)
				f.Evidence["claimed_sender"] = endpoint(d.src, d.sport)
				f.Evidence["host_ttls"] = ttlList(h.ttls)
			}
		}
	}
}

// nearestTTL is the distance from t to the closest TTL of the set.
func nearestTTL(set [4]uint64, t uint8) int {
	best := 256
	for _, x := range ttlList(set) {
		best = min(best, ttlDist(uint8(x), t))
	}
	return best
}

func ttlList(set [4]uint64) []int {
	var l []int
	for t := 0; t < 256; t++ {
		if set[t>>6]>>(t&63)&1 != 0 {
			l = append(l, t)
		}
	}
	return l
}

// resets: aborted connections.
func (a *analysis) resets() {
	for _, cn := range a.conns {
		if cn.a.proto != 6 || cn.noted("scan") || cn.noted("refused") {
			continue
		}
		if cn.noted("injected") || cn.noted("dead peer") || !cn.established() {
			continue
		}
		for _, d := range cn.rows() {
			if d.rstCnt == 0 {
				continue
			}
			p := cn.peer(d)
			// A reset after both sides closed is the usual end of a
			// connection whose last segments crossed; before that, an abort.
			closed := d.finPkt > 0 && d.finPkt < d.rstPkt && p != nil && p.finPkt > 0 && p.finPkt < d.rstPkt
			if closed {
				continue
			}
			// Silence before the reset: an idle connection dropped with a
			// reset (browsers, pools) is not an abort in mid-transfer.
			prev := d.lastOther
			if p != nil {
				if p.lastOther <= d.rstTime {
					prev = max(prev, p.lastOther)
				} else {
					prev = d.rstTime
				}
			}
			idle := d.rstTime - prev
			sev := SevWarning
			if idle >= 1 {
				sev = SevInfo
			}
			f := a.add("reset_abort", sev, cn, float64(d.bytes+p.bytes)/10+1000)
			if d.bytes+p.bytes == 0 {
				addU(f.Evidence, "before_data", uint64(1))
			}
			if idle >= 1 {
				cn.notes = append(cn.notes, "idle reset")
				addU(f.Evidence, "idle_resets", uint64(1))
				f.Evidence["longest_idle_s"] = max(evF(f.Evidence, "longest_idle_s"), idle)
			} else {
				addU(f.Evidence, "aborts", uint64(1))
			}
			f.Evidence["reset_by"] = endpoint(d.src, d.sport)
			firstPkt(f.Evidence, "reset_packet", d.rstPkt)
			break
		}
	}
}

// ipFindings: checksums, MSS, TTL changes, fragments, options, MPTCP.
func (a *analysis) ipFindings() {
	// Checksums: tcpFlags also flags packets cut by the snap length, so
	// its flow bit counts only where every packet was captured whole; the
	// facts plugin verifies the small complete packets itself. A host that
	// gets wrong checksums on most of its packets while its connections
	// work leaves them to its network card (offload).
	type sums struct {
		checked, bad  uint64
		works, edited bool
	}
	hosts := map[netip.Addr]*sums{}
	badDir := func(d *dirRow) bool {
		frag := d.stat&(1<<36) != 0 || d.ipFlags&0x0020 != 0
		// tcpFlags' flow bit also counts UDP without a checksum: trusted for TCP only.
		return d.csumBad > 0 || d.proto == 6 && d.ipFlags&0x0800 != 0 && d.stat&(1<<33) == 0 && !frag && d.csumChecked == 0
	}
	for _, cn := range a.conns {
		for _, d := range cn.rows() {
			h := hosts[d.src]
			if h == nil {
				h = &sums{}
				hosts[d.src] = h
			}
			h.checked += uint64(d.csumChecked)
			h.bad += uint64(d.csumBad)
			// The peer answered (acknowledged or reset) segments whose
			// checksums are mostly wrong: on the wire they were right.
			if p := cn.peer(d); d.proto == 6 && badDir(d) && p != nil && p.has(flACK) && uint64(d.csumBad)*2 >= uint64(d.csumChecked) {
				h.works = true
			}
			// No card leaves the IPv4 header checksum to offload: accepted
			// packets with a wrong one were changed after the capture
			// (anonymised addresses, rewritten TTLs).
			if p := cn.peer(d); d.ipFlags&0x0400 != 0 && p != nil && p.has(flACK) {
				h.edited = true
			}
		}
	}
	for _, cn := range a.conns {
		for _, d := range cn.rows() {
			if h := hosts[d.src]; h.edited {
				if badDir(d) || d.ipFlags&0x0400 != 0 {
					f := a.add("capture_altered", SevInfo, cn, 1)
					f.Evidence["hosts"] = addHost(f.Evidence["hosts"], d.src)
					a.res.Health.Notes = appendOnce(a.res.Health.Notes, "The packets were altered after the capture: their checksums no longer verify.")
				}
				continue
			}
			if badDir(d) {
				if h := hosts[d.src]; h.works && h.bad*2 >= h.checked {
					f := a.add("checksum_offload", SevInfo, cn, 1)
					f.Evidence["hosts"] = addHost(f.Evidence["hosts"], d.src)
					a.res.Health.ChecksumOffl = true
				} else {
					f := a.add("checksum_bad", SevWarning, cn, 1000)
					addU(f.Evidence, "packets_with_bad_transport_checksum", max(d.csumBad, 1))
					firstPkt(f.Evidence, "first_packet", d.csumPkt)
				}
			}
			if d.ipFlags&0x0400 != 0 {
				f := a.add("checksum_bad", SevWarning, cn, 1000)
				addU(f.Evidence, "flows_with_bad_ip_checksum", uint64(1))
				firstPkt(f.Evidence, "first_packet", d.firstPkt)
			}
			if p := cn.peer(d); d.proto == 6 && p != nil && p.mss > 0 && d.maxL7 > p.mss {
				f := a.add("segments_above_mss", SevInfo, cn, 1)
				if x, _ := f.Evidence["largest_segment"].(uint64); uint64(d.maxL7) > x {
					f.Evidence["largest_segment"] = uint64(d.maxL7)
					f.Evidence["mss"] = uint64(p.mss)
				}
				a.res.Health.AboveMSS = true
			}
			if d.proto == 6 && d.blips > 0 && d.blipData > 0 {
				f := a.add("data_injected", SevError, cn, 10000)
				firstPkt(f.Evidence, "packet", d.blipPkt)
				if _, ok := f.Evidence["ttl"]; !ok {
					f.Evidence["ttl"] = uint64(d.blipTTL)
					f.Evidence["claimed_sender"] = endpoint(d.src, d.sport)
					f.Evidence["host_ttls"] = ttlList(d.ttlSet)
				}
				addU(f.Evidence, "packets", d.blips)
				addU(f.Evidence, "bytes", d.blipData)
			}
			// A route change persists; single odd packets are not one.
			if d.proto == 6 && uint64(d.ttlChg) > 2*uint64(d.blips) && d.pkts >= 3 {
				f := a.add("path_change", SevInfo, cn, 100)
				firstPkt(f.Evidence, "first_packet", d.ttlChgPkt)
				f.Evidence["ttl_min"], f.Evidence["ttl_max"] = uint64(d.ttlMin), uint64(d.ttlMax)
				addU(f.Evidence, "ttl_changes", d.ttlChg)
			}
			if d.fragBad != 0 || d.fragDgrams > d.fragDone {
				f := a.add("fragment_anomaly", SevWarning, cn, 500)
				addU(f.Evidence, "fragmented_datagrams", d.fragDgrams)
				addU(f.Evidence, "incomplete_datagrams", uint64(d.fragDgrams)-uint64(d.fragDone))
				if d.fragBad&1 != 0 {
					f.Evidence["overlapping_fragments"] = true
				}
				if d.fragBad&2 != 0 {
					f.Evidence["odd_sized_fragments"] = true
				}
				if d.fragBad&4 != 0 {
					f.Evidence["tiny_first_fragment"] = true
				}
				firstPkt(f.Evidence, "first_packet", d.fragPkt)
			}
			if d.ipOpt > 0 && d.proto != 2 && d.src.Is4() {
				f := a.add("ip_options", SevInfo, cn, 10)
				addU(f.Evidence, "packets_with_options", d.ipOpt)
			}
			if d.proto == 6 && (d.tcpFStat&0x0008 != 0 || d.tcpOpts&0x0ffffec0 != 0 || d.tcpOpts&0x80000000 != 0) {
				f := a.add("option_anomaly", SevWarning, cn, 100)
				if d.tcpFStat&0x0008 != 0 {
					f.Evidence["malformed_options"] = true
				}
				if d.tcpOpts&0x8ffffec0 != 0 {
					f.Evidence["unusual_option_kinds"] = true
				}
			}
			// Flags no stack sends together (scans are reported as scans).
			if d.proto == 6 && d.badFlags != 0 && !cn.noted("scan") {
				f := a.add("illegal_flags", SevWarning, cn, 100)
				var l []string
				for _, fl := range []struct {
					bit  uint8
					what string
				}{{1, "SYN with FIN"}, {2, "SYN with RST"}, {4, "no flags at all"}, {8, "FIN, PSH and URG without ACK (Xmas)"}} {
					if d.badFlags&fl.bit != 0 {
						l = append(l, fl.what)
					}
				}
				f.Evidence["combinations"] = mergeStrings(f.Evidence["combinations"], l)
				firstPkt(f.Evidence, "first_packet", d.badFlagsPkt)
			}
			// One direction only, with a hole in its sequence numbers.
			if p := cn.peer(d); d.proto == 6 && (p == nil || p.pkts == 0) && d.anomaly&0x0200 != 0 && d.segs > 0 {
				f := a.add("sequence_gap", SevInfo, cn, 100)
				addU(f.Evidence, "directions", uint64(1))
			}
			if d.proto == 6 && (d.tcpFStat&0x8000 != 0 || d.mptbf != 0) {
				a.add("mptcp", SevInfo, cn, 1)
			}
		}
	}
}

func addHost(v any, h netip.Addr) []string {
	l, _ := v.([]string)
	for _, x := range l {
		if x == h.String() {
			return l
		}
	}
	return append(l, h.String())
}

// health: is the capture complete, where does it sit, artefacts.
func (a *analysis) health() {
	h := &a.res.Health
	h.Vantage, h.TimeAnomalies, h.Notes = []Vantage{}, []string{}, []string{}
	var drops uint64
	haveDrops := false
	for _, in := range a.c.Inputs {
		if in.HaveDrops {
			haveDrops = true
			drops += in.IfDrop + in.OSDrop
		}
	}
	if haveDrops {
		h.KernelDrops = &drops
	}
	timeJump := 0
	backwards := 0
	for _, cn := range a.conns {
		for _, d := range cn.rows() {
			h.CaptureLoss += uint64(d.capLoss)
			if d.stat&(3<<34) != 0 {
				h.SnapCutHeaders++
			}
			if d.stat&(1<<51) != 0 {
				timeJump++
			}
			if d.ipFlags&0x8000 != 0 {
				backwards++
			}
		}
		if cn.a.proto == 6 && cn.b != nil && (cn.a.segs > 0 || cn.b.segs > 0) {
			h.Vantage = append(h.Vantage, Vantage{Flow: cn.ind, Endpoint: cn.client() + " → " + cn.server(), Point: vantageWords(cn)})
		}
	}
	oneSided := 0
	for _, cn := range a.conns {
		if cn.a.proto == 6 && cn.a.segs > 0 && (cn.b == nil || cn.b.pkts == 0) {
			oneSided++
		}
	}
	if oneSided > 0 {
		h.Notes = append(h.Notes, fmt.Sprintf("Only one direction of %s is in the capture (asymmetric routing or a one-sided tap): loss there cannot be told from capture loss.", plural(uint64(oneSided), "TCP connection", "TCP connections")))
	}
	if timeJump > 0 {
		h.TimeAnomalies = append(h.TimeAnomalies, fmt.Sprintf("timestamps jump in %d flow directions", timeJump))
	}
	if backwards > 0 {
		h.TimeAnomalies = append(h.TimeAnomalies, fmt.Sprintf("time goes backwards between packets in %d flow directions", backwards))
	}
	h.Complete = h.CaptureLoss == 0 && drops == 0 && h.SnapCutHeaders == 0
	if drops > 0 {
		f := a.add("capture_loss", SevWarning, nil, float64(drops)*1000)
		f.Evidence["kernel_drops"] = drops
	}
}

// vantageWords says where the capture sits for the connection's main
// data direction.
func vantageWords(cn *conn) string {
	d := cn.a
	if cn.b.segs > d.segs {
		d = cn.b
	}
	who := "the client"
	other := "the server"
	if d == cn.b {
		who, other = "the server", "the client"
	}
	switch d.vantage {
	case "sender":
		return "at the sender (" + who + ")"
	case "receiver":
		return "at the receiver (" + other + ")"
	case "middle":
		return "in the middle of the path"
	}
	return "unknown"
}

func mergeStrings(v any, add []string) []string {
	l, _ := v.([]string)
	for _, s := range add {
		l = appendOnce(l, s)
	}
	return l
}

func appendOnce(l []string, s string) []string {
	for _, x := range l {
		if x == s {
			return l
		}
	}
	return append(l, s)
}
