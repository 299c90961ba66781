package tcpdiag

import (
	"fmt"
	"unsafe"

	"flowsift/internal/flow"
	"flowsift/internal/prefetch"
	"flowsift/internal/tcptrack"
)

// In flow mode on two or more processors, the analysis runs on a goroutine
// of its own (switch THREAD). The packet goroutine, which bounds a run's
// wall time, then only copies each TCP segment the tracker parsed into a
// batch of jobs, and the analysis goroutine, on the other processor,
// applies them in packet order: the same calls on the same state as on the
// packet goroutine, so the outputs are the same bytes. The tracker's
// endpoints, which only tcpDiag reads, are updated there too
// (tcptrack.DeferEndpoints).
//
// The two never touch the analysis state at the same time: before a flow's
// row is written (FlowOutput, which reads it) and before the report, the
// packet goroutine hands over the jobs it holds and waits until the
// analysis goroutine has done them all (drain); the analysis goroutine
// then waits for the next batch. Rows are written in bursts (a timeout
// walk writes every flow whose time has come; the benchmark capture's
// 50,008 rows come in 11 of them), so the wait is rare. The report ends
// the goroutine. Without packet rows no result is needed before the
// flow's row.

// jobsPerBatch and batches size the hand-over: a batch is some 76 KiB of
// jobs, written on one processor and read on the other; the packet
// goroutine waits for a free batch when all are in flight (measured: 256
// to 1,024 jobs a batch run as fast, 4,096 slower).
const (
	jobsPerBatch = 512
	batches      = 6
	jobsAhead    = 4
)

// Job kinds.
const (
	jobNewFlow uint8 = iota // NewFlow of slot
	jobSegment              // a TCP segment of an IPv4 or IPv6 flow: analysed, then folded into the endpoint
	jobFold                 // a TCP segment of another flow: only folded into the endpoint
)

// job is what the packet goroutine hands over for one NewFlow or Packet
// call: the segment as the tracker parsed it, and the flow's identity.
type job struct {
	seg     tcptrack.Segment
	flowInd uint64
	slot    int32
	partner int32 // -1: a lone flow
	kind    uint8
}

type batch struct {
	n    int
	jobs [jobsPerBatch]job
}

// thread is the packet goroutine's side of the hand-over.
type thread struct {
	cur  *batch
	free chan *batch // batches done with (capacity: all of them)
	// work carries the batches to the analysis goroutine, and nil to ask
	// it to say (on synced) that it did everything before.
	work    chan *batch
	synced  chan struct{}
	done    chan struct{} // closed when the analysis goroutine ends
	running bool
	pending bool // batches handed over since the last drain
	syncs   int  // drains that waited for the analysis goroutine (tests)
	// failure is what the analysis goroutine panicked with (read after
	// done is closed): the packet goroutine panics with it in turn, where
	// the engine reports it.
	failure any
}

func newThread() *thread {
	t := &thread{
		free:   make(chan *batch, batches),
		work:   make(chan *batch, batches+1),
		synced: make(chan struct{}),
		done:   make(chan struct{}),
	}
	for range batches - 1 {
		t.free <- new(batch)
	}
	t.cur = new(batch)
	return t
}

// add returns the next job of the current batch, handing the batch over
// first when it is full.
func (p *Plugin) add() *job {
	t := p.thread
	if t.cur.n == jobsPerBatch {
		p.handOver()
		t.cur = t.takeFree()
	}
	j := &t.cur.jobs[t.cur.n]
	t.cur.n++
	return j
}

// handOver passes the current batch to the analysis goroutine, starting
// it with the first batch. It never blocks: work has room for every
// batch and the request to sync.
func (p *Plugin) handOver() {
	t := p.thread
	if !t.running {
		t.running = true
		go p.analyse()
	}
	t.work <- t.cur
	t.cur = nil
	t.pending = true
}

// takeFree waits for a batch the analysis goroutine is done with.
func (t *thread) takeFree() *batch {
	select {
	case b := <-t.free:
		b.n = 0
		return b
	case <-t.done:
		panic(t.failed())
	}
}

func (t *thread) failed() string {
	return fmt.Sprintf("tcpDiag analysis: %v", t.failure)
}

// drain hands over the jobs held and waits until the analysis goroutine
// has done every job: the analysis state is then the packet goroutine's
// until the next batch is handed over (the analysis goroutine waits for
// it).
func (p *Plugin) drain() {
	t := p.thread
	if t.cur.n > 0 {
		p.handOver()
	}
	if !t.pending {
		return
	}
	t.pending = false
	t.syncs++
	t.work <- nil
	select {
	case <-t.synced:
	case <-t.done:
		panic(t.failed())
	}
	if t.cur == nil {
		// Every batch is back: the goroutine returned each before it
		// answered.
		t.cur = <-t.free
		t.cur.n = 0
	}
}

// end drains and ends the analysis goroutine (the run's report).
func (p *Plugin) end() {
	p.drain()
	if t := p.thread; t.running {
		close(t.work)
		<-t.done
		t.running = false
	}
}

// Stop implements plugin.Stopper: it ends the analysis goroutine, if it
// runs, without waiting for it.
func (p *Plugin) Stop() {
	if t := p.thread; t != nil && t.running {
		close(t.work)
		t.running = false
	}
}

// analyse is the analysis goroutine: it does the batches' jobs in order,
// says when asked that it did, and ends when work is closed.
func (p *Plugin) analyse() {
	t := p.thread
	defer func() {
		t.failure = recover()
		close(t.done)
	}()
	for b := range t.work {
		if b == nil {
			t.synced <- struct{}{}
			continue
		}
		for i := range b.jobs[:b.n] {
			// The jobs were written on the other processor: each
			// line is a miss, asked for a few jobs ahead.
			if k := i + jobsAhead; k < b.n {
				prefetch.WriteRange(uintptr(unsafe.Pointer(&b.jobs[k])), unsafe.Sizeof(job{}))
			}
			p.do(&b.jobs[i])
		}
		t.free <- b
	}
}

// do is what NewFlow or Packet (with the tracker's End) would have done on
// the packet goroutine.
func (p *Plugin) do(j *job) {
	tr := p.env.TCP
	switch j.kind {
	case jobNewFlow:
		p.newDir(j.slot)
		tr.ResetEndpoint(j.slot)
	case jobSegment:
		self, peer := tr.Endpoints(j.slot, j.partner)
		d := p.dirs.Get(j.slot)
		var o *dir
		if j.partner >= 0 {
			o = p.dirs.Get(j.partner)
		}
		p.jobFlow.FlowInd, p.jobFlow.Slot = j.flowInd, j.slot
		p.segment(&p.jobFlow, d, o, self, peer, &j.seg)
		tcptrack.Fold(self, peer, &j.seg)
	case jobFold:
		self, peer := tr.Endpoints(j.slot, j.partner)
		tcptrack.Fold(self, peer, &j.seg)
	default:
		panic(fmt.Sprintf("unknown job kind %d", j.kind))
	}
}

// handOverSegment records the current packet's segment as a job (Packet
// with the analysis on its own goroutine).
func (p *Plugin) handOverSegment(f *flow.Flow, seg *tcptrack.Segment) {
	j := p.add()
	j.seg = *seg
	j.flowInd, j.slot, j.partner = f.FlowInd, f.Slot, -1
	if f.Partner != nil {
		j.partner = f.Partner.Slot
	}
	j.kind = jobFold
	if f.IPVer == 4 || f.IPVer == 6 {
		j.kind = jobSegment
	}
}
