package subnet

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
)

// A minimal reader for MaxMind DB files (.mmdb, format 2.0): binary search
// tree over address bits, a data section of typed values, and a metadata
// map at the end. Only what the country/organisation lookup needs is
// decoded; everything else is skipped.

var mmdbMarker = []byte("\xab\xcd\xefMaxMind.com")

// mmdb is an opened database.
type mmdb struct {
	buf        []byte
	nodeCount  uint32
	recordSize uint32 // bits per record: 24, 28 or 32
	ipVersion  uint32
	treeSize   uint32
	data       []byte // data section
	ipv4Start  uint32 // node after 96 zero bits (IPv4 subtree in an IPv6 tree)
	v4Depth    int
}

// openMMDB reads and validates path.
func openMMDB(path string) (*mmdb, error) {
	buf, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseMMDB(buf)
}

func parseMMDB(buf []byte) (*mmdb, error) {
	i := bytes.LastIndex(buf, mmdbMarker)
	if i < 0 {
		return nil, errors.New("mmdb: metadata marker not found")
	}
	md := buf[i+len(mmdbMarker):]
	d := decoder{buf: md}
	v, _, err := d.decode(0, 0)
	if err != nil {
		return nil, fmt.Errorf("mmdb metadata: %w", err)
	}
	meta, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("mmdb: metadata is not a map")
	}
	m := &mmdb{buf: buf}
	m.nodeCount = uint32(asUint(meta["node_count"]))
	m.recordSize = uint32(asUint(meta["record_size"]))
	m.ipVersion = uint32(asUint(meta["ip_version"]))
	if v := asUint(meta["binary_format_major_version"]); v != 2 {
		return nil, fmt.Errorf("mmdb: unsupported format version %d", v)
	}
	switch m.recordSize {
	case 24, 28, 32:
	default:
		return nil, fmt.Errorf("mmdb: unsupported record size %d", m.recordSize)
	}
	m.treeSize = (m.recordSize * 2 / 8) * m.nodeCount
	if uint64(m.treeSize)+16 > uint64(i) {
		return nil, errors.New("mmdb: search tree larger than file")
	}
	m.data = buf[m.treeSize+16 : i]
	// IPv4 addresses in an IPv6 tree live under ::/96.
	node := uint32(0)
	if m.ipVersion == 6 {
		for k := 0; k < 96 && node < m.nodeCount; k++ {
			node = m.record(node, 0)
		}
	}
	m.ipv4Start = node
	return m, nil
}

// record returns the left (bit 0) or right (bit 1) record of node.
func (m *mmdb) record(node uint32, bit uint) uint32 {
	switch m.recordSize {
	case 24:
		o := node*6 + uint32(bit)*3
		b := m.buf[o : o+3]
		return uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2])
	case 28:
		o := node * 7
		b := m.buf[o : o+7]
		if bit == 0 {
			return uint32(b[3]&0xf0)<<20 | uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2])
		}
		return uint32(b[3]&0x0f)<<24 | uint32(b[4])<<16 | uint32(b[5])<<8 | uint32(b[6])
	default:
		o := node*8 + uint32(bit)*4
		return binary.BigEndian.Uint32(m.buf[o : o+4])
	}
}

// lookup returns the data-section offset for the address (ok false when
// the address is not in the tree). It does not allocate.
func (m *mmdb) lookup(ver uint8, addr *[16]byte) (uint32, bool) {
	node := uint32(0)
	bits := 128
	var a []byte = addr[:16]
	if ver == 4 {
		if m.ipVersion == 6 {
			node = m.ipv4Start
		}
		bits = 32
		a = addr[:4]
	} else if m.ipVersion == 4 {
		return 0, false
	}
	for i := 0; i < bits && node < m.nodeCount; i++ {
		bit := uint(a[i>>3]>>(7-uint(i&7))) & 1
		node = m.record(node, bit)
	}
	if node <= m.nodeCount {
		return 0, false // == nodeCount: not found; < nodeCount: ran out of bits
	}
	off := node - m.nodeCount - 16
	if off >= uint32(len(m.data)) {
		return 0, false
	}
	return off, true
}

// countryOrg decodes the record at off: the country ISO code (lower case,
// as Tranalyzer prints it) and an organisation name from whichever field
// the database type has.
func (m *mmdb) countryOrg(off uint32) (cc, org string, err error) {
	d := decoder{buf: m.data}
	v, _, err := d.decode(off, 0)
	if err != nil {
		return "", "", err
	}
	rec, _ := v.(map[string]any)
	for _, k := range []string{"country", "registered_country"} {
		if c, ok := rec[k].(map[string]any); ok {
			if s, ok := c["iso_code"].(string); ok && s != "" {
				cc = strings.ToLower(s)
				break
			}
		}
	}
	for _, k := range []string{"autonomous_system_organization", "organization", "isp"} {
		if s, ok := rec[k].(string); ok && s != "" {
			org = s
			break
		}
	}
	return cc, org, nil
}

func asUint(v any) uint64 {
	switch x := v.(type) {
	case uint64:
		return x
	case uint32:
		return uint64(x)
	case uint16:
		return uint64(x)
	case int32:
		return uint64(x)
	}
	return 0
}

// decoder decodes MaxMind data-section values.
type decoder struct{ buf []byte }

var errShort = errors.New("mmdb: truncated data")

// decode returns the value at off and the offset after it. depth guards
// against pointer loops in corrupt files.
func (d *decoder) decode(off uint32, depth int) (any, uint32, error) {
	if depth > 32 {
		return nil, 0, errors.New("mmdb: data nested too deeply")
	}
	if off >= uint32(len(d.buf)) {
		return nil, 0, errShort
	}
	ctrl := d.buf[off]
	off++
	typ := uint32(ctrl >> 5)
	if typ == 1 { // pointer
		ss := uint32(ctrl>>3) & 3
		vb := uint32(ctrl & 7)
		n := ss + 1
		if off+n > uint32(len(d.buf)) {
			return nil, 0, errShort
		}
		var p uint32
		b := d.buf[off : off+n]
		switch ss {
		case 0:
			p = vb<<8 | uint32(b[0])
		case 1:
			p = (vb<<16 | uint32(b[0])<<8 | uint32(b[1])) + 2048
		case 2:
			p = (vb<<24 | uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2])) + 526336
		default:
			p = binary.BigEndian.Uint32(b)
		}
		v, _, err := d.decode(p, depth+1)
		return v, off + n, err
	}
	if typ == 0 { // extended type
		if off >= uint32(len(d.buf)) {
			return nil, 0, errShort
		}
		typ = 7 + uint32(d.buf[off])
		off++
	}
	size := uint32(ctrl & 0x1f)
	if size >= 29 && typ != 1 {
		n := size - 28
		if off+n > uint32(len(d.buf)) {
			return nil, 0, errShort
		}
		b := d.buf[off : off+n]
		switch n {
		case 1:
			size = 29 + uint32(b[0])
		case 2:
			size = 285 + (uint32(b[0])<<8 | uint32(b[1]))
		default:
			size = 65821 + (uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]))
		}
		off += n
	}
	need := func() ([]byte, error) {
		if off+size > uint32(len(d.buf)) {
			return nil, errShort
		}
		return d.buf[off : off+size], nil
	}
	switch typ {
	case 2: // UTF-8 string
		b, err := need()
		return string(b), off + size, err
	case 3: // double
		if size != 8 {
			return nil, 0, errors.New("mmdb: bad double size")
		}
		b, err := need()
		if err != nil {
			return nil, 0, err
		}
		return math.Float64frombits(binary.BigEndian.Uint64(b)), off + size, nil
	case 4: // bytes
		b, err := need()
		return append([]byte(nil), b...), off + size, err
	case 5, 6, 9, 10: // uint16, uint32, uint64, uint128 (kept to 64 bits)
		b, err := need()
		if err != nil {
			return nil, 0, err
		}
		var v uint64
		for _, c := range b {
			v = v<<8 | uint64(c)
		}
		switch typ {
		case 5:
			return uint16(v), off + size, nil
		case 6:
			return uint32(v), off + size, nil
		}
		return v, off + size, nil
	case 8: // int32
		b, err := need()
		if err != nil {
			return nil, 0, err
		}
		var v uint32
		for _, c := range b {
			v = v<<8 | uint32(c)
		}
		return int32(v), off + size, nil
	case 7: // map
		m := make(map[string]any, size)
		for i := uint32(0); i < size; i++ {
			k, next, err := d.decode(off, depth+1)
			if err != nil {
				return nil, 0, err
			}
			ks, ok := k.(string)
			if !ok {
				return nil, 0, errors.New("mmdb: map key is not a string")
			}
			v, next2, err := d.decode(next, depth+1)
			if err != nil {
				return nil, 0, err
			}
			m[ks] = v
			off = next2
		}
		return m, off, nil
	case 11: // array
		a := make([]any, 0, min(size, 1024))
		for i := uint32(0); i < size; i++ {
			v, next, err := d.decode(off, depth+1)
			if err != nil {
				return nil, 0, err
			}
			a = append(a, v)
			off = next
		}
		return a, off, nil
	case 14: // boolean: the value is the size
		return size != 0, off, nil
	case 15: // float
		if size != 4 {
			return nil, 0, errors.New("mmdb: bad float size")
		}
		b, err := need()
		if err != nil {
			return nil, 0, err
		}
		return math.Float32frombits(binary.BigEndian.Uint32(b)), off + size, nil
	}
	return nil, 0, fmt.Errorf("mmdb: unsupported data type %d", typ)
}
