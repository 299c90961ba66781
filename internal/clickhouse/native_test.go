package clickhouse

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestNativeJSON: the test rows encoded in Native, in one block or in a
// block per row, become the same failed-batch JSON as from RowBinary,
// every value exact; a block of other columns is refused.
func TestNativeJSON(t *testing.T) {
	tb, c := testRowsCollected(t)
	types := make([]*Type, len(tb.Cols))
	for i, col := range tb.Cols {
		types[i], _ = ParseType(col.Type)
	}
	for name, data := range map[string][]byte{"one block": nativeBytes(c.all), "a block per row": bytes.Join(c.perRow, nil)} {
		js, rows, err := AppendJSONRowsNative(nil, tb.Cols, types, data)
		if err != nil || rows != 2 || string(js) != testRowsJSON {
			t.Errorf("%s: %d rows, %v:\n%s", name, rows, err, js)
		}
	}
	other := append([]Col(nil), tb.Cols...)
	other[3].Name = "flowIndex"
	if _, _, err := AppendJSONRowsNative(nil, other, types, nativeBytes(c.all)); err == nil || !strings.Contains(err.Error(), "flowIndex") {
		t.Errorf("other columns: %v", err)
	}
	// A block cut short anywhere is refused.
	all := nativeBytes(c.all)
	for n := 0; n < len(all); n++ {
		if _, _, err := AppendJSONRowsNative(nil, tb.Cols, types, all[:n]); err == nil && n > 0 {
			t.Fatalf("block cut at %d of %d bytes accepted", n, len(all))
		}
	}
}

// TestJSONToNative: the failed-batch file's JSON rows, encoded by the
// table's types as clickhouse-send does (jsonBlock), are byte for byte the
// Native block the run's encoder wrote; bad lines are refused.
func TestJSONToNative(t *testing.T) {
	tb, c := testRowsCollected(t)
	types := make([]*Type, len(tb.Cols))
	for i, col := range tb.Cols {
		types[i], _ = ParseType(col.Type)
	}
	b := newJSONBlock(tb.Cols, types)
	lines := strings.Split(strings.TrimSuffix(testRowsJSON, "\n"), "\n")
	for _, line := range lines {
		if err := b.addRow([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := b.appendTo(nil), nativeBytes(c.all); !bytes.Equal(got, want) {
		t.Errorf("JSON → Native differs:\n%x\n%x", got, want)
	}
	// The block is empty again, and one row is the per-row block.
	if err := b.addRow([]byte(lines[1])); err != nil {
		t.Fatal(err)
	}
	if got := b.appendTo(nil); !bytes.Equal(got, c.perRow[1]) {
		t.Errorf("second row alone:\n%x\n%x", got, c.perRow[1])
	}
	for _, bad := range []string{
		`{"sensor":1}`, // columns missing
		strings.Replace(lines[0], `"empty":null`, `"empty":null,"other":1`, 1), // a column too many
		strings.Replace(lines[0], `"sensor":7`, `"sensor":"7"`, 1),             // a string for a number
		strings.Replace(lines[0], `"sensor":7`, `"sensor":4294967296`, 1),      // beyond UInt32
		`[1,2]`, `{"sensor":`,
	} {
		if err := newJSONBlock(tb.Cols, types).addRow([]byte(bad)); err == nil {
			t.Errorf("accepted: %s", bad)
		}
	}
}

// TestNativeLayout: the bytes of one small column in Native, by hand.
func TestNativeLayout(t *testing.T) {
	tb, c := testRowsCollected(t)
	all := nativeBytes(c.all)
	// 23 columns, 2 rows; then sensor UInt32: 7, 7.
	want := append([]byte{23, 2, 6}, "sensor"...)
	want = append(want, 6)
	want = append(want, "UInt32"...)
	want = append(want, 7, 0, 0, 0, 7, 0, 0, 0)
	if !bytes.HasPrefix(all, want) {
		t.Errorf("starts %x, want %x", all[:len(want)], want)
	}
	// reps Array(Nullable(UInt16)): sizes 2, 2 (cumulative), null map 0 0,
	// values 1, 65535.
	col := append(append([]byte{4}, "reps"...), 23)
	col = append(col, "Array(Nullable(UInt16))"...)
	col = append(col, 2, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0xff, 0xff)
	if !bytes.Contains(all, col) {
		t.Errorf("no column %x in %x", col, all)
	}
	if len(tb.Cols) != 23 {
		t.Fatalf("%d columns", len(tb.Cols))
	}
}

// TestBatchStream: a batch read while it is being filled gives its
// blocks in order, waiting for the next one, up to its end.
func TestBatchStream(t *testing.T) {
	b := newBatch()
	r := &batchReader{b: b}
	got := make(chan []byte)
	go func() {
		var all []byte
		buf := make([]byte, 3)
		for {
			n, err := r.Read(buf)
			all = append(all, buf[:n]...)
			if err != nil {
				got <- all
				return
			}
		}
	}()
	b.add([]byte("first"), 1)
	time.Sleep(10 * time.Millisecond)
	b.add([]byte("second"), 2)
	b.finish()
	if s := string(<-got); s != "firstsecond" || b.rows != 3 {
		t.Errorf("read %q, %d rows", s, b.rows)
	}
	// Closing ends a Read that waits for a block.
	b2 := newBatch()
	r2 := &batchReader{b: b2}
	errc := make(chan error)
	go func() {
		_, err := r2.Read(make([]byte, 8))
		errc <- err
	}()
	time.Sleep(10 * time.Millisecond)
	r2.Close()
	if err := <-errc; err == nil {
		t.Error("a closed reader read on")
	}
}

// FuzzAppendJSONRowsNative: any bytes decode without panicking; the rows
// decoded encode (as clickhouse-send does) and decode back to the same
// JSON.
func FuzzAppendJSONRowsNative(f *testing.F) {
	cols, types := fuzzTypes(f)
	tb, err := NewTable(Flows, "flows", testColumns)
	if err != nil {
		f.Fatal(err)
	}
	enc := NewNativeEncoder(tb, 1, "x")
	f.Add(nativeBytes(enc.newBatch()))
	f.Add([]byte{23, 0})
	f.Add([]byte{23, 200, 1, 6, 's', 'e', 'n', 's', 'o', 'r', 6, 'U', 'I', 'n', 't', '3', '2'})
	f.Fuzz(func(t *testing.T, data []byte) {
		js, _, err := AppendJSONRowsNative(nil, cols, types, data)
		if err != nil {
			return
		}
		b := newJSONBlock(cols, types)
		for _, line := range bytes.Split(bytes.TrimSuffix(js, []byte("\n")), []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			if err := b.addRow(line); err != nil {
				t.Fatalf("decoded row does not encode: %v\n%s", err, line)
			}
		}
		if b.rows == 0 {
			return
		}
		rows := b.rows
		again, n, err := AppendJSONRowsNative(nil, cols, types, b.appendTo(nil))
		if err != nil || n != rows || string(again) != string(js) {
			t.Fatalf("round trip differs (%v, %d rows of %d):\n%s\n%s", err, n, rows, js, again)
		}
	})
}

// FuzzJSONBlock: any line of a failed-batch file is refused or added,
// never a panic; a block of added lines is valid Native that decodes to
// as many rows.
func FuzzJSONBlock(f *testing.F) {
	cols, types := fuzzTypes(f)
	f.Add([]byte(`{"sensor":1}`))
	f.Add([]byte(`{"a":[1,2,{"base64":"AA=="}]}`))
	f.Add([]byte(strings.Split(testRowsJSON, "\n")[0]))
	f.Fuzz(func(t *testing.T, line []byte) {
		b := newJSONBlock(cols, types)
		if b.addRow(line) != nil {
			return
		}
		if _, n, err := AppendJSONRowsNative(nil, cols, types, b.appendTo(nil)); err != nil || n != 1 {
			t.Fatalf("added line does not decode (%v, %d rows): %s", err, n, line)
		}
	})
}
