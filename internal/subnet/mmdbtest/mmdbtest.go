// Package mmdbtest writes small MaxMind DB files for tests (record size
// 24, 28 or 32, IPv6 tree), so that --geo is tested on real files without
// shipping a database.
package mmdbtest

import (
	"bytes"
	"net/netip"
	"sort"
)

// Marker starts the metadata section of a MaxMind DB file.
var Marker = []byte("\xab\xcd\xefMaxMind.com")

// Str encodes a string.
func Str(s string) []byte {
	if len(s) < 29 {
		return append([]byte{2<<5 | byte(len(s))}, s...)
	}
	return append([]byte{2<<5 | 29, byte(len(s) - 29)}, s...) // 29..284 bytes
}

// Uint encodes an unsigned integer of type typ in n bytes.
func Uint(typ byte, v uint64, n int) []byte {
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

// Map encodes a map with keys in sorted order; values are encoded already.
func Map(m map[string][]byte) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := []byte{7<<5 | byte(len(m))}
	for _, k := range keys {
		out = append(out, Str(k)...)
		out = append(out, m[k]...)
	}
	return out
}

type wnode struct{ kids [2]int } // 0 empty, >0 node index, <0 −(data index+1)

// Build writes a database (record size 24) holding entries: prefix →
// record fields (encoded values).
func Build(entries map[string]map[string][]byte) []byte {
	return BuildSize(24, entries)
}

// BuildSize is Build with a record size of 24, 28 or 32 bits.
func BuildSize(size int, entries map[string]map[string][]byte) []byte {
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
		data = append(data, Map(entries[ps])...)
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
	buf.Write(Marker)
	buf.Write(Map(map[string][]byte{
		"node_count":                  Uint(6, uint64(count), 4),
		"record_size":                 Uint(5, uint64(size), 2),
		"ip_version":                  Uint(5, 6, 2),
		"binary_format_major_version": Uint(5, 2, 2),
		"binary_format_minor_version": Uint(5, 0, 2),
		"build_epoch":                 Uint(9, 1700000000, 8),
		"database_type":               Str("flowsift-Test"),
	}))
	return buf.Bytes()
}
