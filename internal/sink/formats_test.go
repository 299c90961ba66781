package sink

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"flowsift/internal/column"
)

// TestFormatsEdgeCells: one set of tricky cells through the text, CSV and
// JSON Lines writers: quoting, escapes, invalid UTF-8, non-finite floats,
// empty cells and lists, compounds, raw and l7Content strings.
func TestFormatsEdgeCells(t *testing.T) {
	cols := []column.Column{
		{Name: "s", Type: "S"},
		{Name: "sc", Type: "SC"},
		{Name: "f", Type: "F"},
		{Name: "d", Type: "D", Text: column.TextFixed9},
		{Name: "u", Type: "U16"},
		{Name: "h", Type: "H8_H32"},
		{Name: "r", Type: "U8:R"},
		{Name: "ip", Type: "IPX"},
		{Name: "t", Type: "U64.U32"},
		{Name: "raw", Type: "SC", Text: column.TextRaw},
		{Name: "l7", Type: "SC", Text: column.TextContent},
	}
	var text, csv, js bytes.Buffer
	j, err := NewJSONL(&js, cols, false)
	if err != nil {
		t.Fatal(err)
	}
	a := NewAsyncOutputs(NewTextOutput(&text), NewCSVOutput(&csv, column.Names(cols)), j)
	a.WriteString("%header\n")
	row := func(s, sc string, f float32, d float64, u bool, reps int, raw, l7 string) {
		a.Col()
		a.StrString(s)
		a.Col()
		a.StrClassString(sc)
		a.Col()
		a.F32(f)
		a.Col()
		a.Fixed9(d)
		a.Col()
		if u {
			a.U(7)
		}
		a.Col()
		a.H(0x1f, 2)
		a.Sub()
		a.H(2, 8)
		a.Col()
		for i := 0; i < reps; i++ {
			if i > 0 {
				a.Rep()
			}
			a.U(uint64(i))
		}
		a.Col()
		a.IP(0, nil)
		a.Col()
		a.Time(1700000000, 5)
		a.Col()
		a.RawString(raw)
		a.Col()
		a.Content([]byte(l7))
		a.EndRow()
	}
	row(`a "q", b`, "x\ty\xff", float32(math.NaN()), math.Inf(-1), false, 0, "r,1", "GET /\r\n\"x\"")
	row("é", "", 3, 0.5, true, 3, "", "")
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	wantText := "%header\n" +
		"\"a \\\"q\\\", b\"\tx\\ty.\tnan\t-inf\t\t0x1f_0x00000002\t\t-\t1700000000.000000005\tr,1\tGET /\\r\\n\"x\"\n" +
		"\"é\"\t\t3\t0.500000000\t7\t0x1f_0x00000002\t0;1;2\t-\t1700000000.000000005\t\t\n"
	if text.String() != wantText {
		t.Errorf("text:\n%q\nwant\n%q", text.String(), wantText)
	}
	wantCSV := "s,sc,f,d,u,h,r,ip,t,raw,l7\r\n" +
		"\"\"\"a \\\"\"q\\\"\", b\"\"\",x\\ty.,nan,-inf,,0x1f_0x00000002,,-,1700000000.000000005,\"r,1\",\"GET /\\r\\n\"\"x\"\"\"\r\n" +
		"\"\"\"é\"\"\",,3,0.500000000,7,0x1f_0x00000002,0;1;2,-,1700000000.000000005,,\r\n"
	if csv.String() != wantCSV {
		t.Errorf("csv:\n%q\nwant\n%q", csv.String(), wantCSV)
	}
	wantJSON := `{"s":"a \"q\", b","sc":"x\ty.","f":"nan","d":"-inf","u":null,"h":[31,2],"r":[],"ip":"-","t":1700000000.000000005,"raw":"r,1","l7":"GET /\\r\\n\"x\""}` + "\n" +
		`{"s":"é","sc":"","f":3.0,"d":0.500000000,"u":7,"h":[31,2],"r":[0,1,2],"ip":"-","t":1700000000.000000005,"raw":"","l7":""}` + "\n"
	if js.String() != wantJSON {
		t.Errorf("jsonl:\n%s\nwant\n%s", js.String(), wantJSON)
	}
}

// TestParquetInPlace: a Parquet file written in place (NewRows with
// inPlace, without a tape) is byte for byte the one written through
// Async: compounds, lists, addresses of every version, MACs, l7Content
// (formatted by the compression goroutine in both), and values a
// declaration has no room for or another type.
func TestParquetInPlace(t *testing.T) {
	cols := []column.Column{
		{Name: "dir", Type: "C"},
		{Name: "u", Type: "U16"},
		{Name: "big", Type: "U64"},
		{Name: "h", Type: "H8_H32"},
		{Name: "r", Type: "U8:R"},
		{Name: "opts", Type: "H8:R"},
		{Name: "ip", Type: "IPX"},
		{Name: "ip4", Type: "IP4"},
		{Name: "mac", Type: "MAC"},
		{Name: "t", Type: "U64.U32"},
		{Name: "dur", Type: "U64.U32", Duration: true},
		{Name: "f", Type: "F"},
		{Name: "s", Type: "S"},
		{Name: "l7", Type: "SC", Text: column.TextContent},
	}
	write := func(w Rows, n int) {
		for i := 0; i < n; i++ {
			w.Col()
			w.Dir('A' + byte(i%2))
			w.Col()
			if i%5 != 0 {
				w.U(uint64(i))
			}
			w.Col()
			w.U(uint64(i) << 40)
			w.Col()
			w.H(uint64(i&0xff), 2)
			if i%3 != 0 {
				w.Sub()
				w.H(uint64(i), 8)
			}
			w.Col()
			for k := 0; k < i%4; k++ {
				if k > 0 {
					w.Rep()
				}
				w.U(uint64(k))
			}
			w.Col()
			column.WriteHexBytes(w, []byte{2, 4, 5, 0xb4, 1, byte(i)}[:i%7])
			w.Col()
			var a [16]byte
			a[0], a[15] = 0x20, byte(i)
			switch i % 4 {
			case 0:
				w.IP(4, &a)
			case 1:
				w.IP(6, &a)
			case 2:
				w.IP(0, &a)
			default:
				w.StrString("not an address") // a plugin's mistake
			}
			w.Col()
			w.IP(4, &a)
			w.Col()
			w.MAC([6]byte{0, 1, 2, 3, 4, byte(i)})
			w.Col()
			w.Time(1700000000+uint64(i), uint32(i))
			w.Col()
			w.Time(uint64(i), 5)
			w.Col()
			w.F32(float32(i) / 3)
			w.Col()
			if i%2 == 0 {
				w.StrString("x\xffé")
			} else {
				w.IP(4, &a) // another type than declared: the text
			}
			w.Col()
			w.Content([]byte{'G', 'E', 'T', byte(i), '\r', '\n'}[:i%7])
			if i == 7 {
				w.Col() // no such column: dropped
				w.U(1)
			}
			w.EndRow()
		}
	}
	file := func(inPlace bool) []byte {
		var buf bytes.Buffer
		p, err := NewParquet(&buf, cols, ParquetMeta{Version: "test", CmdLine: "test"})
		if err != nil {
			t.Fatal(err)
		}
		p.w.PageSize = 1 << 10 // many pages
		p.w.RowGroupRows = 700 // several row groups
		rows := NewRows(inPlace, p)
		if _, ok := rows.(*Async); ok == inPlace {
			t.Fatalf("inPlace %v: rows are %T", inPlace, rows)
		}
		rows.WriteString("%header\n")
		write(rows, 3000)
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	taped, inPlace := file(false), file(true)
	if !bytes.Equal(taped, inPlace) {
		t.Fatalf("in place: %d bytes, through the tape: %d bytes, not the same", len(inPlace), len(taped))
	}
	if len(taped) < 10000 {
		t.Fatalf("%d bytes: too small a file", len(taped))
	}
	// The values formatted by the compression goroutine.
	pf, err := parquet.OpenFile(bytes.NewReader(inPlace), int64(len(inPlace)))
	if err != nil {
		t.Fatal(err)
	}
	leaf := map[string]int{}
	for i, c := range pf.Schema().Columns() {
		leaf[strings.Join(c, ".")] = i
	}
	i := 0
	for _, rg := range pf.RowGroups() {
		rr := rg.Rows()
		buf := make([]parquet.Row, 100)
		for {
			n, err := rr.ReadRows(buf)
			for _, row := range buf[:n] {
				got := map[int]string{}
				for _, v := range row {
					if v.Kind() == parquet.ByteArray {
						got[v.Column()] = string(v.ByteArray())
					}
				}
				var a [16]byte
				a[0], a[15] = 0x20, byte(i)
				wantIP := []string{string(AppendIP(nil, 4, &a)), string(AppendIP(nil, 6, &a)), "-", "not an address"}[i%4]
				want := map[string]string{
					"ip":  wantIP,
					"ip4": string(AppendIP(nil, 4, &a)),
					"mac": string(AppendMAC(nil, [6]byte{0, 1, 2, 3, 4, byte(i)})),
					"s":   "x.é",
					"l7":  string(AppendContent(nil, []byte{'G', 'E', 'T', byte(i), '\r', '\n'}[:i%7])),
				}
				if i%2 == 1 {
					want["s"] = string(AppendIP(nil, 4, &a))
				}
				for name, w := range want {
					if got[leaf[name]] != w {
						t.Fatalf("row %d %s: %q, want %q", i, name, got[leaf[name]], w)
					}
				}
				i++
			}
			if err != nil {
				break
			}
		}
		rr.Close()
	}
	if i != 3000 {
		t.Fatalf("%d rows read, want 3000", i)
	}
}
