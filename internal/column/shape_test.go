package column

import (
	"reflect"
	"testing"
)

func TestShape(t *testing.T) {
	cases := []struct {
		col  Column
		want Shape
	}{
		{Column{Name: "flowStat", Type: "H64"}, Shape{Parts: []Part{{Name: "_1", Kind: KindHex, Bits: 64}}}},
		{Column{Name: "duration", Type: "U64.U32", Duration: true}, Shape{Parts: []Part{{Name: "_1", Kind: KindDuration}}}},
		{Column{Name: "timeFirst", Type: "U64.U32"}, Shape{Parts: []Part{{Name: "_1", Kind: KindTime}}}},
		{Column{Name: "srcIPOrg", Type: "S"}, Shape{Parts: []Part{{Name: "_1", Kind: KindString, Quoted: true}}}},
		{Column{Name: "hdrDesc", Type: "SC:R"}, Shape{Parts: []Part{{Name: "_1", Kind: KindString}}, Repeated: true}},
		{Column{Name: "ipOptCpCl_Num", Type: "H8_H32"}, Shape{Parts: []Part{{Name: "ipOptCpCl", Kind: KindHex, Bits: 8}, {Name: "Num", Kind: KindHex, Bits: 32}}}},
		{Column{Name: "x", Type: "I16_U8"}, Shape{Parts: []Part{{Name: "_1", Kind: KindInt, Bits: 16}, {Name: "_2", Kind: KindUint, Bits: 8}}}},
		{Column{Name: "pktIAT", Type: "D", Text: TextFixed9}, Shape{Parts: []Part{{Name: "_1", Kind: KindFloat64}}, Text: TextFixed9}},
		{Column{Name: "srcIP", Type: "IPX"}, Shape{Parts: []Part{{Name: "_1", Kind: KindIP}}}},
	}
	for _, c := range cases {
		if len(c.want.Parts) == 1 { // a single part is named after the column
			c.want.Parts[0].Name = c.col.Name
		}
		got, err := c.col.Shape()
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s %s: %+v (%v), want %+v", c.col.Name, c.col.Type, got, err, c.want)
		}
	}
	for _, bad := range []Column{{Name: "a", Type: "U12"}, {Name: "b", Type: "Q"}, {Name: "c", Type: "U8_"}, {Name: "d", Type: "F", Text: TextFixed9}} {
		if _, err := bad.Shape(); err == nil {
			t.Errorf("%s %q: no error", bad.Name, bad.Type)
		}
	}
}
