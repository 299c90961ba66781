package engine

import (
	"bytes"
	"strings"
	"testing"

	"flowsift/internal/capture"
	"flowsift/internal/decode"
	"flowsift/internal/pcapgen"
	"flowsift/internal/report"
)

// TestDecodePanicSafetyNet: a dissector that panics
// turns each frame into a packet without flow with bit 43, the reader
// carries on to the end of the file, and the run reports the first
// failure with its record number and offset and counts the input as
// damaged.
func TestDecodePanicSafetyNet(t *testing.T) {
	var in bytes.Buffer
	w, _ := pcapgen.NewWriter(&in, pcapgen.LinkEthernet, 65535)
	fr := pcapgen.Frame{Src: []byte{1, 2, 3, 4}, Dst: []byte{5, 6, 7, 8}, Proto: 17, SrcPort: 1, DstPort: 2}
	for i := 0; i < 3; i++ {
		w.WritePacket(uint32(i), 0, fr.Build(nil), 0)
	}
	w.Flush()
	f, err := capture.NewReader("in.pcap", &in)
	if err != nil {
		t.Fatal(err)
	}
	free, full := newBatches()
	rd := &reader{f: f, dec: decode.NewDecoder(decode.DefaultConfig()), free: free, full: full}
	rd.guard.decode = func(p *decode.Packet) {
		p.Kind = decode.KindIPv4 // half-done work the safety net must undo
		_ = p.Data[len(p.Data)+int(p.CapLen)]
	}
	go rd.run()
	n := 0
	for {
		b := <-full
		for i := 0; i < b.n; i++ {
			p := &b.pkts[i]
			if p.Kind != decode.KindNone || p.Status != decode.StatStopDissect || p.CapLen == 0 {
				t.Errorf("packet %d: kind %d status %#x caplen %d", n, p.Kind, p.Status, p.CapLen)
			}
			n++
		}
		if b.eof {
			break
		}
		free <- b
	}
	if n != 3 || rd.guard.panics != 3 {
		t.Fatalf("%d packets, %d panics; want 3 and 3", n, rd.guard.panics)
	}
	var stderr, rep strings.Builder
	r := &runner{stderr: &stderr, rep: &report.Report{W: &rep}}
	r.reportDecodePanics(rd, "in.pcap")
	if !strings.Contains(stderr.String(), "in.pcap: record 1 at byte 24: internal error while dissecting the frame") ||
		!strings.Contains(stderr.String(), "(and 2 more frames)") || !r.c.Incomplete {
		t.Errorf("stderr %q, incomplete %v", stderr.String(), r.c.Incomplete)
	}
	if !strings.Contains(rep.String(), "3 frames could not be dissected") {
		t.Errorf("report %q", rep.String())
	}
}
