package tcpdiag_test

import (
	"encoding/binary"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"flowsift/internal/corpus"
	"flowsift/internal/engine"
	"flowsift/internal/plugins"
	"flowsift/internal/plugins/tcpdiag"
)

// analyse runs the capture with tcpDiag (flow mode) and returns its rows.
func analyse(t *testing.T, capture string) []map[string]string {
	t.Helper()
	dir := t.TempDir()
	opts := &engine.Options{ReadFile: capture, Inputs: []string{capture}, Prefix: dir + "/",
		Plugins: diagPlugins, Sets: map[string]string{}}
	if st := engine.Run(opts, plugins.Registry(), io.Discard, io.Discard); st != 0 {
		t.Fatalf("%s: exit %d", capture, st)
	}
	name := strings.TrimSuffix(filepath.Base(capture), ".pcap")
	return readTable(t, filepath.Join(dir, name+"_flows.txt"))
}

func shared(t *testing.T) string {
	d := corpus.SharedDir()
	if d == "" {
		t.Skip("../shared not found: corpus expectations not checked")
	}
	return d
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}

// TestTruth holds tcpDiag to the ground truth of the truth captures with
// the tolerances of the issue: diagDataSegs exact; lost, retransmitted,
// spurious, reordered, duplicated within max(2, 5 %), sender-side
// reordering within max(10, 15 %), receiver-side CE within max(2, 5 %),
// capture loss within max(2, 10 %); directions with fewer than 20 data
// segments no lost, retransmitted or duplicated above 2.
func TestTruth(t *testing.T) {
	dir := filepath.Join(shared(t), "corpus", "truth")
	checkTruth(t, dir, func(file string) string { return filepath.Join(dir, file) }, nil)
}

// TestTruthVariants: the same criterion on captures that are not in
// ../shared, made from the truth runs so that their truth still holds:
// IPv4 IDs replaced by unrelated values (a copy keeps its original's), so
// that send order must come from timestamps, or, on the run without
// timestamps, from timing alone; and the handshake cut off, so that the
// capture point must come from the data and ACK timing.
func TestTruthVariants(t *testing.T) {
	dir := filepath.Join(shared(t), "corpus", "truth")
	tmp := t.TempDir()
	runs := map[string]bool{"t01_up_loss05": true, "t05_up_reo10_dup2": true, "t09_up_loss2_reo30": true, "t13_down_nots_loss05_reo30_dup2": true}
	for _, v := range []struct {
		name   string
		change func([][]byte) [][]byte
	}{{"scrambled IP IDs", scrambleIDs}, {"no handshake", func(f [][]byte) [][]byte { return f[3:] }}} {
		t.Run(v.name, func(t *testing.T) {
			sub := filepath.Join(tmp, strings.ReplaceAll(v.name, " ", "_"))
			if err := os.MkdirAll(sub, 0o755); err != nil {
				t.Fatal(err)
			}
			variant := func(file string) string {
				out := filepath.Join(sub, file)
				if _, err := os.Stat(out); err != nil {
					hdr, frames := readPcap(t, filepath.Join(dir, file))
					writePcap(t, out, hdr, v.change(frames))
				}
				return out
			}
			checkTruth(t, dir, variant, func(file string) bool {
				return runs[strings.TrimSuffix(strings.TrimSuffix(file, "_sender.pcap"), "_receiver.pcap")]
			})
		})
	}
}

// readPcap splits a classic pcap file into its header and records
// (record header included).
func readPcap(t *testing.T, path string) ([]byte, [][]byte) {
	t.Helper()
	d, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var recs [][]byte
	for i := 24; i+16 <= len(d); {
		n := int(binary.LittleEndian.Uint32(d[i+8:]))
		recs = append(recs, d[i:i+16+n])
		i += 16 + n
	}
	return d[:24], recs
}

func writePcap(t *testing.T, path string, hdr []byte, recs [][]byte) {
	t.Helper()
	b := append([]byte(nil), hdr...)
	for _, r := range recs {
		b = append(b, r...)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// scrambleIDs gives every IPv4 frame an ID unrelated to its send order,
// the same for identical (source, ID) pairs so that network copies stay
// copies.
func scrambleIDs(recs [][]byte) [][]byte {
	seen := map[[6]byte]uint16{}
	x := uint32(2463534242)
	out := make([][]byte, len(recs))
	for i, r := range recs {
		r = append([]byte(nil), r...)
		f := r[16:]
		if len(f) >= 34 && f[12] == 0x08 && f[13] == 0x00 {
			var k [6]byte
			copy(k[:4], f[26:30])
			copy(k[4:], f[18:20])
			id, ok := seen[k]
			if !ok {
				x ^= x << 13
				x ^= x >> 17
				x ^= x << 5
				id = uint16(x)
				seen[k] = id
			}
			binary.BigEndian.PutUint16(f[18:], id)
		}
		out[i] = r
	}
	return out
}

// checkTruth compares tcpDiag on the capture path(file) gives with each
// truth.tsv row (only rows whose file keep accepts, when keep is set).
func checkTruth(t *testing.T, dir string, path func(string) string, keep func(string) bool) {
	f, err := os.Open(filepath.Join(dir, "truth.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd := csv.NewReader(f)
	rd.Comma, rd.LazyQuotes = '\t', true
	recs, err := rd.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	hdr := map[string]int{}
	for i, h := range recs[0] {
		hdr[h] = i
	}
	byFile := map[string][]map[string]string{}
	cells := 0
	for _, rec := range recs[1:] {
		tr := func(k string) string { return rec[hdr[k]] }
		file := tr("file")
		if keep != nil && !keep(file) {
			continue
		}
		rows, ok := byFile[file]
		if !ok {
			rows = analyse(t, path(file))
			byFile[file] = rows
		}
		var row map[string]string
		for _, r := range rows {
			if r["l4Proto"] == "6" && r["srcIP"] == tr("src") && r["srcPort"] == tr("sport") &&
				r["dstIP"] == tr("dst") && r["dstPort"] == tr("dport") {
				row = r
			}
		}
		if row == nil {
			t.Errorf("%s %s:%s: no flow row", file, tr("src"), tr("sport"))
			continue
		}
		data := atoi(t, tr("data_segments_seen_in_this_file"))
		check := func(col string, want, tol int) {
			cells++
			got := atoi(t, row[col])
			if got < want-tol || got > want+tol {
				t.Errorf("%s %s:%s %s = %d, truth %d (±%d)", file, tr("src"), tr("sport"), col, got, want, tol)
			}
		}
		pct := func(v, p, floor int) int { return max(floor, v*p/100) }
		check("diagDataSegs", data, 0)
		sender := tr("side") == "sender"
		for _, c := range []struct{ col, key string }{
			{"diagLost", "lost"}, {"diagRetx", "retransmitted"}, {"diagRetxSpur", "spurious_retx"},
			{"diagReord", "reordered"}, {"diagDup", "duplicated"}, {"diagCE", "ce_marked"}, {"diagCapLoss", "capture_dropped"},
		} {
			want := atoi(t, tr(c.key))
			switch {
			case data < 20:
				if c.col == "diagLost" || c.col == "diagRetx" || c.col == "diagDup" {
					if got := atoi(t, row[c.col]); got > 2 {
						t.Errorf("%s %s:%s %s = %d on %d data segments (false alarm)", file, tr("src"), tr("sport"), c.col, got, data)
					}
					cells++
				}
			case c.col == "diagCE" && sender:
			case c.col == "diagReord" && sender:
				check(c.col, want, pct(want, 15, 10))
			case c.col == "diagCapLoss":
				check(c.col, want, pct(want, 10, 2))
			default:
				check(c.col, want, max(2, want*5/100))
			}
		}
	}
	t.Logf("%d cells against truth.tsv", cells)
}

// TestGeneratedExpectations: the generated corpus' loss, duplicate and CE
// counts, and no loss, reordering or duplicates where none happened.
func TestGeneratedExpectations(t *testing.T) {
	dir := filepath.Join(shared(t), "corpus", "generated")
	sum := func(rows []map[string]string, col string) (n int) {
		for _, r := range rows {
			if r["l4Proto"] == "6" {
				n += atoi(t, r[col])
			}
		}
		return n
	}
	within := func(name, col string, got, want int) {
		if tol := max(2, want*5/100); got < want-tol || got > want+tol {
			t.Errorf("%s: %s = %d, want %d ±%d", name, col, got, want, tol)
		}
	}
	// Counts from MANIFEST.tsv's expect column.
	for _, c := range []struct {
		file, col string
		want      int
	}{
		{"02_loss_bulk_sender_side", "diagLost", 26},
		{"02_loss_bulk_receiver_side", "diagLost", 26},
		{"04_duplicate_receiver_side", "diagDup", 31},
		{"17_ecn_ce_marking", "diagCE", 16},
	} {
		within(c.file, c.col, sum(analyse(t, filepath.Join(dir, c.file+".pcap")), c.col), c.want)
	}
	clean, err := filepath.Glob(filepath.Join(dir, "*.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range clean {
		b := filepath.Base(p)
		if !(strings.HasPrefix(b, "01_") || strings.HasPrefix(b, "09_ipv6_clean") || strings.HasPrefix(b, "15_") || strings.HasPrefix(b, "16_ipid_")) {
			continue
		}
		n++
		rows := analyse(t, p)
		for _, col := range []string{"diagLost", "diagRetx", "diagReord", "diagDup", "diagCapLoss"} {
			if got := sum(rows, col); got != 0 {
				t.Errorf("%s: %s = %d on a clean capture", b, col, got)
			}
		}
	}
	if n < 8 {
		t.Errorf("only %d clean captures found", n)
	}
}

// TestPlainAckSameResults runs every truth and generated capture with
// feedback's short path for plain acknowledgements (plainAck) and without
// it: every flow row must be the same.
func TestPlainAckSameResults(t *testing.T) {
	root := shared(t)
	var caps []string
	for _, d := range []string{"truth", "generated"} {
		m, err := filepath.Glob(filepath.Join(root, "corpus", d, "*.pcap"))
		if err != nil {
			t.Fatal(err)
		}
		caps = append(caps, m...)
	}
	if len(caps) < 50 {
		t.Fatalf("only %d captures found", len(caps))
	}
	defer tcpdiag.SetPlainAcks(true)
	for _, c := range caps {
		tcpdiag.SetPlainAcks(true)
		short := analyse(t, c)
		tcpdiag.SetPlainAcks(false)
		long := analyse(t, c)
		if len(short) != len(long) {
			t.Fatalf("%s: %d rows against %d", c, len(short), len(long))
		}
		for i := range short {
			for col, v := range long[i] {
				if short[i][col] != v {
					t.Errorf("%s row %d %s: %q with plainAck, %q without", filepath.Base(c), i, col, short[i][col], v)
				}
			}
		}
	}
}
