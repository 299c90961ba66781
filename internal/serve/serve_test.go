package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"flowsift/internal/corpus"
	"flowsift/internal/pcapgen"
	"flowsift/internal/plugin"
	"flowsift/internal/plugins"
	"flowsift/internal/tawk"
)

func testRegistry() *plugin.Registry { return plugins.Registry() }

func corpusCapture(t *testing.T, name string) string {
	t.Helper()
	shared := corpus.SharedDir()
	if shared == "" {
		t.Skip("no shared corpus")
	}
	p := filepath.Join(shared, "corpus", "generated", name)
	if _, err := os.Stat(p); err != nil {
		t.Skip(err)
	}
	return p
}

// flowFileOf runs flowsift (flow mode, serve's plugins) on capture into a
// fresh folder and returns the flow file.
func flowFileOf(t *testing.T, capture string) string {
	t.Helper()
	prefix := filepath.Join(t.TempDir(), "run")
	if err := runEngine([]string{capture}, prefix, false, testRegistry(), io.Discard); err != nil {
		t.Fatal(err)
	}
	return prefix + "_flows.txt"
}

func get(t *testing.T, u string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestAPIFlowsMatchesFlowFile: /api/flows returns exactly the rows and
// values of the flow file, for every generated capture of the corpus.
func TestAPIFlowsMatchesFlowFile(t *testing.T) {
	shared := corpus.SharedDir()
	if shared == "" {
		t.Skip("no shared corpus")
	}
	caps, _ := filepath.Glob(filepath.Join(shared, "corpus", "generated", "*.pcap*"))
	if len(caps) == 0 {
		t.Skip("no generated captures")
	}
	sort.Strings(caps)
	for _, c := range caps {
		t.Run(filepath.Base(c), func(t *testing.T) {
			_, hs := startServer(t, c)
			code, body := get(t, hs.URL+"/api/flows")
			if code != 200 {
				t.Fatalf("status %d: %s", code, body)
			}
			var got []map[string]string
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(flowFileOf(t, c))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(string(want), "\n"), "\n")
			names := strings.Split(strings.TrimPrefix(lines[0], "%"), "\t")
			if len(got) != len(lines)-1 {
				t.Fatalf("%d rows, flow file has %d", len(got), len(lines)-1)
			}
			for i, l := range lines[1:] {
				vals := strings.Split(l, "\t")
				if len(got[i]) != len(names) {
					t.Fatalf("row %d: %d keys, want %d", i, len(got[i]), len(names))
				}
				for k, n := range names {
					if got[i][n] != vals[k] {
						t.Fatalf("row %d column %s: %q, flow file %q", i, n, got[i][n], vals[k])
					}
				}
			}
			// Keys come in the file's column order.
			if first := strings.SplitN(string(body), ",", 3); !strings.HasPrefix(first[0], `[{"dir":`) || !strings.HasPrefix(first[1], `"flowInd":`) {
				t.Errorf("columns out of order: %s", first[:2])
			}
		})
	}
}

func TestAPIFilterAndErrors(t *testing.T) {
	capture := corpusCapture(t, "02_loss_bulk_sender_side.pcap")
	_, hs := startServer(t, capture)
	flowFile := flowFileOf(t, capture)

	code, body := get(t, hs.URL+"/api/flows?filter="+url.QueryEscape(`$diagRetx > 0`))
	var rows []map[string]string
	if err := json.Unmarshal(body, &rows); code != 200 || err != nil {
		t.Fatalf("status %d, %v", code, err)
	}
	if len(rows) != 1 || rows[0]["flowInd"] != "3" || rows[0]["dir"] != "A" || rows[0]["diagRetx"] != "26" {
		t.Errorf("filter rows: %v", rows)
	}
	if n := tawkCount(t, `$diagRetx > 0`, flowFile); n != 1 {
		t.Errorf("tawk prints %d rows", n)
	}

	// A bad filter: HTTP 400 with tawk's own message.
	for _, bad := range []string{`$diagRetx >`, `$noSuchColumn( > 1`, `{ print }`} {
		code, body := get(t, hs.URL+"/api/flows?filter="+url.QueryEscape(bad))
		var stderr bytes.Buffer
		rc := tawk.Main([]string{bad, flowFile}, nil, io.Discard, &stderr)
		if code != 400 {
			t.Errorf("%q: status %d", bad, code)
		}
		if rc != 0 && strings.TrimSpace(string(body)) != strings.TrimSpace(stripANSI(stderr.String())) {
			t.Errorf("%q: message %q, tawk says %q", bad, body, stderr.String())
		}
	}

	// Packets of flow 3: every packet row of the flow, in order.
	code, body = get(t, hs.URL+"/api/flow/3/packets")
	var pk []map[string]string
	if err := json.Unmarshal(body, &pk); code != 200 || err != nil {
		t.Fatalf("packets: status %d, %v", code, err)
	}
	if len(pk) != 2374 || pk[0]["pktNo"] != "3" || pk[0]["flowInd"] != "3" || pk[len(pk)-1]["flowInd"] != "3" {
		t.Errorf("flow 3: %d packets, first %s", len(pk), pk[0]["pktNo"])
	}
	if code, _ := get(t, hs.URL+"/api/flow/99/packets"); code != 404 {
		t.Errorf("unknown flow: status %d", code)
	}
}

// hostileCapture writes a capture whose payloads are HTML and script: an
// HTTP request with <script> in a header and a DNS query for a name with
// markup in it.
func hostileCapture(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hostile.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pcapgen.NewWriter(f, pcapgen.LinkEthernet, 65535)
	if err != nil {
		t.Fatal(err)
	}
	cli, srv := []byte{10, 0, 0, 1}, []byte{10, 0, 0, 2}
	mac1, mac2 := [6]byte{2, 0, 0, 0, 0, 1}, [6]byte{2, 0, 0, 0, 0, 2}
	req := "GET /<script>window.__pwned=1</script> HTTP/1.1\r\nHost: <img src=x onerror=window.__pwned=1>\r\nX-Evil: <script>window.__pwned=1</script>\r\n\r\n"
	frames := []pcapgen.Frame{
		{SrcMAC: mac1, DstMAC: mac2, Src: cli, Dst: srv, Proto: 6, TTL: 64, SrcPort: 40000, DstPort: 80, Seq: 1000, Flags: pcapgen.SYN, Window: 65535},
		{SrcMAC: mac2, DstMAC: mac1, Src: srv, Dst: cli, Proto: 6, TTL: 64, SrcPort: 80, DstPort: 40000, Seq: 5000, Ack: 1001, Flags: pcapgen.SYN | pcapgen.ACK, Window: 65535},
		{SrcMAC: mac1, DstMAC: mac2, Src: cli, Dst: srv, Proto: 6, TTL: 64, SrcPort: 40000, DstPort: 80, Seq: 1001, Ack: 5001, Flags: pcapgen.ACK, Window: 65535},
		{SrcMAC: mac1, DstMAC: mac2, Src: cli, Dst: srv, Proto: 6, TTL: 64, SrcPort: 40000, DstPort: 80, Seq: 1001, Ack: 5001, Flags: pcapgen.ACK | pcapgen.PSH, Window: 65535, Payload: []byte(req)},
		{SrcMAC: mac2, DstMAC: mac1, Src: srv, Dst: cli, Proto: 6, TTL: 64, SrcPort: 80, DstPort: 40000, Seq: 5001, Ack: 1001 + uint32(len(req)), Flags: pcapgen.ACK, Window: 65535},
		{SrcMAC: mac1, DstMAC: mac2, Src: cli, Dst: srv, Proto: 17, TTL: 64, SrcPort: 53000, DstPort: 53, Payload: dnsQuery("<img src=x onerror=window.__pwned=1>.<script>window.__pwned=1</script>.example")},
	}
	for i, fr := range frames {
		if err := w.WritePacket(1700000000, uint32(i)*1000000, fr.Build(nil), 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return path
}

func dnsQuery(name string) []byte {
	b := []byte{0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0}
	for _, l := range strings.Split(name, ".") {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0, 0, 1, 0, 1)
}

// TestHostileCaptureEscaped: markup from a capture reaches the pages and
// the JSON only escaped (the browser test checks that it renders as text).
func TestHostileCaptureEscaped(t *testing.T) {
	_, hs := startServer(t, hostileCapture(t))
	for _, p := range []string{"/", "/flows?cols=all", "/flow/1", "/flow/2", "/api/flows", "/api/flow/1/packets", "/api/flow/2/packets", "/flows?filter=" + url.QueryEscape(`"<script>x</script>"`)} {
		code, body := get(t, hs.URL+p)
		if code != 200 && code != 400 {
			t.Errorf("%s: status %d", p, code)
		}
		for _, raw := range []string{"<script>window", "<img src=x", "<script>x"} {
			if bytes.Contains(body, []byte(raw)) {
				t.Errorf("%s: unescaped %q in the response", p, raw)
			}
		}
	}
	// The payload does reach the packet API (escaped, as JSON keeps it).
	_, body := get(t, hs.URL+"/api/flow/1/packets")
	var pk []map[string]string
	json.Unmarshal(body, &pk)
	found := false
	for _, p := range pk {
		found = found || strings.Contains(p["l7Content"], "<script>window.__pwned=1</script>")
	}
	if !found {
		t.Errorf("the HTTP payload is not in the packet rows")
	}
	resp, err := http.Get(hs.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
}

// TestFolder: -r FOLDER offers the folder's captures and opens only those.
func TestFolder(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(hostileCapture(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a.pcap", "b.pcap"} {
		os.WriteFile(filepath.Join(dir, n), src, 0o644)
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644)
	s, err := New("", nil, dir, testRegistry(), DefaultExplainer(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	defer func() { hs.Close(); s.Close() }()
	code, body := get(t, hs.URL+"/")
	if code != 200 || !bytes.Contains(body, []byte(`href="/?capture=a.pcap"`)) || !bytes.Contains(body, []byte(`href="/?capture=b.pcap"`)) || bytes.Contains(body, []byte("notes.txt")) {
		t.Fatalf("chooser: %d\n%s", code, body)
	}
	// Nothing chosen yet: the flow pages send the user to the chooser.
	if resp, err := http.Get(hs.URL + "/api/flows"); err != nil || resp.Request.URL.Path != "/" {
		t.Errorf("before a choice /api/flows ends at %v (%v)", resp.Request.URL, err)
	}
	for _, bad := range []string{"../" + filepath.Base(dir) + "/a.pcap", "/etc/passwd", "notes.txt"} {
		if code, _ := get(t, hs.URL+"/?capture="+url.QueryEscape(bad)); code != 404 {
			t.Errorf("capture %q: status %d", bad, code)
		}
	}
	code, body = get(t, hs.URL+"/?capture=b.pcap")
	if code != 200 || !bytes.Contains(body, []byte(`<span class="capture">b.pcap</span>`)) {
		t.Fatalf("after choosing b.pcap: %d", code)
	}
	code, body = get(t, hs.URL+"/api/flows")
	var rows []map[string]string
	if err := json.Unmarshal(body, &rows); code != 200 || err != nil || len(rows) != 3 {
		t.Errorf("b.pcap flows: %d, %d rows, %v", code, len(rows), err)
	}
}

// TestSeries: the plot series of flow 3 carry every packet's facts as the
// packet rows have them.
func TestSeries(t *testing.T) {
	s, _ := startServer(t, corpusCapture(t, "02_loss_bulk_sender_side.pcap"))
	a := s.Current()
	raw, err := a.Series(3)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		N                              int
		Classes                        []string
		Dir, Seq, Ack, Len, Flags, Win []uint64
		Cls, TCP                       []int
		T                              []float64
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	pk, _ := a.FlowPackets(3)
	if d.N != pk.Len() || len(d.T) != d.N || len(d.Seq) != d.N || len(d.Cls) != d.N {
		t.Fatalf("series of %d packets, %d rows", d.N, pk.Len())
	}
	t0 := parseTime([]byte(pk.Field(0, pk.Col("time"))))
	for i := 0; i < d.N; i++ {
		row := pk.Object(i)
		stat := parseHex([]byte(row["flowStat"]))
		want := []string{strconv.FormatUint(stat&1, 10), row["seq"], row["ack"], row["l7Len"], strconv.FormatUint(parseHex([]byte(row["tcpFlags"])), 10), row["tcpWin"], row["diagPktClass"]}
		got := []string{strconv.FormatUint(d.Dir[i], 10), strconv.FormatUint(d.Seq[i], 10), strconv.FormatUint(d.Ack[i], 10), strconv.FormatUint(d.Len[i], 10), strconv.FormatUint(d.Flags[i], 10), strconv.FormatUint(d.Win[i], 10), d.Classes[d.Cls[i]]}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("packet %d: %v, row %v", i, got, want)
		}
		if ns := parseTime([]byte(row["time"])) - t0; math.Abs(d.T[i]-float64(ns)/1e9) > 1e-9 || d.TCP[i] != 1 {
			t.Fatalf("packet %d: t %v, want %v", i, d.T[i], float64(ns)/1e9)
		}
	}
	if parseTime([]byte("1795662005.779791000")) != 1795662005779791000 || parseTime([]byte("12.5")) != 12500000000 || parseHex([]byte("0x1f")) != 31 || parseHex([]byte("1f")) != 0 {
		t.Error("parseTime/parseHex")
	}
}

func TestSackBlocks(t *testing.T) {
	for _, c := range []struct {
		in   string
		want [][2]uint32
	}{
		{"0x01;0x01;0x08;0x0a;0xdf;0x94;0xcc;0xfa;0x68;0x85;0x5f;0xb8;0x01;0x01;0x05;0x0a;0xec;0xbf;0x1e;0x59;0xec;0xbf;0x24;0x01", [][2]uint32{{0xecbf1e59, 0xecbf2401}}},
		{"0x05;0x12;0x00;0x00;0x00;0x01;0x00;0x00;0x00;0x02;0x00;0x00;0x00;0x03;0x00;0x00;0x00;0x04", [][2]uint32{{1, 2}, {3, 4}}},
		{"0x02;0x04;0x05;0xb4;0x04;0x02", nil},  // MSS, SACK permitted
		{"0x05;0x0a;0x00;0x00;0x00;0x01", nil},  // cut short
		{"0x05;0x01;0x05;0x0a", nil},            // length below 2
		{"0x00;0x05;0x0a;0;0;0;1;0;0;0;2", nil}, // end of options first
		{"0x1ff;0x05", nil},                     // not a byte
		{"", nil},
	} {
		if got := sackBlocks([]byte(c.in)); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v, want %v", c.in, got, c.want)
		}
	}
}

func FuzzSackBlocks(f *testing.F) {
	f.Add([]byte("0x01;0x01;0x05;0x0a;0xec;0xbf;0x1e;0x59;0xec;0xbf;0x24;0x01"))
	f.Add([]byte("0x05;0x12;0x00;0x00;0x00;0x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if blocks := sackBlocks(b); len(blocks)*8 > len(b) {
			t.Fatalf("%d blocks from %d bytes", len(blocks), len(b))
		}
	})
}

// TestExplainerShape: an explain-shaped result drives the overview.
func TestExplainerShape(t *testing.T) {
	result := map[string]any{
		"capture":  map[string]any{"file": "x.pcap"},
		"health":   map[string]any{"status": "problems", "score": 40},
		"findings": []any{map[string]any{"code": "tcp.loss.upstream", "severity": "error", "summary": "3% of <b>segments</b> lost before the capture point", "flows": []int{3}, "evidence": map[string]any{"lost": 26}}},
		"extra":    "ignored",
	}
	ex, err := FromResult(result, "flowsift explain")
	if err != nil || len(ex.Findings) != 1 || ex.Findings[0].Flows[0] != 3 || ex.Health["status"] != "problems" {
		t.Fatalf("%+v %v", ex, err)
	}
	capture := corpusCapture(t, "02_loss_bulk_sender_side.pcap")
	s, err := New("x", []string{capture}, "", testRegistry(), ExplainerFunc(func(a *Analysis, _ *plugin.Registry) (*Explanation, error) {
		if a.Options().Inputs[0] != capture {
			t.Errorf("options %+v", a.Options())
		}
		return FromResult(result, "flowsift explain")
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	defer func() { hs.Close(); s.Close() }()
	_, body := get(t, hs.URL+"/")
	for _, want := range []string{`Health: <b>problems</b>`, `3% of &lt;b&gt;segments&lt;/b&gt; lost before the capture point`, `<a href="/flow/3">3</a>`, `<code>tcp.loss.upstream</code>`, `Source: flowsift explain`} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("overview lacks %s", want)
		}
	}
}

func TestStaticRevalidation(t *testing.T) {
	_, hs := startServer(t, hostileCapture(t))
	resp, err := http.Get(hs.URL + "/static/app.js")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	tag := resp.Header.Get("ETag")
	req, _ := http.NewRequest("GET", hs.URL+"/static/app.js", nil)
	req.Header.Set("If-None-Match", tag)
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp.StatusCode != 200 || tag == "" || resp2.StatusCode != http.StatusNotModified {
		t.Errorf("app.js: %d, ETag %q, revalidation %d", resp.StatusCode, tag, resp2.StatusCode)
	}
}

// TestOverviewReport: the end report without terminal colours, its
// warnings listed under the findings.
func TestOverviewReport(t *testing.T) {
	_, hs := startServer(t, corpusCapture(t, "02_loss_bulk_sender_side.pcap"))
	_, body := get(t, hs.URL+"/")
	if bytes.Contains(body, []byte("\x1b[")) || !bytes.Contains(body, []byte(`<li>[WRN] L3 SnapLength &lt; Length in IP header</li>`)) {
		t.Errorf("overview report:\n%s", body)
	}
}

// TestDiagExplainer: the findings derived from diagFindings alone, one
// per bit set, with its tawk -V description.
func TestDiagExplainer(t *testing.T) {
	s, _ := startServer(t, corpusCapture(t, "02_loss_bulk_sender_side.pcap"))
	ex, err := DiagExplainer{}.Explain(s.Current(), testRegistry())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range ex.Findings {
		got = append(got, fmt.Sprintf("%s %s %v %s", f.Code, f.Severity, f.Flows, f.Summary))
	}
	want := []string{
		"diagFindings.1 warn [3] Data lost after the capture point (downstream)",
		"diagFindings.8 warn [3] Sender limited by the receive window",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") || ex.Health["status"] != "warnings" {
		t.Errorf("findings:\n%s\nstatus %v", strings.Join(got, "\n"), ex.Health["status"])
	}
}
