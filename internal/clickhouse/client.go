package clickhouse

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Client talks to one ClickHouse HTTP endpoint. The URL's query
// parameters (database, any setting) are passed unchanged with every
// request; user and password come from the URL or CLICKHOUSE_USER and
// CLICKHOUSE_PASSWORD and are sent as HTTP basic authentication.
type Client struct {
	base           *url.URL // scheme, host, path; no user information
	params         string   // the URL's raw query
	user, password string
	http           *http.Client
	// Retry bounds the time spent retrying a failed insert.
	Retry time.Duration
	// sleep waits between attempts (replaced in tests).
	sleep func(time.Duration)
}

// DefaultRetry is how long an insert is retried before the run stops.
const DefaultRetry = 60 * time.Second

// requestTimeout bounds one request: a server that accepts a connection
// and then hangs must not hang flowsift.
const requestTimeout = 2 * time.Minute

// NewClient parses the URL of a ClickHouse HTTP interface.
func NewClient(raw string) (*Client, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("--clickhouse %s: %v", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("--clickhouse %s: want http://HOST:PORT/?database=DB", raw)
	}
	c := &Client{params: u.RawQuery, Retry: DefaultRetry, sleep: time.Sleep,
		user: os.Getenv("CLICKHOUSE_USER"), password: os.Getenv("CLICKHOUSE_PASSWORD")}
	if u.User != nil {
		c.user = u.User.Username()
		if p, ok := u.User.Password(); ok {
			c.password = p
		}
	}
	b := *u
	b.User, b.RawQuery, b.Fragment = nil, "", ""
	if b.Path == "" {
		b.Path = "/"
	}
	c.base = &b
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     2 * time.Second, // below ClickHouse's keep_alive_timeout (3 s)
		// Responses are small; no transparent gzip (it would hide errors).
		DisableCompression: true,
	}
	c.http = &http.Client{Transport: tr, Timeout: requestTimeout}
	return c, nil
}

// String is the URL without credentials (for messages).
func (c *Client) String() string {
	q, _ := url.ParseQuery(c.params)
	if q.Has("password") {
		q.Set("password", "xxx")
	}
	s := c.base.String()
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

func (c *Client) url(query string) string {
	p := c.params
	if p != "" {
		p += "&"
	}
	return c.base.String() + "?" + p + "query=" + url.QueryEscape(query)
}

// ServerError is an error response of the server.
type ServerError struct {
	Status int
	Msg    string
}

func (e *ServerError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Msg) }

func (c *Client) do(req *http.Request) ([]byte, error) {
	if c.user != "" || c.password != "" {
		req.SetBasicAuth(c.user, c.password)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// The URL in the message would repeat the query: say the host.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: reading the response: %v", c.base.Host, err)
	}
	if resp.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(string(body))
		if i := strings.Index(msg, ", e.what()"); i > 0 {
			msg = msg[:i] // 18.x repeats the exception's class
		}
		if len(msg) > 400 {
			msg = msg[:400] + "..."
		}
		return nil, &ServerError{Status: resp.StatusCode, Msg: msg}
	}
	return body, nil
}

// Query runs a read-only query (GET, so that read-only users may run it)
// and returns the response body.
func (c *Client) Query(ctx context.Context, query string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url(query), nil)
	if err != nil {
		return nil, err
	}
	return c.do(req)
}

// Exec runs a statement that changes something (POST).
func (c *Client) Exec(ctx context.Context, query string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url(query), nil)
	if err != nil {
		return err
	}
	_, err = c.do(req)
	return err
}

// insert sends one body in ClickHouse's compressed format (compress.go),
// once.
func (c *Client) insert(ctx context.Context, query string, body []byte) error {
	return c.insertFrom(ctx, query, bytes.NewReader(body))
}

// insertFrom sends a body read from r, once: a body of unknown length goes
// as it comes (chunked), and the server parses it as it arrives.
func (c *Client) insertFrom(ctx context.Context, query string, r io.Reader) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url(query)+"&decompress=1", r)
	if err != nil {
		return err
	}
	if _, whole := r.(*bytes.Reader); !whole {
		req.ContentLength = -1 // unknown: chunked, without probing the body first
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	_, err = c.do(req)
	return err
}

// InsertRetry sends a batch, retrying with backoff (0.2 s doubling up to
// 5 s) until it is accepted or c.Retry has passed since the first
// failure. It returns the number of attempts and the last error.
func (c *Client) InsertRetry(ctx context.Context, query string, body []byte) (attempts int, err error) {
	return c.retry(ctx, false, func() error { return c.insert(ctx, query, body) })
}

// retry runs fn until it succeeds or c.Retry has passed since the first
// failure, with backoff; unreachableOnly retries only when the server
// could not be reached (an answer, such as an error of the query, stays).
func (c *Client) retry(ctx context.Context, unreachableOnly bool, fn func() error) (attempts int, err error) {
	var deadline time.Time
	wait := 200 * time.Millisecond
	for {
		attempts++
		err = fn()
		var se *ServerError
		if err == nil || ctx.Err() != nil || unreachableOnly && errors.As(err, &se) {
			return attempts, err
		}
		now := time.Now()
		if deadline.IsZero() {
			deadline = now.Add(c.Retry)
		}
		if !now.Add(wait).Before(deadline) {
			return attempts, err
		}
		c.sleep(wait)
		wait = min(2*wait, 5*time.Second)
	}
}

// ErrNoTable reports a table that does not exist.
var ErrNoTable = errors.New("table does not exist")

// Columns lists a table's columns (name and type, in order) from
// system.columns of the URL's database.
func (c *Client) Columns(ctx context.Context, table string) ([]Col, error) {
	m, err := c.tableColumns(ctx, []string{table})
	if err != nil {
		return nil, err
	}
	if len(m[table]) == 0 {
		return nil, ErrNoTable
	}
	return m[table], nil
}

// tableColumns lists the columns of tables in one query (a round trip
// costs more than the query).
func (c *Client) tableColumns(ctx context.Context, tables []string) (map[string][]Col, error) {
	body, err := c.Query(ctx, "SELECT table, name, type FROM system.columns WHERE database = currentDatabase() AND table IN "+
		sqlList(tables)+" FORMAT TSV")
	if err != nil {
		return nil, err
	}
	m := map[string][]Col{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 3 {
			return nil, fmt.Errorf("system.columns: unexpected line %q", sc.Text())
		}
		t := unescapeTSV(f[0])
		m[t] = append(m[t], Col{unescapeTSV(f[1]), unescapeTSV(f[2])})
	}
	return m, nil
}

// sqlList is names as an SQL list of string literals: ('a', 'b').
func sqlList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quoteString(n)
	}
	return "(" + strings.Join(q, ", ") + ")"
}

// tableEngines gives the engine of each of tables that exists.
func (c *Client) tableEngines(ctx context.Context, tables []string) (map[string]string, error) {
	body, err := c.Query(ctx, "SELECT name, engine FROM system.tables WHERE database = currentDatabase() AND name IN "+
		sqlList(tables)+" FORMAT TSV")
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(body)), "\n") {
		if f := strings.Split(line, "\t"); len(f) == 2 {
			m[unescapeTSV(f[0])] = unescapeTSV(f[1])
		}
	}
	return m, nil
}

// unescapeTSV undoes the TSV escapes of ClickHouse.
func unescapeTSV(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case '0':
			b.WriteByte(0)
		case 'r':
			b.WriteByte('\r')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// CheckTables compares tables on the server with the layouts ts: it
// returns an error naming what differs, or which table is missing, with
// the schema command to run (schemaCmd). Tables are never altered.
func (c *Client) CheckTables(ctx context.Context, ts []*Table, schemaCmd string) error {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Name
	}
	var m map[string][]Col
	var engines map[string]string
	_, err := c.retry(ctx, true, func() (err error) {
		if m, err = c.tableColumns(ctx, names); err != nil {
			return err
		}
		engines, err = c.tableEngines(ctx, names)
		return err
	})
	if err != nil {
		return fmt.Errorf("ClickHouse %s: cannot read the columns of %s: %v", c.String(), strings.Join(names, ", "), err)
	}
	for _, t := range ts {
		have := m[t.Name]
		if len(have) == 0 {
			return fmt.Errorf("ClickHouse %s: table %s does not exist; create it with:\n    %s | clickhouse-client --multiquery",
				c.String(), t.Name, schemaCmd)
		}
		t.distributed = engines[t.Name] == "Distributed"
		missing, extra, retyped := t.Diff(have)
		if len(missing)+len(extra)+len(retyped) == 0 {
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "ClickHouse %s: table %s does not have the columns this run writes (other plugins or switches?); nothing sent", c.String(), t.Name)
		if len(missing) > 0 {
			fmt.Fprintf(&b, "\n  missing in the table: %s", strings.Join(missing, ", "))
		}
		if len(extra) > 0 {
			fmt.Fprintf(&b, "\n  in the table, not written by this run: %s", strings.Join(extra, ", "))
		}
		for _, r := range retyped {
			fmt.Fprintf(&b, "\n  other type: %s", r)
		}
		fmt.Fprintf(&b, "\nflowsift never alters a table: write to another one (--clickhouse-table PREFIX), created with\n    %s", schemaCmd)
		return errors.New(b.String())
	}
	return nil
}
