package pqwrite

import "encoding/binary"

// Thrift compact protocol, the encoding of Parquet's page headers and
// footer: just what writing them needs.
const (
	ctTrue   = 1
	ctFalse  = 2
	ctByte   = 3
	ctI32    = 5
	ctI64    = 6
	ctBinary = 8
	ctList   = 9
	ctStruct = 12
)

type thrift struct {
	b    []byte
	last []int16 // last field id, one per open struct
}

func (t *thrift) field(id int16, typ byte) {
	l := &t.last[len(t.last)-1]
	if d := id - *l; d > 0 && d <= 15 {
		t.b = append(t.b, byte(d)<<4|typ)
	} else {
		t.b = append(t.b, typ)
		t.b = binary.AppendVarint(t.b, int64(id))
	}
	*l = id
}

func (t *thrift) begin()                { t.last = append(t.last, 0) }
func (t *thrift) end()                  { t.b = append(t.b, 0); t.last = t.last[:len(t.last)-1] }
func (t *thrift) i32(id int16, v int32) { t.field(id, ctI32); t.b = binary.AppendVarint(t.b, int64(v)) }
func (t *thrift) i64(id int16, v int64) { t.field(id, ctI64); t.b = binary.AppendVarint(t.b, v) }
func (t *thrift) i8(id int16, v int8)   { t.field(id, ctByte); t.b = append(t.b, byte(v)) }
func (t *thrift) bin(id int16, v []byte) {
	t.field(id, ctBinary)
	t.b = binary.AppendUvarint(t.b, uint64(len(v)))
	t.b = append(t.b, v...)
}
func (t *thrift) str(id int16, v string) { t.bin(id, []byte(v)) }
func (t *thrift) boolean(id int16, v bool) {
	if v {
		t.field(id, ctTrue)
	} else {
		t.field(id, ctFalse)
	}
}

// structField opens a struct-valued field; close it with end.
func (t *thrift) structField(id int16) { t.field(id, ctStruct); t.begin() }

// list opens a list field of n elements of type typ.
func (t *thrift) list(id int16, typ byte, n int) {
	t.field(id, ctList)
	t.listHeader(typ, n)
}

func (t *thrift) listHeader(typ byte, n int) {
	if n < 15 {
		t.b = append(t.b, byte(n)<<4|typ)
	} else {
		t.b = append(t.b, 0xf0|typ)
		t.b = binary.AppendUvarint(t.b, uint64(n))
	}
}

// elemI32, elemBin: list elements; elemStruct opens one (close with end).
func (t *thrift) elemI32(v int32) { t.b = binary.AppendVarint(t.b, int64(v)) }
func (t *thrift) elemBin(v string) {
	t.b = binary.AppendUvarint(t.b, uint64(len(v)))
	t.b = append(t.b, v...)
}
func (t *thrift) elemStruct()          { t.begin() }
func (t *thrift) emptyStruct(id int16) { t.structField(id); t.end() }
