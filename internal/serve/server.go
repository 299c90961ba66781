// Package serve is `flowsift serve`: a local web view of a capture's flows
// (overview, filterable flow table, per-flow page with time-sequence,
// throughput, RTT and in-flight plots), every asset embedded.
package serve

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"flowsift/internal/plugin"
	"flowsift/internal/tawk"
)

//go:embed assets
var assets embed.FS

// Server serves one analysed capture at a time; with a folder of captures
// the overview lets the user pick one (each is analysed once).
type Server struct {
	reg     *plugin.Registry
	explain Explainer
	stderr  io.Writer
	tmp     string
	folder  string   // "" unless serving a folder
	choices []string // capture names in folder

	mu       sync.Mutex
	cur      *Analysis
	analyses map[string]*Analysis
	cache    filterCache

	pages *template.Template
}

// New analyses inputs (name is what the pages call it) and returns the
// server. folder, when not empty, is a directory of captures to choose
// from (inputs may then be empty).
func New(name string, inputs []string, folder string, reg *plugin.Registry, ex Explainer, stderr io.Writer) (*Server, error) {
	tmp, err := os.MkdirTemp("", "flowsift-serve-")
	if err != nil {
		return nil, err
	}
	s := &Server{reg: reg, explain: ex, stderr: stderr, tmp: tmp, folder: folder, analyses: map[string]*Analysis{}}
	s.pages, err = template.New("").Funcs(template.FuncMap{
		"add":  func(a, b int) int { return a + b },
		"join": strings.Join,
		"q":    url.QueryEscape,
	}).ParseFS(assets, "assets/*.html")
	if err != nil {
		return nil, err
	}
	if folder != "" {
		ents, err := os.ReadDir(folder)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if e.Type().IsRegular() && isCaptureName(e.Name()) {
				s.choices = append(s.choices, e.Name())
			}
		}
		sort.Strings(s.choices)
		if len(s.choices) == 0 {
			return nil, fmt.Errorf("%s: no capture files (.pcap, .pcapng, .cap, .gz)", folder)
		}
	}
	if len(inputs) > 0 {
		a, err := s.open(name, inputs)
		if err != nil {
			return nil, err
		}
		s.cur = a
	}
	return s, nil
}

func isCaptureName(n string) bool {
	for _, ext := range []string{".pcap", ".pcapng", ".cap", ".pcap.gz", ".pcapng.gz", ".dmp"} {
		if strings.HasSuffix(strings.ToLower(n), ext) {
			return true
		}
	}
	return false
}

// Close removes the temporary outputs once background runs are done.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.analyses {
		<-a.pktDone
		<-a.explDone
	}
	return os.RemoveAll(s.tmp)
}

func (s *Server) open(name string, inputs []string) (*Analysis, error) {
	if a, ok := s.analyses[name]; ok {
		return a, nil
	}
	dir := filepath.Join(s.tmp, strconv.Itoa(len(s.analyses)))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	a, err := analyse(name, inputs, dir, s.reg, s.explain, s.stderr)
	if err != nil {
		return nil, err
	}
	s.analyses[name] = a
	return a, nil
}

// Current returns the capture being shown (nil before one is chosen).
func (s *Server) Current() *Analysis {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// Handler routes the pages and the API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(assets, "assets")
	mux.Handle("GET /static/", withETag(http.StripPrefix("/static/", http.FileServerFS(static))))
	mux.HandleFunc("GET /{$}", s.overview)
	mux.HandleFunc("GET /flows", s.withCapture(s.flowsPage))
	mux.HandleFunc("GET /flow/{n}", s.withCapture(s.flowPage))
	mux.HandleFunc("GET /api/overview", s.withCapture(s.apiOverview))
	mux.HandleFunc("GET /api/flows", s.withCapture(s.apiFlows))
	mux.HandleFunc("GET /api/flow/{n}/packets", s.withCapture(s.apiPackets))
	mux.HandleFunc("GET /api/flow/{n}/series", s.withCapture(s.apiSeries))
	mux.HandleFunc("GET /api/decode", s.apiDecode)
	return secure(mux)
}

// assetsTag identifies this binary's embedded assets: the browser
// revalidates them with it (304) instead of downloading them per page.
// It is computed on first use: hashing the assets at package start-up
// cost every run of every command.
var assetsTag = sync.OnceValue(func() string {
	h := sha256.New()
	fs.WalkDir(assets, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := assets.ReadFile(p)
			h.Write([]byte(p))
			h.Write(b)
		}
		return nil
	})
	return `"` + hex.EncodeToString(h.Sum(nil)[:12]) + `"`
})

func withETag(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("ETag", assetsTag())
		h.ServeHTTP(w, r)
	})
}

// secure adds headers that keep anything from the capture inert even if
// it slipped through escaping: no inline scripts, no foreign origins.
func secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

func (s *Server) withCapture(h func(http.ResponseWriter, *http.Request, *Analysis)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a := s.Current()
		if a == nil {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		h(w, r, a)
	}
}

func (s *Server) render(w http.ResponseWriter, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := s.pages.ExecuteTemplate(w, name, data); err != nil {
		fmt.Fprintln(s.stderr, "serve:", err)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	enc.Encode(v)
}

// writeRows answers a JSON array of row objects (columns in file order).
func writeRows(w http.ResponseWriter, t *Table, rows []int) {
	w.Header().Set("Content-Type", "application/json")
	b := make([]byte, 0, 64*1024)
	b = append(b, '[')
	for k, r := range rows {
		if k > 0 {
			b = append(b, ',')
		}
		b = t.appendObject(b, r)
		if len(b) > 1<<20 {
			w.Write(b)
			b = b[:0]
		}
	}
	b = append(b, "]\n"...)
	w.Write(b)
}

func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	io.WriteString(w, msg+"\n")
}

// filterCache keeps the rows of recent filters (a table page's sort and
// page changes re-use them).
type filterCache struct {
	mu      sync.Mutex
	entries []cacheEntry
}

type cacheEntry struct {
	a      *Analysis
	key    string
	rows   []int
	sorted bool
}

func (c *filterCache) get(a *Analysis, key string) ([]int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.entries {
		if e.a == a && e.key == key {
			return e.rows, true
		}
	}
	return nil, false
}

func (c *filterCache) put(a *Analysis, key string, rows []int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = append(c.entries, cacheEntry{a: a, key: key, rows: rows})
	if len(c.entries) > 16 {
		c.entries = c.entries[1:]
	}
}

// selectRows applies a tawk filter (all rows for ""), cached.
func (s *Server) selectRows(a *Analysis, filter string) ([]int, error) {
	if rows, ok := s.cache.get(a, "f\x00"+filter); ok {
		return rows, nil
	}
	var rows []int
	if strings.TrimSpace(filter) == "" {
		rows = make([]int, a.Flows.Len())
		for i := range rows {
			rows[i] = i
		}
	} else {
		var err error
		if rows, err = tawk.Select(filter, a.Flows.Raw); err != nil {
			return nil, err
		}
	}
	s.cache.put(a, "f\x00"+filter, rows)
	return rows, nil
}

// sortedRows sorts a filter's rows by a column (numbers numerically,
// hex as numbers, text after numbers), cached.
func (s *Server) sortedRows(a *Analysis, filter, col string, desc bool) ([]int, error) {
	rows, err := s.selectRows(a, filter)
	if err != nil || col == "" {
		return rows, err
	}
	c := a.Flows.Col(col)
	if c < 0 {
		return rows, nil
	}
	key := fmt.Sprintf("s\x00%s\x00%s\x00%v", filter, col, desc)
	if r, ok := s.cache.get(a, key); ok {
		return r, nil
	}
	type kv struct {
		row int
		num float64
		isN bool
		str string
	}
	keys := make([]kv, len(rows))
	for i, r := range rows {
		v := a.Flows.Field(r, c)
		n, ok := number(v)
		keys[i] = kv{r, n, ok, v}
	}
	less := func(x, y kv) bool {
		if x.isN != y.isN {
			return x.isN
		}
		if x.isN {
			return x.num < y.num
		}
		return x.str < y.str
	}
	sort.SliceStable(keys, func(i, j int) bool {
		if desc {
			return less(keys[j], keys[i])
		}
		return less(keys[i], keys[j])
	})
	out := make([]int, len(keys))
	for i, k := range keys {
		out[i] = k.row
	}
	s.cache.put(a, key, out)
	return out, nil
}

func (s *Server) apiFlows(w http.ResponseWriter, r *http.Request, a *Analysis) {
	rows, err := s.selectRows(a, r.URL.Query().Get("filter"))
	if err != nil {
		httpError(w, http.StatusBadRequest, filterMessage(err))
		return
	}
	writeRows(w, a.Flows, rows)
}

// filterMessage is tawk's message for a rejected filter, without the
// terminal colours tawk adds for some of them.
func filterMessage(err error) string {
	var fe *tawk.FilterError
	msg := err.Error()
	if errors.As(err, &fe) {
		msg = fe.Message
	}
	return stripANSI(msg)
}

func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] < '@' || s[j] > '~') {
				j++
			}
			i = j
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func flowIndex(r *http.Request, a *Analysis) (uint64, [2]int, bool) {
	n, err := strconv.ParseUint(r.PathValue("n"), 10, 64)
	if err != nil {
		return 0, [2]int{}, false
	}
	rows, ok := a.FlowRows(n)
	return n, rows, ok
}

func (s *Server) apiPackets(w http.ResponseWriter, r *http.Request, a *Analysis) {
	n, _, ok := flowIndex(r, a)
	if !ok {
		httpError(w, http.StatusNotFound, "no such flow")
		return
	}
	q := r.URL.Query()
	from, to := 0, -1
	if v, err := strconv.Atoi(q.Get("from")); err == nil {
		from = v
	}
	if v, err := strconv.Atoi(q.Get("to")); err == nil {
		to = v
	}
	t, total, err := a.FlowPacketRange(n, from, to)
	if err != nil {
		httpError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("X-Total-Packets", strconv.Itoa(total))
	if q.Get("format") == "compact" {
		// Names once and arrays of values, optionally only some columns:
		// what the flow page loads (a fraction of the full rows' size).
		idx := make([]int, 0, len(t.Names))
		if cols := r.URL.Query().Get("cols"); cols != "" {
			for _, n := range strings.Split(cols, ",") {
				if c := t.Col(n); c >= 0 {
					idx = append(idx, c)
				}
			}
		} else {
			for c := range t.Names {
				idx = append(idx, c)
			}
		}
		names := make([]string, len(idx))
		for k, c := range idx {
			names[k] = t.Names[c]
		}
		rows := make([][]string, t.Len())
		for i := range rows {
			f := t.Row(i)
			row := make([]string, len(idx))
			for k, c := range idx {
				if c < len(f) {
					row[k] = f[c]
				}
			}
			rows[i] = row
		}
		writeJSON(w, map[string]any{"names": names, "rows": rows, "total": total, "from": min(max(from, 0), total)})
		return
	}
	all := make([]int, t.Len())
	for i := range all {
		all[i] = i
	}
	writeRows(w, t, all)
}

func (s *Server) apiSeries(w http.ResponseWriter, r *http.Request, a *Analysis) {
	n, _, ok := flowIndex(r, a)
	if !ok {
		httpError(w, http.StatusNotFound, "no such flow")
		return
	}
	b, err := a.Series(n)
	if err != nil {
		httpError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

func (s *Server) apiDecode(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	lines, ok := tawk.Decode(q.Get("name"), q.Get("value"))
	if !ok {
		httpError(w, http.StatusNotFound, "no decoder for "+q.Get("name"))
		return
	}
	if lines == nil {
		lines = []tawk.DecodedBit{}
	}
	writeJSON(w, lines)
}
