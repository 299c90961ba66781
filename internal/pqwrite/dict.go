package pqwrite

import (
	"bytes"
	"encoding/binary"

	"github.com/parquet-go/parquet-go/encoding/rle"
)

// Dictionary encoding (RLE_DICTIONARY) of a column whose values repeat
// (addresses, MACs, organisations): each row group's distinct values go once into a
// dictionary page, and the data pages hold their indexes, bit-packed or
// run-length encoded. The compression goroutine builds it from the values
// as they were appended (an address's bytes), so a value is formatted
// (Expand) and taken into the statistics once per row group instead of
// once per row, and zstd compresses a few bits per value instead of its
// text. A row group whose dictionary outgrows maxDictEntries or
// maxDictBytes, or whose values turn out not to repeat (fewer than two
// values per entry once dictMinValues values or dictCheckBytes of
// dictionary are reached), keeps it for the pages already encoded and
// writes the rest PLAIN, as parquet-mr does: a column of distinct values
// (a flood of new addresses, the payloads of a real capture) costs no
// dictionary memory. The byte check gives up a dictionary of long
// distinct values (payloads of 1,400 bytes) after some 50 of them
// rather than at maxDictBytes.
const (
	maxDictEntries = 1 << 16
	maxDictBytes   = 1 << 20
	dictMinValues  = 4096
	dictCheckBytes = 64 << 10
)

// dictionary is a column's dictionary of the open row group, owned by the
// compression goroutine.
type dictionary struct {
	keys  []byte     // the values as appended, one after the other
	ends  []uint32   // where each value's key ends in keys
	table []dictSlot // open addressing
	vals  []byte     // the values PLAIN (expanded): the dictionary page
	full  bool       // outgrown: the row group's further pages are PLAIN
	used  bool       // some page of the row group refers to it
	seen  int        // values of the row group's dictionary pages
	idx   []int32    // a page's indexes (scratch)
}

// dictSlot is a table slot: the key's first 16 bytes and its length, so
// that a lookup of a short key (an address, a MAC) reads one slot and no
// other memory; idx is the value's index + 1, 0 for a free slot.
type dictSlot struct {
	k0, k1 uint64
	n, idx uint32
}

func (d *dictionary) reset() {
	d.keys, d.ends, d.vals, d.idx = d.keys[:0], d.ends[:0], d.vals[:0], d.idx[:0]
	clear(d.table)
	d.full, d.used, d.seen = false, false, 0
}

func (d *dictionary) key(i int) []byte {
	start := uint32(0)
	if i > 0 {
		start = d.ends[i-1]
	}
	return d.keys[start:d.ends[i]]
}

// slotKey is the first 16 bytes of v (zero-padded) and v's hash. more is
// v followed by what comes after it in its page, so that a short key is
// two loads and masks rather than a copy.
func slotKey(v, more []byte) (k0, k1, h uint64) {
	le := binary.LittleEndian
	if n := len(v); n <= 16 && len(more) >= 16 {
		k0, k1 = le.Uint64(more), le.Uint64(more[8:])
		switch {
		case n < 8:
			k0 &= 1<<(8*n) - 1
			k1 = 0
		case n < 16:
			k1 &= 1<<(8*(n-8)) - 1
		}
	} else {
		var b [16]byte
		copy(b[:], v)
		k0, k1 = le.Uint64(b[:]), le.Uint64(b[8:])
	}
	h = (k0 ^ uint64(len(v))<<56) * 0x9e3779b97f4a7c15
	h = (h ^ h>>29 ^ k1) * 0xff51afd7ed558ccd
	for v := v[min(len(v), 16):]; len(v) > 0; v = v[min(len(v), 8):] {
		var t [8]byte
		copy(t[:], v)
		h = (h ^ le.Uint64(t[:])) * 0xc4ceb9fe1a85ec53
	}
	return k0, k1, h ^ h>>32
}

// lookup returns the index of value v (as appended; more is v and what
// follows it in its page, lenPrefixed v with its length before it),
// adding it (expanded by c, into the statistics) when new; false when the
// dictionary is full.
func (d *dictionary) lookup(c *Column, v, more, lenPrefixed []byte) (int32, bool) {
	if len(d.table) == 0 || 2*(len(d.ends)+1) > len(d.table) {
		d.grow()
	}
	k0, k1, h := slotKey(v, more)
	mask := uint64(len(d.table) - 1)
	for h &= mask; ; h = (h + 1) & mask {
		e := &d.table[h]
		if e.idx == 0 {
			if len(d.ends) >= maxDictEntries || len(d.vals) >= maxDictBytes {
				d.full = true
				return 0, false
			}
			i := len(d.ends)
			d.keys = append(d.keys, v...)
			d.ends = append(d.ends, uint32(len(d.keys)))
			*e = dictSlot{k0, k1, uint32(len(v)), uint32(i + 1)}
			at := len(d.vals)
			if c.Expand != nil {
				d.vals = c.Expand(d.vals, lenPrefixed)
			} else {
				d.vals = append(d.vals, lenPrefixed...)
			}
			c.stats.add(c, d.vals[at:])
			return int32(i), true
		}
		if e.k0 == k0 && e.k1 == k1 && int(e.n) == len(v) && (len(v) <= 16 || bytes.Equal(d.key(int(e.idx-1)), v)) {
			return int32(e.idx - 1), true
		}
	}
}

// grow doubles the table (at least 1,024 slots) and places the keys anew.
func (d *dictionary) grow() {
	n := max(1024, 2*len(d.table))
	if cap(d.table) >= n {
		d.table = d.table[:n]
		clear(d.table)
	} else {
		d.table = make([]dictSlot, n)
	}
	mask := uint64(n - 1)
	for i := range d.ends {
		v := d.key(i)
		k0, k1, h := slotKey(v, v)
		for h &= mask; d.table[h].idx != 0; h = (h + 1) & mask {
		}
		d.table[h] = dictSlot{k0, k1, uint32(len(v)), uint32(i + 1)}
	}
}

// repeats tells whether the dictionary's values repeat, having seen
// seen values: at least two per entry.
func (d *dictionary) repeats(seen int) bool { return 2*len(d.ends) <= seen }

// encodePage returns the page's values vals (length-prefixed, as
// appended) as RLE_DICTIONARY data (bit width, then the indexes) in dst's
// memory, or false when the dictionary is full: the page is then written
// PLAIN, and so are the row group's further pages. A value equal to the
// one before it costs one comparison.
func (d *dictionary) encodePage(c *Column, dst, vals []byte) ([]byte, bool) {
	if d.full {
		return dst, false
	}
	idx := d.idx[:0]
	var prev []byte
	var prevIdx int32 = -1
	le := binary.LittleEndian
	for i := 0; i+4 <= len(vals); {
		n := int(le.Uint32(vals[i:]))
		whole := vals[i : i+4+n]
		v := whole[4:]
		i += 4 + n
		if prevIdx >= 0 && bytes.Equal(v, prev) {
			idx = append(idx, prevIdx)
			continue
		}
		k, ok := d.lookup(c, v, vals[i-n:], whole)
		if ok && len(d.vals) >= dictCheckBytes && !d.repeats(d.seen+len(idx)+1) {
			// Long values that do not repeat: given up before the
			// page's end, so the dictionary stops growing now.
			d.full, ok = true, false
		}
		if !ok {
			d.idx = idx
			return dst, false
		}
		idx = append(idx, k)
		prev, prevIdx = v, k
	}
	d.idx = idx
	d.used = true
	if d.seen += len(idx); d.seen >= dictMinValues && !d.repeats(d.seen) {
		d.full = true
	}
	var enc rle.DictionaryEncoding
	dst, _ = enc.EncodeInt32(dst, idx)
	return dst, true
}

// byteDict is the dictionary of a bytes8 column: the INT32 values 0..255,
// PLAIN, so that a value's index is the value.
var byteDict = func() (b [256 * 4]byte) {
	for i := range 256 {
		b[4*i] = byte(i)
	}
	return b
}()

// bytes8Page returns a bytes8 column's page of values (a byte each) as
// RLE_DICTIONARY data against byteDict, in dst's memory: bit width 8,
// then one bit-packed run whose groups of eight 8-bit indexes are the
// bytes themselves (the last group padded with zeros).
func bytes8Page(dst, vals []byte) []byte {
	groups := (len(vals) + 7) / 8
	dst = append(dst, 8)
	dst = binary.AppendUvarint(dst, uint64(groups)<<1|1)
	dst = append(dst, vals...)
	for range groups*8 - len(vals) {
		dst = append(dst, 0)
	}
	return dst
}
