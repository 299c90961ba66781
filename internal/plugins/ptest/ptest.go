// Package ptest holds test helpers shared by the plugin packages: a
// column.Writer that renders a row as text fields in txtSink's forms.
package ptest

import (
	"net/netip"
	"strconv"
	"strings"
)

// Row is a column.Writer collecting one row's fields.
type Row struct {
	Fields []string
	cur    strings.Builder
	open   bool
}

func (r *Row) flush() {
	if r.open {
		r.Fields = append(r.Fields, r.cur.String())
		r.cur.Reset()
	}
}

// Done closes the last column and returns the fields.
func (r *Row) Done() []string {
	r.flush()
	r.open = false
	return r.Fields
}

// String returns the fields joined by tabs.
func (r *Row) String() string { return strings.Join(r.Done(), "\t") }

func (r *Row) Col()       { r.flush(); r.open = true }
func (r *Row) Sub()       { r.cur.WriteByte('_') }
func (r *Row) Rep()       { r.cur.WriteByte(';') }
func (r *Row) Dir(b byte) { r.cur.WriteByte(b) }
func (r *Row) U(v uint64) { r.cur.WriteString(strconv.FormatUint(v, 10)) }
func (r *Row) I(v int64)  { r.cur.WriteString(strconv.FormatInt(v, 10)) }
func (r *Row) H(v uint64, digits int) {
	s := strconv.FormatUint(v, 16)
	r.cur.WriteString("0x" + strings.Repeat("0", max(0, digits-len(s))) + s)
}

func (r *Row) ColU(v uint64)             { r.Col(); r.U(v) }
func (r *Row) ColI(v int64)              { r.Col(); r.I(v) }
func (r *Row) ColH(v uint64, digits int) { r.Col(); r.H(v, digits) }

// F32 is C's %.7g for the values the tests use.
func (r *Row) F32(v float32) { r.cur.WriteString(G7(float64(v))) }
func (r *Row) F64(v float64) { r.cur.WriteString(strconv.FormatFloat(v, 'f', 6, 64)) }
func (r *Row) Time(sec uint64, nsec uint32) {
	r.cur.WriteString(strconv.FormatUint(sec, 10) + "." + pad9(nsec))
}
func (r *Row) Str(s []byte)            { r.cur.WriteString(`"` + string(s) + `"`) }
func (r *Row) StrString(s string)      { r.cur.WriteString(`"` + s + `"`) }
func (r *Row) StrClass(s []byte)       { r.cur.Write(s) }
func (r *Row) StrClassString(s string) { r.cur.WriteString(s) }
func (r *Row) Raw(s []byte)            { r.cur.Write(s) }
func (r *Row) RawString(s string)      { r.cur.WriteString(s) }
func (r *Row) Content(b []byte)        { r.cur.Write(b) }
func (r *Row) Fixed9(v float64)        { r.cur.WriteString(strconv.FormatFloat(v, 'f', 9, 64)) }
func (r *Row) MAC(m [6]byte) {
	const hx = "0123456789abcdef"
	for i, b := range m {
		if i > 0 {
			r.cur.WriteByte(':')
		}
		r.cur.WriteByte(hx[b>>4])
		r.cur.WriteByte(hx[b&15])
	}
}
func (r *Row) IP(ver uint8, a *[16]byte) {
	switch ver {
	case 4:
		r.cur.WriteString(netip.AddrFrom4([4]byte(a[:4])).String())
	case 6:
		r.cur.WriteString(netip.AddrFrom16(*a).String())
	default:
		r.cur.WriteByte('-')
	}
}

func pad9(n uint32) string {
	s := strconv.FormatUint(uint64(n), 10)
	if len(s) < 9 {
		s = strings.Repeat("0", 9-len(s)) + s
	}
	return s
}

// G7 mimics C's "%.7g": 7 significant digits, trailing zeros removed,
// exponent form below 1e-4 or from 1e7 with at least two exponent digits.
func G7(v float64) string {
	s := strconv.FormatFloat(v, 'g', 7, 64)
	if i := strings.IndexByte(s, 'e'); i >= 0 {
		mant, exp := s[:i], s[i+1:]
		sign := exp[0]
		digits := exp[1:]
		if len(digits) < 2 {
			digits = "0" + digits
		}
		s = mant + "e" + string(sign) + digits
	}
	return s
}
