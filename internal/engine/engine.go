package engine

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"flowsift/internal/cacheline"
	"flowsift/internal/capture"
	"flowsift/internal/capture/live"
	"flowsift/internal/colour"
	"flowsift/internal/column"
	"flowsift/internal/decode"
	"flowsift/internal/exepages"
	"flowsift/internal/filter"
	"flowsift/internal/flow"
	"flowsift/internal/plugin"
	"flowsift/internal/report"
	"flowsift/internal/sink"
	"flowsift/internal/tcptrack"
)

// Version is what flowsift reports as its own version.
const Version = "0.1.0"

// CoreFlowColumns are the two columns the core writes before any plugin.
var coreFlowColumns = []column.Column{
	{Name: "dir", Type: "C", Desc: "Flow direction"},
	{Name: "flowInd", Type: "U64", Desc: "Flow index"},
}

// Counters are the core's per-run tallies for the end report.
type Counters struct {
	Packets, Bytes, RawBytes, PadBytes   uint64
	L2Pkts, IPv4Pkts, IPv6Pkts, IPvXPkts uint64
	NoFlowPkts                           uint64
	APkts, BPkts, ABytes, BBytes         uint64
	HdrMin, HdrMax                       uint16
	HdrAvg                               float32
	HdrN                                 uint64
	ICMPPkts, ICMPv6Pkts, IGMPPkts       uint64
	TCPPkts, TCPBytes, UDPPkts, UDPBytes uint64
	SCTPPkts, SCTPBytes                  uint64
	ARPPkts, RARPPkts                    uint64
	DTLSPkts                             uint64
	IPv4FragPkts                         uint64
	BandwidthBytes                       uint64
	FirstSec, LastSec                    uint64
	FirstNsec, LastNsec                  uint32
	HaveFirst                            bool
	LinkType                             uint32
	Snaplen                              uint32
	PcapBytes                            int64
	NFiles                               int
	ReadBytes                            int64
	InputErrors                          int
	Incomplete                           bool
}

// Run processes the inputs and writes all outputs. It returns the process
// exit status (Exit* constants): 0 success, 1 when no input could be read
// or output could not be written, 3 when input was damaged, 130/143 when
// interrupted by SIGINT/SIGTERM.
func Run(opts *Options, reg *plugin.Registry, stdout, stderr io.Writer) (status int) {
	r := &runner{opts: opts, stderr: stderr, start: time.Now()}
	r.errColour = colour.Enabled(stderr, opts.Colour)
	// A closed stdout (flowsift -w - | head) must be an output error like a
	// full disk (files renamed *.partial, exit 1), not a silent death by
	// SIGPIPE that leaves files under their final names.
	signal.Ignore(syscall.SIGPIPE)
	r.intr = watchSignals(stderr, r.errColour)
	defer r.intr.stop()
	defer r.recoverRun(&status)
	abort := r.markPartial
	r.intr.abort.Store(&abort)
	if err := r.setup(reg, stdout); err != nil {
		r.closeOutputs()
		if ue, ok := err.(*usageError); ok {
			fmt.Fprintln(stderr, "flowsift: "+ue.msg)
			return ExitUsage
		}
		if errors.Is(err, errNoInput) {
			r.reportOpenErrors()
			r.errLine("no packet could be read: no output written")
			return ExitFailed
		}
		r.errLine(err.Error())
		r.markPartial()
		return ExitFailed
	}
	// The start-up code is done with: its pages need not stay resident
	// (the first run of a process only).
	exepages.Release()
	code := r.process()
	if err := r.finish(); err != nil {
		r.errLine(err.Error())
		if !errors.As(err, new(*clickhouseError)) {
			// The files are complete when only ClickHouse failed.
			r.markPartialAfter(err)
		}
		return ExitFailed
	}
	if r.c.Packets == 0 && r.c.Incomplete && !r.intr.interrupted() {
		// Every input was damaged before its first packet: the output
		// would pass for a real "0 flows" result.
		r.removeOutputs()
		r.errLine("no packet could be read: no output written")
		return ExitFailed
	}
	return r.exitStatus(code)
}

// errNoInput is setup's error when not one input could be opened.
var errNoInput = errors.New("no input could be opened")

type runner struct {
	opts      *Options
	stderr    io.Writer
	errColour bool // colour on stderr
	start     time.Time
	intr      *interrupt // SIGINT/SIGTERM (signal.go)

	env     plugin.Env
	plugins []plugin.Instance
	dec     *decode.Decoder
	table   *flow.Table
	c       Counters

	prefix        string
	files         []*outFile // the flow and packet files, every format
	flowOut       sink.Rows
	pktOut        sink.Rows
	logFile       *os.File
	flowRec       *sink.Recorder // explain: flow rows in memory
	pktRec        *sink.Recorder // explain: one flow's packet rows in memory
	rep           *report.Report
	repBuf        *bufio.Writer
	processed     time.Time
	first         *capture.File
	firstIdx      int     // index in Inputs of first, the first input that opened
	openErrs      []error // why the inputs before firstIdx did not open
	created       []string
	flowsCut      bool // the flow stream to stdout failed (-w -)
	firstFormat   string
	lastProgress  time.Time
	progressShown bool
	// Batches shared by the readers of successive input files.
	free, full chan *batch

	// BPF filter and live capture (input.go, live.go).
	filter              *filter.Filter // nil: no filter
	filterFailuresShown int            // link types of filter.Failed already reported
	live                *live.Handle   // -i
	pcapOut             *capture.NgWriter
	lastFlush           time.Time

	ch clickhouseRun // --clickhouse (clickhouse.go)
}

func (r *runner) setup(reg *plugin.Registry, stdout io.Writer) error {
	o := r.opts
	// The interface, or the inputs up to the first readable one, are
	// opened and the filter compiled before any output file exists: a run
	// that can read nothing, or has a bad filter, writes nothing.
	if err := r.openInput(); err != nil {
		return err
	}
	in := o.ReadFile
	if in == "" {
		in = o.ListFile
	}
	if o.Interface != "" {
		in = o.Interface
	}
	// "-w -": the flow file goes to stdout, the report to PREFIX_log.txt,
	// the other files next to the input (core.md §1).
	flowsToStdout := o.Prefix == "-"
	w := o.Prefix
	if flowsToStdout {
		w = ""
		o.LogFile = true
	}
	// In memory only (explain without -w): no file at all.
	noFiles := o.Collect != nil && o.Prefix == ""
	var prefix string
	var err error
	if !noFiles {
		prefix, err = OutputPrefix(in, w)
		if err != nil {
			return fmt.Errorf("cannot create output folder: %v", err)
		}
	}
	r.prefix = prefix
	r.env.PacketMode = o.PacketMode
	r.env.PacketRows = o.PacketMode || (o.Collect != nil && o.Collect.PacketsOfFlow > 0)
	r.env.Subnets, err = newSubnets(o.SubnetDBs)
	if err != nil {
		return err
	}
	r.env.TCP = tcptrack.New()
	r.plugins, err = reg.Build(&r.env, o.Plugins, o.Sets)
	if err != nil {
		return err
	}
	// Read for every packet: on lines of its own (cacheline).
	r.plugins = cacheline.Isolated(r.plugins)
	dcfg := decode.DefaultConfig()
	// Tranalyzer reads past short frames into bytes of earlier frames; only
	// core.FIXT2BUGS=0 reproduces that (docs/compat.md).
	dcfg.StaleBytes = o.Sets["core.FIXT2BUGS"] == "0"
	// It also counts a RARP body as padding (docs/compat.md).
	dcfg.RARPBodyIsPadding = dcfg.StaleBytes
	dcfg.L4Sums = r.env.L4Sums
	r.dec = decode.NewDecoder(dcfg)
	capacity := flow.DefaultCapacity
	if o.HashFactor > 1 {
		capacity *= o.HashFactor
	}
	if v, ok := o.Sets["core.HASHTABLE_SIZE"]; ok {
		fmt.Sscan(v, &capacity)
	}
	timeout := flow.DefaultTimeout
	if v, ok := o.Sets["core.FLOW_TIMEOUT"]; ok {
		t, err := strconv.ParseFloat(v, 32)
		if err != nil {
			return fmt.Errorf("--set core.FLOW_TIMEOUT=%s: want a number of seconds", v)
		}
		timeout = float32(t)
	}
	// Without tcpStates no plugin registers timeouts; the walks stay those
	// of a default run.
	others := r.env.Timeouts
	if others == nil {
		others = flow.DefaultTimeouts
	}
	r.table = flow.NewTableTimeouts(capacity, r.writeFlow, &r.env.Status, timeout, others)
	r.table.OutputAhead(r.outputAhead)

	if c := o.Collect; c != nil {
		c.FlowColumns = r.flowColumns()
		c.Flows = sink.NewRecorder(c.FlowColumns, c.FlowWant)
		if c.FlowRow != nil {
			c.Flows.Stream(c.FlowColumns, c.FlowRow)
		}
		c.PacketColumns = []column.Column{{Name: "pktNo", Type: "U64"}, {Name: "flowInd", Type: "U64"}}
		for _, pl := range r.plugins {
			c.PacketColumns = append(c.PacketColumns, pl.PacketColumns()...)
		}
		c.PacketColumns = append(c.PacketColumns, column.Column{Name: "l7Content", Type: "S"})
		if c.PacketsOfFlow > 0 {
			c.Packets = sink.NewRecorder(c.PacketColumns, c.PacketWant)
			c.Packets.KeepCol, c.Packets.KeepValue = 1, c.PacketsOfFlow
			r.pktRec = c.Packets
		}
		r.flowRec = c.Flows
	}
	if noFiles {
		r.repBuf = bufio.NewWriter(io.Discard)
		r.rep = &report.Report{W: r.repBuf}
		return nil
	}

	// ClickHouse tables are checked before any file exists: a table that
	// does not fit stops the run with nothing sent and nothing written.
	if err := r.clickhouseSetup(); err != nil {
		return err
	}
	if o.LogFile {
		r.logFile, err = r.create(prefix+"_log.txt", "log file")
		if err != nil {
			return err
		}
		r.repBuf = bufio.NewWriter(r.logFile)
		r.rep = &report.Report{W: r.repBuf} // never colour in a file
	} else {
		r.repBuf = bufio.NewWriter(stdout)
		r.rep = &report.Report{W: r.repBuf, Colour: colour.Enabled(stdout, o.Colour)}
	}

	if err := r.writeHeaders(); err != nil {
		return err
	}
	var flowStdout io.Writer
	if flowsToStdout {
		flowStdout = stdout
	}
	if r.flowOut, err = r.openOutputs("flows", r.flowColumns(), "%"+strings.Join(column.Names(r.flowColumns()), "\t")+"\n", flowStdout); err != nil {
		return err
	}
	if o.PacketMode {
		cols := packetColumns(r.plugins)
		if r.pktOut, err = r.openOutputs("packets", cols, "%"+strings.Join(column.Names(cols), "\t")+"\n", nil); err != nil {
			return err
		}
	}
	r.startupReport()
	return nil
}

func (r *runner) flowColumns() []column.Column { return flowColumns(r.plugins) }

// outputAhead asks for the plugins' records of f and its partner, the
// flows the table outputs next (flow.Table.OutputAhead).
func (r *runner) outputAhead(f *flow.Flow) {
	for _, s := range r.env.OutputRecords {
		s.Prefetch(f.Slot)
		if f.Partner != nil {
			s.Prefetch(f.Partner.Slot)
		}
	}
}

// writeFlow is the table's output callback: one row of the flow file.
func (r *runner) writeFlow(f *flow.Flow, dir byte) {
	if r.flowOut != nil {
		r.flowRow(r.flowOut, f, dir)
	}
	if r.flowRec != nil {
		r.flowRow(r.flowRec, f, dir)
	}
}

// flowRow writes one flow row to w: the file's writer or explain's
// in-memory recorder.
func (r *runner) flowRow(w interface {
	column.Writer
	EndRow()
}, f *flow.Flow, dir byte) {
	w.Col()
	w.Dir(dir)
	w.ColU(f.FlowInd)
	for _, pl := range r.plugins {
		pl.FlowOutput(f, w)
	}
	w.EndRow()
}

// process reads every input; the status says whether all input was read.
func (r *runner) process() int {
	if r.live != nil {
		return r.processLive()
	}
	code := 0
	readAny := false
	for i, path := range r.opts.Inputs {
		var f *capture.File
		var err error
		switch {
		case i < r.firstIdx:
			err = r.openErrs[i]
		case i == r.firstIdx:
			f = r.first
		default:
			f, err = r.open(path)
		}
		if err == nil {
			// Tranalyzer (libpcap) refuses packets of a pcapng interface whose
			// link type differs from the first one; flowsift reads them all.
			f.AllowMixedInterfaces(true)
			r.setStop(f, path)
		}
		if err != nil {
			r.errLine(err.Error())
			r.c.InputErrors++
			r.c.Incomplete = true
			continue
		}
		readAny = true
		r.c.NFiles++
		r.c.PcapBytes += f.Size()
		if len(r.opts.Inputs) > 1 {
			r.rep.Linef("Processing file no. %d of %d: %s", i+1, len(r.opts.Inputs), path)
		} else {
			r.rep.Linef("Processing file: %s", path)
		}
		desc, name := capture.LinkTypeName(f.LinkType())
		r.rep.Linef("Link layer type: %s [%s/%d]", desc, name, capture.DLT(f.LinkType()))
		r.rep.Linef("Snapshot length: %d%s", f.Snaplen(), report.Suffix(uint64(f.Snaplen())))
		r.checkLinkType(f, path)
		r.readFile(f, path)
		r.reportFilterFailures(path)
		if c := r.opts.Collect; c != nil {
			in := InputInfo{Path: path, Format: f.Format(), LinkType: f.LinkType(), Snaplen: f.Snaplen()}
			in.HaveDrops, in.IfDrop, in.OSDrop = f.Drops()
			c.Inputs = append(c.Inputs, in)
		}
		r.c.ReadBytes += f.BytesRead()
		f.Close()
		if r.intr.interrupted() {
			r.noteInterrupt(path, f.BytesRead())
			break
		}
	}
	if !readAny {
		code = 1
	}
	return code
}

func (r *runner) readFile(f source, path string) {
	free, full := r.free, r.full
	if free == nil {
		free, full = newBatches()
		r.free, r.full = free, full
	}
	rd := &reader{f: f, dec: r.dec, free: free, full: full, filter: r.filter, pcapOut: r.pcapOut}
	if sw, ok := f.(interface{ Swapped() bool }); ok {
		rd.swapper = sw
	}
	go rd.run()
	// Batches go back to the reader two at a time: the reader, faster than
	// this goroutine, then wakes once per two batches instead of once per
	// batch (each wake-up costs a futex call and a spinning thread on an
	// otherwise idle processor).
	var held *batch
	defer func() {
		if held != nil {
			free <- held
		}
	}()
	for {
		b := r.nextBatch(full)
		if b == nil { // interrupted while the reader is blocked in a read
			return
		}
		w := 0
		for i := 0; i < b.n; i++ {
			r.packet(&b.pkts[i], b.warnings(i, &w))
		}
		if r.opts.Progress {
			r.progress(path, b.read, f.Size(), b.eof)
		}
		if r.live != nil {
			r.liveTick(b)
		}
		if err := b.err; err != nil {
			// Like Tranalyzer, the report names the problem in order; stderr
			// gets the precise location (file, record, byte offset).
			var ce *capture.Error
			msg := err.Error()
			if errors.As(err, &ce) {
				msg = ce.Msg
			}
			r.rep.Warn("pcap_dispatch failed: " + msg)
			r.warnLine(err.Error())
			r.c.InputErrors++
			r.c.Incomplete = true
		}
		eof := b.eof
		if held == nil && !eof {
			held = b
		} else {
			if held != nil {
				free <- held
				held = nil
			}
			free <- b
		}
		if eof {
			r.reportDecodePanics(rd, path)
			return
		}
	}
}

// packet is the per-packet path: it must not allocate.
// The reader goroutine already decoded p (unless its capture length is 0);
// warnings are the decoder's first-time warnings raised by this packet.
func (r *runner) packet(p *decode.Packet, warnings []byte) {
	c := &r.c
	c.Packets++
	r.env.Packets = c.Packets
	p.Num = c.Packets
	c.Bytes += uint64(p.CapLen)
	c.RawBytes += uint64(p.WireLen)
	if !c.HaveFirst {
		c.HaveFirst = true
		c.FirstSec, c.FirstNsec = p.TsSec, p.TsNsec
		r.rep.Linef("Dump start: %s", dateUTC(p.TsSec, p.TsNsec))
	}
	c.LastSec, c.LastNsec = p.TsSec, p.TsNsec

	r.table.Expire(p.TsSec, p.TsNsec)
	if p.CapLen == 0 {
		c.NoFlowPkts++
		return
	}
	r.env.Status |= p.Status
	for len(warnings) > 0 {
		line, rest, _ := bytes.Cut(warnings, []byte{'\n'})
		if len(line) > 0 {
			r.rep.Warn(string(line))
		}
		warnings = rest
	}
	if p.PadLen > 0 {
		c.PadBytes += uint64(p.PadLen)
	}
	c.countHeaders(p.NumHdrs)
	if p.Kind == decode.KindNone {
		// A frame shorter than its link header is not even counted as a
		// packet without flow (golden trunc-hdr).
		if p.NumHdrs > 0 {
			c.NoFlowPkts++
		}
		if p.Status&decode.StatIPvX != 0 {
			c.IPvXPkts++
		}
		return
	}
	f, res := r.table.Packet(p)
	tcp := r.env.TCP
	if res == flow.Created {
		tcp.NewFlow(f)
		for _, pl := range r.plugins {
			pl.NewFlow(f, p)
		}
	}
	// The tracker parses the TCP header once for every plugin and updates
	// the endpoints after them (they read the state before this packet).
	tcp.Begin(f, p)
	if r.pktOut != nil {
		w := r.pktOut
		w.ColU(p.Num)
		w.ColU(f.FlowInd)
		for _, pl := range r.plugins {
			pl.Packet(f, p, w)
		}
		w.Col()
		w.Content(p.L7())
		w.EndRow()
	} else if w := r.pktRec; w != nil {
		w.ColU(p.Num)
		w.ColU(f.FlowInd)
		for _, pl := range r.plugins {
			pl.Packet(f, p, w)
		}
		w.Col()
		w.Content(nil)
		w.EndRow()
	} else {
		for _, pl := range r.plugins {
			pl.Packet(f, p, nil)
		}
	}
	tcp.End()
	c.countPacket(p, f)
	r.env.ABytes, r.env.BBytes = c.ABytes, c.BBytes
}

func (c *Counters) countHeaders(n uint16) {
	c.HdrN++
	if c.HdrN == 1 || n < c.HdrMin {
		c.HdrMin = n
	}
	if n > c.HdrMax {
		c.HdrMax = n
	}
	k := float32(1) / float32(c.HdrN)
	c.HdrAvg = (1-k)*c.HdrAvg + k*float32(n)
}

func (c *Counters) countPacket(p *decode.Packet, f *flow.Flow) {
	caplen := uint64(p.CapLen)
	if f.Status&decode.StatInverted != 0 {
		c.BPkts++
		c.BBytes += caplen
	} else {
		c.APkts++
		c.ABytes += caplen
	}
	switch p.Kind {
	case decode.KindL2:
		c.L2Pkts++
		switch p.EthType {
		case 0x0806, 0x80f3:
			c.ARPPkts++
		case 0x8035:
			c.RARPPkts++
		}
		if p.Status&decode.StatIPvX != 0 {
			c.IPvXPkts += 2
		}
		return
	case decode.KindIPv4:
		c.IPv4Pkts++
		c.BandwidthBytes += uint64(p.L3Len + p.LinkHdrLen)
		if p.IsFragment() {
			c.IPv4FragPkts++
		}
	case decode.KindIPv6:
		c.IPv6Pkts++
		c.BandwidthBytes += uint64(p.WireLen)
	}
	if p.Status&decode.StatDTLS != 0 {
		c.DTLSPkts++
	}
	switch p.Proto {
	case 1:
		c.ICMPPkts++
	case 2:
		c.IGMPPkts++
	case 58:
		c.ICMPv6Pkts++
	case 6:
		c.TCPPkts++
		c.TCPBytes += caplen
	case 17, 136:
		c.UDPPkts++
		c.UDPBytes += caplen
	case 132:
		c.SCTPPkts++
		c.SCTPBytes += caplen
	}
}

func (r *runner) finish() error {
	c := &r.c
	if c.HaveFirst {
		r.rep.Linef("Dump stop : %s", dateUTC(c.LastSec, c.LastNsec))
		r.rep.Linef("Total dump duration: %s", duration(c.LastSec, c.LastNsec, c.FirstSec, c.FirstNsec))
	}
	r.rep.Linef("Finished processing. Elapsed time: %s", elapsed(time.Since(r.start)))
	unload := time.Now()
	r.table.Flush()
	r.rep.Linef("Finished unloading flow memory. Time: %s", elapsed(time.Since(unload)))
	r.finalReport()

	var firstErr error
	keep := func(err error) {
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if c := r.opts.Collect; c != nil {
		c.Counters = r.c
		c.Flows.Close()
	}
	if r.flowOut != nil {
		if err := r.flowOut.Close(); err != nil {
			keep(err)
			r.flowsCut = r.opts.Prefix == "-"
		}
	}
	if r.pktOut != nil {
		keep(r.pktOut.Close())
	}
	keep(r.closeFiles())
	chErr := r.clickhouseReport()
	keep(r.repBuf.Flush())
	if r.logFile != nil {
		keep(r.logFile.Close())
	}
	if firstErr != nil {
		return fmt.Errorf("writing output: %w", firstErr)
	}
	return chErr
}

// progress refreshes a one-line progress indication on stderr at most
// once a second (and once at the end of each file).
func (r *runner) progress(path string, read, size int64, done bool) {
	now := time.Now()
	if r.lastProgress.IsZero() {
		r.lastProgress = r.start
	}
	// Short files show nothing: the first line comes after a second.
	if now.Sub(r.lastProgress) < time.Second && !(done && r.progressShown) {
		return
	}
	r.progressShown = true
	r.lastProgress = now
	pct := ""
	if size > 0 {
		pct = fmt.Sprintf(" %5.1f%%", 100*float64(read)/float64(size))
	}
	fmt.Fprintf(r.stderr, "\r%s:%s  %d packets  %d flows  ", filepath.Base(path), pct, r.c.Packets, r.table.Stats.Created)
	if done {
		fmt.Fprintln(r.stderr)
	}
}

// closeOutputs stops the writer goroutines and closes the files that a
// failed setup had already opened.
func (r *runner) closeOutputs() {
	if c := r.opts.Collect; c != nil && c.Flows != nil {
		c.Flows.Close()
	}
	if r.flowOut != nil {
		r.flowOut.Close()
	}
	if r.pktOut != nil {
		r.pktOut.Close()
	}
	r.closeFiles()
	if r.first != nil {
		r.first.Close()
	}
	if r.live != nil {
		r.live.Close()
	}
	if r.pcapOut != nil {
		r.pcapOut.Close(nil)
	}
	if r.logFile != nil {
		r.logFile.Close()
	}
}
