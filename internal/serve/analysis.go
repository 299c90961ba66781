package serve

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"flowsift/internal/engine"
	"flowsift/internal/plugin"
)

// Plugins is what serve runs: the default set plus tcpDiag.
var Plugins = []string{"basicFlow", "basicStats", "tcpFlags", "tcpStates", "tcpDiag"}

// Analysis is one capture (or -R list) analysed: its flow file in memory,
// and, once the background packet-mode run has finished, an index of its
// packet file by flowInd.
type Analysis struct {
	Name   string
	Inputs []string
	Flows  *Table
	Report string // the end report
	dir    string // temporary folder of the runs' outputs
	Ready  time.Duration

	byFlow map[uint64][2]int // flowInd → rows of A and B (-1: none)
	start  float64           // first timeFirst of the capture (seconds)
	end    float64

	pktMu   sync.Mutex
	pktDone chan struct{}
	pktErr  error
	pkt     *packetIndex

	series seriesCache

	explMu   sync.Mutex
	explDone chan struct{}
	expl     *Explanation
	explErr  error
}

// analyse runs flowsift in flow mode over the inputs into dir, loads the
// flow file and starts the packet-mode run in the background.
func analyse(name string, inputs []string, dir string, reg *plugin.Registry, ex Explainer, stderr io.Writer) (*Analysis, error) {
	st := time.Now()
	a := &Analysis{Name: name, Inputs: inputs, dir: dir, pktDone: make(chan struct{}), explDone: make(chan struct{})}
	if err := runEngine(inputs, filepath.Join(dir, "flow"), false, reg, stderr); err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(filepath.Join(dir, "flow_flows.txt"))
	if err != nil {
		return nil, err
	}
	if a.Flows, err = ParseTable(raw); err != nil {
		return nil, fmt.Errorf("flow file: %v", err)
	}
	rep, _ := os.ReadFile(filepath.Join(dir, "flow_log.txt"))
	a.Report = stripANSI(string(rep))
	a.indexFlows()
	a.Ready = time.Since(st)
	go func() {
		defer close(a.pktDone)
		pi, err := a.packets(reg, stderr)
		a.pktMu.Lock()
		a.pkt, a.pktErr = pi, err
		a.pktMu.Unlock()
	}()
	go func() {
		defer close(a.explDone)
		e, err := ex.Explain(a, reg)
		a.explMu.Lock()
		a.expl, a.explErr = e, err
		a.explMu.Unlock()
	}()
	return a, nil
}

func runEngine(inputs []string, prefix string, packetMode bool, reg *plugin.Registry, stderr io.Writer) error {
	opts := &engine.Options{
		Inputs:     inputs,
		ReadFile:   inputs[0],
		Prefix:     prefix,
		PacketMode: packetMode,
		LogFile:    true,
		Plugins:    Plugins,
		Sets:       map[string]string{},
		CmdLine:    "flowsift serve",
	}
	var errBuf bytes.Buffer
	rc := engine.Run(opts, reg, io.Discard, &errBuf)
	if rc != engine.ExitOK && rc != engine.ExitDamaged {
		return fmt.Errorf("analysis failed (status %d): %s", rc, bytes.TrimSpace(errBuf.Bytes()))
	}
	if errBuf.Len() > 0 && stderr != nil {
		stderr.Write(errBuf.Bytes())
	}
	return nil
}

func (a *Analysis) indexFlows() {
	t := a.Flows
	a.byFlow = make(map[uint64][2]int, t.Len())
	cDir, cInd, cFirst, cLast := t.Col("dir"), t.Col("flowInd"), t.Col("timeFirst"), t.Col("timeLast")
	a.start, a.end = 0, 0
	for i := 0; i < t.Len(); i++ {
		ind, _ := strconv.ParseUint(t.Field(i, cInd), 10, 64)
		e, ok := a.byFlow[ind]
		if !ok {
			e = [2]int{-1, -1}
		}
		if t.Field(i, cDir) == "B" {
			e[1] = i
		} else {
			e[0] = i
		}
		a.byFlow[ind] = e
		if cFirst >= 0 {
			f, _ := strconv.ParseFloat(t.Field(i, cFirst), 64)
			l, _ := strconv.ParseFloat(t.Field(i, cLast), 64)
			if f > 0 && (a.start == 0 || f < a.start) {
				a.start = f
			}
			if l > a.end {
				a.end = l
			}
		}
	}
}

// FlowRows returns the rows of flowInd (A, B; -1 when absent).
func (a *Analysis) FlowRows(ind uint64) ([2]int, bool) {
	r, ok := a.byFlow[ind]
	return r, ok
}

// packetIndex locates every packet line of the packet file by flowInd,
// so that a flow's packets are read without scanning the file again.
type packetIndex struct {
	path   string
	header []byte
	lines  map[uint64][]lineRef
	// Packets and bytes per overview bucket (exact, from every packet).
	pkts, bytes []float64
}

type lineRef struct {
	off int64
	n   int32
}

const overviewBuckets = 120

func (a *Analysis) packets(reg *plugin.Registry, stderr io.Writer) (*packetIndex, error) {
	if err := runEngine(a.Inputs, filepath.Join(a.dir, "pkt"), true, reg, stderr); err != nil {
		return nil, err
	}
	// Only the packet file is needed from this run.
	os.Remove(filepath.Join(a.dir, "pkt_flows.txt"))
	path := filepath.Join(a.dir, "pkt_packets.txt")
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pi := &packetIndex{path: path, lines: map[uint64][]lineRef{},
		pkts: make([]float64, overviewBuckets), bytes: make([]float64, overviewBuckets)}
	br := bufio.NewReaderSize(f, 1<<20)
	var off int64
	span := a.end - a.start
	for first := true; ; first = false {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// A row longer than the buffer: gather it.
			full := append([]byte(nil), line...)
			for err == bufio.ErrBufferFull {
				line, err = br.ReadSlice('\n')
				full = append(full, line...)
			}
			line = full
		}
		if len(line) == 0 {
			break
		}
		if first {
			pi.header = append([]byte(nil), line...)
		} else {
			ind, t, n := packetKey(line)
			pi.lines[ind] = append(pi.lines[ind], lineRef{off, int32(len(line))})
			if span > 0 {
				b := int((t - a.start) / span * overviewBuckets)
				b = min(max(b, 0), overviewBuckets-1)
				pi.pkts[b]++
				pi.bytes[b] += n
			}
		}
		off += int64(len(line))
		if err != nil {
			break
		}
	}
	return pi, nil
}

// packetKey reads flowInd (column 2), time (4) and pktLen (23) of a
// packet row.
func packetKey(line []byte) (ind uint64, t, n float64) {
	col := 0
	for len(line) > 0 && col <= 22 {
		tab := bytes.IndexByte(line, '\t')
		f := line
		if tab >= 0 {
			f = line[:tab]
		}
		switch col {
		case 1:
			ind, _ = strconv.ParseUint(string(f), 10, 64)
		case 3:
			t, _ = strconv.ParseFloat(string(f), 64)
		case 22:
			n, _ = strconv.ParseFloat(string(f), 64)
		}
		if tab < 0 {
			break
		}
		line = line[tab+1:]
		col++
	}
	return
}

// PacketsReady reports whether the packet index is built (or failed).
func (a *Analysis) PacketsReady() bool {
	select {
	case <-a.pktDone:
		return true
	default:
		return false
	}
}

// FlowPackets waits for the packet index and returns flowInd's packet
// rows as a Table (header row first).
func (a *Analysis) FlowPackets(ind uint64) (*Table, error) {
	t, _, err := a.FlowPacketRange(ind, 0, -1)
	return t, err
}

// FlowPacketRange returns rows [from, to) of flowInd's packets (to < 0:
// to the end) and the flow's number of packets; it reads only those rows.
func (a *Analysis) FlowPacketRange(ind uint64, from, to int) (*Table, int, error) {
	<-a.pktDone
	if a.pktErr != nil {
		return nil, 0, a.pktErr
	}
	pi := a.pkt
	refs := pi.lines[ind]
	total := len(refs)
	if to < 0 || to > total {
		to = total
	}
	from = min(max(from, 0), to)
	refs = refs[from:to]
	size := len(pi.header)
	for _, r := range refs {
		size += int(r.n)
	}
	buf := make([]byte, size)
	at := copy(buf, pi.header)
	if len(refs) > 0 {
		f, err := os.Open(pi.path)
		if err != nil {
			return nil, 0, err
		}
		defer f.Close()
		// Read runs of neighbouring rows in one go (a flow's packets often
		// lie together), straight into the result.
		for i := 0; i < len(refs); {
			j := i + 1
			for j < len(refs) && refs[j].off == refs[j-1].off+int64(refs[j-1].n) && refs[j].off-refs[i].off < 4<<20 {
				j++
			}
			n := int(refs[j-1].off + int64(refs[j-1].n) - refs[i].off)
			if _, err := f.ReadAt(buf[at:at+n], refs[i].off); err != nil {
				return nil, 0, err
			}
			at += n
			i = j
		}
	}
	t, err := ParseTable(buf)
	return t, total, err
}
