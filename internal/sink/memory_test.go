package sink

import (
	"net/netip"
	"testing"

	"flowsift/internal/column"
)

var memCols = []column.Column{
	{Name: "dir", Type: "C"}, {Name: "flowInd", Type: "U64"}, {Name: "srcIP", Type: "IPX"},
	{Name: "skip", Type: "S"}, {Name: "rtt", Type: "D"}, {Name: "ttls", Type: "H64:R"},
	{Name: "class", Type: "SC"}, {Name: "when", Type: "U64.U32"},
}

// writeRow writes one row of memCols.
func writeMemRow(w *Recorder, dir byte, ind uint64, ip *[16]byte, ver uint8) {
	w.Col()
	w.Dir(dir)
	w.Col()
	w.U(ind)
	w.Col()
	w.IP(ver, ip)
	w.Col()
	w.StrString("not kept")
	w.Col()
	w.F64(0.25)
	w.Col()
	w.H(1, 16)
	w.Rep()
	w.H(0xff, 16)
	w.Col()
	w.StrClassString("retx")
	w.Col()
	w.Time(10, 5e8)
	w.EndRow()
}

func TestRecorderTable(t *testing.T) {
	r := NewRecorder(memCols, []string{"dir", "flowInd", "srcIP", "rtt", "ttls", "class", "when"})
	a4 := [16]byte{10, 0, 0, 1}
	a6 := [16]byte{0xfd, 0, 15: 2}
	writeMemRow(r, 'A', 7, &a4, 4)
	writeMemRow(r, 'B', 7, &a6, 6)
	writeMemRow(r, 'A', 8, nil, 0)
	tb := r.Table(memCols)
	if tb.Len() != 3 {
		t.Fatalf("%d rows, want 3", tb.Len())
	}
	if v := tb.Value(1, "dir"); v.U != 'B' {
		t.Errorf("dir = %v", v)
	}
	if v := tb.Value(2, "flowInd"); v.Kind != 'U' || v.U != 8 {
		t.Errorf("flowInd = %+v", v)
	}
	if got := tb.Value(0, "srcIP").Addr; got != netip.MustParseAddr("10.0.0.1") {
		t.Errorf("srcIP row 0 = %v", got)
	}
	if got := tb.Value(1, "srcIP").Addr; got != netip.MustParseAddr("fd00::2") {
		t.Errorf("srcIP row 1 = %v", got)
	}
	if got := tb.Value(2, "srcIP"); got.Kind != 'A' || got.Addr.IsValid() {
		t.Errorf("srcIP row 2 = %+v, want an invalid address", got)
	}
	if got := tb.Cell(0, "skip"); len(got) != 0 {
		t.Errorf("a column not kept has values %v", got)
	}
	if got := tb.Value(0, "rtt").F; got != 0.25 {
		t.Errorf("rtt = %v", got)
	}
	cell := tb.Cell(0, "ttls")
	if len(cell) != 3 || cell[0].U != 1 || cell[1].Kind != 'R' || cell[2].U != 0xff {
		t.Errorf("ttls = %+v", cell)
	}
	if got := tb.Value(0, "class").S; got != "retx" {
		t.Errorf("class = %q", got)
	}
	if got := tb.Value(0, "when"); got.U != 10 || got.Nsec != 5e8 || got.F != 10.5 {
		t.Errorf("when = %+v", got)
	}
	if got := tb.Value(0, "nosuch"); got.Kind != 0 {
		t.Errorf("unknown column = %+v", got)
	}
}

func TestRecorderKeepRowsOfOneFlow(t *testing.T) {
	r := NewRecorder(memCols, nil)
	r.KeepCol, r.KeepValue = 1, 8
	a := [16]byte{1, 2, 3, 4}
	for i := uint64(0); i < 10; i++ {
		writeMemRow(r, 'A', 7+i%2, &a, 4)
	}
	tb := r.Table(memCols)
	if tb.Len() != 5 {
		t.Fatalf("%d rows kept, want 5", tb.Len())
	}
	for i := 0; i < tb.Len(); i++ {
		if got := tb.Value(i, "flowInd").U; got != 8 {
			t.Errorf("row %d: flowInd %d", i, got)
		}
		if got := tb.Value(i, "skip").S; got != "not kept" {
			t.Errorf("row %d: skip %q (all columns are kept with want nil)", i, got)
		}
	}
}

func TestRecorderStream(t *testing.T) {
	r := NewRecorder(memCols, []string{"flowInd"})
	var got []uint64
	r.Stream(memCols, func(row *Table) {
		if row.Len() != 1 {
			t.Errorf("a streamed table holds %d rows", row.Len())
		}
		got = append(got, row.Value(0, "flowInd").U)
	})
	a := [16]byte{1, 2, 3, 4}
	const n = 20000 // several tapes
	for i := uint64(1); i <= n; i++ {
		writeMemRow(r, 'A', i, &a, 4)
	}
	r.Close()
	r.Close() // idempotent
	if len(got) != n {
		t.Fatalf("%d rows streamed, want %d", len(got), n)
	}
	for i, v := range got {
		if v != uint64(i+1) {
			t.Fatalf("row %d: flowInd %d", i, v)
		}
	}
}

// Recording a row allocates nothing once the tape has grown (the packet
// rows of explain --flow go through it for every packet).
func TestRecorderNoAllocs(t *testing.T) {
	r := NewRecorder(memCols, nil)
	r.KeepCol, r.KeepValue = 1, 99
	a := [16]byte{1, 2, 3, 4}
	writeMemRow(r, 'A', 99, &a, 4)
	if n := testing.AllocsPerRun(1000, func() { writeMemRow(r, 'A', 1, &a, 4) }); n != 0 {
		t.Errorf("%.1f allocations per dropped row", n)
	}
	r2 := NewRecorder(memCols, []string{"flowInd"})
	for i := 0; i < 2000; i++ {
		writeMemRow(r2, 'A', 1, &a, 4)
	}
	r2.b = r2.b[:0]
	r2.rowStart = 0
	if n := testing.AllocsPerRun(1000, func() { writeMemRow(r2, 'A', 1, &a, 4) }); n != 0 {
		t.Errorf("%.1f allocations per kept row", n)
	}
}

// BenchmarkRecorderStreamWide records and streams rows shaped like those
// of flowsift explain: 160 columns, half of them kept.
func BenchmarkRecorderStreamWide(b *testing.B) {
	var cols []column.Column
	var want []string
	for i := 0; i < 160; i++ {
		name := "c" + string(rune('A'+i/26)) + string(rune('a'+i%26))
		cols = append(cols, column.Column{Name: name, Type: "U64"})
		if i%2 == 0 {
			want = append(want, name)
		}
	}
	r := NewRecorder(cols, want)
	var sum uint64
	r.Stream(cols, func(row *Table) {
		for c := 0; c < len(cols); c += 2 {
			sum += row.CellAt(0, c)[0].U
		}
	})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for c := range cols {
			r.Col()
			r.U(uint64(i + c))
		}
		r.EndRow()
	}
	r.Close()
}
