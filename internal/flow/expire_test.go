package flow

import (
	"math/rand"
	"testing"

	"flowsift/internal/decode"
)

// TestExpireFastPathMatchesWalk replays random traffic (pairs, lone flows,
// timeout changes, timestamps that jump back or stand still) through a table
// using Expire's fast path and one that always walks: rows, their order and
// the live flows must be the same.
func TestExpireFastPathMatchesWalk(t *testing.T) {
	for seed := int64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewSource(seed))
		fast, slow := newHarness(t, 0), newHarness(t, 64)
		slow.tab.noFast = true
		fast.tab.capacity = 64 // autopilot too
		sec, nsec := uint64(1000), uint32(0)
		timeouts := []float32{0.1, 10, 120, 182, 610}
		for i := 0; i < 20000; i++ {
			switch r := rng.Intn(100); {
			case r < 60: // small steps
				nsec += uint32(rng.Intn(50e6))
			case r < 70: // same instant
			case r < 80: // back in time
				if sec > 2 {
					sec -= uint64(rng.Intn(3))
				}
				nsec = uint32(rng.Intn(1e9))
			case r < 97:
				sec += uint64(rng.Intn(3))
			default: // long pause
				sec += uint64(rng.Intn(700))
			}
			for nsec >= 1e9 {
				nsec -= 1e9
				sec++
			}
			a := ip4(10, 0, 0, byte(rng.Intn(20)))
			b := ip4(10, 0, 1, byte(rng.Intn(5)))
			sp, dp := uint16(1000+rng.Intn(30)), uint16(80)
			if rng.Intn(2) == 0 {
				a, b, sp, dp = b, a, dp, sp
			}
			var pf, ps *decode.Packet
			if rng.Intn(4) == 0 {
				pf, ps = udp(sec, nsec, a, b, sp, dp), udp(sec, nsec, a, b, sp, dp)
			} else {
				pf, ps = tcp(sec, nsec, a, b, sp, dp, 0x10), tcp(sec, nsec, a, b, sp, dp, 0x10)
			}
			ff, _ := fast.feed(pf)
			fs, _ := slow.feed(ps)
			if rng.Intn(10) == 0 { // what tcpStates does
				T := timeouts[rng.Intn(len(timeouts))]
				ff.Timeout, fs.Timeout = T, T
			}
			if len(fast.rows) != len(slow.rows) {
				t.Fatalf("seed %d packet %d: %d rows with the fast path, %d walking", seed, i, len(fast.rows), len(slow.rows))
			}
		}
		fast.tab.Flush()
		slow.tab.Flush()
		if got, want := fast.rowsString(), slow.rowsString(); got != want {
			t.Fatalf("seed %d: rows differ\nfast: %.300s\nwalk: %.300s", seed, got, want)
		}
		if len(fast.rows) < 100 {
			t.Fatalf("seed %d: only %d rows", seed, len(fast.rows))
		}
	}
}

// TestAdjacentSentinelsStayPut: while no flow is idle for the shortest
// timeout, all sentinels stand together behind the newest flows, and the
// walks must take their fast path. Re-seating each sentinel ahead of the
// others after a walk that stopped at once changed what stood before every
// other sentinel, so that none could skip its walk: each packet walked
// and relinked all but one of them.
func TestAdjacentSentinelsStayPut(t *testing.T) {
	h := newHarness(t, 0)
	a, b, c := ip4(10, 0, 0, 1), ip4(10, 0, 0, 2), ip4(10, 0, 0, 3)
	// An older flow stays the oldest (the one before the sentinels) while
	// a connection of two newer ones goes on.
	h.feed(tcp(1000, 0, c, b, 2000, 80, 0x02))
	h.feed(tcp(1000, 1e6, a, b, 1000, 80, 0x02))
	h.feed(tcp(1000, 2e6, b, a, 80, 1000, 0x12))
	walks := h.tab.walks
	for i := 3; i < 50; i++ {
		if i%2 == 0 {
			h.feed(tcp(1000, uint32(i)*1e6, a, b, 1000, 80, 0x10))
		} else {
			h.feed(tcp(1000, uint32(i)*1e6, b, a, 80, 1000, 0x10))
		}
	}
	if n := h.tab.walks - walks; n != 0 {
		t.Errorf("%d timeout walks over 47 packets, want 0 (%d sentinels)", n, len(h.tab.sentinels))
	}
	if len(h.rows) != 0 {
		t.Errorf("%d rows, want none", len(h.rows))
	}
}
