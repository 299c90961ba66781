package capture

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"
)

// fuzzRead reads everything a fuzzed input yields and checks the reader's
// invariants; the loop bound catches a Next that stops making progress.
func fuzzRead(t *testing.T, data []byte, mixed bool) {
	f, err := NewReader("fuzz", bytes.NewReader(data))
	if err != nil {
		if _, ok := err.(*Error); !ok {
			t.Fatalf("Open error %T %v", err, err)
		}
		return
	}
	f.AllowMixedInterfaces(mixed)
	var r Record
	limit := len(data) + 10
	if f.gzipped {
		// Deflate expands up to 1032:1 (a 30-byte stream gave 40 records:
		// seed 7c4901537c0a3dc5).
		limit = len(data)*1032 + 10
	}
	for i := 0; ; i++ {
		if i > limit {
			t.Fatalf("more than %d results from %d bytes", i, len(data))
		}
		err := f.Next(&r)
		if err == io.EOF {
			f.Drops() // the statistics blocks read on the way
			break
		}
		if err != nil {
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("Next error %T %v", err, err)
			}
			if e.Record != f.nrec+1 || e.Offset < 0 {
				t.Fatalf("error fields %+v after %d records", e, f.nrec)
			}
			continue
		}
		if int(r.CapLen) != len(r.Data) || r.TsNsec >= 1e9 || r.CapLen > maxSnap(r.LinkType) {
			t.Fatalf("bad record caplen %d len %d nsec %d", r.CapLen, len(r.Data), r.TsNsec)
		}
		if !mixed && r.CapLen > f.Snaplen() {
			t.Fatalf("caplen %d > snaplen %d", r.CapLen, f.Snaplen())
		}
	}
	if !f.gzipped && f.BytesRead() > int64(len(data)) {
		t.Fatalf("BytesRead %d > input %d", f.BytesRead(), len(data))
	}
}

func seedPcaps() [][]byte {
	le, be := binary.LittleEndian, binary.BigEndian
	return [][]byte{
		newPcap(le, magicMicro, 2, 4, 64, 1).rec(1, 2, 3, 3, []byte("abc")).rec(2, 3, 4, 60, []byte("defg")).b,
		newPcap(be, magicNano, 2, 4, 0, 101).rec(1, 999999999, 2, 2, []byte("hi")).b,
		newPcap(le, magicKuz, 2, 4, 4, 113).rec(9, 9, 8, 8, []byte("12345678")).b,
		newPcap(be, magicMicro, 2, 2, 100, 1).rec(5, 6, 60, 4, []byte("wxyz")).b,
	}
}

func seedPcapngs() [][]byte {
	le, be := binary.LittleEndian, binary.BigEndian
	n := (&ngB{}).shb(le)
	n.idb(1, 0, n.opt(9, []byte{0x80 | 20}), n.opt(14, le.AppendUint64(nil, 7)))
	n.epb(0, 1<<40, 3, 3, []byte("abc")).spb(2, []byte("de")).pb(0, 5, 1, 1, []byte("f"))
	n.block(btISB, make([]byte, 8))
	n.shb(be).idb(1, 0, n.opt(9, []byte{12})).epb(0, 1e15, 1, 9, []byte("g"))
	m := (&ngB{}).shb(be).idb(228, 100).idb(229, 0).epb(1, 5, 1, 1, []byte("x")).epb(0, 6, 1, 1, []byte("y"))
	// Interface statistics with kernel drop counters (explain's capture health).
	k := (&ngB{}).shb(le).idb(1, 0)
	k.epb(0, 1, 1, 1, []byte("z")).isb(0, k.opt(5, le.AppendUint64(nil, 3)), k.opt(7, le.AppendUint64(nil, 4)))
	return [][]byte{n.b, m.b, k.b}
}

func FuzzPcap(f *testing.F) {
	for _, s := range seedPcaps() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, data, false)
	})
}

func FuzzPcapng(f *testing.F) {
	for _, s := range seedPcapngs() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, data, false)
		fuzzRead(t, data, true)
	})
}

func FuzzGzip(f *testing.F) {
	f.Add(gz(f, seedPcaps()[0]))
	f.Add(gz(f, seedPcapngs()[0]))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, data, false)
	})
}

// benchInput is a pcap (or pcapng) of n Ethernet-sized records.
func benchInput(ng bool, n int) []byte {
	payload := make([]byte, 1514)
	if ng {
		b := (&ngB{}).shb(binary.LittleEndian).idb(1, 0)
		for i := 0; i < n; i++ {
			l := 60 + i*97%1455
			b.epb(0, uint64(i)*1000, uint32(l), uint32(l), payload[:l])
		}
		return b.b
	}
	p := newPcap(binary.LittleEndian, magicMicro, 2, 4, 0, 1)
	for i := 0; i < n; i++ {
		l := 60 + i*97%1455
		p.rec(uint32(i), 0, uint32(l), uint32(l), payload[:l])
	}
	return p.b
}

func benchNext(b *testing.B, data []byte, perRecord int64) {
	rd := bytes.NewReader(data)
	f, err := NewReader("bench", rd)
	if err != nil {
		b.Fatal(err)
	}
	var r Record
	b.ReportAllocs()
	b.SetBytes(perRecord)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := f.Next(&r); err != nil {
			if err != io.EOF {
				b.Fatal(err)
			}
			b.StopTimer()
			rd.Reset(data)
			if f, err = NewReader("bench", rd); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			i--
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkNext: 0 allocs/op in steady state (records served from the
// bufio buffer without copying).
func BenchmarkNext(b *testing.B) {
	p, ng := benchInput(false, 10000), benchInput(true, 10000)
	b.Run("pcap", func(b *testing.B) { benchNext(b, p, int64(len(p))/10000) })
	b.Run("pcapng", func(b *testing.B) { benchNext(b, ng, int64(len(ng))/10000) })
	b.Run("gzip", func(b *testing.B) { benchNext(b, gz(b, p), int64(len(p))/10000) })
}

func TestNextAllocs(t *testing.T) {
	for _, ng := range []bool{false, true} {
		data := benchInput(ng, 3000)
		f, err := NewReader("allocs", bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		var r Record
		f.Next(&r) // warm up
		if a := testing.AllocsPerRun(2000, func() {
			if err := f.Next(&r); err != nil {
				t.Fatal(err)
			}
		}); a != 0 {
			t.Errorf("pcapng=%v: %v allocs per record", ng, a)
		}
	}
}
