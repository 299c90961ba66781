package engine

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"flowsift/internal/capture"
	"flowsift/internal/report"
)

// Exit statuses of a run (README "Exit status").
const (
	ExitOK       = 0   // every input read completely, every output written
	ExitFailed   = 1   // no input could be read at all, or output could not be written
	ExitUsage    = 2   // bad command line (cli)
	ExitDamaged  = 3   // some input was damaged or unreadable; what was read is written
	ExitSIGINT   = 130 // interrupted by SIGINT (128+2); what was read is written
	ExitSIGTERM  = 143 // interrupted by SIGTERM (128+15)
	stopGraceDur = time.Second
)

// interrupt turns SIGINT/SIGTERM into a request to stop reading: the
// reader sees flag (one atomic load per record, through
// capture.File.SetStop), the run then writes every open flow and the end
// report as at the end of the input. A second signal exits at once, after
// renaming the output files to NAME.partial.
type interrupt struct {
	flag atomic.Bool
	sig  atomic.Int32  // number of the first signal
	done chan struct{} // closed on the first signal
	ch   chan os.Signal
	quit chan struct{}
	// abort runs before the immediate exit of a second signal.
	abort atomic.Pointer[func()]
	exit  func(int)
}

// watchSignals starts listening for SIGINT and SIGTERM until stop.
func watchSignals(stderr io.Writer, colour bool) *interrupt {
	in := &interrupt{done: make(chan struct{}), ch: make(chan os.Signal, 2),
		quit: make(chan struct{}), exit: os.Exit}
	signal.Notify(in.ch, os.Interrupt, syscall.SIGTERM)
	go in.loop(stderr, colour)
	return in
}

func (in *interrupt) loop(stderr io.Writer, colour bool) {
	for {
		select {
		case s := <-in.ch:
			n := int32(syscall.SIGINT)
			if s == syscall.SIGTERM {
				n = int32(syscall.SIGTERM)
			}
			if in.flag.Load() {
				// The main goroutine may be writing to stderr too; the
				// process ends right after, so the interleaving is harmless.
				fmt.Fprintln(stderr, report.ErrLine("second signal: exiting at once; the output files are incomplete and renamed *.partial", colour))
				if f := in.abort.Load(); f != nil {
					(*f)()
				}
				in.exit(128 + int(n))
				return
			}
			in.sig.Store(n)
			in.flag.Store(true)
			close(in.done)
		case <-in.quit:
			return
		}
	}
}

// stop ends the signal handling (the run is over).
func (in *interrupt) stop() {
	signal.Stop(in.ch)
	close(in.quit)
}

// interrupted reports whether a first signal arrived.
func (in *interrupt) interrupted() bool { return in != nil && in.flag.Load() }

// name is the first signal's name.
func (in *interrupt) name() string {
	if in.sig.Load() == int32(syscall.SIGTERM) {
		return "SIGTERM"
	}
	return "SIGINT"
}

// status is the exit status for the first signal, 0 if none.
func (in *interrupt) status() int {
	switch in.sig.Load() {
	case 0:
		return 0
	case int32(syscall.SIGTERM):
		return ExitSIGTERM
	}
	return ExitSIGINT
}

// nextBatch receives the reader's next batch. After a signal the reader
// ends at its next record; if it is blocked in a read (a quiet pipe), it
// is abandoned after a grace period and nil is returned.
func (r *runner) nextBatch(full <-chan *batch) *batch {
	in := r.intr
	if in == nil {
		return <-full
	}
	select {
	case b := <-full:
		return b
	case <-in.done:
	}
	t := time.NewTimer(stopGraceDur)
	defer t.Stop()
	select {
	case b := <-full:
		return b
	case <-t.C:
		return nil
	}
}

// noteInterrupt reports where reading stopped (stderr and end report).
func (r *runner) noteInterrupt(path string, bytesRead int64) {
	msg := fmt.Sprintf("%s: interrupted by %s after %d packets, at byte %d: flows so far are written",
		path, r.intr.name(), r.c.Packets, bytesRead)
	r.warnLine(msg)
	r.rep.Warn("interrupted by " + r.intr.name())
}

// setStop makes a capture file stop at the next record after a signal.
// Stdin is left to its stopReader, which first hands over what was
// already read from the pipe.
func (r *runner) setStop(f *capture.File, path string) {
	if path != "-" {
		f.SetStop(&r.intr.flag)
	}
}

// open opens an input. Stdin is read through a stopReader so that a
// signal also ends a read blocked on a quiet pipe: the packets already
// read are then processed and written like at the end of the input.
func (r *runner) open(path string) (*capture.File, error) {
	if path != "-" || r.intr == nil {
		return capture.Open(path)
	}
	return capture.NewReader("stdin", newStopReader(os.Stdin, r.intr.done))
}

// stopReader reads src in a pump goroutine. Once stop is closed, Read
// returns what the pump already read (at most two chunks), then io.EOF,
// even while the pump is blocked in src.Read.
type stopReader struct {
	stop <-chan struct{}
	data chan []byte // chunks read, closed after an error (err)
	free chan []byte // empty chunks for the pump
	err  error
	buf  []byte // the chunk being consumed (returned to free when empty)
	cur  []byte // its unread part
	// delivering is set from the end of a src.Read until its chunk is
	// on data, so that a stop does not miss bytes already taken from src.
	delivering atomic.Bool
}

const stopChunk = 64 << 10

func newStopReader(src io.Reader, stop <-chan struct{}) *stopReader {
	// Two chunks, channels of capacity two: the pump never blocks on a
	// send, only on src and on free.
	s := &stopReader{stop: stop, data: make(chan []byte, 2), free: make(chan []byte, 2)}
	s.free <- make([]byte, stopChunk)
	s.free <- make([]byte, stopChunk)
	go s.pump(src)
	return s
}

func (s *stopReader) pump(src io.Reader) {
	for {
		var b []byte
		select {
		case b = <-s.free:
		case <-s.stop:
			return
		}
		n, err := src.Read(b[:cap(b)])
		s.delivering.Store(true)
		if n > 0 {
			s.data <- b[:n]
		} else {
			s.free <- b
		}
		s.delivering.Store(false)
		if err != nil {
			s.err = err // published by the close below
			close(s.data)
			return
		}
	}
}

func (s *stopReader) Read(p []byte) (int, error) {
	if len(s.cur) == 0 {
		if s.buf != nil {
			s.free <- s.buf[:0]
			s.buf = nil
		}
		var b []byte
		ok := true
		select {
		case b, ok = <-s.data:
		default:
			select {
			case b, ok = <-s.data:
			case <-s.stop:
				// Hand over what was already taken from src, then end.
				for {
					select {
					case b, ok = <-s.data:
					default:
						if s.delivering.Load() {
							runtime.Gosched()
							continue
						}
						return 0, io.EOF
					}
					break
				}
			}
		}
		if !ok {
			return 0, s.err
		}
		s.buf, s.cur = b, b
	}
	n := copy(p, s.cur)
	s.cur = s.cur[n:]
	return n, nil
}
