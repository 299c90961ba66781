package serve

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"flowsift/internal/tawk"
)

// defaultColumns are shown in the flow table until the user chooses
// (in the file's order, which is Tranalyzer's).
var defaultColumns = []string{"dir", "flowInd", "flowStat", "timeFirst", "duration", "srcIP", "srcPort",
	"dstIP", "dstPort", "l4Proto", "pktsSnt", "l7BytesSnt", "tcpFlags", "tcpAnomaly",
	"tcpStatesAFlags", "diagFindings", "diagRetx", "diagLost", "diagVantage"}

type page struct {
	Title   string
	Capture string
	Nav     string
}

func (s *Server) overview(w http.ResponseWriter, r *http.Request) {
	if c := r.URL.Query().Get("capture"); c != "" && s.folder != "" {
		ok := false
		for _, n := range s.choices {
			ok = ok || n == c
		}
		if !ok {
			httpError(w, http.StatusNotFound, "no such capture in the folder")
			return
		}
		s.mu.Lock()
		a, err := s.open(c, []string{s.folder + "/" + c})
		if err == nil {
			s.cur = a
		}
		s.mu.Unlock()
		if err != nil {
			httpError(w, http.StatusUnprocessableEntity, err.Error())
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	a := s.Current()
	data := struct {
		page
		Choices  []string
		Ex       *Explanation
		ExErr    string
		Report   string
		Warnings []string
		Stats    []stat
	}{Choices: s.choices}
	data.Title, data.Nav = "Overview", "overview"
	if a != nil {
		data.Capture = a.Name
		ex, err := a.Explanation()
		data.Ex = ex
		if err != nil {
			data.ExErr = err.Error()
		}
		data.Report = a.Report
		for _, l := range strings.Split(a.Report, "\n") {
			if strings.HasPrefix(l, "[WRN]") || strings.HasPrefix(l, "[ERR]") {
				data.Warnings = append(data.Warnings, l)
			}
		}
		data.Stats = a.stats()
	}
	s.render(w, "overview.html", data)
}

type stat struct{ Label, Value string }

func (a *Analysis) stats() []stat {
	t := a.Flows
	var pkts, bytes float64
	cP, cB := t.Col("pktsSnt"), t.Col("l7BytesSnt")
	for i := 0; i < t.Len(); i++ {
		p, _ := number(t.Field(i, cP))
		b, _ := number(t.Field(i, cB))
		pkts += p
		bytes += b
	}
	return []stat{
		{"flows", strconv.Itoa(len(a.byFlow))},
		{"flow rows (A/B)", strconv.Itoa(t.Len())},
		{"packets", fmt.Sprintf("%.0f", pkts)},
		{"payload bytes", humanBytes(bytes)},
		{"duration", fmt.Sprintf("%.3f s", a.end-a.start)},
		{"analysed in", a.Ready.Round(1e6).String()},
	}
}

func humanBytes(b float64) string {
	units := []string{"B", "KB", "MB", "GB", "TB"}
	i := 0
	for b >= 1000 && i < len(units)-1 {
		b /= 1000
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f B", b)
	}
	return fmt.Sprintf("%.1f %s", b, units[i])
}

// apiOverview feeds the overview's charts.
func (s *Server) apiOverview(w http.ResponseWriter, r *http.Request, a *Analysis) {
	t := a.Flows
	span := a.end - a.start
	flows := make([]float64, overviewBuckets)
	pk := make([]float64, overviewBuckets)
	by := make([]float64, overviewBuckets)
	exact := a.PacketsReady() && a.pktErr == nil
	cFirst, cLast, cP, cB, cDir := t.Col("timeFirst"), t.Col("timeLast"), t.Col("pktsSnt"), t.Col("l7BytesSnt"), t.Col("dir")
	talkers := map[string]float64{}
	ports := map[string]float64{}
	protos := map[string]float64{}
	cSrc, cDport, cProto := t.Col("srcIP"), t.Col("dstPort"), t.Col("l4Proto")
	bucket := func(x float64) int {
		if span <= 0 {
			return 0
		}
		return min(max(int((x-a.start)/span*overviewBuckets), 0), overviewBuckets-1)
	}
	for i := 0; i < t.Len(); i++ {
		f, _ := number(t.Field(i, cFirst))
		l, _ := number(t.Field(i, cLast))
		p, _ := number(t.Field(i, cP))
		b, _ := number(t.Field(i, cB))
		if t.Field(i, cDir) != "B" {
			flows[bucket(f)]++
			ports[t.Field(i, cDport)+"/"+protoName(t.Field(i, cProto))]++
			protos[protoName(t.Field(i, cProto))]++
		}
		talkers[t.Field(i, cSrc)] += b
		if !exact {
			// Until the packet index is built: spread evenly over the flow.
			b0, b1 := bucket(f), bucket(l)
			n := float64(b1 - b0 + 1)
			for k := b0; k <= b1; k++ {
				pk[k] += p / n
				by[k] += b / n
			}
		}
	}
	if exact {
		pk, by = a.pkt.pkts, a.pkt.bytes
	}
	writeJSON(w, map[string]any{
		"start": a.start, "bucket": span / overviewBuckets, "exact": exact,
		"flows": flows, "packets": pk, "bytes": by,
		"talkers": top(talkers, 10), "ports": top(ports, 10), "protocols": top(protos, 10),
	})
}

func protoName(p string) string {
	switch p {
	case "6":
		return "TCP"
	case "17":
		return "UDP"
	case "1":
		return "ICMP"
	case "58":
		return "ICMPv6"
	case "132":
		return "SCTP"
	case "0", "":
		return "non-IP"
	}
	return "proto " + p
}

type kv struct {
	Key   string  `json:"key"`
	Value float64 `json:"value"`
}

func top(m map[string]float64, n int) []kv {
	out := make([]kv, 0, len(m))
	for k, v := range m {
		out = append(out, kv{k, v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Value != out[j].Value {
			return out[i].Value > out[j].Value
		}
		return out[i].Key < out[j].Key
	})
	return out[:min(n, len(out))]
}

type colChoice struct {
	Name    string
	Shown   bool
	Decoded bool
}

type cell struct {
	Col, Text string
	Bits      bool
}

type tableRow struct {
	FlowInd string
	Cells   []cell
}

func (s *Server) flowsPage(w http.ResponseWriter, r *http.Request, a *Analysis) {
	q := r.URL.Query()
	filter := q.Get("filter")
	sortCol := q.Get("sort")
	desc := q.Get("desc") == "1"
	size, _ := strconv.Atoi(q.Get("size"))
	if size <= 0 || size > 1000 {
		size = 100
	}
	pg, _ := strconv.Atoi(q.Get("page"))
	t := a.Flows
	shown := map[string]bool{}
	colsParam := q.Get("cols")
	switch colsParam {
	case "", "default":
		for _, c := range defaultColumns {
			shown[c] = true
		}
	case "all":
		for _, c := range t.Names {
			shown[c] = true
		}
	default:
		for _, c := range strings.Split(colsParam, ",") {
			shown[c] = true
		}
	}
	data := struct {
		page
		Filter, Error, Sort, ColsParam string
		Desc                           bool
		Count, Page, Pages, First      int
		Choices                        []colChoice
		Header                         []colChoice
		Rows                           []tableRow
		Prev, Next                     string
	}{Filter: filter, Sort: sortCol, Desc: desc, ColsParam: colsParam}
	data.Title, data.Nav, data.Capture = "Flows", "flows", a.Name
	var idx []int
	for i, n := range t.Names {
		c := colChoice{Name: n, Shown: shown[n], Decoded: tawk.HasDecoder(n)}
		data.Choices = append(data.Choices, c)
		if c.Shown {
			data.Header = append(data.Header, c)
			idx = append(idx, i)
		}
	}
	rows, err := s.sortedRows(a, filter, sortCol, desc)
	if err != nil {
		data.Error = filterMessage(err)
		w.WriteHeader(http.StatusBadRequest)
		s.render(w, "flows.html", data)
		return
	}
	data.Count = len(rows)
	data.Pages = max((len(rows)+size-1)/size, 1)
	pg = min(max(pg, 1), data.Pages)
	data.Page = pg
	data.First = (pg - 1) * size
	link := func(p int) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("page", strconv.Itoa(p))
		return "/flows?" + v.Encode()
	}
	if pg > 1 {
		data.Prev = link(pg - 1)
	}
	if pg < data.Pages {
		data.Next = link(pg + 1)
	}
	cInd := t.Col("flowInd")
	for _, row := range rows[data.First:min(data.First+size, len(rows))] {
		f := t.Row(row)
		tr := tableRow{}
		if cInd >= 0 && cInd < len(f) {
			tr.FlowInd = f[cInd]
		}
		for k, i := range idx {
			v := ""
			if i < len(f) {
				v = f[i]
			}
			tr.Cells = append(tr.Cells, cell{Col: data.Header[k].Name, Text: v, Bits: data.Header[k].Decoded})
		}
		data.Rows = append(data.Rows, tr)
	}
	s.render(w, "flows.html", data)
}

type sideRow struct {
	Name string
	A, B sideCell
}

type sideCell struct {
	Text    string
	Decoded []tawk.DecodedBit
	Present bool
}

type dirSummary struct {
	Label    string
	Vantage  string
	Lines    []string
	Findings []tawk.DecodedBit
}

func (s *Server) flowPage(w http.ResponseWriter, r *http.Request, a *Analysis) {
	n, rows, ok := flowIndex(r, a)
	if !ok {
		httpError(w, http.StatusNotFound, "no such flow")
		return
	}
	t := a.Flows
	var fa, fb []string
	if rows[0] >= 0 {
		fa = t.Row(rows[0])
	}
	if rows[1] >= 0 {
		fb = t.Row(rows[1])
	}
	get := func(f []string, c int) sideCell {
		if f == nil || c >= len(f) {
			return sideCell{}
		}
		return sideCell{Text: f[c], Present: true}
	}
	data := struct {
		page
		N          uint64
		HasA, HasB bool
		ALabel     string
		BLabel     string
		Rows       []sideRow
		Dirs       []dirSummary
	}{N: n, HasA: fa != nil, HasB: fb != nil}
	data.Title, data.Nav, data.Capture = fmt.Sprintf("Flow %d", n), "flow", a.Name
	for c, name := range t.Names {
		sr := sideRow{Name: name, A: get(fa, c), B: get(fb, c)}
		if tawk.HasDecoder(name) {
			if sr.A.Present {
				sr.A.Decoded, _ = tawk.Decode(name, sr.A.Text)
			}
			if sr.B.Present {
				sr.B.Decoded, _ = tawk.Decode(name, sr.B.Text)
			}
		}
		data.Rows = append(data.Rows, sr)
	}
	endpoint := func(f []string) string {
		if f == nil {
			return ""
		}
		return fmt.Sprintf("%s:%s → %s:%s", field(t, f, "srcIP"), field(t, f, "srcPort"), field(t, f, "dstIP"), field(t, f, "dstPort"))
	}
	data.ALabel, data.BLabel = endpoint(fa), endpoint(fb)
	for _, d := range []struct {
		label string
		f     []string
	}{{"A: " + data.ALabel, fa}, {"B: " + data.BLabel, fb}} {
		if d.f == nil {
			continue
		}
		data.Dirs = append(data.Dirs, diagSummary(t, d.label, d.f))
	}
	s.render(w, "flow.html", data)
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func field(t *Table, f []string, name string) string {
	c := t.Col(name)
	if c < 0 || c >= len(f) {
		return ""
	}
	return f[c]
}

// diagSummary puts one direction's tcpDiag columns in words.
func diagSummary(t *Table, label string, f []string) dirSummary {
	d := dirSummary{Label: label, Vantage: field(t, f, "diagVantage")}
	num := func(n string) int64 { v, _ := strconv.ParseInt(field(t, f, n), 10, 64); return v }
	if t.Col("diagDataSegs") < 0 {
		d.Lines = append(d.Lines, "tcpDiag did not run on this capture.")
		return d
	}
	segs := num("diagDataSegs")
	d.Lines = append(d.Lines, fmt.Sprintf("%d data %s sent by this side.", segs, plural(segs, "segment", "segments")))
	if l := num("diagLost"); l > 0 {
		d.Lines = append(d.Lines, fmt.Sprintf("%d lost: %d before the capture point (upstream), %d after it (downstream).", l, num("diagLostUp"), num("diagLostDown")))
	}
	if x := num("diagRetx"); x > 0 {
		d.Lines = append(d.Lines, fmt.Sprintf("%d retransmitted, %d of them spurious (the original had arrived); %d after a retransmission timeout.", x, num("diagRetxSpur"), num("diagRTO")))
	}
	if x := num("diagReord"); x > 0 {
		d.Lines = append(d.Lines, fmt.Sprintf("%d arrived out of order (reordered).", x))
	}
	if x := num("diagDup"); x > 0 {
		d.Lines = append(d.Lines, fmt.Sprintf("%d duplicated by the network.", x))
	}
	if x := num("diagCapLoss"); x > 0 {
		d.Lines = append(d.Lines, fmt.Sprintf("%d missed by the capture (acknowledged, never seen).", x))
	}
	if x := num("diagCE"); x > 0 {
		d.Lines = append(d.Lines, fmt.Sprintf("%d marked ECN congestion experienced.", x))
	}
	if z := field(t, f, "diagZeroWinTime"); z != "" && z != "0" && z != "0.000000" {
		d.Lines = append(d.Lines, "Zero window for "+z+" s.")
	}
	if v := field(t, f, "diagHsRTT"); v != "" && v != "0" && v != "0.000000" {
		d.Lines = append(d.Lines, "Handshake RTT "+v+" s; data-to-ACK RTT "+field(t, f, "diagDataAckRTT")+" s.")
	}
	d.Findings, _ = tawk.Decode("diagFindings", field(t, f, "diagFindings"))
	return d
}
