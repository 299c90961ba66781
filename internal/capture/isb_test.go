package capture

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// isb builds an Interface Statistics Block body with the given options.
func (n *ngB) isb(ifID uint32, opts ...[]byte) *ngB {
	var body []byte
	body = n.bo.AppendUint32(body, ifID)
	body = n.bo.AppendUint32(body, 0)
	body = n.bo.AppendUint32(body, 0)
	for _, o := range opts {
		body = append(body, o...)
	}
	if len(opts) > 0 {
		body = append(body, 0, 0, 0, 0)
	}
	return n.block(btISB, body)
}

func TestInterfaceStatisticsDrops(t *testing.T) {
	u64 := func(bo order, v uint64) []byte { return bo.AppendUint64(nil, v) }
	for _, bo := range []order{binary.LittleEndian, binary.BigEndian} {
		n := (&ngB{}).shb(bo).idb(1, 0).idb(1, 0)
		d := bytes.Repeat([]byte{1}, 20)
		n.epb(0, 1, 20, 20, d)
		// Cumulative counters: the last block of an interface counts.
		n.isb(0, n.opt(5, u64(bo, 3)), n.opt(7, u64(bo, 1)))
		n.isb(0, n.opt(2, []byte("comment")), n.opt(5, u64(bo, 7)), n.opt(7, u64(bo, 2)))
		n.isb(1, n.opt(5, u64(bo, 10)))
		n.isb(9, n.opt(5, u64(bo, 100)))    // no such interface: ignored
		n.isb(1, n.opt(5, []byte{1, 2, 3})) // wrong size: ignored
		n.block(btISB, []byte{0, 0, 0})     // too short: ignored
		n.isb(0, n.opt(5, u64(bo, 7))[:4])  // truncated option: ignored
		n.epb(1, 2, 20, 20, d)
		f, err := NewReader("isb", bytes.NewReader(n.b))
		if err != nil {
			t.Fatal(err)
		}
		if have, _, _ := f.Drops(); have {
			t.Fatal("drops reported before any statistics block")
		}
		recs, errs := readAll(t, f)
		if len(recs) != 2 || len(errs) != 0 {
			t.Fatalf("%d records, errors %v", len(recs), errs)
		}
		have, ifDrop, osDrop := f.Drops()
		if !have || ifDrop != 17 || osDrop != 2 {
			t.Errorf("Drops() = %v %d %d, want true 17 2", have, ifDrop, osDrop)
		}
	}
}

func TestNoStatisticsNoDrops(t *testing.T) {
	n := (&ngB{}).shb(binary.LittleEndian).idb(1, 0)
	n.epb(0, 1, 4, 4, []byte{1, 2, 3, 4})
	f, err := NewReader("x", bytes.NewReader(n.b))
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, f)
	if have, a, b := f.Drops(); have || a != 0 || b != 0 {
		t.Errorf("Drops() = %v %d %d without statistics blocks", have, a, b)
	}
}
