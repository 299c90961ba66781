// Package subnet is the geo/organisation database of basicFlow (spec
// basicFlow.md §4): it maps an address to a record (country code,
// organisation, Tor mark) by the most specific range containing it.
//
// The built-in table reproduces the private and special-purpose ranges of
// the database the golden outputs were made with (country codes and
// organisation strings harvested from the golden flow files). Lookups
// happen at flow creation only; they do not allocate.
package subnet

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"sort"

	"flowsift/internal/plugin"
	"flowsift/internal/report"
)

// OrgMax is the length Tranalyzer cuts organisation names to.
const OrgMax = 30

// Record is one database entry.
type Record struct {
	Country string
	Org     string
	Tor     bool
}

// prefixKey is an address masked to a prefix length; array keys keep map
// lookups allocation-free.
type prefixKey [16]byte

// family holds the ranges of one IP version, grouped by prefix length
// (longestPrefix probes the lengths from the longest), and the same ranges
// flattened into disjoint spans for Lookup: a binary search over a few
// dozen bounds instead of a hashed map probe per prefix length (an address
// outside every range, the usual case, probed every length).
type family struct {
	bits  int                          // 32 or 128
	lens  []int                        // distinct prefix lengths, descending
	byLen map[int]map[prefixKey]uint32 // length → masked address → record
	maps  []map[prefixKey]uint32       // byLen[lens[i]], so a probe walks a slice, not a map
	count int                          // ranges loaded
	rev   string                       // revision printed in the start-up line

	// Span i runs from starts[i] to the next start (or the end of the
	// address space); its addresses have record recs[i]. starts[0] is 0.
	starts []addr128
	recs   []uint32
}

// addr128 is an address as a number (IPv4 in lo), so spans compare fast.
type addr128 struct{ hi, lo uint64 }

func (a addr128) less(b addr128) bool { return a.hi < b.hi || a.hi == b.hi && a.lo < b.lo }

// next returns a+1 and false when a is the last address of the space.
func (a addr128) next(bits int) (addr128, bool) {
	if bits == 32 {
		return addr128{lo: a.lo + 1}, a.lo < 0xffffffff
	}
	if a.lo != ^uint64(0) {
		return addr128{a.hi, a.lo + 1}, true
	}
	return addr128{a.hi + 1, 0}, a.hi != ^uint64(0)
}

func toAddr128(k *prefixKey, n int) addr128 {
	if n == 4 {
		return addr128{lo: uint64(binary.BigEndian.Uint32(k[:4]))}
	}
	return addr128{binary.BigEndian.Uint64(k[:8]), binary.BigEndian.Uint64(k[8:])}
}

func fromAddr128(a addr128, n int) prefixKey {
	var k prefixKey
	if n == 4 {
		binary.BigEndian.PutUint32(k[:4], uint32(a.lo))
	} else {
		binary.BigEndian.PutUint64(k[:8], a.hi)
		binary.BigEndian.PutUint64(k[8:], a.lo)
	}
	return k
}

// flatten rebuilds the spans from the prefix maps: every range start and
// every address right after a range's end begins a span, and a span's
// record is the longest prefix holding its first address (no range starts
// or ends inside a span, so it holds for all of them).
func (f *family) flatten() {
	n := f.bits / 8
	bounds := []addr128{{}}
	for l, m := range f.byLen {
		for k := range m {
			start := toAddr128(&k, n)
			last := k
			for i := l; i < f.bits; i++ {
				last[i/8] |= 0x80 >> (i % 8)
			}
			bounds = append(bounds, start)
			if after, ok := toAddr128(&last, n).next(f.bits); ok {
				bounds = append(bounds, after)
			}
		}
	}
	sort.Slice(bounds, func(i, j int) bool { return bounds[i].less(bounds[j]) })
	f.starts, f.recs = f.starts[:0], f.recs[:0]
	for i, b := range bounds {
		if i > 0 && b == bounds[i-1] {
			continue
		}
		k := fromAddr128(b, n)
		rec := f.longestPrefix(&k, n)
		if len(f.recs) > 0 && f.recs[len(f.recs)-1] == rec {
			continue
		}
		f.starts = append(f.starts, b)
		f.recs = append(f.recs, rec)
	}
}

// longestPrefix returns the record of the longest prefix holding the
// address in k[:n] by probing each prefix length.
func (f *family) longestPrefix(k *prefixKey, n int) uint32 {
	for i, l := range f.lens {
		var key prefixKey
		copy(key[:n], k[:n])
		maskKey(&key, l)
		if rec, ok := f.maps[i][key]; ok {
			return rec
		}
	}
	return 0
}

// span returns the record of the span holding a.
func (f *family) span(a addr128) uint32 {
	lo, hi := 0, len(f.starts) // starts[lo] <= a < starts[hi]
	for hi-lo > 1 {
		mid := int(uint(lo+hi) >> 1)
		if a.less(f.starts[mid]) {
			hi = mid
		} else {
			lo = mid
		}
	}
	if len(f.recs) == 0 {
		return 0
	}
	return f.recs[lo]
}

// DB implements plugin.SubnetLookup.
type DB struct {
	recs []Record // recs[0] is "not found"
	v4   family
	v6   family

	// Optional MaxMind databases consulted when no built-in range matches
	// (mmdb.go); geoRecs maps their data records to records of recs.
	geo     []*geoDB
	geoRecs map[geoKey]uint32
}

// New returns an empty database (every lookup "not found").
func New() *DB {
	return &DB{
		recs: []Record{{Country: "-", Org: "-"}},
		v4:   family{bits: 32, byLen: map[int]map[prefixKey]uint32{}},
		v6:   family{bits: 128, byLen: map[int]map[prefixKey]uint32{}},
	}
}

// Add inserts a range given in CIDR notation. A later Add of the same
// prefix replaces the earlier record.
func (d *DB) Add(cidr string, r Record) error {
	fam, err := d.add(cidr, r)
	if err != nil {
		return err
	}
	fam.flatten()
	return nil
}

// add inserts a range without rebuilding the spans (Builtin adds its
// table, then flattens each family once) and returns its family.
func (d *DB) add(cidr string, r Record) (*family, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, err
	}
	p = p.Masked()
	if len(r.Org) > OrgMax {
		r.Org = r.Org[:OrgMax]
	}
	d.recs = append(d.recs, r)
	rec := uint32(len(d.recs) - 1)
	fam := &d.v6
	var key prefixKey
	if p.Addr().Is4() {
		fam = &d.v4
		a := p.Addr().As4()
		copy(key[:], a[:])
	} else {
		key = p.Addr().As16()
	}
	m := fam.byLen[p.Bits()]
	if m == nil {
		m = map[prefixKey]uint32{}
		fam.byLen[p.Bits()] = m
		fam.lens = append(fam.lens, p.Bits())
		sort.Sort(sort.Reverse(sort.IntSlice(fam.lens)))
		fam.maps = fam.maps[:0]
		for _, l := range fam.lens {
			fam.maps = append(fam.maps, fam.byLen[l])
		}
	}
	if _, dup := m[key]; !dup {
		fam.count++
	}
	m[key] = rec
	return fam, nil
}

// Lookup returns the record of the most specific range containing addr
// (ver 4: addr[:4]); 0 when none does or for the unspecified address,
// which Tranalyzer never looks up.
func (d *DB) Lookup(ver uint8, addr *[16]byte) uint32 {
	var fam *family
	var n int
	switch ver {
	case 4:
		fam, n = &d.v4, 4
	case 6:
		fam, n = &d.v6, 16
	default:
		return 0
	}
	a := toAddr128((*prefixKey)(addr), n)
	if a == (addr128{}) {
		return 0
	}
	if rec := fam.span(a); rec != 0 {
		return rec
	}
	if len(d.geo) > 0 {
		return d.geoLookup(ver, addr)
	}
	return 0
}

// Open returns the built-in database, extended by the MaxMind databases
// at paths (country ISO code in lower case, AS organisation or
// organisation name; the first database that has a field gives it).
// Built-in ranges take precedence.
func Open(paths ...string) (*DB, error) {
	d := Builtin()
	if len(paths) > MaxGeo {
		return nil, fmt.Errorf("--geo: at most %d databases", MaxGeo)
	}
	for _, p := range paths {
		g, err := openGeoFile(p)
		if err != nil {
			return nil, err
		}
		d.AddGeo(g)
	}
	return d, nil
}

// AddGeo adds an opened MaxMind database after the ones already added.
func (d *DB) AddGeo(g *geoDB) {
	d.geo = append(d.geo, g)
	if d.geoRecs == nil {
		d.geoRecs = map[geoKey]uint32{}
	}
}

// maskKey clears every bit after the first l bits.
func maskKey(k *prefixKey, l int) {
	for i := range k {
		switch {
		case l >= 8:
			l -= 8
		case l > 0:
			k[i] &= byte(0xff << (8 - l))
			l = 0
		default:
			k[i] = 0
		}
	}
}

// Country returns the record's country code ("-" for 0 or out of range).
func (d *DB) Country(rec uint32) string {
	if int(rec) >= len(d.recs) {
		return "-"
	}
	return d.recs[rec].Country
}

// Org returns the record's organisation, cut to OrgMax characters.
func (d *DB) Org(rec uint32) string {
	if int(rec) >= len(d.recs) {
		return "-"
	}
	return d.recs[rec].Org
}

// IsTor reports whether the record is marked as a Tor address.
func (d *DB) IsTor(rec uint32) bool {
	return int(rec) < len(d.recs) && d.recs[rec].Tor
}

// Ranges returns the number of IPv4 and IPv6 ranges loaded.
func (d *DB) Ranges() (v4, v6 int) { return d.v4.count, d.v6.count }

// StartupLines returns Tranalyzer's "[INF] IPv4 Ver: …" lines (text only,
// the caller adds the [INF] colouring), one per family with ranges.
func (d *DB) StartupLines() []string {
	var out []string
	for _, f := range []struct {
		name string
		fam  *family
	}{{"IPv4", &d.v4}, {"IPv6", &d.v6}} {
		if f.fam.count == 0 {
			continue
		}
		out = append(out, fmt.Sprintf("%s Ver: 5, Rev: %s, Range Mode: 0, subnet ranges loaded: %d%s",
			f.name, f.fam.rev, f.fam.count, report.Suffix(uint64(f.fam.count))))
	}
	return out
}

// SetRevision sets the revision shown in the start-up line of a family
// (ver 4 or 6).
func (d *DB) SetRevision(ver uint8, rev string) {
	if ver == 4 {
		d.v4.rev = rev
	} else {
		d.v6.rev = rev
	}
}

var _ plugin.SubnetLookup = (*DB)(nil)
