// Package corpus finds the shared test captures and their golden
// Tranalyzer outputs (../shared/corpus, ../shared/golden).
package corpus

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Capture is one corpus file and where its golden outputs live.
type Capture struct {
	Path   string // capture file
	Rel    string // golden-relative folder: "generated/NAME" or "public/THEME/NAME"
	Name   string // NAME (file name without its extension, and without .gz)
	Golden string // golden folder (may lack flow files: refused link types)
}

// SharedDir locates the shared folder: $FLOWSIFT_SHARED, or ../shared seen
// from the repository root; "" if neither exists (the callers skip their
// tests then). No absolute path of one machine is tried: a test must not
// pass or fail by where it runs.
func SharedDir() string {
	if d := os.Getenv("FLOWSIFT_SHARED"); d != "" {
		return d
	}
	root, err := repoRoot()
	if err != nil {
		return ""
	}
	return sharedBeside(root)
}

// sharedBeside returns root/../shared when it holds a corpus, else "".
func sharedBeside(root string) string {
	d := filepath.Join(root, "..", "shared")
	if st, err := os.Stat(filepath.Join(d, "corpus")); err == nil && st.IsDir() {
		return d
	}
	return ""
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

// Name strips ".gz" and then the last extension of a file name.
func Name(file string) string {
	b := filepath.Base(file)
	b = strings.TrimSuffix(b, ".gz")
	if i := strings.LastIndexByte(b, '.'); i > 0 {
		b = b[:i]
	}
	return b
}

// List returns every capture of the corpus under shared, sorted.
func List(shared string) ([]Capture, error) {
	var out []Capture
	gen, _ := filepath.Glob(filepath.Join(shared, "corpus", "generated", "*"))
	for _, p := range gen {
		if strings.HasSuffix(p, ".tsv") {
			continue
		}
		n := Name(p)
		rel := filepath.Join("generated", n)
		out = append(out, Capture{Path: p, Rel: rel, Name: n, Golden: filepath.Join(shared, "golden", rel)})
	}
	pub, _ := filepath.Glob(filepath.Join(shared, "corpus", "public", "*", "*"))
	for _, p := range pub {
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			continue
		}
		n := Name(p)
		theme := filepath.Base(filepath.Dir(p))
		rel := filepath.Join("public", theme, n)
		out = append(out, Capture{Path: p, Rel: rel, Name: n, Golden: filepath.Join(shared, "golden", rel)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Rel < out[j].Rel })
	return out, nil
}

// GoldenFile returns the golden file with the given suffix ("flows",
// "packets", "headers", "stdout") and whether it exists.
func (c Capture) GoldenFile(kind string) (string, bool) {
	p := filepath.Join(c.Golden, c.Name+"_"+kind+".txt")
	_, err := os.Stat(p)
	return p, err == nil
}
