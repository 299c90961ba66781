// Command bench measures flowsift on the benchmark capture of issue 6:
//
//	go run ./tools/bench [-k 40] [-runs 5] [-dir /tmp/flowsift-bench] [-scale 200]
//	go run ./tools/bench -targets [-scale 200] [-ref-flows CMD] [-ref-packets CMD]
//
// It builds the capture with ../shared/tools/mkbench if it is missing,
// builds flowsift, runs flow mode (-r CAP -w DIR/) and packet mode (-s)
// -runs times each, and prints every run and the medians: wall time,
// CPU time (user+sys), packets/s and MB/s (capture bytes per wall second),
// and the peak RSS of the child process (wait4 rusage). With -scale K it
// also times flow mode on a K-copy capture and prints the time ratio
// against the -k capture (linear scaling: K/k expected). With -flows N it
// writes a capture of N flows (N/2 TCP handshakes: SYN and SYN/ACK, all
// within 60 s, so every flow stays in memory), runs flow mode on it with
// the hash factor that holds them all, and reports the peak RSS per flow
// pair against a run on an empty capture.
package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"flowsift/internal/corpus"
)

type result struct {
	wall, cpu time.Duration
	rssKB     int64
}

// buildInstalled builds flowsift and installs it at bin as a copy written
// in small pieces, the way a package or cp installs a binary. Why not run
// the linker's output: a file written in one piece (the linker writes
// through a mapping) sits in the page cache in large folios, which the
// kernel maps whole, so 1.5-4.7 MB more of the binary counts as resident
// (/proc/PID/smaps: FilePmdMapped 2048 kB in the text and the read-only
// data) until the page cache is recycled. Peak RSS would then measure the
// page cache's state, not flowsift (docs/performance.md, seventh session).
func buildInstalled(bin string) error {
	linked := bin + ".link"
	if err := goBuild(linked); err != nil {
		return err
	}
	defer os.Remove(linked)
	in, err := os.Open(linked)
	if err != nil {
		return err
	}
	defer in.Close()
	os.Remove(bin) // a running copy keeps its own inode
	out, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	// Plain 64 KiB writes: with the bare files io.Copy would hand the copy
	// to the kernel (copy_file_range), which picks its own folio sizes.
	if _, err := io.CopyBuffer(struct{ io.Writer }{out}, struct{ io.Reader }{in}, make([]byte, 64<<10)); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// goBuild builds ./cmd/flowsift into out, with extra go build flags.
func goBuild(out string, flags ...string) error {
	build := exec.Command("go", append(append([]string{"build"}, flags...), "-o", out, "./cmd/flowsift")...)
	build.Dir = moduleRoot()
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("%s: %v", build, err)
	}
	return nil
}

func main() {
	k := flag.Int("k", 40, "copies of the generated corpus in the capture (mkbench -k)")
	runs := flag.Int("runs", 5, "runs per mode")
	dir := flag.String("dir", filepath.Join(os.TempDir(), "flowsift-bench"), "folder for the captures, the binary and the outputs")
	scale := flag.Int("scale", 0, "also time flow mode on a capture with this many copies (e.g. 200)")
	modes := flag.String("modes", "flows,packets,diag", "modes to run: flows, packets, diag (flow mode with tcpDiag, run in pairs with flow mode), explain (flowsift explain, alternated with flow mode without and with tcpDiag; not in the default set)")
	nflows := flag.Int("flows", 0, "only measure memory per flow on a capture of this many flows (e.g. 2000000)")
	targets := flag.Bool("targets", false, "issue 15: alternate cat, flow mode (default and GOMAXPROCS=1), flow mode with tcpDiag, packet mode (and -scale, -ref-*) run by run, and check the targets")
	warmup := flag.Bool("warmup", true, "with -targets: run each command once, unmeasured, right before each measured run (equal memory conditions for every command)")
	refFlows := flag.String("ref-flows", "", "with -targets: a reference command for flow mode run alternately, {cap} and {out} replaced (e.g. a Tranalyzer command line)")
	refPackets := flag.String("ref-packets", "", "with -targets: the same for packet mode")
	pgo := flag.String("pgo", "", "collect CPU profiles of the modes in pgoModes (flow and packet mode, text and Parquet, and tcpDiag) on the capture (-runs rounds) and merge them into this file: cmd/flowsift/default.pgo, read by go build (profile-guided optimisation)")
	formats := flag.String("formats", "", `compare --format sets, ';'-separated (e.g. "text;parquet;text,parquet"): runs interleaved, medians, ratios to the first set, file sizes`)
	flag.Parse()

	if err := os.MkdirAll(*dir, 0o755); err != nil {
		fatal(err)
	}
	if *pgo != "" {
		collectPGO(*dir, capture(*dir, *k), *runs, *pgo)
		return
	}
	bin := filepath.Join(*dir, "flowsift")
	if err := buildInstalled(bin); err != nil {
		fatal(err)
	}
	if *nflows > 0 {
		memoryPerFlow(bin, *dir, *nflows)
		return
	}
	capPath := capture(*dir, *k)
	st, err := os.Stat(capPath)
	if err != nil {
		fatal(err)
	}
	fmt.Printf("capture %s: %d bytes (%.1f MB), %d copies\n", capPath, st.Size(), float64(st.Size())/1e6, *k)
	fmt.Printf("machine: %d CPUs, load average %s\n", runtime.NumCPU(), loadAvg())

	if *targets {
		runTargets(bin, capPath, *dir, *runs, *scale, *refFlows, *refPackets, *warmup)
		return
	}
	if *formats != "" {
		for _, mode := range []string{"flows", "packets"} {
			if bytes.Contains([]byte(*modes), []byte(mode)) {
				compareFormats(bin, capPath, *dir, mode, *runs, strings.Split(*formats, ";"))
			}
		}
		return
	}
	if bytes.Contains([]byte(*modes), []byte("explain")) {
		alternateExplain(bin, capPath, *dir, *runs)
	}
	if bytes.Contains([]byte(*modes), []byte("diag")) {
		pairDiag(bin, capPath, *dir, *runs)
	}
	var flowMedian time.Duration
	for _, mode := range []string{"flows", "packets"} {
		if !bytes.Contains([]byte(*modes), []byte(mode)) {
			continue
		}
		med, _ := runMode(bin, capPath, *dir, mode, *runs, st.Size())
		if mode == "flows" {
			flowMedian = med
		}
	}
	if *scale > 0 {
		big := capture(*dir, *scale)
		bst, err := os.Stat(big)
		if err != nil {
			fatal(err)
		}
		fmt.Printf("scaling capture %s: %d bytes, %d copies\n", big, bst.Size(), *scale)
		med, _ := runMode(bin, big, *dir, "flows", *runs, bst.Size())
		if flowMedian > 0 {
			fmt.Printf("scaling: %d copies take %.2f× the time of %d copies (data %.2f×)\n",
				*scale, med.Seconds()/flowMedian.Seconds(), *k, float64(*scale)/float64(*k))
		}
	}
}

var packetsRE = regexp.MustCompile(`Number of processed packets: (\d+)`)

// modeArgs are the command-line arguments of a mode.
func modeArgs(capPath, out, mode string) []string {
	args := []string{"-r", capPath, "-w", out}
	switch mode {
	case "packets":
		args = append(args, "-s")
	case "diag":
		args = append(args, "--plugins", "basicFlow,basicStats,tcpFlags,tcpStates,tcpDiag")
	case "explain":
		args = []string{"explain", "-r", capPath} // in memory: no file
	}
	return args
}

// runOnce runs the binary once and returns its times and peak RSS, and the
// packet count of its report.
func runOnce(bin string, args []string, out string) (result, int64) {
	os.RemoveAll(out)
	cmd := exec.Command(bin, args...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		fatal(fmt.Errorf("%s %v: %v", bin, args, err))
	}
	wall := time.Since(start)
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	var packets int64
	if m := packetsRE.FindSubmatch(stdout.Bytes()); m != nil {
		packets, _ = strconv.ParseInt(string(m[1]), 10, 64)
	}
	return result{wall: wall, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), rssKB: ru.Maxrss}, packets
}

// pairDiag alternates flow mode without and with tcpDiag, so that both see
// the same machine load, and prints the medians and the median ratio.
func pairDiag(bin, capPath, dir string, runs int) {
	var plain, diag []result
	var ratios []float64
	for i := 0; i < runs; i++ {
		outA, outB := filepath.Join(dir, "out-flows")+"/", filepath.Join(dir, "out-diag")+"/"
		a, _ := runOnce(bin, modeArgs(capPath, outA, "flows"), outA)
		b, _ := runOnce(bin, modeArgs(capPath, outB, "diag"), outB)
		plain, diag = append(plain, a), append(diag, b)
		ratios = append(ratios, b.wall.Seconds()/a.wall.Seconds())
		fmt.Printf("  pair %d: flows %.3f s, flows+tcpDiag %.3f s (cpu %.3f / %.3f s, RSS %.1f / %.1f MB), ratio %.3f\n", i+1,
			a.wall.Seconds(), b.wall.Seconds(), a.cpu.Seconds(), b.cpu.Seconds(), float64(a.rssKB)/1024, float64(b.rssKB)/1024, ratios[i])
	}
	wall := func(r result) float64 { return r.wall.Seconds() }
	cpu := func(r result) float64 { return r.cpu.Seconds() }
	sort.Float64s(ratios)
	fmt.Printf("tcpDiag cost, median of %d pairs: wall %.3f s vs %.3f s, cpu %.3f s vs %.3f s, median pair ratio %.3f\n",
		runs, median(diag, wall), median(plain, wall), median(diag, cpu), median(plain, cpu), ratios[len(ratios)/2])
}

// alternateExplain runs flow mode, flow mode with tcpDiag and flowsift
// explain one after the other, runs times (all three see the same load),
// and prints each run, the medians and the median of the per-run ratios
// to flow mode (wall and CPU): issue 10 asks explain for at most 1.5×.
func alternateExplain(bin, capPath, dir string, runs int) {
	modes := []string{"flows", "diag", "explain"}
	res := make([][]result, len(modes))
	ratios := make([][2][]float64, len(modes))
	load0 := loadAvg()
	for i := 0; i < runs; i++ {
		fmt.Printf("  run %d:", i+1)
		for j, mode := range modes {
			out := filepath.Join(dir, "out-"+mode) + "/"
			r, _ := runOnce(bin, modeArgs(capPath, out, mode), out)
			res[j] = append(res[j], r)
			base := res[0][i]
			ratios[j][0] = append(ratios[j][0], r.wall.Seconds()/base.wall.Seconds())
			ratios[j][1] = append(ratios[j][1], r.cpu.Seconds()/base.cpu.Seconds())
			fmt.Printf(" %s %.3f s (cpu %.3f s, RSS %.1f MB)", mode, r.wall.Seconds(), r.cpu.Seconds(), float64(r.rssKB)/1024)
		}
		fmt.Println()
	}
	mid := func(v []float64) float64 {
		v = append([]float64(nil), v...)
		sort.Float64s(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	fmt.Printf("explain cost, %d alternating runs, load average %s before, %s after:\n", runs, load0, loadAvg())
	for j, mode := range modes {
		fmt.Printf("  %-8s wall median %.3f s, cpu median %.3f s, peak RSS median %.1f MB; to flows: wall ratio %.2f, cpu ratio %.2f (medians of the per-run ratios)\n",
			mode, median(res[j], func(r result) float64 { return r.wall.Seconds() }), median(res[j], func(r result) float64 { return r.cpu.Seconds() }),
			median(res[j], func(r result) float64 { return float64(r.rssKB) })/1024, mid(ratios[j][0]), mid(ratios[j][1]))
	}
}

// runMode runs one mode runs times and prints each run and the medians.
func runMode(bin, capPath, dir, mode string, runs int, size int64) (time.Duration, int64) {
	out := filepath.Join(dir, "out-"+mode) + "/"
	args := modeArgs(capPath, out, mode)
	var res []result
	var packets int64
	for i := 0; i < runs; i++ {
		r, n := runOnce(bin, args, out)
		res = append(res, r)
		if n > 0 {
			packets = n
		}
		fmt.Printf("  %-7s run %d: wall %.3f s, cpu %.3f s, peak RSS %.1f MB\n",
			mode, i+1, r.wall.Seconds(), r.cpu.Seconds(), float64(r.rssKB)/1024)
	}
	wall := median(res, func(r result) float64 { return r.wall.Seconds() })
	cpu := median(res, func(r result) float64 { return r.cpu.Seconds() })
	rss := median(res, func(r result) float64 { return float64(r.rssKB) })
	maxRSS := int64(0)
	for _, r := range res {
		if r.rssKB > maxRSS {
			maxRSS = r.rssKB
		}
	}
	var outBytes int64
	if fi, err := os.Stat(out); err == nil && fi.IsDir() {
		ents, _ := os.ReadDir(out)
		for _, e := range ents {
			if info, err := e.Info(); err == nil {
				outBytes += info.Size()
			}
		}
	}
	minWall := res[0].wall
	for _, r := range res {
		minWall = min(minWall, r.wall)
	}
	fmt.Printf("%s mode: median of %d: wall %.3f s (best %.3f s), cpu %.3f s, %.0f packets/s, %.1f MB/s, peak RSS median %.1f MB (max %.1f MB), output %.1f MB\n",
		mode, runs, wall, minWall.Seconds(), cpu, float64(packets)/wall, float64(size)/1e6/wall, rss/1024, float64(maxRSS)/1024, float64(outBytes)/1e6)
	return time.Duration(wall * float64(time.Second)), packets
}

// compareFormats runs one mode with each --format set, the sets
// interleaved run by run (a shared machine's load then weighs on each
// alike), and prints per set the median wall and CPU time, peak RSS, its
// ratio to the first set (median of the per-run ratios, and ratio of the
// medians) and the size of every output file.
func compareFormats(bin, capPath, dir, mode string, runs int, sets []string) {
	res := make([][]result, len(sets))
	sizes := make([]map[string]int64, len(sets))
	for i := 0; i < runs; i++ {
		for j, set := range sets {
			out := filepath.Join(dir, fmt.Sprintf("out-%s-%d", mode, j)) + "/"
			os.RemoveAll(out)
			args := []string{"-r", capPath, "-w", out, "--format", set}
			if mode == "packets" {
				args = append(args, "-s")
			}
			cmd := exec.Command(bin, args...)
			cmd.Stdout = io.Discard
			cmd.Stderr = os.Stderr
			start := time.Now()
			if err := cmd.Run(); err != nil {
				fatal(fmt.Errorf("%s %v: %v", bin, args, err))
			}
			r := result{wall: time.Since(start), cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(),
				rssKB: cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss}
			res[j] = append(res[j], r)
			fmt.Printf("  %-7s %-22s run %d: wall %.3f s, cpu %.3f s, peak RSS %.1f MB\n", mode, set, i+1, r.wall.Seconds(), r.cpu.Seconds(), float64(r.rssKB)/1024)
			sizes[j] = map[string]int64{}
			ents, _ := os.ReadDir(out)
			for _, e := range ents {
				if info, err := e.Info(); err == nil && !strings.HasSuffix(e.Name(), "_headers.txt") {
					sizes[j][e.Name()] = info.Size()
				}
			}
		}
	}
	wall0 := median(res[0], func(r result) float64 { return r.wall.Seconds() })
	for j, set := range sets {
		wall := median(res[j], func(r result) float64 { return r.wall.Seconds() })
		cpu := median(res[j], func(r result) float64 { return r.cpu.Seconds() })
		rss := median(res[j], func(r result) float64 { return float64(r.rssKB) })
		ratios := make([]result, runs)
		for i := range ratios {
			ratios[i].wall = time.Duration(float64(time.Second) * res[j][i].wall.Seconds() / res[0][i].wall.Seconds())
		}
		ratio := median(ratios, func(r result) float64 { return r.wall.Seconds() })
		var files []string
		for name, n := range sizes[j] {
			files = append(files, fmt.Sprintf("%s %.1f MB", name, float64(n)/1e6))
		}
		sort.Strings(files)
		fmt.Printf("%s mode --format %s: median of %d: wall %.3f s, cpu %.3f s, peak RSS %.1f MB; wall vs %s: %.2f× (median of per-run ratios), %.2f× (ratio of medians); files: %s\n",
			mode, set, runs, wall, cpu, rss/1024, sets[0], ratio, wall/wall0, strings.Join(files, ", "))
	}
}

func median(res []result, f func(result) float64) float64 {
	v := make([]float64, len(res))
	for i, r := range res {
		v[i] = f(r)
	}
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// capture returns the k-copy benchmark capture, building it if missing.
func capture(dir string, k int) string {
	path := filepath.Join(dir, fmt.Sprintf("bench-k%d.pcap", k))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	shared := corpus.SharedDir()
	if shared == "" {
		fatal(fmt.Errorf("no shared folder (set FLOWSIFT_SHARED) to build %s", path))
	}
	ins, _ := filepath.Glob(filepath.Join(shared, "corpus", "generated", "*.pcap"))
	sort.Strings(ins)
	args := append([]string{"-k", strconv.Itoa(k), "-o", path + ".tmp"}, ins...)
	cmd := exec.Command(filepath.Join(shared, "tools", "mkbench"), args...)
	cmd.Stdout = os.Stdout
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		os.Stderr.Write(stderr.Bytes())
		fatal(fmt.Errorf("mkbench: %v", err))
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		fatal(err)
	}
	return path
}

// memoryPerFlow measures the peak RSS of flow mode on a capture of n flows
// (all alive at the end) and on a capture with one flow pair.
func memoryPerFlow(bin, dir string, n int) {
	pairs := n / 2
	big := filepath.Join(dir, fmt.Sprintf("flows-%d.pcap", 2*pairs))
	if _, err := os.Stat(big); err != nil {
		writeHandshakes(big, pairs)
	}
	small := filepath.Join(dir, "flows-2.pcap")
	writeHandshakes(small, 1)
	// Tranalyzer's table holds 262144 flows per hash factor (-f); beyond
	// that the oldest are written early (autopilot).
	factor := (2*pairs + 262143) / 262144
	run := func(path string, f int) (int64, time.Duration) {
		out := filepath.Join(dir, "out-mem") + "/"
		os.RemoveAll(out)
		args := []string{"-r", path, "-w", out}
		if f > 1 {
			args = append(args, "-f", strconv.Itoa(f))
		}
		cmd := exec.Command(bin, args...)
		cmd.Stderr = os.Stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			fatal(fmt.Errorf("%s %v: %v", bin, args, err))
		}
		return cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss, time.Since(start)
	}
	base, _ := run(small, factor)
	factors := []int{factor}
	if factor > 1 {
		factors = append(factors, 1)
	}
	for _, f := range factors {
		rss, wall := run(big, f)
		held := 2 * pairs
		if capacity := 262144 * f; held > capacity {
			held = capacity
		}
		fmt.Printf("%d flows (%d pairs), -f %d (table holds %d flows): peak RSS %.1f MB (empty run %.1f MB), %.0f bytes per flow pair, wall %.2f s\n",
			2*pairs, pairs, f, held, float64(rss)/1024, float64(base)/1024, float64(rss-base)*1024/float64(held/2), wall.Seconds())
	}
}

// writeHandshakes writes a pcap of pairs TCP handshake starts (SYN, then
// SYN/ACK 1 ms later) between distinct address pairs, spread over 60 s.
func writeHandshakes(path string, pairs int) {
	f, err := os.Create(path)
	if err != nil {
		fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	hdr := make([]byte, 24)
	le := binary.LittleEndian
	le.PutUint32(hdr, 0xa1b23c4d) // ns timestamps
	le.PutUint16(hdr[4:], 2)
	le.PutUint16(hdr[6:], 4)
	le.PutUint32(hdr[16:], 262144)
	le.PutUint32(hdr[20:], 1)
	w.Write(hdr)
	frame := func(ts uint64, src, dst [4]byte, sp, dp uint16, flags byte) {
		var b [16 + 54]byte
		le.PutUint32(b[0:], uint32(ts/1e9))
		le.PutUint32(b[4:], uint32(ts%1e9))
		le.PutUint32(b[8:], 54)
		le.PutUint32(b[12:], 54)
		e := b[16:]
		copy(e[0:6], []byte{2, 0, 0, 0, 0, 2})
		copy(e[6:12], []byte{2, 0, 0, 0, 0, 1})
		e[12], e[13] = 0x08, 0x00
		ip := e[14:]
		ip[0], ip[8], ip[9] = 0x45, 64, 6
		binary.BigEndian.PutUint16(ip[2:], 40)
		copy(ip[12:16], src[:])
		copy(ip[16:20], dst[:])
		var sum uint32
		for i := 0; i < 20; i += 2 {
			sum += uint32(binary.BigEndian.Uint16(ip[i:]))
		}
		for sum > 0xffff {
			sum = sum&0xffff + sum>>16
		}
		binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
		tcp := ip[20:]
		binary.BigEndian.PutUint16(tcp[0:], sp)
		binary.BigEndian.PutUint16(tcp[2:], dp)
		binary.BigEndian.PutUint32(tcp[4:], 1000)
		tcp[12], tcp[13] = 5<<4, flags
		binary.BigEndian.PutUint16(tcp[14:], 64240)
		w.Write(b[:])
	}
	const start = uint64(1700000000) * 1e9
	step := uint64(60e9) / uint64(pairs+1)
	for i := 0; i < pairs; i++ {
		ts := start + uint64(i)*step
		cli := [4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}
		srv := [4]byte{172, 16, byte(i >> 8), byte(i)}
		sp := uint16(1024 + i%60000)
		frame(ts, cli, srv, sp, 80, 0x02)
		frame(ts+1e6, srv, cli, 80, sp, 0x12)
	}
	if err := w.Flush(); err != nil {
		fatal(err)
	}
	f.Close()
}

// moduleRoot finds the folder holding go.mod, from the working directory up.
func moduleRoot() string {
	d, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		p := filepath.Dir(d)
		if p == d {
			fatal(fmt.Errorf("go.mod not found above the working directory"))
		}
		d = p
	}
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := bytes.Fields(b)
	if len(f) < 3 {
		return "?"
	}
	return string(bytes.Join(f[:3], []byte(" ")))
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}
