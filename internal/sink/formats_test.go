package sink

import (
	"bytes"
	"math"
	"testing"

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
