package engine

import (
	"io"
	"os"
	"syscall"
	"testing"
)

// TestInterruptSequence drives the signal loop with injected signals: the
// first sets the stop flag and the status, the second runs the abort hook
// (outputs renamed *.partial) and exits at once with the first signal's
// status.
func TestInterruptSequence(t *testing.T) {
	for _, c := range []struct {
		first, second os.Signal
		status        int
		name          string
	}{
		{syscall.SIGINT, syscall.SIGINT, ExitSIGINT, "SIGINT"},
		{syscall.SIGTERM, syscall.SIGINT, ExitSIGTERM, "SIGTERM"},
	} {
		exited := make(chan int, 1)
		aborted := make(chan bool, 1)
		in := &interrupt{done: make(chan struct{}), ch: make(chan os.Signal, 2), quit: make(chan struct{}),
			exit: func(code int) { exited <- code }}
		abort := func() { aborted <- true }
		in.abort.Store(&abort)
		go in.loop(io.Discard)
		if in.interrupted() || in.status() != 0 {
			t.Fatal("interrupted before any signal")
		}
		in.ch <- c.first
		<-in.done
		if !in.interrupted() || in.status() != c.status || in.name() != c.name {
			t.Errorf("%s: interrupted %v, status %d, name %s", c.name, in.interrupted(), in.status(), in.name())
		}
		in.ch <- c.second
		// The immediate exit uses the second signal's number.
		if code := <-exited; code != 128+int(c.second.(syscall.Signal)) {
			t.Errorf("%s then %s: exit %d", c.first, c.second, code)
		}
		if !<-aborted {
			t.Error("abort hook not run")
		}
	}
}
