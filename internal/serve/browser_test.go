package serve

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"flowsift/internal/engine"
	"flowsift/internal/explain"
	"flowsift/internal/tawk"
)

// chromium returns the headless browser or skips the test.
func chromium(t *testing.T) string {
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH: browser tests skipped (.ci/run installs Debian's chromium)")
	return ""
}

// browser is a headless chromium tab that records console errors and
// uncaught exceptions.
type browser struct {
	ctx    context.Context
	mu     sync.Mutex
	errors []string
}

func newBrowser(t *testing.T) *browser {
	exe := chromium(t)
	// Not t.TempDir: chromium may still write to its profile while it exits.
	profile, err := os.MkdirTemp("", "flowsift-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1400, 900),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 120*time.Second)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA(); os.RemoveAll(profile) })
	b := &browser{ctx: ctx}
	chromedp.ListenTarget(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError || e.Type == runtime.APITypeWarning {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				b.errors = append(b.errors, "console."+string(e.Type)+": "+strings.Join(parts, " "))
			}
		case *runtime.EventExceptionThrown:
			b.errors = append(b.errors, "exception: "+e.ExceptionDetails.Error())
		}
	})
	if err := chromedp.Run(ctx, chromedp.EmulateViewport(1400, 900)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

func (b *browser) run(t *testing.T, actions ...chromedp.Action) {
	t.Helper()
	if err := chromedp.Run(b.ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

func (b *browser) noErrors(t *testing.T) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.errors {
		t.Errorf("browser console: %s", e)
	}
	b.errors = nil
}

// screenshot saves a PNG in $FLOWSIFT_SCREENSHOTS (docs/img when
// refreshing the documentation) or in the test's temporary folder.
func (b *browser) screenshot(t *testing.T, name, selector string) {
	t.Helper()
	dir := os.Getenv("FLOWSIFT_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "flowsift-serve-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var png []byte
	if selector != "" {
		b.run(t, chromedp.Screenshot(selector, &png, chromedp.ByQuery))
	} else {
		b.run(t, chromedp.CaptureScreenshot(&png))
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s (%d bytes)", path, len(png))
}

func startServer(t *testing.T, capture string) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(filepath.Base(capture), []string{capture}, "", testRegistry(), DefaultExplainer(), os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() { hs.Close(); s.Close() })
	return s, hs
}

// tawkCount is the number of rows `flowsift tawk -H FILTER FILE` prints.
func tawkCount(t *testing.T, filter, file string) int {
	t.Helper()
	var out, errb bytes.Buffer
	if rc := tawk.Main([]string{"-H", filter, file}, nil, &out, &errb); rc != 0 {
		t.Fatalf("tawk %q: status %d: %s", filter, rc, errb.String())
	}
	return strings.Count(out.String(), "\n")
}

func TestBrowserOverviewAndFlowTable(t *testing.T) {
	capture := corpusCapture(t, "02_loss_bulk_sender_side.pcap")
	b := newBrowser(t)
	_, hs := startServer(t, capture)
	flowFile := flowFileOf(t, capture)

	// Overview: findings and the three time charts drawn.
	var findings string
	var charts int
	b.run(t, chromedp.Navigate(hs.URL+"/"),
		chromedp.WaitVisible("#ov-time svg", chromedp.ByQuery),
		chromedp.Text("#findings", &findings, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll("#ov-time svg").length`, &charts))
	// The findings are flowsift explain's for the same capture.
	res, err := explain.Analyze(&engine.Options{Inputs: []string{capture}, ReadFile: capture, Sets: map[string]string{}}, testRegistry())
	if err != nil || len(res.Findings) == 0 {
		t.Fatalf("explain: %v, %d findings", err, len(res.Findings))
	}
	for _, f := range res.Findings {
		if !strings.Contains(findings, f.Summary) || !strings.Contains(findings, f.Code) {
			t.Errorf("overview findings lack %s: %q", f.Code, f.Summary)
		}
	}
	if charts != 3 {
		t.Errorf("overview: %d charts", charts)
	}
	b.screenshot(t, "serve-overview", "")
	b.noErrors(t)

	// Flow table with a filter: the same rows as tawk.
	for _, filter := range []string{`$diagRetx > 0`, `bitsanyset($tcpAnomaly, 0x000c) && $l7BytesSnt > 1000`, `$l4Proto == 6`, `$dir == "A"`} {
		var rowsAttr string
		var trs int
		b.run(t, chromedp.Navigate(hs.URL+"/flows?filter="+url.QueryEscape(filter)),
			chromedp.WaitVisible("#count", chromedp.ByQuery),
			chromedp.AttributeValue("#count", "data-rows", &rowsAttr, nil, chromedp.ByQuery),
			chromedp.Evaluate(`document.querySelectorAll("#flowtable tbody tr").length`, &trs))
		want := tawkCount(t, filter, flowFile)
		if rowsAttr != strconv.Itoa(want) || trs != want {
			t.Errorf("filter %q: table says %s rows and shows %d; tawk prints %d", filter, rowsAttr, trs, want)
		}
	}

	// Bit decoding on hover: the tawk -V lines of the hovered value.
	b.run(t, chromedp.Navigate(hs.URL+"/flows?sort=diagRetx&desc=1&filter="+url.QueryEscape(`$l4Proto == 6`)), chromedp.WaitVisible("#flowtable", chromedp.ByQuery))
	var nodes []*cdp.Node
	b.run(t, chromedp.Nodes(`#flowtable tbody tr:nth-child(1) td.bits[data-col="tcpAnomaly"]`, &nodes, chromedp.ByQuery))
	val := nodes[0].AttributeValue("data-val")
	var box []float64
	b.run(t, chromedp.ScrollIntoView(`#flowtable tbody tr:nth-child(1) td.bits[data-col="tcpAnomaly"]`, chromedp.ByQuery),
		chromedp.Evaluate(`(()=>{const r=document.querySelector('#flowtable tbody tr:nth-child(1) td.bits[data-col="tcpAnomaly"]').getBoundingClientRect();return [r.left+r.width/2,r.top+r.height/2]})()`, &box))
	var tip string
	b.run(t, chromedp.ActionFunc(func(ctx context.Context) error {
		return input.DispatchMouseEvent(input.MouseMoved, box[0], box[1]).Do(ctx)
	}), chromedp.WaitVisible("#tip", chromedp.ByQuery), chromedp.Text("#tip", &tip, chromedp.ByQuery))
	lines, _ := tawk.Decode("tcpAnomaly", val)
	if len(lines) == 0 {
		t.Fatalf("tcpAnomaly %s of the first row decodes to nothing: pick another cell", val)
	}
	for _, l := range lines {
		if !strings.Contains(tip, l.Text) {
			t.Errorf("hover on tcpAnomaly=%s: tooltip %q lacks %q", val, tip, l.Text)
		}
	}
	b.screenshot(t, "serve-flows", "")
	b.noErrors(t)
}

func TestBrowserFlowPlots(t *testing.T) {
	capture := corpusCapture(t, "02_loss_bulk_sender_side.pcap")
	b := newBrowser(t)
	s, hs := startServer(t, capture)
	a := s.Current()

	// Expected from the packet rows: flow 3's data segments sent by A and
	// its retransmissions.
	pk, err := a.FlowPackets(3)
	if err != nil {
		t.Fatal(err)
	}
	cStat, cLen, cFlags, cCls := pk.Col("flowStat"), pk.Col("l7Len"), pk.Col("tcpFlags"), pk.Col("diagPktClass")
	data, retx, sacks := 0, 0, 0
	for i := 0; i < pk.Len(); i++ {
		stat, _ := strconv.ParseUint(strings.TrimPrefix(pk.Field(i, cStat), "0x"), 16, 64)
		flags, _ := strconv.ParseUint(strings.TrimPrefix(pk.Field(i, cFlags), "0x"), 16, 64)
		if stat&1 == 1 {
			sacks += len(sackBlocks([]byte(pk.Field(i, pk.Col("tcpOpts")))))
		}
		if stat&1 == 0 && pk.Field(i, cLen) != "0" && flags&0x02 == 0 {
			data++
			if pk.Field(i, cCls) == "retx" {
				retx++
			}
		}
	}
	rows, _ := a.FlowRows(3)
	segs := a.Flows.Field(rows[0], a.Flows.Col("diagDataSegs"))
	if strconv.Itoa(data) != segs || retx == 0 {
		t.Fatalf("flow 3: %d data packets from A, diagDataSegs %s, %d retransmissions", data, segs, retx)
	}

	var attrs map[string]string
	b.run(t, chromedp.Navigate(hs.URL+"/flow/3"),
		chromedp.WaitVisible(`#p-if svg`, chromedp.ByQuery),
		chromedp.Evaluate(`(()=>{const o={};for(const e of document.querySelectorAll("[data-plot]"))o[e.dataset.plot]=e.dataset.points;const ts=document.getElementById("p-ts");o.retx=ts.dataset.retx;o.lost=ts.dataset.lost;o.sack=ts.dataset.sackPoints;return o})()`, &attrs))
	if attrs["time-sequence"] != strconv.Itoa(data) {
		t.Errorf("time-sequence data-points %s, want %d data packets", attrs["time-sequence"], data)
	}
	if attrs["sack"] != strconv.Itoa(sacks) || sacks == 0 {
		t.Errorf("time-sequence draws %s SACK blocks, B's ACKs carry %d", attrs["sack"], sacks)
	}
	if attrs["retx"] != strconv.Itoa(retx) {
		t.Errorf("time-sequence marks %s retransmissions, want %d", attrs["retx"], retx)
	}
	for _, p := range []string{"throughput", "rtt", "inflight"} {
		if n, _ := strconv.Atoi(attrs[p]); n == 0 {
			t.Errorf("plot %s drew nothing", p)
		}
	}
	// The retransmissions are drawn in their own colour with a legend.
	var legend string
	var vermilion int
	b.run(t, chromedp.Text("#p-ts .legend", &legend, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll('#p-ts line[stroke="#D55E00"]').length`, &vermilion))
	if !strings.Contains(legend, fmt.Sprintf("retransmission (%d)", retx)) || vermilion != retx {
		t.Errorf("legend %q, %d vermilion bars; want %d retransmissions", legend, vermilion, retx)
	}
	// A click on a plot point selects its packet in the list.
	var sel string
	var selBox []float64
	b.run(t, chromedp.ScrollIntoView("#p-ts", chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector('#p-ts line[stroke="#D55E00"]').dataset.i`, &sel),
		chromedp.Evaluate(`(()=>{const e=document.querySelector('#p-ts line[stroke="#D55E00"]');const r=e.getBoundingClientRect();return [r.left+r.width/2,r.top+r.height/2]})()`, &selBox))
	b.run(t, chromedp.MouseClickXY(selBox[0], selBox[1]))
	var picked string
	b.run(t, chromedp.WaitVisible("#pkttable tr.sel", chromedp.ByQuery),
		chromedp.AttributeValue("#pkttable tr.sel", "data-i", &picked, nil, chromedp.ByQuery))
	if picked != sel {
		t.Errorf("click on retransmission packet %s selected packet %s", sel, picked)
	}
	b.screenshot(t, "serve-flow-plots", "#plots")
	b.run(t, chromedp.ScrollIntoView("h1", chromedp.ByQuery))
	b.screenshot(t, "serve-flow", "")
	b.noErrors(t)
}

func TestBrowserHostileCapture(t *testing.T) {
	capture := hostileCapture(t)
	b := newBrowser(t)
	_, hs := startServer(t, capture)
	b.run(t, chromedp.Evaluate(`0`, nil))
	for _, path := range []string{"/", "/flows?cols=all&filter=" + url.QueryEscape(`$srcPort > 0 || "<script>window.__pwned=1</script>" == ""`), "/flow/1", "/flow/2"} {
		var pwned bool
		var scripts int
		var body string
		b.run(t, chromedp.Navigate(hs.URL+path), chromedp.WaitReady("body", chromedp.ByQuery),
			chromedp.Sleep(300*time.Millisecond),
			chromedp.Evaluate(`window.__pwned === 1 || document.querySelector("img[src=x]") !== null`, &pwned),
			chromedp.Evaluate(`document.querySelectorAll("script").length`, &scripts),
			chromedp.Text("body", &body, chromedp.ByQuery))
		if pwned || scripts != 1 {
			t.Errorf("%s: capture text became markup (pwned %v, %d script elements)", path, pwned, scripts)
		}
		if strings.HasPrefix(path, "/flow/") {
			var list string
			b.run(t, chromedp.WaitVisible("#pkttable tbody tr[data-i]", chromedp.ByQuery), chromedp.Text("#pkttable", &list, chromedp.ByQuery))
			if !strings.Contains(list, "<script>") && !strings.Contains(list, "<img") {
				t.Errorf("%s: the hostile payload is not shown as text: %q", path, list)
			}
		}
	}
	b.noErrors(t)
}

// TestServeSpeed measures issue 11's speed figures on a large capture
// (FLOWSIFT_SERVE_BENCH=path, e.g. the issue-6 benchmark capture); it logs
// them and asserts nothing about time.
func TestServeSpeed(t *testing.T) {
	capture := os.Getenv("FLOWSIFT_SERVE_BENCH")
	if capture == "" {
		t.Skip("set FLOWSIFT_SERVE_BENCH to a capture to measure")
	}
	b := newBrowser(t)
	// Alternate flow-mode runs and serve start-ups (the machine is shared:
	// pairs see the same load).
	var flowMode, readies []time.Duration
	var s *Server
	for k := range 3 {
		st := time.Now()
		// What `flowsift -r CAPTURE -w DIR/` runs: the default plugins.
		o := &engine.Options{Inputs: []string{capture}, ReadFile: capture, Prefix: filepath.Join(t.TempDir(), "f"), LogFile: true, Sets: map[string]string{}}
		if rc := engine.Run(o, testRegistry(), io.Discard, io.Discard); rc != 0 {
			t.Fatalf("flow-mode run: status %d", rc)
		}
		flowMode = append(flowMode, time.Since(st))
		st = time.Now()
		var err error
		s, err = New(filepath.Base(capture), []string{capture}, "", testRegistry(), DefaultExplainer(), os.Stderr)
		if err != nil {
			t.Fatal(err)
		}
		readies = append(readies, time.Since(st))
		if k < 2 {
			s.Close()
		}
	}
	t.Logf("flow-mode runs (default plugins): %v; serve ready after %v (%d flow rows)", flowMode, readies, s.Current().Flows.Len())
	hs := httptest.NewServer(s.Handler())
	defer func() { hs.Close(); s.Close() }()

	nav := func(path string) float64 {
		var ms float64
		b.run(t, chromedp.Navigate(hs.URL+path), chromedp.WaitReady("body", chromedp.ByQuery),
			chromedp.Poll(`performance.getEntriesByType("navigation")[0].loadEventEnd`, &ms))
		return ms
	}
	nav("/") // the browser's first page (renderer start-up) is not measured
	measure := func(when string, filter string) {
		t.Logf("%s: /flows first page %.0f ms; filter %q (uncached) %.0f ms; sorted by l7BytesSnt %.0f ms (navigation start to load event)", when,
			nav("/flows?x="+when), filter, nav("/flows?filter="+url.QueryEscape(filter)), nav("/flows?sort=l7BytesSnt&desc=1&x="+when))
	}
	measure("while the packet index is built", `bitsanyset($tcpAnomaly, 0x000c) && $l7BytesSnt > 1000`)
	// The largest flow by packets.
	a := s.Current()
	best, bestN := uint64(0), 0.0
	cInd, cP := a.Flows.Col("flowInd"), a.Flows.Col("pktsSnt")
	sums := map[uint64]float64{}
	for i := 0; i < a.Flows.Len(); i++ {
		ind, _ := strconv.ParseUint(a.Flows.Field(i, cInd), 10, 64)
		n, _ := number(a.Flows.Field(i, cP))
		sums[ind] += n
		if sums[ind] > bestN {
			best, bestN = ind, sums[ind]
		}
	}
	st := time.Now()
	<-a.pktDone
	t.Logf("packet index ready %v after serve was ready", time.Since(st))
	measure("after", `bitsanyset($tcpAnomaly, 0x0004) || $diagRetx > 2`)
	var ms float64
	b.run(t, chromedp.Navigate(fmt.Sprintf("%s/flow/%d", hs.URL, best)), chromedp.WaitVisible("#p-if svg", chromedp.ByQuery),
		chromedp.Evaluate(`performance.getEntriesByName("plots-drawn")[0].startTime`, &ms))
	t.Logf("/flow/%d (%.0f packets) with its four plots: %.0f ms from navigation start", best, bestN, ms)
	b.screenshot(t, "serve-speed-largest-flow", "#plots")
	var marks string
	b.run(t, chromedp.Evaluate(`JSON.stringify(performance.getEntries().filter(e=>e.entryType!=="resource"||true).map(e=>[e.name.slice(-40),Math.round(e.startTime),Math.round(e.duration)]))`, &marks))
	t.Log(marks)
	b.noErrors(t)
}

// TestBrowserSample opens the README's sample capture (HTTP download with
// loss, DNS, ping, a small SYN scan): overview and flow table, whose
// screenshots illustrate docs/serve.md.
func TestBrowserSample(t *testing.T) {
	capture, _ := filepath.Abs("../../testdata/sample.pcap")
	b := newBrowser(t)
	_, hs := startServer(t, capture)
	b.run(t, chromedp.Navigate(hs.URL+"/"), chromedp.WaitVisible("#ov-protos .row", chromedp.ByQuery))
	var protos string
	b.run(t, chromedp.Text("#ov-protos", &protos, chromedp.ByQuery))
	if !strings.Contains(protos, "TCP") || !strings.Contains(protos, "UDP") || !strings.Contains(protos, "ICMP") {
		t.Errorf("protocol mix %q", protos)
	}
	b.screenshot(t, "serve-sample-overview", "")
	filter := `bitsanyset($tcpAnomaly, 0x000c) || $diagFindings != "0x0000" || $l4Proto != 6`
	var rowsAttr string
	b.run(t, chromedp.Navigate(hs.URL+"/flows?filter="+url.QueryEscape(filter)),
		chromedp.WaitVisible("#flowtable", chromedp.ByQuery),
		chromedp.AttributeValue("#count", "data-rows", &rowsAttr, nil, chromedp.ByQuery))
	if want := tawkCount(t, filter, flowFileOf(t, capture)); rowsAttr != strconv.Itoa(want) {
		t.Errorf("filter %q: %s rows, tawk %d", filter, rowsAttr, want)
	}
	var box []float64
	b.run(t, chromedp.Evaluate(`(()=>{const r=document.querySelector('#flowtable tbody tr:nth-child(1) td.bits[data-col="tcpAnomaly"]').getBoundingClientRect();return [r.left+r.width/2,r.top+r.height/2]})()`, &box))
	b.run(t, chromedp.ActionFunc(func(ctx context.Context) error {
		return input.DispatchMouseEvent(input.MouseMoved, box[0], box[1]).Do(ctx)
	}), chromedp.WaitVisible("#tip", chromedp.ByQuery))
	b.screenshot(t, "serve-sample-flows", "")

	// Column chooser: keep three columns; the URL carries them, the filter stays.
	var headers []string
	var loc string
	b.run(t, chromedp.Click(".chooser summary", chromedp.ByQuery),
		chromedp.Evaluate(`for (const c of document.querySelectorAll("#colform input[type=checkbox]")) c.checked = ["flowInd","srcIP","diagFindings"].includes(c.value)`, nil),
		chromedp.Click("#colform button", chromedp.ByQuery),
		chromedp.WaitNotPresent(`#flowtable th[data-col="dir"]`, chromedp.ByQuery),
		chromedp.Evaluate(`[...document.querySelectorAll("#flowtable th")].map(th => th.dataset.col)`, &headers),
		chromedp.Location(&loc))
	if strings.Join(headers, ",") != "flowInd,srcIP,diagFindings" || !strings.Contains(loc, "cols=flowInd%2CsrcIP%2CdiagFindings") || !strings.Contains(loc, "filter=bitsanyset") {
		t.Errorf("column chooser: headers %v at %s", headers, loc)
	}
	// Sorting by a header click, then a row click opens the flow.
	b.run(t, chromedp.Click(`#flowtable th[data-col="flowInd"]`, chromedp.ByQuery), chromedp.WaitVisible(`#flowtable th.sorted`, chromedp.ByQuery),
		chromedp.Click(`#flowtable th[data-col="flowInd"]`, chromedp.ByQuery), chromedp.WaitVisible(`#flowtable th.sorted.desc`, chromedp.ByQuery))
	var firstFlow string
	b.run(t, chromedp.AttributeValue("#flowtable tbody tr", "data-flow", &firstFlow, nil, chromedp.ByQuery),
		chromedp.Click("#flowtable tbody tr td", chromedp.ByQuery), chromedp.WaitVisible("h1", chromedp.ByQuery), chromedp.Location(&loc))
	if firstFlow != "3" || !strings.HasSuffix(loc, "/flow/3") {
		t.Errorf("sorted by flowInd descending, the first row is flow %s; its click went to %s", firstFlow, loc)
	}
	b.noErrors(t)
}
