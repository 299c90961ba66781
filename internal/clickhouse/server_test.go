package clickhouse_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The servers these tests start: Debian's clickhouse-server (18.16), run
// from its binary with a config written here (127.0.0.1 only, own ports,
// own data folder), stopped by PID.

// serverBinary finds clickhouse-server, or skips the test (fails it on
// CI, where .ci/run installs it).
func serverBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("FLOWSIFT_CLICKHOUSE_SERVER"); p != "" {
		// Another build of the server (or a missing one, to see the skip).
		if _, err := os.Stat(p); err != nil {
			unavailable(t, "FLOWSIFT_CLICKHOUSE_SERVER="+p+": "+err.Error())
		}
		return p
	}
	for _, p := range []string{"clickhouse-server", "/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	unavailable(t, "clickhouse-server not found: install it (as root: apt-get install clickhouse-server; .ci/run does) to run the ClickHouse tests")
	return ""
}

// unavailable skips, or fails on CI where ClickHouse must be there.
func unavailable(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

type server struct {
	t          *testing.T
	bin, dir   string
	http, tcp  int
	cluster    string // remote_servers section
	cmd        *exec.Cmd
	exited     chan struct{}
	URL        string
	stopOnce   sync.Once
	stopErrLog string
}

// freePorts returns n ports free on 127.0.0.1 now.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// startServer starts a single server (no cluster) on free ports.
func startServer(t *testing.T) *server {
	t.Helper()
	ports := freePorts(t, 2)
	s := newServer(t, ports[0], ports[1], "")
	s.start()
	return s
}

// newServer prepares a server in its own folder; remote is the
// remote_servers XML ("" for none).
func newServer(t *testing.T, httpPort, tcpPort int, remote string) *server {
	t.Helper()
	s := &server{t: t, bin: serverBinary(t), dir: t.TempDir(), http: httpPort, tcp: tcpPort, cluster: remote}
	s.URL = fmt.Sprintf("http://127.0.0.1:%d/?database=default", httpPort)
	config := fmt.Sprintf(`<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>%[1]s/server.log</log><errorlog>%[1]s/error.log</errorlog></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>%[2]d</http_port>
  <tcp_port>%[3]d</tcp_port>
  <path>%[1]s/data/</path>
  <tmp_path>%[1]s/tmp/</tmp_path>
  <user_files_path>%[1]s/user_files/</user_files_path>
  <format_schema_path>%[1]s/format_schemas/</format_schema_path>
  <users_config>%[1]s/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>268435456</mark_cache_size>
  <max_concurrent_queries>50</max_concurrent_queries>
  <remote_servers>%[4]s</remote_servers>
</yandex>
`, s.dir, httpPort, tcpPort, remote)
	users := `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
`
	if err := os.WriteFile(filepath.Join(s.dir, "config.xml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, "users.xml"), []byte(users), 0o644); err != nil {
		t.Fatal(err)
	}
	return s
}

// start starts the server and waits until it answers.
func (s *server) start() {
	t := s.t
	t.Helper()
	out, err := os.OpenFile(filepath.Join(s.dir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(s.bin, "--config-file="+filepath.Join(s.dir, "config.xml"))
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group: a test killed by a signal must not leave the
	// terminal's signals to it, and it is stopped by PID below.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		out.Close()
		unavailable(t, "cannot start clickhouse-server: "+err.Error())
	}
	s.cmd = cmd
	s.exited = make(chan struct{})
	go func() { cmd.Wait(); out.Close(); close(s.exited) }()
	s.stopOnce = sync.Once{}
	t.Cleanup(s.stop)
	began := time.Now()
	deadline := began.Add(60 * time.Second)
	for {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/ping", s.http))
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.TrimSpace(string(body)) == "Ok." {
				t.Logf("clickhouse-server on 127.0.0.1:%d up in %.1f s", s.http, time.Since(began).Seconds())
				return
			}
		}
		select {
		case <-s.exited:
			unavailable(t, "clickhouse-server exited at start: "+s.logTail())
		default:
		}
		if time.Now().After(deadline) {
			s.stop()
			unavailable(t, "clickhouse-server did not answer within 60 s: "+s.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *server) logTail() string {
	var b []byte
	for _, f := range []string{"stdout.log", "error.log"} {
		d, _ := os.ReadFile(filepath.Join(s.dir, f))
		if len(d) > 2000 {
			d = d[len(d)-2000:]
		}
		b = append(b, d...)
	}
	return string(b)
}

// stop sends SIGTERM to the server's PID and waits for it to exit
// (SIGKILL after 30 s).
func (s *server) stop() {
	s.stopOnce.Do(func() {
		if s.cmd == nil || s.cmd.Process == nil {
			return
		}
		began := time.Now()
		// The server waits for open connections at shutdown: close ours.
		http.DefaultClient.CloseIdleConnections()
		syscall.Kill(s.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(30 * time.Second):
			syscall.Kill(s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.exited
		}
		s.t.Logf("clickhouse-server on 127.0.0.1:%d stopped in %.1f s", s.http, time.Since(began).Seconds())
	})
}

// query runs a statement and returns the response body.
func (s *server) query(sql string) string {
	s.t.Helper()
	body, err := s.try(sql)
	if err != nil {
		s.t.Fatalf("%s: %v", sql, err)
	}
	return body
}

func (s *server) try(sql string) (string, error) {
	body, err := s.post(sql, "", nil)
	return string(body), err
}

// post sends sql with the further URL settings params (each "&name=value")
// and body; it returns the answer, or the server's error.
func (s *server) post(sql, params string, body []byte) ([]byte, error) {
	u := fmt.Sprintf("http://127.0.0.1:%d/?database=default%s&query=%s", s.http, params, url.QueryEscape(sql))
	resp, err := http.Post(u, "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return nil, errors.New(strings.TrimSpace(string(answer)))
	}
	return answer, nil
}

// execScript runs the statements of a clickhouse-schema output (the HTTP
// interface takes one statement per request).
func (s *server) execScript(script string) {
	s.t.Helper()
	for _, st := range strings.Split(script, ";\n") {
		var lines []string
		for _, l := range strings.Split(st, "\n") {
			if !strings.HasPrefix(l, "--") {
				lines = append(lines, l)
			}
		}
		if st := strings.TrimSpace(strings.Join(lines, "\n")); st != "" {
			s.query(st)
		}
	}
}

func (s *server) count(sql string) int64 {
	s.t.Helper()
	n, err := strconv.ParseInt(strings.TrimSpace(s.query(sql)), 10, 64)
	if err != nil {
		s.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// flowsiftBin builds flowsift once per test binary.
var flowsiftBuild struct {
	once sync.Once
	path string
	err  error
}

func flowsiftBin(t *testing.T) string {
	t.Helper()
	fb := &flowsiftBuild
	fb.once.Do(func() {
		dir, err := os.MkdirTemp("", "flowsift-chtest-")
		if err != nil {
			fb.err = err
			return
		}
		fb.path = filepath.Join(dir, "flowsift")
		cmd := exec.Command("go", "build", "-o", fb.path, "flowsift/cmd/flowsift")
		if out, err := cmd.CombinedOutput(); err != nil {
			fb.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if fb.err != nil {
		t.Fatal(fb.err)
	}
	return fb.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if flowsiftBuild.path != "" {
		os.RemoveAll(filepath.Dir(flowsiftBuild.path))
	}
	os.Exit(code)
}

// runFlowsift runs the flowsift binary and returns its exit status, stdout
// and stderr.
func runFlowsift(t *testing.T, stdin io.Reader, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(flowsiftBin(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}
