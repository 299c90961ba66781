package cli

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestClickHouseOptions: the command-line errors of --clickhouse, and an
// unreachable server stops the run before anything is written (the
// server tests are in internal/clickhouse).
func TestClickHouseOptions(t *testing.T) {
	dir := t.TempDir()
	pcap := writeCapture(t, dir, "t.pcap")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--format", "text,clickhouse"}, "flowsift: --format clickhouse needs --clickhouse URL (e.g. http://127.0.0.1:8123/?database=default)"},
		{[]string{"--format", "parquet", "--clickhouse", "http://127.0.0.1:8123/"}, "flowsift: --clickhouse given, but --format parquet has no clickhouse"},
		{[]string{"--clickhouse", "localhost:8123"}, "flowsift: --clickhouse localhost:8123: want http://HOST:PORT/?database=DB"},
		{[]string{"--clickhouse", "http://h/", "--clickhouse-retry", "0"}, "flowsift: --clickhouse-retry 0: want seconds, more than 0"},
		{[]string{"--clickhouse", "http://h/", "--clickhouse-table", "a.b"}, `flowsift: --clickhouse-table "a.b": want a plain table name prefix`},
		{[]string{"--clickhouse", "http://h/", "--clickhouse-batch", "0"}, "flowsift: --clickhouse-batch 0: want rows per insert, 1 to 1048576"},
	}
	for _, c := range cases {
		code, _, stderr := run(append([]string{"-r", pcap, "-w", filepath.Join(dir, "o")}, c.args...)...)
		if first, _, _ := strings.Cut(stderr, "\n"); code != 2 || first != c.want {
			t.Errorf("%v: exit %d, %q", c.args, code, stderr)
		}
	}

	// A port nobody listens on: retried for the bound, then exit 1 with
	// nothing written.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	out := filepath.Join(dir, "unreach") + "/"
	code, _, stderr := run("-r", pcap, "-w", out, "--clickhouse", "http://u:secret@127.0.0.1:"+strconv.Itoa(port)+"/?database=default", "--clickhouse-retry", "0.5")
	if code != 1 || !strings.Contains(stderr, "cannot read the columns of flows: dial tcp") || strings.Contains(stderr, "secret") {
		t.Errorf("unreachable: exit %d, %q", code, stderr)
	}
	if files, _ := os.ReadDir(out); len(files) != 0 {
		t.Errorf("unreachable server: %d files written", len(files))
	}
}

// TestClickHouseSchemaCommand: the DDL follows the plugins, the switches,
// the table prefix and the cluster.
func TestClickHouseSchemaCommand(t *testing.T) {
	code, out, stderr := run("clickhouse-schema", "-s", "--plugins", "basicFlow,basicStats,tcpFlags,tcpStates,tcpDiag",
		"--set", "tcpFlags.TCPFLGCNT=1", "--clickhouse-table", "site", "--cluster", "c1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"-- flowsift clickhouse-schema -s --plugins basicFlow,basicStats,tcpFlags,tcpStates,tcpDiag --set tcpFlags.TCPFLGCNT=1 --clickhouse-table site --cluster c1\n",
		"CREATE TABLE IF NOT EXISTS `site_flows_local`\n(\n    `sensor` UInt32,\n    `captureFile` String,\n    `dir` Nullable(String) COMMENT 'Flow direction',\n",
		"    `diagFindings` Nullable(UInt16) COMMENT ",
		"    `diagZeroWinTime` Nullable(Float64) COMMENT ",
		"CREATE TABLE IF NOT EXISTS `site_flows` AS `site_flows_local`\nENGINE = Distributed(`c1`, currentDatabase(), `site_flows_local`, bitXor(",
		"CREATE TABLE IF NOT EXISTS `site_packets_local`\n",
		"    `diagPktClass` Nullable(String) COMMENT ",
		"ORDER BY (sensor, time, pktNo);",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("schema lacks %q", want)
		}
	}
	if code, _, stderr := run("clickhouse-schema", "--plugins", "nope"); code != 2 || !strings.Contains(stderr, `unknown plugin "nope"`) {
		t.Errorf("unknown plugin: %d %q", code, stderr)
	}
	if code, _, stderr := run("clickhouse-send", "x.jsonl"); code != 2 || !strings.Contains(stderr, "clickhouse-send needs files and --clickhouse URL") {
		t.Errorf("clickhouse-send without URL: %d %q", code, stderr)
	}
}
