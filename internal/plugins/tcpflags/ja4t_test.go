package tcpflags

import (
	"strings"
	"testing"
)

// TestJA4TBeyondInline: retransmitted SYNs add their option kinds up to
// JA4TOPTMX; kinds past the per-flow record's 20 live in the side store,
// per flow.
func TestJA4TBeyondInline(t *testing.T) {
	kinds := func(one string, reps, max int) string {
		k := strings.Split(strings.TrimSuffix(strings.Repeat(one+"-", reps), "-"), "-")
		if len(k) > max {
			k = k[:max]
		}
		return strings.Join(k, "-")
	}
	for _, max := range []int{255, 20, 23} {
		cfg := defaultConfig()
		cfg.ja4tMax = max
		c := newConv(t, cfg)
		for i := 0; i < 5; i++ {
			c.send(seg{t: float64(i), flags: fSYN, seq: 1000, win: 64240, opts: synOpts(100, 0)})
			c.send(seg{fromB: true, t: float64(i) + 0.01, flags: fSYN | fACK, seq: 5000, ack: 1001, win: 65160, opts: cat([]byte{1, 1, 1, 1}, synOpts(200, 100))})
		}
		a, b := c.flowRow(c.a), c.flowRow(c.b)
		expect(t, "A tcpJA4T", a["tcpJA4T"], "64240_"+kinds("2-4-8-1-3", 5, max)+"1460_7")
		expect(t, "B tcpJA4T", b["tcpJA4T"], "65160_"+kinds("1-1-1-1-2-4-8-1-3", 5, max)+"1460_7")
	}
}
