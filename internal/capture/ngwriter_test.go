package capture

import (
	"bytes"
	"path/filepath"
	"testing"
)

// TestNgWriterRoundTrip: what NgWriter writes reads back record for
// record (nanosecond timestamps, odd lengths, snapped frames).
func TestNgWriterRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.pcapng")
	w, err := CreateNg(path, 1, 262144, "veth0", "flowsift test")
	if err != nil {
		t.Fatal(err)
	}
	in := []Record{
		{TsSec: 1796605902, TsNsec: 163138165, WireLen: 60, Data: bytes.Repeat([]byte{1}, 60)},
		{TsSec: 1796605903, TsNsec: 1, WireLen: 1514, Data: bytes.Repeat([]byte{2}, 97)},
		{TsSec: 1796605903, TsNsec: 999999999, WireLen: 0, Data: nil},
	}
	for i := range in {
		w.Write(&in[i])
	}
	if err := w.Close(&NgStats{StartSec: 1, EndSec: 2, Received: 5, Dropped: 2}); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, errs := readAll(t, f)
	if len(errs) > 0 || len(recs) != len(in) {
		t.Fatalf("%d records, errors %v", len(recs), errMsgs(errs))
	}
	for i, r := range recs {
		want := in[i]
		if r.sec != want.TsSec || r.nsec != want.TsNsec || r.wire != want.WireLen || r.data != string(want.Data) || r.linkType != 1 {
			t.Errorf("record %d: got %+v, want %+v", i, r, want)
		}
	}
	if f.Snaplen() != 262144 || f.LinkType() != 1 {
		t.Errorf("snaplen %d, link type %d", f.Snaplen(), f.LinkType())
	}
}
