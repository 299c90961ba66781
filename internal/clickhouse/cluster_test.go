package clickhouse_test

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"flowsift/internal/corpus"
)

const testCluster = "flowsift_test"

// startCluster starts two servers that form cluster flowsift_test, one
// shard each.
func startCluster(t *testing.T) [2]*server {
	t.Helper()
	p := freePorts(t, 4)
	remote := fmt.Sprintf(`<%s>
    <shard><replica><host>127.0.0.1</host><port>%d</port></replica></shard>
    <shard><replica><host>127.0.0.1</host><port>%d</port></replica></shard>
  </%s>`, testCluster, p[1], p[3], testCluster)
	a := newServer(t, p[0], p[1], remote)
	b := newServer(t, p[2], p[3], remote)
	a.start()
	b.start()
	// a first: b waits at shutdown for the connections a's Distributed
	// tables hold to it.
	t.Cleanup(func() { a.stop(); b.stop() })
	return [2]*server{a, b}
}

// textTotals sums the text flow files of caps in dir: rows, pktsSnt,
// l7BytesSnt, and the rows of each flow ("capture/flowInd").
type totals struct {
	rows, pkts, l7 uint64
	perFlow        map[string]int
}

func textTotals(t *testing.T, dir string, caps []corpus.Capture, captureName func(corpus.Capture) string) totals {
	t.Helper()
	tt := totals{perFlow: map[string]int{}}
	for _, c := range caps {
		tf := readText(t, filepath.Join(dir, c.Name+"_flows.txt"))
		col := map[string]int{}
		for i, n := range tf.names {
			col[n] = i
		}
		for _, r := range tf.rows {
			p, err1 := strconv.ParseUint(r[col["pktsSnt"]], 10, 64)
			l, err2 := strconv.ParseUint(r[col["l7BytesSnt"]], 10, 64)
			if err1 != nil || err2 != nil {
				t.Fatalf("%s: pktsSnt %q l7BytesSnt %q", c.Name, r[col["pktsSnt"]], r[col["l7BytesSnt"]])
			}
			tt.rows++
			tt.pkts += p
			tt.l7 += l
			tt.perFlow[captureName(c)+"/"+r[col["flowInd"]]]++
		}
	}
	return tt
}

func (s *server) totals(table string) string {
	return strings.TrimSpace(s.query("SELECT count(), sum(pktsSnt), sum(l7BytesSnt) FROM " + table + " FORMAT TSV"))
}

// TestCluster (issue 17, 1b and 2): two servers, tables from
// clickhouse-schema --cluster. The generated corpus sent through the
// Distributed table spreads over both shards, totals equal the text
// files, both directions of each flow (and its packets) on one shard.
// Then 4 flowsift processes send different captures to another
// Distributed table at once: totals exact, per capture too.
func TestCluster(t *testing.T) {
	caps := generatedCaptures(t)
	sv := startCluster(t)
	for _, prefix := range []string{"", "conc"} {
		args := []string{"clickhouse-schema", "-s", "--cluster", testCluster}
		if prefix != "" {
			args = append(args, "--clickhouse-table", prefix)
		}
		code, schema, stderr := runCLI(args...)
		if code != 0 {
			t.Fatalf("clickhouse-schema: %s", stderr)
		}
		sv[0].execScript(schema)
		sv[1].execScript(schema)
	}
	// Settings pass through the URL: the Distributed table inserts into
	// the shards before it answers.
	url := sv[0].URL + "&insert_distributed_sync=1"

	t.Run("shards", func(t *testing.T) {
		out := t.TempDir()
		sendAll(t, caps, out, url)
		want := textTotals(t, out, caps, func(c corpus.Capture) string { return filepath.Base(c.Path) })
		wantTotals := fmt.Sprintf("%d\t%d\t%d", want.rows, want.pkts, want.l7)
		for i, s := range sv {
			// Either server's Distributed table sees all rows.
			if got := s.totals("flows"); got != wantTotals {
				t.Errorf("server %d flows: rows, pktsSnt, l7BytesSnt %s, text files %s", i+1, got, wantTotals)
			}
		}
		shardFlows := [2]map[string]int{}
		for i, s := range sv {
			shardFlows[i] = map[string]int{}
			for _, line := range strings.Split(strings.TrimSpace(s.query("SELECT captureFile, flowInd, count() FROM flows_local GROUP BY captureFile, flowInd FORMAT TSV")), "\n") {
				f := strings.Split(line, "\t")
				if len(f) != 3 {
					continue
				}
				n, _ := strconv.Atoi(f[2])
				shardFlows[i][f[0]+"/"+f[1]] = n
			}
			if len(shardFlows[i]) == 0 {
				t.Errorf("shard %d holds no flow", i+1)
			}
		}
		t.Logf("flows per shard: %d and %d of %d (%s)", len(shardFlows[0]), len(shardFlows[1]), len(want.perFlow), wantTotals)
		for k, n := range want.perFlow {
			a, b := shardFlows[0][k], shardFlows[1][k]
			if (a == n && b == 0) || (b == n && a == 0) {
				continue
			}
			t.Errorf("flow %s: %d rows on shard 1, %d on shard 2, %d in the text file", k, a, b, n)
		}
		// Every packet on its flow's shard, but non-first fragments: their
		// rows have no ports, so their endpoints hash elsewhere.
		portless := 0
		for i, s := range sv {
			for _, line := range strings.Split(strings.TrimSpace(s.query("SELECT DISTINCT captureFile, flowInd, ifNull(srcPort, 0) = 0 AND ifNull(dstPort, 0) = 0 FROM packets_local FORMAT TSV")), "\n") {
				f := strings.Split(line, "\t")
				if len(f) != 3 || f[1] == "0" || shardFlows[i][f[0]+"/"+f[1]] != 0 {
					continue
				}
				if f[2] == "1" {
					portless++
					continue
				}
				t.Errorf("packets of flow %s/%s on shard %d, the flow is not", f[0], f[1], i+1)
			}
		}
		t.Logf("%d flows have port-less packets (fragments) on the other shard", portless)
	})

	t.Run("four writers", func(t *testing.T) {
		// The four captures with the most packets, one per process.
		picked := []corpus.Capture{}
		for _, name := range []string{"14_mptcp_two_subflows", "02_loss_bulk_sender_side", "02_loss_bulk_receiver_side", "09_ipv6_loss_bulk_sender_side"} {
			for _, c := range caps {
				if c.Name == name {
					picked = append(picked, c)
				}
			}
		}
		if len(picked) != 4 {
			t.Fatalf("captures missing: %d of 4", len(picked))
		}
		out := t.TempDir()
		var wg sync.WaitGroup
		errs := make([]string, 4)
		for i, c := range picked {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := exec.Command(flowsiftBin(t), "-r", c.Path, "-w", out+"/", "-s", "-x", strconv.Itoa(i+1),
					"--format", "text,clickhouse", "--clickhouse", url, "--clickhouse-table", "conc", "--clickhouse-batch", "64")
				if b, err := cmd.CombinedOutput(); err != nil {
					errs[i] = fmt.Sprintf("%s: %v\n%s", c.Name, err, b)
				}
			}()
		}
		wg.Wait()
		for _, e := range errs {
			if e != "" {
				t.Fatal(e)
			}
		}
		want := textTotals(t, out, picked, func(c corpus.Capture) string { return filepath.Base(c.Path) })
		wantTotals := fmt.Sprintf("%d\t%d\t%d", want.rows, want.pkts, want.l7)
		if got := sv[1].totals("conc_flows"); got != wantTotals {
			t.Errorf("conc_flows: %s, text files %s", got, wantTotals)
		}
		for i, c := range picked {
			one := textTotals(t, out, []corpus.Capture{c}, func(c corpus.Capture) string { return "" })
			got := strings.TrimSpace(sv[0].query(fmt.Sprintf("SELECT count(), sum(pktsSnt), sum(l7BytesSnt) FROM conc_flows WHERE sensor = %d AND captureFile = '%s' FORMAT TSV", i+1, filepath.Base(c.Path))))
			if w := fmt.Sprintf("%d\t%d\t%d", one.rows, one.pkts, one.l7); got != w {
				t.Errorf("%s: %s, text file %s", c.Name, got, w)
			}
			pk := readText(t, filepath.Join(out, c.Name+"_packets.txt"))
			if n := sv[1].count(fmt.Sprintf("SELECT count() FROM conc_packets WHERE sensor = %d", i+1)); n != int64(len(pk.rows)) {
				t.Errorf("%s: %d packet rows, text file %d", c.Name, n, len(pk.rows))
			}
		}
		t.Logf("4 writers: %s (rows, pktsSnt, l7BytesSnt)", wantTotals)
	})
}
