package capture

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// sharedDir locates the shared resources: $FLOWSIFT_SHARED, else
// ../../../shared relative to this package.
func sharedDir(t *testing.T) string {
	t.Helper()
	for _, d := range []string{os.Getenv("FLOWSIFT_SHARED"), "../../../shared"} {
		if d == "" {
			continue
		}
		if st, err := os.Stat(filepath.Join(d, "corpus")); err == nil && st.IsDir() {
			return d
		}
	}
	t.Skip("shared corpus not found (set FLOWSIFT_SHARED or place shared/ beside the repo)")
	return ""
}

type corpusFile struct {
	path    string // relative to corpus/
	packets int    // MANIFEST packets column
}

func manifest(t *testing.T, shared string) []corpusFile {
	var files []corpusFile
	for _, m := range []struct{ dir, pathCol, pktCol string }{
		{"public", "path", "packets"},
		{"generated", "file", "packets"},
	} {
		fh, err := os.Open(filepath.Join(shared, "corpus", m.dir, "MANIFEST.tsv"))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		var pathI, pktI = -1, -1
		for sc.Scan() {
			cols := strings.Split(sc.Text(), "\t")
			if pathI < 0 {
				for i, c := range cols {
					switch c {
					case m.pathCol:
						pathI = i
					case m.pktCol:
						pktI = i
					}
				}
				if pathI < 0 || pktI < 0 {
					t.Fatalf("%s MANIFEST: columns %q", m.dir, cols)
				}
				continue
			}
			n, err := strconv.Atoi(cols[pktI])
			if err != nil {
				t.Fatalf("%s MANIFEST: packets %q", m.dir, cols[pktI])
			}
			files = append(files, corpusFile{filepath.Join(m.dir, cols[pathI]), n})
		}
		fh.Close()
	}
	if len(files) < 100 {
		t.Fatalf("only %d MANIFEST entries", len(files))
	}
	return files
}

// goldenReport pulls the reader-related lines out of a golden stdout.
func goldenReport(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		for _, k := range []string{"Link layer type", "Snapshot length", "Dump start", "Dump stop ",
			"Number of processed packets", "Number of processed bytes", "Number of raw bytes"} {
			if v, ok := strings.CutPrefix(l, k+": "); ok {
				if i := strings.Index(v, " ("); i >= 0 && k != "Link layer type" {
					v = v[:i] // drop the human-readable suffix / date
				}
				m[strings.TrimSpace(k)] = v
			}
		}
	}
	return m, nil
}

func goldenStdout(shared, rel string) string {
	dir, base := filepath.Split(rel)
	name := strings.TrimSuffix(base, ".gz")
	name = strings.TrimSuffix(name, filepath.Ext(name))
	return filepath.Join(shared, "golden", dir, name, name+"_stdout.txt")
}

// TestCorpus reads every capture of the corpus to the end: with libpcap's
// interface rules the figures must equal Tranalyzer's end report, with
// mixed interfaces allowed the count must equal the MANIFEST's.
func TestCorpus(t *testing.T) {
	shared := sharedDir(t)
	files := manifest(t, shared)
	checked := 0
	for _, cf := range files {
		path := filepath.Join(shared, "corpus", cf.path)
		for _, mixed := range []bool{false, true} {
			f, err := Open(path)
			if err != nil {
				t.Errorf("%s: %v", cf.path, err)
				break
			}
			f.AllowMixedInterfaces(mixed)
			var r Record
			var n, capB, wireB int
			var first, last string
			for {
				err := f.Next(&r)
				if err != nil {
					if e, ok := err.(*Error); ok && !e.Fatal {
						continue
					}
					break
				}
				n++
				capB += int(r.CapLen)
				wireB += int(r.WireLen)
				last = fmt.Sprintf("%d.%09d sec", r.TsSec, r.TsNsec)
				if n == 1 {
					first = last
				}
			}
			f.Close()
			if mixed {
				if n != cf.packets {
					t.Errorf("%s (mixed interfaces): %d packets, MANIFEST says %d", cf.path, n, cf.packets)
				}
				continue
			}
			g, err := goldenReport(goldenStdout(shared, cf.path))
			if err != nil {
				t.Errorf("%s: golden: %v", cf.path, err)
				continue
			}
			desc, name := LinkTypeName(f.LinkType())
			want := map[string]string{
				"Link layer type":             fmt.Sprintf("%s [%s/%d]", desc, name, DLT(f.LinkType())),
				"Snapshot length":             strconv.FormatUint(uint64(f.Snaplen()), 10),
				"Number of processed packets": strconv.Itoa(n),
				"Number of processed bytes":   strconv.Itoa(capB),
				"Number of raw bytes":         strconv.Itoa(wireB),
				"Dump start":                  first,
				"Dump stop":                   last,
			}
			if n == 0 {
				want["Dump stop"] = "0.000000000 sec"
			}
			_, endReport := g["Dump stop"]
			for k, v := range want {
				gv, ok := g[k]
				switch {
				case ok && gv != v:
					t.Errorf("%s: %s: %q, golden %q", cf.path, k, v, gv)
				case ok:
				case v == "0" || v == "":
					// zero counters are omitted; no packet, no dump start
				case !endReport && (k == "Dump stop" || strings.HasPrefix(k, "Number")):
					// refused link type: Tranalyzer stopped after the first packet
				default:
					t.Errorf("%s: golden has no %q line (we have %q)", cf.path, k, v)
				}
			}
			checked++
		}
	}
	t.Logf("%d captures checked against golden reports and MANIFEST", checked)
}
