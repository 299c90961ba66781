// Package sink holds the output writers. Text is Tranalyzer's txtSink
// format (spec core.md §12): tab-separated columns, one row per line, the
// value forms given by each column's declared type.
package sink

import (
	"io"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// flushAt is the buffered size at which rows are handed to the underlying
// writer; large writes keep syscalls rare.
const flushAt = 256 << 10

// Text formats rows into an internal buffer and flushes it to W. It
// implements column.Writer. The zero value is not usable; use NewText.
type Text struct {
	w       io.Writer
	buf     []byte
	first   bool // no column written yet in the current row
	err     error
	written int64
	// swap, when set, takes over a full buffer (to write it elsewhere) and
	// returns an empty one and the first write error so far (Async).
	swap func([]byte) ([]byte, error)
	// csv: cells are comma-separated and quoted where RFC 4180 needs it,
	// rows end in CRLF; cell is where the current cell starts in buf.
	csv     bool
	cell    int
	scratch []byte
}

// NewText returns a text writer on w.
func NewText(w io.Writer) *Text {
	return &Text{w: w, buf: make([]byte, 0, flushAt+64<<10), first: true}
}

// Err returns the first write error.
func (t *Text) Err() error { return t.err }

// Written returns the number of bytes handed to the underlying writer.
func (t *Text) Written() int64 { return t.written }

// WriteString appends s verbatim (header lines).
func (t *Text) WriteString(s string) {
	t.buf = append(t.buf, s...)
	t.maybeFlush()
}

// EndRow terminates the current row with a newline.
func (t *Text) EndRow() {
	if t.csv {
		t.endCSVCell()
		t.buf = append(t.buf, '\r')
	}
	t.buf = append(t.buf, '\n')
	t.first = true
	t.maybeFlush()
	prefetchTail(t.buf)
}

func (t *Text) maybeFlush() {
	if len(t.buf) >= flushAt {
		t.Flush()
	}
}

// Flush writes the buffered bytes.
func (t *Text) Flush() error {
	if t.swap != nil {
		if len(t.buf) > 0 {
			t.buf, t.err = t.swap(t.buf)
		}
		return t.err
	}
	if len(t.buf) > 0 && t.err == nil {
		n, err := t.w.Write(t.buf)
		t.written += int64(n)
		if err != nil {
			t.err = err
		}
	}
	t.buf = t.buf[:0]
	return t.err
}

// Col starts the next column.
func (t *Text) Col() {
	if t.csv {
		t.colCSV()
		return
	}
	if t.first {
		t.first = false
		return
	}
	t.buf = append(t.buf, '\t')
}

// colCSV ends the previous cell (quoting it if needed) and starts the next.
func (t *Text) colCSV() {
	if t.first {
		t.first = false
	} else {
		t.endCSVCell()
		t.buf = append(t.buf, ',')
	}
	t.cell = len(t.buf)
}

// endCSVCell quotes the current cell when it holds a comma, a quote or a
// line break (RFC 4180 §2).
func (t *Text) endCSVCell() {
	c := t.buf[t.cell:]
	for _, x := range c {
		if x == ',' || x == '"' || x == '\r' || x == '\n' {
			t.scratch = append(t.scratch[:0], c...)
			t.buf = appendCSVField(t.buf[:t.cell], string(t.scratch))
			return
		}
	}
}

// appendCSVField appends s as a CSV field, quoted if needed.
func appendCSVField(b []byte, s string) []byte {
	if !strings.ContainsAny(s, ",\"\r\n") {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

func (t *Text) Sub()       { t.buf = append(t.buf, '_') }
func (t *Text) Rep()       { t.buf = append(t.buf, ';') }
func (t *Text) Dir(b byte) { t.buf = append(t.buf, b) }

func (t *Text) U(v uint64) { t.buf = appendUint(t.buf, v) }
func (t *Text) I(v int64)  { t.buf = appendInt(t.buf, v) }

func (t *Text) ColU(v uint64)             { t.Col(); t.U(v) }
func (t *Text) ColI(v int64)              { t.Col(); t.I(v) }
func (t *Text) ColH(v uint64, digits int) { t.Col(); t.H(v, digits) }

const hexDigits = "0123456789abcdef"

func (t *Text) H(v uint64, digits int) {
	t.buf = AppendHex(t.buf, v, digits)
}

// AppendHex appends "0x" and v in lower-case hex, zero-padded to digits
// (at least one digit). Digits are written two at a time from a table.
func AppendHex(b []byte, v uint64, digits int) []byte {
	n := (bits.Len64(v) + 3) / 4
	if n == 0 {
		n = 1
	}
	if digits > n {
		n = digits
	}
	b = append(b, '0', 'x')
	for ; n > 16; n-- {
		b = append(b, '0')
	}
	l := len(b)
	b = append(b, "0000000000000000"[:n]...)
	out := b[l : l+n]
	i := n
	for ; i >= 2 && v != 0; i -= 2 {
		x := int(v&0xff) * 2
		out[i-1], out[i-2] = hexPairs[x+1], hexPairs[x]
		v >>= 8
	}
	if i == 1 && v != 0 {
		out[0] = hexDigits[v&0xf]
	}
	return b
}

// hexPairs holds the two hex digits of every byte value.
const hexPairs = "" +
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" +
	"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f" +
	"404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f" +
	"606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f" +
	"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f" +
	"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf" +
	"c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf" +
	"e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"

// HexBytes implements column.HexBytesWriter: "0x%02x" of each byte,
// separated like repeated values.
func (t *Text) HexBytes(b []byte) {
	buf := t.buf
	for i, c := range b {
		if i > 0 {
			buf = append(buf, ';')
		}
		x := int(c) * 2
		buf = append(buf, '0', 'x', hexPairs[x], hexPairs[x+1])
	}
	t.buf = buf
}

func (t *Text) F32(v float32) { t.buf = AppendG7(t.buf, v) }

// AppendG7 appends C's "%.7g" of a float32 value.
func AppendG7(b []byte, v float32) []byte {
	f := float64(v)
	if !isFinite(f) {
		return appendNonFinite(b, f)
	}
	// Whole numbers below 10^7 (counts, zeros, window sizes: most cells of
	// the flow file) print as integers.
	if f == math.Trunc(f) && math.Abs(f) < 1e7 {
		if f == 0 && math.Signbit(f) {
			return append(b, '-', '0')
		}
		return appendInt(b, int64(f))
	}
	// Go's 'g' with an explicit precision matches C's %g: exponent form when
	// exp < -4 or exp >= precision, trailing zeros removed, two-digit exponent.
	return strconv.AppendFloat(b, f, 'g', 7, 64)
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// appendNonFinite appends glibc's text for NaN and infinities.
func appendNonFinite(b []byte, v float64) []byte {
	switch {
	case math.IsNaN(v) && math.Signbit(v):
		return append(b, "-nan"...)
	case math.IsNaN(v):
		return append(b, "nan"...)
	case v > 0:
		return append(b, "inf"...)
	}
	return append(b, "-inf"...)
}

func (t *Text) F64(v float64) { t.buf = AppendFixed(t.buf, v, 6) }

// AppendFixed appends C's "%.<prec>f".
func AppendFixed(b []byte, v float64, prec int) []byte {
	if !isFinite(v) {
		return appendNonFinite(b, v)
	}
	if prec <= 9 {
		if n, ok := scaledRound(math.Abs(v), prec); ok {
			if math.Signbit(v) {
				b = append(b, '-')
			}
			scale := pow10s[prec]
			b = appendUint(b, n/scale)
			if prec == 0 {
				return b
			}
			return appendUintPadded(append(b, '.'), n%scale, prec)
		}
	}
	return strconv.AppendFloat(b, v, 'f', prec, 64)
}

// scaledRound returns a×10^prec rounded to the nearest integer, ties to
// even, as the exact decimal value of a rounds in strconv and C's printf:
// the digits of "%.<prec>f" without the point. Packet rows print three
// such times each; strconv's exact algorithm took a tenth of the
// formatting. 10^prec is exact, so the product is exactly p + r (r from
// one fused multiply-add), and p + r decides the rounding. ok is false
// when the result needs more than 52 bits (strconv then).
func scaledRound(a float64, prec int) (n uint64, ok bool) {
	scale := float64(pow10s[prec]) // exact
	p := a * scale
	if !(p < 1<<52) {
		return 0, false
	}
	if p < 0.25 {
		return 0, true // also where r could underflow
	}
	r := math.FMA(a, scale, -p)
	f := math.Round(p) // halves away from zero
	n = uint64(f)
	if p-f == -0.5 { // p is a half: r, then evenness, decides
		if r < 0 || (r == 0 && n&1 == 1) {
			n--
		}
	}
	return n, true
}

func (t *Text) Time(sec uint64, nsec uint32) { t.buf = AppendTime(t.buf, sec, nsec) }

// AppendTime appends "sec.nnnnnnnnn" (%u.%09u).
func AppendTime(b []byte, sec uint64, nsec uint32) []byte {
	return appendUintPadded(append(appendUint(b, sec), '.'), uint64(nsec), 9)
}

func (t *Text) Str(s []byte) {
	t.buf = append(t.buf, '"')
	t.buf = AppendSanitized(t.buf, s)
	t.buf = append(t.buf, '"')
}

func (t *Text) StrString(s string) {
	t.buf = append(t.buf, '"')
	t.buf = appendSanitizedString(t.buf, s)
	t.buf = append(t.buf, '"')
}

func (t *Text) StrClass(s []byte)         { t.buf = AppendSanitized(t.buf, s) }
func (t *Text) StrClassString(s string)   { t.buf = appendSanitizedString(t.buf, s) }
func (t *Text) Fixed9(v float64)          { t.buf = AppendFixed(t.buf, v, 9) }
func (t *Text) Raw(s []byte)              { t.buf = append(t.buf, s...) }
func (t *Text) RawString(s string)        { t.buf = append(t.buf, s...) }
func (t *Text) Content(b []byte)          { t.buf = AppendContent(t.buf, b) }
func (t *Text) MAC(m [6]byte)             { t.buf = AppendMAC(t.buf, m) }
func (t *Text) IP(ver uint8, a *[16]byte) { t.buf = AppendIP(t.buf, ver, a) }

// AppendMAC appends aa:bb:cc:dd:ee:ff.
func AppendMAC(b []byte, m [6]byte) []byte {
	for i, x := range m {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hexDigits[x>>4], hexDigits[x&0xf])
	}
	return b
}

// AppendIP appends an IPv4 dotted quad (ver 4), an IPv6 address in
// inet_ntop's form (ver 6) or "-".
func AppendIP(b []byte, ver uint8, a *[16]byte) []byte {
	switch ver {
	case 4:
		return appendIPv4(b, a[:4])
	case 6:
		return AppendIPv6(b, a)
	}
	return append(b, '-')
}

func appendIPv4(b []byte, a []byte) []byte {
	for i := 0; i < 4; i++ {
		if i > 0 {
			b = append(b, '.')
		}
		b = appendUint(b, uint64(a[i]))
	}
	return b
}

// AppendIPv6 reproduces glibc's inet_ntop: the longest run (≥ 2) of zero
// groups, leftmost on ties, becomes "::"; IPv4-compatible (::a.b.c.d) and
// IPv4-mapped (::ffff:a.b.c.d) addresses end in dotted form.
func AppendIPv6(b []byte, a *[16]byte) []byte {
	var words [8]uint16
	for i := range words {
		words[i] = uint16(a[2*i])<<8 | uint16(a[2*i+1])
	}
	bestBase, bestLen, curBase, curLen := -1, 0, -1, 0
	for i := 0; i < 8; i++ {
		if words[i] == 0 {
			if curBase == -1 {
				curBase, curLen = i, 1
			} else {
				curLen++
			}
		} else if curBase != -1 {
			if bestBase == -1 || curLen > bestLen {
				bestBase, bestLen = curBase, curLen
			}
			curBase = -1
		}
	}
	if curBase != -1 && (bestBase == -1 || curLen > bestLen) {
		bestBase, bestLen = curBase, curLen
	}
	if bestBase != -1 && bestLen < 2 {
		bestBase = -1
	}
	for i := 0; i < 8; i++ {
		if bestBase != -1 && i >= bestBase && i < bestBase+bestLen {
			if i == bestBase {
				b = append(b, ':')
			}
			continue
		}
		if i != 0 {
			b = append(b, ':')
		}
		if i == 6 && bestBase == 0 && (bestLen == 6 || (bestLen == 5 && words[5] == 0xffff)) {
			return appendIPv4(b, a[12:16])
		}
		b = strconv.AppendUint(b, uint64(words[i]), 16)
	}
	if bestBase != -1 && bestBase+bestLen == 8 {
		b = append(b, ':')
	}
	return b
}

// AppendContent appends l7Content (core.md §11): \b \f \n \r \t \v and
// backslash escaped, printable ASCII as is, everything else '.'. Bytes are
// translated through a table into room made at once (at most two output
// bytes per input byte).
func AppendContent(b []byte, s []byte) []byte {
	n := len(b)
	b = append(b, make([]byte, 2*len(s))...)
	d := b[n:]
	j := 0
	for _, c := range s {
		if t := contentMap[c]; t != 0 {
			d[j] = t
			j++
		} else {
			d[j], d[j+1] = '\\', contentEsc[c]
			j += 2
		}
	}
	return b[:n+j]
}

// contentMap gives the output byte of l7Content, 0 for escaped bytes;
// contentEsc their escape letter.
var contentMap, contentEsc = func() (m, e [256]byte) {
	for i := range m {
		m[i] = byte(i)
		if i < 0x20 || i >= 0x7f {
			m[i] = '.'
		}
	}
	for _, x := range [...][2]byte{{'\b', 'b'}, {'\f', 'f'}, {'\n', 'n'}, {'\r', 'r'}, {'\t', 't'}, {'\v', 'v'}, {'\\', '\\'}} {
		m[x[0]], e[x[0]] = 0, x[1]
	}
	return m, e
}()

// plainText marks the bytes AppendSanitized copies unchanged: printable
// ASCII but the backslash and the quote.
var plainText = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '\\' && c != '"'
	}
	return t
}()

// AppendSanitized applies txtSink's UTF-8 sanitiser (core.md §12.1).
func AppendSanitized(b []byte, s []byte) []byte {
	for i := 0; i < len(s); {
		// Most text is plain: copy each run of it in one append.
		j := i
		for j < len(s) && plainText[s[j]] {
			j++
		}
		if j > i {
			b = append(b, s[i:j]...)
			if i = j; i == len(s) {
				break
			}
		}
		c := s[i]
		if c < 0x80 {
			b = appendASCIIEscaped(b, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && n <= 1 {
			b = append(b, '.')
			i++
			continue
		}
		b = append(b, s[i:i+n]...)
		i += n
	}
	return b
}

// appendSanitizedString is AppendSanitized over a string, read through a
// zero-copy byte view (the bytes are never written).
func appendSanitizedString(b []byte, s string) []byte {
	return AppendSanitized(b, unsafe.Slice(unsafe.StringData(s), len(s)))
}

func appendASCIIEscaped(b []byte, c byte) []byte {
	switch c {
	case '\b':
		return append(b, '\\', 'b')
	case '\f':
		return append(b, '\\', 'f')
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	case '\v':
		return append(b, '\\', 'v')
	case '\\':
		return append(b, '\\', '\\')
	case '"':
		return append(b, '\\', '"')
	}
	if c < 0x20 || c == 0x7f {
		return append(b, '\\', 'u', '0', '0', "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&0xf])
	}
	return append(b, c)
}
