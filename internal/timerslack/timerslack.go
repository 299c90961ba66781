// Package timerslack sets the process's timer slack to 1 ns before the Go
// runtime starts its threads (a C constructor: every thread inherits the
// value of the thread that creates it, and the runtime creates some before
// any Go code of ours runs). Imported for that effect by the command.
//
// Why: an idle processor looking for work that finds a goroutine just made
// ready on the other processor (the capture reader, woken by a returned
// batch) backs off with usleep(3) before taking it. Linux adds the
// thread's timer slack, 50 µs by default, to such a sleep: each hand-off
// then waited 50-60 µs instead of 3 µs. With 1 ns, flow mode took 0.90-0.94x
// and packet mode 0.93-0.97x the wall time at the same CPU time
// (docs/performance.md). Without cgo, or off Linux, nothing is set.
package timerslack

// Enabled tells whether this build sets the timer slack (cgo on Linux).
const Enabled = enabled
