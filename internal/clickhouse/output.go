package clickhouse

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"flowsift/internal/sink"
)

// Batch bounds: a batch is sent when it holds this many rows or bytes,
// or when its first row is this old. Few large parts cost the server
// less than many small ones (a part's files, merges): in packet mode, 4
// inserts of up to 256k rows instead of 12 of 64k took 2.11 times the
// time of the text file instead of 2.40 (docs/clickhouse.md). The batch
// is held compressed, so its size costs flowsift little memory.
const (
	DefaultBatchRows = 256 << 10
	// batchBytes bounds the encoded bytes of a batch (uncompressed): the
	// server holds the whole batch in memory while it writes the part.
	batchBytes      = 128 << 20
	DefaultBatchAge = time.Second
	// blockRows bounds the rows of a Native block: a batch goes as a
	// stream of blocks, each sent once encoded (but to a Distributed
	// table). After the last row the server still parses the last block:
	// 2048 rows left a median wait of 0.21-0.24 s for the flow batch of
	// the benchmark against 0.28-0.29 s with 8192 (1024: the same, 512:
	// 0.30 s).
	blockRows = 2 << 10
	// sizeEvery is how often (rows) a block's size is summed over its
	// columns.
	sizeEvery = 64
)

// Output is the sink.Output that streams rows of one table to ClickHouse:
// each replayed tape becomes typed rows (sink.RowBuilder), encoded column
// by column (Native) into blocks of up to blockRows rows, compressed (LZ4,
// ClickHouse's own block format). A batch (one insert: one part of a
// MergeTree table) is a stream of blocks: a sender goroutine starts the
// insert with the batch's first row and sends each block as soon as it is
// complete, so that the server parses the rows while flowsift still makes
// them and only has to write the part once the last block is in. When
// that streamed attempt fails, the whole batch is sent again, retrying.
// Once a batch is finally refused, this batch and every later one are
// written to the failed-batch file instead (JSON Lines that
// clickhouse-send re-sends), and the run ends with status 1.
type Output struct {
	client *Client
	table  *Table
	enc    *NativeEncoder
	rb     *sink.RowBuilder
	query  string
	types  []*Type
	// FailedPath is the failed-batch file (created on the first failure).
	failedPath string
	batchRows  int
	batchAge   time.Duration
	blockRows  int

	mu       sync.Mutex   // guards the fields below (the age timer reads them)
	cur      *batch       // the batch being filled; nil until its first row
	curSince time.Time    // its first row's time
	curBytes int          // its complete blocks' bytes, uncompressed
	block    *nativeBatch // the block being filled
	bw       blockWriter  // compresses a complete block

	batches chan *batch
	stop    chan struct{}
	done    chan struct{}
	closed  bool

	sent, accepted, kept atomic.Uint64
	batchesSent          atomic.Uint64
	insertNanos          atomic.Int64 // waited for the server once batches were complete
	fail                 atomic.Pointer[error]
}

// batch is the compressed Native blocks of one insert, appended by the
// encoder while the sender reads them.
type batch struct {
	mu     sync.Mutex
	more   sync.Cond // a block was added, or the batch completed
	blocks [][]byte
	rows   int
	done   bool
	doneAt time.Time
}

func newBatch() *batch {
	b := &batch{}
	b.more.L = &b.mu
	return b
}

func (b *batch) add(z []byte, rows int) {
	b.mu.Lock()
	b.blocks = append(b.blocks, z)
	b.rows += rows
	b.mu.Unlock()
	b.more.Broadcast()
}

func (b *batch) finish() {
	b.mu.Lock()
	b.done, b.doneAt = true, time.Now()
	b.mu.Unlock()
	b.more.Broadcast()
}

// wait returns once the batch is complete.
func (b *batch) wait() {
	b.mu.Lock()
	for !b.done {
		b.more.Wait()
	}
	b.mu.Unlock()
}

// bytes is the complete batch's body.
func (b *batch) bytes() []byte {
	var out []byte
	for _, z := range b.blocks {
		out = append(out, z...)
	}
	return out
}

// batchReader reads a batch's blocks as they come, up to its end.
type batchReader struct {
	b      *batch
	block  int // blocks read whole
	off    int // in the next one
	closed bool
}

func (r *batchReader) Read(p []byte) (int, error) {
	b := r.b
	b.mu.Lock()
	defer b.mu.Unlock()
	for r.block == len(b.blocks) && !b.done && !r.closed {
		b.more.Wait()
	}
	if r.closed {
		return 0, io.ErrClosedPipe
	}
	if r.block == len(b.blocks) {
		return 0, io.EOF
	}
	n := copy(p, b.blocks[r.block][r.off:])
	r.off += n
	if r.off == len(b.blocks[r.block]) {
		r.block, r.off = r.block+1, 0
	}
	return n, nil
}

// Close ends a Read waiting for a block (the request is over).
func (r *batchReader) Close() error {
	r.b.mu.Lock()
	r.closed = true
	r.b.mu.Unlock()
	r.b.more.Broadcast()
	return nil
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
	o := &Output{client: c, table: t, enc: NewNativeEncoder(t, cfg.Sensor, cfg.Capture), rb: sink.NewRowBuilder(t.Shapes),
		query:      "INSERT INTO " + quote(t.Name) + " (" + t.ColumnNames() + ") FORMAT Native",
		failedPath: cfg.FailedPath, batchRows: cfg.BatchRows, batchAge: cfg.BatchAge,
		batches: make(chan *batch, 1), stop: make(chan struct{}), done: make(chan struct{})}
	if o.batchRows <= 0 {
		o.batchRows = DefaultBatchRows
	}
	if o.batchAge <= 0 {
		o.batchAge = DefaultBatchAge
	}
	o.blockRows = blockRows
	if t.distributed {
		// With insert_distributed_sync=1 the server forwards each block
		// to the shards as it comes, each a part and each accepted on its
		// own (a retry would repeat the blocks before a failure): a batch
		// goes as one block, all or nothing on each shard.
		o.blockRows = o.batchRows
	}
	o.block = o.enc.newBatch()
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

// row encodes one row into the current block (o.mu held).
func (o *Output) row(r *sink.Row) {
	if o.cur == nil {
		// The sender takes the batch at once, unless it is still busy
		// with the previous one and another is queued: a slow server
		// slows the run down instead of filling memory.
		o.cur, o.curSince, o.curBytes = newBatch(), time.Now(), 0
		o.batches <- o.cur
	}
	b := o.block
	o.enc.Append(b, r)
	rows := o.cur.rows + b.rows
	full := rows >= o.batchRows
	if b.rows%sizeEvery == 0 && o.curBytes+b.size() >= batchBytes {
		full = true
	}
	if full {
		o.handOff()
	} else if b.rows >= o.blockRows {
		o.closeBlock()
	}
}

// closeBlock compresses the block being filled and adds it to the batch
// (o.mu held).
func (o *Output) closeBlock() {
	o.bw.reset()
	o.block.writeTo(&o.bw)
	o.curBytes += o.block.size()
	o.cur.add(append([]byte(nil), o.bw.finish()...), o.block.rows)
	o.block.reset()
}

// handOff completes the current batch (o.mu held).
func (o *Output) handOff() {
	if o.cur == nil {
		return
	}
	if o.block.rows > 0 {
		o.closeBlock()
	}
	o.cur.finish()
	o.cur = nil
}

// timer completes a batch whose first row is older than the age bound
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
			if o.cur != nil && time.Since(o.curSince) >= o.batchAge {
				o.handOff()
			}
			o.mu.Unlock()
		}
	}
}

// send is the sender goroutine.
func (o *Output) send() {
	defer close(o.done)
	for bt := range o.batches {
		if o.fail.Load() == nil {
			o.insert(bt)
		}
		if o.fail.Load() != nil {
			bt.wait()
			if err := o.keep(bt); err != nil {
				e := fmt.Errorf("%v; and the rows could not be kept: %v", *o.fail.Load(), err)
				o.fail.Store(&e)
			}
		}
	}
}

// insert sends a batch: first as it is being made, then, when that
// fails, whole, retrying.
func (o *Output) insert(bt *batch) {
	attempts := 0
	start := time.Now()
	n, err := o.client.retry(context.Background(), false, func() error {
		attempts++
		if attempts == 1 {
			r := &batchReader{b: bt}
			err := o.client.insertFrom(context.Background(), o.query, r)
			r.Close()
			bt.wait() // an error can come before the last block
			return err
		}
		return o.client.insert(context.Background(), o.query, bt.bytes())
	})
	o.sent.Add(uint64(bt.rows))
	o.batchesSent.Add(1)
	o.insertNanos.Add(int64(time.Since(bt.doneAt)))
	if err == nil {
		o.accepted.Add(uint64(bt.rows))
		return
	}
	e := fmt.Errorf("ClickHouse %s: table %s: batch of %d rows not accepted (%d attempts in %.1f s): %v",
		o.client.String(), o.table.Name, bt.rows, n, time.Since(start).Seconds(), err)
	o.fail.Store(&e)
}

// keep appends a complete batch not accepted to the failed-batch file, as
// JSON Lines.
func (o *Output) keep(bt *batch) error {
	var out []byte
	for _, z := range bt.blocks {
		block, err := decompressNative(z)
		if err != nil {
			return err
		}
		if out, _, err = AppendJSONRowsNative(out, o.table.Cols, o.types, block); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(o.failedPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
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
	Inserts  time.Duration // waited for the server once batches were complete, retries included
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
