package subnet

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// A tiny MaxMind DB writer (record size 24, IPv6 tree) for the tests.

func encStr(s string) []byte {
	if len(s) < 29 {
		return append([]byte{2<<5 | byte(len(s))}, s...)
	}
	return append([]byte{2<<5 | 29, byte(len(s) - 29)}, s...) // 29..284 bytes
}

func encUint(typ byte, v uint64, n int) []byte {
	b := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
	if typ >= 8 { // extended type
		return append([]byte{byte(n), typ - 7}, b...)
	}
	return append([]byte{typ<<5 | byte(n)}, b...)
}

// encMap encodes a map with keys in sorted order; values are encoded already.
func encMap(m map[string][]byte) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := []byte{7<<5 | byte(len(m))}
	for _, k := range keys {
		out = append(out, encStr(k)...)
		out = append(out, m[k]...)
	}
	return out
}

type wnode struct{ kids [2]int } // 0 empty, >0 node index, <0 −(data index+1)

func buildMMDB(t *testing.T, entries map[string]map[string][]byte) []byte {
	return buildMMDBSize(t, 24, entries)
}

func buildMMDBSize(t *testing.T, size int, entries map[string]map[string][]byte) []byte {
	nodes := []wnode{{}}
	var data []byte
	var offs []int
	prefixes := make([]string, 0, len(entries))
	for p := range entries {
		prefixes = append(prefixes, p)
	}
	sort.Strings(prefixes)
	for _, ps := range prefixes {
		p := netip.MustParsePrefix(ps)
		a16 := p.Addr().As16()
		bits := p.Bits()
		if p.Addr().Is4() {
			a16 = [16]byte{}
			a4 := p.Addr().As4()
			copy(a16[12:], a4[:])
			bits += 96
		}
		offs = append(offs, len(data))
		data = append(data, encMap(entries[ps])...)
		n := 0
		for i := 0; i < bits; i++ {
			bit := int(a16[i/8]>>(7-uint(i%8))) & 1
			if i == bits-1 {
				nodes[n].kids[bit] = -len(offs)
				break
			}
			if nodes[n].kids[bit] <= 0 {
				nodes = append(nodes, wnode{})
				nodes[n].kids[bit] = len(nodes) - 1
			}
			n = nodes[n].kids[bit]
		}
	}
	count := uint32(len(nodes))
	var buf bytes.Buffer
	rec := func(v int) uint32 {
		var r uint32
		switch {
		case v == 0:
			r = count
		case v > 0:
			r = uint32(v)
		default:
			r = count + 16 + uint32(offs[-v-1])
		}
		return r
	}
	for _, n := range nodes {
		l, r := rec(n.kids[0]), rec(n.kids[1])
		switch size {
		case 24:
			buf.Write([]byte{byte(l >> 16), byte(l >> 8), byte(l), byte(r >> 16), byte(r >> 8), byte(r)})
		case 28:
			buf.Write([]byte{byte(l >> 16), byte(l >> 8), byte(l), byte(l>>20)&0xf0 | byte(r>>24)&0x0f, byte(r >> 16), byte(r >> 8), byte(r)})
		case 32:
			buf.Write([]byte{byte(l >> 24), byte(l >> 16), byte(l >> 8), byte(l), byte(r >> 24), byte(r >> 16), byte(r >> 8), byte(r)})
		}
	}
	buf.Write(make([]byte, 16))
	buf.Write(data)
	buf.Write(mmdbMarker)
	buf.Write(encMap(map[string][]byte{
		"node_count":                  encUint(6, uint64(count), 4),
		"record_size":                 encUint(5, uint64(size), 2),
		"ip_version":                  encUint(5, 6, 2),
		"binary_format_major_version": encUint(5, 2, 2),
		"binary_format_minor_version": encUint(5, 0, 2),
		"build_epoch":                 encUint(9, 1700000000, 8),
		"database_type":               encStr("flowsift-Test"),
	}))
	return buf.Bytes()
}

func TestMMDB(t *testing.T) {
	db := buildMMDB(t, map[string]map[string][]byte{
		"8.8.8.0/24": {
			"country":                        encMap(map[string][]byte{"iso_code": encStr("US")}),
			"autonomous_system_organization": encStr("GOOGLE"),
		},
		"10.0.0.0/8": { // shadowed by the built-in private range
			"country": encMap(map[string][]byte{"iso_code": encStr("ZZ")}),
		},
		"2001:470::/32": {
			"country":      encMap(map[string][]byte{"iso_code": encStr("US")}),
			"organization": encStr("Hurricane Electric LLC, a very long name"),
		},
	})
	path := filepath.Join(t.TempDir(), "t.mmdb")
	if err := os.WriteFile(path, db, 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ addr, cc, org string }{
		{"8.8.8.8", "us", "GOOGLE"},
		{"8.8.9.1", "-", "-"},
		{"10.1.2.3", "04", "Private network"},
		{"2001:470:1f11::1", "us", "Hurricane Electric LLC, a very"},
		{"fe80::1", "02", "Link-local"},
		{"2001:4860::1", "-", "-"},
	}
	for _, c := range cases {
		cc, org := lookup(t, d, c.addr)
		if cc != c.cc || org != c.org {
			t.Errorf("%s: got %q %q want %q %q", c.addr, cc, org, c.cc, c.org)
		}
	}
	// Same data record twice → same record number, decoded once.
	a := [16]byte{8, 8, 8, 1}
	b := [16]byte{8, 8, 8, 2}
	if d.Lookup(4, &a) != d.Lookup(4, &b) {
		t.Error("records not shared")
	}
	if n := testing.AllocsPerRun(50, func() { d.Lookup(4, &a) }); n != 0 {
		t.Errorf("cached lookup allocates %v", n)
	}
}

func TestMMDBErrors(t *testing.T) {
	if _, err := parseMMDB([]byte("not a database")); err == nil {
		t.Error("garbage accepted")
	}
	good := buildMMDB(t, map[string]map[string][]byte{"1.0.0.0/8": {"organization": encStr("x")}})
	i := bytes.LastIndex(good, mmdbMarker)
	if _, err := parseMMDB(good[:i+len(mmdbMarker)+5]); err == nil {
		t.Error("truncated metadata accepted")
	}
	// Metadata claiming more nodes than the file holds.
	bad := append([]byte(nil), good[:i+len(mmdbMarker)]...)
	bad = append(bad, encMap(map[string][]byte{
		"node_count": encUint(6, 1<<24, 4), "record_size": encUint(5, 24, 2),
		"ip_version": encUint(5, 6, 2), "binary_format_major_version": encUint(5, 2, 2),
	})...)
	if _, err := parseMMDB(bad); err == nil {
		t.Error("oversized tree accepted")
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing.mmdb")); err == nil {
		t.Error("missing file accepted")
	}
}

func TestMMDBRecordSizes(t *testing.T) {
	for _, size := range []int{24, 28, 32} {
		db := buildMMDBSize(t, size, map[string]map[string][]byte{
			"1.2.3.0/24":   {"organization": encStr("one")},
			"1.2.4.0/24":   {"organization": encStr("two")},
			"2a00:1::/32":  {"isp": encStr("three")},
			"129.0.0.0/8":  {"registered_country": encMap(map[string][]byte{"iso_code": encStr("DE")})},
			"255.0.0.0/16": {"organization": encStr("four")},
		})
		m, err := parseMMDB(db)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		d := New()
		d.mm, d.mmRecs = m, map[uint32]uint32{}
		for _, c := range []struct{ addr, cc, org string }{
			{"1.2.3.4", "-", "one"}, {"1.2.4.4", "-", "two"}, {"1.2.5.4", "-", "-"},
			{"2a00:1:2::3", "-", "three"}, {"129.1.1.1", "de", "-"}, {"255.0.9.9", "-", "four"},
		} {
			if cc, org := lookup(t, d, c.addr); cc != c.cc || org != c.org {
				t.Errorf("size %d %s: got %q %q want %q %q", size, c.addr, cc, org, c.cc, c.org)
			}
		}
	}
}
