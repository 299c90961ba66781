package clickhouse

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"flowsift/internal/sink"
)

// Batch bounds: a batch is sent when it holds this many rows or bytes,
// or when its first row is this old.
const (
	DefaultBatchRows = 64 << 10
	// batchBytes bounds the RowBinary bytes of a batch: few large parts
	// cost the server less than many small ones (merges).
	batchBytes      = 32 << 20
	DefaultBatchAge = time.Second
	// chunkBytes is the size of the buffers a batch is made of, recycled:
	// growing one 30 MB buffer by appending cost more than encoding the
	// rows. A chunk holds whole rows and is one compressed block.
	chunkBytes = nativeBlock - 64<<10
)

// Output is the sink.Output that streams rows of one table to ClickHouse:
// each replayed tape becomes typed rows (sink.RowBuilder), encoded in
// RowBinary into the current batch; full or old batches go to a sender
// goroutine that compresses them (LZ4, ClickHouse's own block format)
// and inserts them, retrying.
// Once a batch is finally refused, this batch and every later one are
// written to the failed-batch file instead (JSON Lines that
// clickhouse-send re-sends), and the run ends with status 1.
type Output struct {
	client *Client
	table  *Table
	enc    *Encoder
	rb     *sink.RowBuilder
	query  string
	types  []*Type
	// FailedPath is the failed-batch file (created on the first failure).
	failedPath string
	batchRows  int
	batchAge   time.Duration

	mu       sync.Mutex // guards cur, curRows, curSince (the age timer reads them)
	cur      batch
	curSince time.Time

	batches chan batch
	free    chan []byte // chunks
	stop    chan struct{}
	done    chan struct{}
	closed  bool

	sent, accepted, kept atomic.Uint64
	batchesSent          atomic.Uint64
	insertNanos          atomic.Int64 // time spent in inserts (retries included)
	fail                 atomic.Pointer[error]
}

// batch is RowBinary rows in chunks; the last chunk is being filled.
type batch struct {
	chunks [][]byte
	rows   int
	bytes  int // of the full chunks
}

// OutputConfig configures an Output.
type OutputConfig struct {
	Sensor     uint32
	Capture    string // capture file name (captureFile column)
	FailedPath string
	BatchRows  int           // 0: DefaultBatchRows
	BatchAge   time.Duration // 0: DefaultBatchAge
}

// NewOutput returns an Output inserting rows of t through c, and starts
// its sender.
func NewOutput(c *Client, t *Table, cfg OutputConfig) (*Output, error) {
	o := &Output{client: c, table: t, enc: NewEncoder(t, cfg.Sensor, cfg.Capture), rb: sink.NewRowBuilder(t.Shapes),
		query:      "INSERT INTO " + quote(t.Name) + " (" + t.ColumnNames() + ") FORMAT RowBinary",
		failedPath: cfg.FailedPath, batchRows: cfg.BatchRows, batchAge: cfg.BatchAge,
		batches: make(chan batch, 1), free: make(chan []byte, 3*batchBytes/chunkBytes), stop: make(chan struct{}), done: make(chan struct{})}
	if o.batchRows <= 0 {
		o.batchRows = DefaultBatchRows
	}
	if o.batchAge <= 0 {
		o.batchAge = DefaultBatchAge
	}
	for _, col := range t.Cols {
		typ, err := ParseType(col.Type)
		if err != nil {
			return nil, err
		}
		o.types = append(o.types, typ)
	}
	go o.send()
	go o.timer()
	return o, nil
}

// Replay implements sink.Output.
func (o *Output) Replay(tape []byte) {
	o.mu.Lock()
	o.rb.Replay(tape, o.row)
	o.mu.Unlock()
}

// row encodes one row into the current batch (o.mu held).
func (o *Output) row(r *sink.Row) {
	b := &o.cur
	if b.rows == 0 {
		o.curSince = time.Now()
		b.chunks = append(b.chunks[:0], o.chunk())
	}
	last := len(b.chunks) - 1
	if len(b.chunks[last]) >= chunkBytes {
		b.bytes += len(b.chunks[last])
		b.chunks = append(b.chunks, o.chunk())
		last++
	}
	b.chunks[last] = o.enc.Append(b.chunks[last], r)
	b.rows++
	if b.rows >= o.batchRows || b.bytes >= batchBytes {
		o.handOff()
	}
}

// chunk returns an empty chunk, recycled when one is free.
func (o *Output) chunk() []byte {
	select {
	case c := <-o.free:
		return c
	default:
		return make([]byte, 0, nativeBlock)
	}
}

// handOff queues the current batch for the sender (o.mu held). It blocks
// while the sender is busy with the previous one: a slow server slows the
// run down instead of filling memory.
func (o *Output) handOff() {
	if o.cur.rows == 0 {
		return
	}
	o.batches <- o.cur
	o.cur = batch{}
}

// timer sends a batch whose first row is older than the age bound
// (a slow live capture still reaches the table within about a second).
func (o *Output) timer() {
	t := time.NewTicker(o.batchAge / 4)
	defer t.Stop()
	for {
		select {
		case <-o.stop:
			return
		case <-t.C:
			o.mu.Lock()
			if o.cur.rows > 0 && time.Since(o.curSince) >= o.batchAge {
				o.handOff()
			}
			o.mu.Unlock()
		}
	}
}

// send is the sender goroutine.
func (o *Output) send() {
	defer close(o.done)
	var comp compressor
	var z []byte
	for bt := range o.batches {
		if o.fail.Load() == nil {
			z = z[:0]
			for _, c := range bt.chunks {
				z = comp.append(z, c)
			}
			o.sent.Add(uint64(bt.rows))
			start := time.Now()
			n, err := o.client.InsertRetry(context.Background(), o.query, z)
			o.batchesSent.Add(1)
			o.insertNanos.Add(int64(time.Since(start)))
			if err == nil {
				o.accepted.Add(uint64(bt.rows))
			} else {
				e := fmt.Errorf("ClickHouse %s: table %s: batch of %d rows not accepted (%d attempts in %.1f s): %v",
					o.client.String(), o.table.Name, bt.rows, n, time.Since(start).Seconds(), err)
				o.fail.Store(&e)
			}
		}
		if o.fail.Load() != nil {
			if err := o.keep(bt); err != nil {
				e := fmt.Errorf("%v; and the rows could not be kept: %v", *o.fail.Load(), err)
				o.fail.Store(&e)
			}
		}
		for _, c := range bt.chunks {
			select {
			case o.free <- c[:0]:
			default:
			}
		}
	}
}

// keep appends a batch not accepted to the failed-batch file, as JSON
// Lines.
func (o *Output) keep(bt batch) error {
	f, err := os.OpenFile(o.failedPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	var out []byte
	for _, data := range bt.chunks {
		for len(data) > 0 {
			var used int
			out, used, err = AppendJSONRow(out, o.table.Cols, o.types, data)
			if err != nil {
				f.Close()
				return err
			}
			data = data[used:]
		}
	}
	if _, err := f.Write(out); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	o.kept.Add(uint64(bt.rows))
	return nil
}

// Flush implements sink.Output: the batch so far is queued for sending
// (not waited for: the age bound keeps live data flowing).
func (o *Output) Flush() error {
	o.mu.Lock()
	o.handOff()
	o.mu.Unlock()
	return nil
}

// Close implements sink.Output: the last batch is sent (or kept) and the
// sender stopped. Its outcome is Failure, not an error of the files.
func (o *Output) Close() error {
	if o.closed {
		return nil
	}
	o.closed = true
	close(o.stop)
	o.mu.Lock()
	o.handOff()
	o.mu.Unlock()
	close(o.batches)
	<-o.done
	return nil
}

// Err implements sink.Output: a refused batch does not stop the files
// being written (the rows are kept for clickhouse-send).
func (o *Output) Err() error { return nil }

// Written implements sink.Output.
func (o *Output) Written() int64 { return 0 }

// Stats are an Output's row counts.
type Stats struct {
	Table    string
	Sent     uint64        // rows of the batches sent (at least once)
	Accepted uint64        // rows of the batches the server accepted
	Kept     uint64        // rows written to the failed-batch file
	Batches  uint64        // inserts sent
	Inserts  time.Duration // time spent in inserts, retries included
	// KeyZeroed counts sorting-key times out of range, written as 0.
	KeyZeroed  uint64
	FailedPath string
}

// Stats returns the counts (final once Close has returned).
func (o *Output) Stats() Stats {
	return Stats{Table: o.table.Name, Sent: o.sent.Load(), Accepted: o.accepted.Load(), Kept: o.kept.Load(),
		Batches: o.batchesSent.Load(), Inserts: time.Duration(o.insertNanos.Load()),
		KeyZeroed: o.enc.KeyZeroed, FailedPath: o.failedPath}
}

// Failure is the error that stopped the inserts (nil: every row accepted).
func (o *Output) Failure() error {
	if p := o.fail.Load(); p != nil {
		return *p
	}
	return nil
}
