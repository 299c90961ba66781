package sink

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"unicode/utf8"
)

func row(f func(t *Text)) string {
	var b bytes.Buffer
	t := NewText(&b)
	f(t)
	t.EndRow()
	t.Flush()
	return b.String()
}

func TestValueForms(t *testing.T) {
	v6 := func(s ...byte) *[16]byte { var a [16]byte; copy(a[:], s); return &a }
	cases := []struct {
		name string
		f    func(t *Text)
		want string
	}{
		{"columns", func(t *Text) { t.Col(); t.Dir('A'); t.Col(); t.U(36); t.Col() }, "A\t36\t\n"},
		{"hex widths", func(t *Text) {
			t.Col()
			t.H(0x44, 16)
			t.Col()
			t.H(0xc, 4)
			t.Col()
			t.H(0x1ff, 2)
		}, "0x0000000000000044\t0x000c\t0x1ff\n"},
		{"compound and repetition", func(t *Text) {
			t.Col()
			t.H(0, 2)
			t.Sub()
			t.H(0, 8)
			t.Col()
			t.U(3)
			t.Rep()
			t.U(4)
		}, "0x00_0x00000000\t3;4\n"},
		{"%.7g", func(t *Text) {
			for _, v := range []float32{0.4190502, 2.386349, 64982.55, 524219.4, 7.1008e-05, 0, 65535, 29200, 7e-06, 9.409878e+07, -1} {
				t.Col()
				t.F32(v)
			}
		}, "0.4190502\t2.386349\t64982.55\t524219.4\t7.1008e-05\t0\t65535\t29200\t7e-06\t9.409878e+07\t-1\n"},
		{"%f", func(t *Text) {
			t.Col()
			t.F64(42949671.99)
			t.Col()
			t.F64(0)
			t.Col()
			t.F64(math.Inf(1))
		}, "42949671.990000\t0.000000\tinf\n"},
		{"time", func(t *Text) {
			t.Col()
			t.Time(1416313207, 768806000)
			t.Col()
			t.Time(5, 0)
			t.Col()
			t.Time(1, 3796944294)
		}, "1416313207.768806000\t5.000000000\t1.3796944294\n"},
		{"strings", func(t *Text) {
			t.Col()
			t.StrString("Private network")
			t.Col()
			t.StrString("")
			t.Col()
			t.StrClassString("eth:ipv4:tcp")
		}, "\"Private network\"\t\"\"\teth:ipv4:tcp\n"},
		{"sanitiser", func(t *Text) { t.Col(); t.Str([]byte("a\"b\\c\td\x01\x7f\xc3\xa9\xff")) }, "\"a\\\"b\\\\c\\td\\u0001\\u007Fé.\"\n"},
		{"mac", func(t *Text) { t.Col(); t.MAC([6]byte{0, 0x08, 0x74, 0x38, 0x01, 0xb4}) }, "00:08:74:38:01:b4\n"},
		{"ipv4 and none", func(t *Text) { t.Col(); t.IP(4, v6(192, 168, 1, 105)); t.Col(); t.IP(0, v6()) }, "192.168.1.105\t-\n"},
		{"ipv6 forms", func(t *Text) {
			for _, a := range []*[16]byte{
				&[16]byte{0xfe, 0x80, 15: 1},
				&[16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1},
				{},
				&[16]byte{15: 1},
				&[16]byte{10: 0xff, 11: 0xff, 12: 1, 13: 2, 14: 3, 15: 4},
				&[16]byte{12: 1, 13: 2, 14: 3, 15: 4},
				&[16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1},
			} {
				t.Col()
				t.IP(6, a)
			}
		}, "fe80::1\t2001:db8::1:0:0:1\t::\t::1\t::ffff:1.2.3.4\t::1.2.3.4\t2001:db8:1:0:1:1:1:1\n"},
		{"l7Content", func(t *Text) { t.Col(); t.Content([]byte("GET /\r\n\x00\x1b\\ok\x7f")) }, "GET /\\r\\n..\\\\ok.\n"},
		{"%.9f", func(t *Text) { t.Col(); t.Fixed9(0.078742016) }, "0.078742016\n"},
	}
	for _, c := range cases {
		if got := row(c.f); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestRowNoAllocs(t *testing.T) {
	var b bytes.Buffer
	tx := NewText(&b)
	a := [16]byte{10, 0, 0, 1}
	n := testing.AllocsPerRun(1000, func() {
		tx.Col()
		tx.U(123456)
		tx.Col()
		tx.F32(0.4190502)
		tx.Col()
		tx.IP(4, &a)
		tx.Col()
		tx.StrString("Private network")
		tx.EndRow()
		if b.Len() > 1<<20 {
			b.Reset()
		}
	})
	if n != 0 {
		t.Errorf("allocations per row: %v", n)
	}
}

// TestAppendFixedAgainstStrconv checks the fast %.Nf path against
// strconv's exact algorithm: random values of every magnitude, values
// next to the rounding points of 6 and 9 decimals, and exact halves
// (odd multiples of 2^-(prec+1) ... whose decimal expansion ends in 5).
func TestAppendFixedAgainstStrconv(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var vals []float64
	for i := 0; i < 200000; i++ {
		vals = append(vals, math.Float64frombits(rng.Uint64()))
		e := rng.IntN(40) - 20
		vals = append(vals, rng.Float64()*math.Pow(10, float64(e)))
		vals = append(vals, -rng.Float64()*math.Pow(10, float64(rng.IntN(12)-4)))
		k := float64(rng.Int64N(1 << 40))
		for _, sc := range []float64{1e6, 1e9} {
			x := (k + 0.5) / sc
			vals = append(vals, x, math.Nextafter(x, 0), math.Nextafter(x, 2*x), -x)
		}
		m := float64(2*rng.Int64N(1<<30) + 1)
		vals = append(vals, m/1024, m/128, m/(1<<20), -m/1024)
	}
	vals = append(vals, 0, math.Copysign(0, -1), 1e-300, -1e-300, 0.0009765625, 0.0078125,
		4503599.6270496, 4503599627.3704955, 9007199254.740992, 1<<52, 1e15, 5e-10, 4.9999999999e-10,
		math.SmallestNonzeroFloat64, math.MaxFloat64, 0.25e-9, 0.2500000001e-9)
	for _, v := range vals {
		for _, prec := range []int{0, 1, 3, 6, 9} {
			got := string(AppendFixed(nil, v, prec))
			want := strconv.FormatFloat(v, 'f', prec, 64)
			if math.IsInf(v, 0) || math.IsNaN(v) {
				continue
			}
			if got != want {
				t.Fatalf("AppendFixed(%v (%#x), %d) = %s, strconv %s", v, math.Float64bits(v), prec, got, want)
			}
		}
	}
}

// sanitizedByteByByte is what AppendSanitized must give, decided a byte at
// a time: the bytes of no valid UTF-8 become '.', then every ASCII byte is
// escaped on its own.
func sanitizedByteByByte(b, s []byte) []byte {
	for _, c := range AppendValidUTF8(nil, s) {
		if c < utf8.RuneSelf {
			b = appendASCIIEscaped(b, c)
		} else {
			b = append(b, c)
		}
	}
	return b
}

func TestAppendSanitizedRuns(t *testing.T) {
	cases := []string{"", "eth:ipv4:tcp", `a"b\c`, "tab\there\n", "\x00\x1f\x7f",
		"Zürich", "caf\xc3", "\xff\xfeok", "日本", "plain text then \x01"}
	for _, c := range cases {
		if got, want := AppendSanitized([]byte("x"), []byte(c)), sanitizedByteByByte([]byte("x"), []byte(c)); !bytes.Equal(got, want) {
			t.Errorf("%q: got %q, want %q", c, got, want)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab \\\"\t\x00\x7f\xc3\xa9\xe6\x97\xa5\xff\x80")
	for i := 0; i < 20000; i++ {
		s := make([]byte, rng.IntN(24))
		for j := range s {
			if rng.IntN(3) == 0 {
				s[j] = byte(rng.IntN(256))
			} else {
				s[j] = alphabet[rng.IntN(len(alphabet))]
			}
		}
		if got, want := AppendSanitized(nil, s), sanitizedByteByByte(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("%q: got %q, want %q", s, got, want)
		}
	}
}

// TestAppendG7WholeNumbers: the integer path gives strconv's %.7g text.
func TestAppendG7WholeNumbers(t *testing.T) {
	vals := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 9999999, -9999999, 1e7, -1e7, 16777216, 65535, 0.5, 1.5, 1e-7}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 100000; i++ {
		vals = append(vals, float32(rng.IntN(30000000)-15000000), math.Float32frombits(rng.Uint32()))
	}
	for _, v := range vals {
		want := strconv.AppendFloat(nil, float64(v), 'g', 7, 64)
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			continue
		}
		if got := AppendG7(nil, v); !bytes.Equal(got, want) {
			t.Fatalf("%v (%#x): got %s, want %s", v, math.Float32bits(v), got, want)
		}
	}
}
