package engine

import (
	"encoding/binary"
	"flowsift/internal/sink"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"
	"time"

	"flowsift/internal/capture"
	"flowsift/internal/corpus"
	"flowsift/internal/filter"
	"flowsift/internal/plugins"
)

// loopCapture is an in-memory pcap stream made of the Ethernet captures of
// the generated corpus, one after the other (each shifted to start 1 s after
// the previous ends), repeated passes times; every pass is shifted 1000 s
// later, so the previous pass's flows time out and the table keeps turning
// over like on a long capture. It allocates nothing while serving.
type loopCapture struct {
	hdr     []byte   // pcap file header
	recs    []byte   // records of one pass (little-endian µs pcap)
	offs    []int    // offset of each record in recs
	span    uint32   // seconds covered by one pass
	cur     []byte   // this pass's records, timestamps shifted
	passes  int      // passes left after cur
	pass    int      // passes served
	pending []byte   // what Read serves next
	packets int      // records per pass
	bytes   int64    // bytes per pass
	files   []string // the captures used
}

// loadLoop reads the generated corpus captures into a loopCapture.
func loadLoop(tb testing.TB) *loopCapture {
	tb.Helper()
	shared := corpus.SharedDir()
	if shared == "" {
		tb.Skip("../shared (corpus) not found; set FLOWSIFT_SHARED to run the pipeline benchmark")
	}
	paths, _ := filepath.Glob(filepath.Join(shared, "corpus", "generated", "*.pcap"))
	sort.Strings(paths)
	lc := &loopCapture{}
	var base uint32 = 1700000000
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil || len(data) < 24 || binary.LittleEndian.Uint32(data) != 0xa1b2c3d4 ||
			binary.LittleEndian.Uint32(data[20:]) != 1 {
			continue // only little-endian µs Ethernet captures
		}
		if lc.hdr == nil {
			lc.hdr = append([]byte(nil), data[:24]...)
			binary.LittleEndian.PutUint32(lc.hdr[16:], 262144)
		}
		var first, last uint32
		for off := 24; off+16 <= len(data); {
			n := int(binary.LittleEndian.Uint32(data[off+8:]))
			if off+16+n > len(data) {
				break
			}
			sec := binary.LittleEndian.Uint32(data[off:])
			if first == 0 {
				first = sec
			}
			if sec > last {
				last = sec
			}
			rec := append([]byte(nil), data[off:off+16+n]...)
			binary.LittleEndian.PutUint32(rec, sec-first+base)
			lc.offs = append(lc.offs, len(lc.recs))
			lc.recs = append(lc.recs, rec...)
			off += 16 + n
		}
		base += last - first + 1
		lc.files = append(lc.files, filepath.Base(p))
	}
	if len(lc.offs) == 0 {
		tb.Skip("no Ethernet captures in the generated corpus")
	}
	lc.span = base - 1700000000 + 1000
	lc.packets = len(lc.offs)
	lc.bytes = int64(len(lc.recs))
	lc.cur = make([]byte, len(lc.recs))
	return lc
}

// reset prepares the stream for passes more passes; the pass shift goes on
// from where the last stream stopped, so time keeps moving forward.
func (lc *loopCapture) reset(passes int) {
	lc.passes = passes
	lc.pending = lc.hdr
}

func (lc *loopCapture) Read(p []byte) (int, error) {
	for len(lc.pending) == 0 {
		if lc.passes == 0 {
			return 0, io.EOF
		}
		lc.passes--
		lc.pass++
		copy(lc.cur, lc.recs)
		shift := uint32(lc.pass) * lc.span
		for _, off := range lc.offs {
			binary.LittleEndian.PutUint32(lc.cur[off:], binary.LittleEndian.Uint32(lc.recs[off:])+shift)
		}
		lc.pending = lc.cur
	}
	n := copy(p, lc.pending)
	lc.pending = lc.pending[n:]
	return n, nil
}

// newTestRunner sets up a run with the default plugins writing into a
// temporary folder.
func newTestRunner(tb testing.TB, packetMode bool, lc *loopCapture, pluginNames ...string) *runner {
	return newTestRunnerFormats(tb, packetMode, lc, nil, pluginNames...)
}

// newTestRunnerFormats is newTestRunner writing the files in formats
// (nil: text).
func newTestRunnerFormats(tb testing.TB, packetMode bool, lc *loopCapture, formats []string, pluginNames ...string) *runner {
	tb.Helper()
	dir := tb.TempDir()
	in := filepath.Join(corpus.SharedDir(), "corpus", "generated", lc.files[0])
	opts := &Options{ReadFile: in, Inputs: []string{in}, Prefix: dir + "/", PacketMode: packetMode, Plugins: pluginNames, Formats: formats}
	return startTestRunner(tb, opts)
}

// startTestRunner sets up a run with opts.
func startTestRunner(tb testing.TB, opts *Options) *runner {
	tb.Helper()
	r := &runner{opts: opts, stderr: io.Discard, start: time.Now()}
	if err := r.setup(plugins.Registry(), io.Discard); err != nil {
		tb.Fatal(err)
	}
	if r.first != nil {
		r.first.Close()
	}
	tb.Cleanup(func() { r.finish() })
	return r
}

// runPasses pushes passes passes of lc through the pipeline (reader and
// decoder goroutine, flow table, plugins, row recording).
func runPasses(tb testing.TB, r *runner, lc *loopCapture, passes int) {
	lc.reset(passes)
	f, err := capture.NewReader("loop", lc)
	if err != nil {
		tb.Fatal(err)
	}
	r.readFile(f, "loop")
}

// TestPipelineNoAllocs checks that the per-packet path (read, decode, flow
// lookup, plugin update, row recording) allocates nothing in steady state:
// a run of four passes over the corpus must allocate as much as a run of
// one pass. What remains is per file (the capture reader, the reader
// goroutine, whose g the runtime reuses or not: hence the tolerance of one
// allocation); three more passes are over 50,000 more packets.
// TestPipelineNoAllocsFiltered: a BPF filter in the reader allocates
// nothing per packet either.
func TestPipelineNoAllocsFiltered(t *testing.T) {
	if !filter.Available {
		t.Skip("built without cgo: no filters")
	}
	lc := loadLoop(t)
	in := filepath.Join(corpus.SharedDir(), "corpus", "generated", lc.files[0])
	r := startTestRunner(t, &Options{ReadFile: in, Inputs: []string{in}, Prefix: t.TempDir() + "/",
		Filter: "tcp[tcpflags] & tcp-ack != 0 or arp"})
	runPasses(t, r, lc, 3)
	one := testing.AllocsPerRun(3, func() { runPasses(t, r, lc, 1) })
	four := testing.AllocsPerRun(3, func() { runPasses(t, r, lc, 4) })
	if four > one+1 {
		t.Errorf("%v allocations for 4 passes, %v for 1 (%d packets per pass): the filtered path allocates", four, one, lc.packets)
	}
	// 23 passes: 3 to warm up, 4 × 1 and 4 × 4 in AllocsPerRun.
	if r.c.Packets == 0 || r.c.Packets >= uint64(23*lc.packets) {
		t.Fatalf("%d packets processed of %d: the filter does not discriminate", r.c.Packets, 23*lc.packets)
	}
}

// withDiag is the default plugin set plus tcpDiag.
var withDiag = []string{"basicFlow", "basicStats", "tcpFlags", "tcpStates", "tcpDiag"}

func TestPipelineNoAllocs(t *testing.T) {
	for _, pm := range []bool{false, true} {
		testNoAllocs(t, pm, nil)
		testNoAllocs(t, pm, nil, withDiag...)
	}
	// Packet rows into a Parquet file alone: through the tape, and on
	// one processor written in place.
	testNoAllocs(t, true, []string{"parquet"})
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	testNoAllocs(t, true, []string{"parquet"})
}

// TestParquetAloneInPlace: the packet file of Parquet alone is written
// in place on one processor, through the tape on more.
func TestParquetAloneInPlace(t *testing.T) {
	lc := loadLoop(t)
	for _, procs := range []int{1, 2} {
		func() {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			r := newTestRunnerFormats(t, true, lc, []string{"parquet"})
			if _, inPlace := r.pktOut.(*sink.Parquet); inPlace != (procs == 1) {
				t.Errorf("GOMAXPROCS %d: packet rows are %T", procs, r.pktOut)
			}
		}()
	}
}

func testNoAllocs(t *testing.T, pm bool, formats []string, pluginNames ...string) {
	{
		lc := loadLoop(t)
		r := newTestRunnerFormats(t, pm, lc, formats, pluginNames...)
		runPasses(t, r, lc, 3) // warm up: flow storage, index, tapes, free lists
		one := testing.AllocsPerRun(3, func() { runPasses(t, r, lc, 1) })
		four := testing.AllocsPerRun(3, func() { runPasses(t, r, lc, 4) })
		if four > one+1 {
			t.Errorf("packet mode %v, formats %v, plugins %v: %v allocations for 4 passes, %v for 1 (%d packets per pass): the per-packet path allocates",
				pm, formats, pluginNames, four, one, lc.packets)
		}
		if r.c.Packets < uint64(18*lc.packets) {
			t.Fatalf("only %d packets processed", r.c.Packets)
		}
	}
}

// BenchmarkPipeline measures the whole per-packet path on the corpus loaded
// in memory; one op is one packet.
func BenchmarkPipeline(b *testing.B) {
	for _, mode := range []struct {
		name    string
		pm      bool
		plugins []string
		formats []string
	}{{"flows", false, nil, nil}, {"packets", true, nil, nil}, {"flows+tcpDiag", false, withDiag, nil}, {"packets+tcpDiag", true, withDiag, nil},
		{"packets-parquet", true, nil, []string{"parquet"}}} {
		b.Run(mode.name, func(b *testing.B) {
			lc := loadLoop(b)
			r := newTestRunnerFormats(b, mode.pm, lc, mode.formats, mode.plugins...)
			runPasses(b, r, lc, 2)
			passes := (b.N + lc.packets - 1) / lc.packets
			runtime.GC()
			b.ReportAllocs()
			b.SetBytes(lc.bytes / int64(lc.packets))
			b.ResetTimer()
			start := time.Now()
			runPasses(b, r, lc, passes)
			el := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(passes*lc.packets)/el.Seconds(), "pkts/s")
		})
	}
}
