package serve

import (
	"bytes"
	"strconv"
	"sync"
)

// seriesColumns are the packet columns the plots read.
var seriesColumns = []string{"flowStat", "time", "seq", "ack", "l7Len", "tcpFlags", "tcpWin", "diagPktClass", "l4Proto", "tcpOpts"}

// seriesCache keeps the encoded series of the last flows opened.
type seriesCache struct {
	mu   sync.Mutex
	keys []uint64
	vals [][]byte
}

// Series returns flowInd's per-packet plot facts as columnar JSON:
// {"n", "classes", "dir", "t" (s since the first packet), "seq", "ack",
// "len", "flags", "win", "cls" (index into classes), "tcp", "sack"
// (triples: packet index, left edge, right edge of each SACK block)}.
// Numbers instead of row objects: a 200,000-packet flow is a few MB that
// the browser parses quickly.
func (a *Analysis) Series(ind uint64) ([]byte, error) {
	a.series.mu.Lock()
	for i, k := range a.series.keys {
		if k == ind {
			v := a.series.vals[i]
			a.series.mu.Unlock()
			return v, nil
		}
	}
	a.series.mu.Unlock()
	t, err := a.FlowPackets(ind)
	if err != nil {
		return nil, err
	}
	cols := make([]int, len(seriesColumns))
	for k, n := range seriesColumns {
		cols[k] = t.Col(n)
	}
	n := t.Len()
	var dir, tm, seq, ack, ln, flags, win, cls, tcp, sack bytes.Buffer
	for _, b := range []*bytes.Buffer{&dir, &tm, &seq, &ack, &ln, &flags, &win, &cls, &tcp} {
		b.Grow(n * 4)
	}
	classes := []string{}
	classIdx := map[string]int{}
	var t0 int64
	f := make([][]byte, len(cols))
	var num []byte
	for i := 0; i < n; i++ {
		pick(t.line(i), cols, f)
		sep := func(b *bytes.Buffer) {
			if i > 0 {
				b.WriteByte(',')
			}
		}
		sep(&dir)
		dir.WriteByte('0' + byte(parseHex(f[0])&1))
		ns := parseTime(f[1])
		if i == 0 {
			t0 = ns
		}
		sep(&tm)
		num = strconv.AppendFloat(num[:0], float64(ns-t0)/1e9, 'f', -1, 64)
		tm.Write(num)
		for k, b := range [...]*bytes.Buffer{&seq, &ack, &ln, &win} {
			sep(b)
			num = strconv.AppendUint(num[:0], parseDec(f[[...]int{2, 3, 4, 6}[k]]), 10)
			b.Write(num)
		}
		sep(&flags)
		num = strconv.AppendUint(num[:0], parseHex(f[5]), 10)
		flags.Write(num)
		c, ok := classIdx[string(f[7])]
		if !ok {
			c = len(classes)
			classIdx[string(f[7])] = c
			classes = append(classes, string(f[7]))
		}
		sep(&cls)
		num = strconv.AppendInt(num[:0], int64(c), 10)
		cls.Write(num)
		for _, blk := range sackBlocks(f[9]) {
			if sack.Len() > 0 {
				sack.WriteByte(',')
			}
			num = strconv.AppendInt(num[:0], int64(i), 10)
			num = append(num, ',')
			num = strconv.AppendUint(num, uint64(blk[0]), 10)
			num = append(num, ',')
			num = strconv.AppendUint(num, uint64(blk[1]), 10)
			sack.Write(num)
		}
		sep(&tcp)
		if string(f[8]) == "6" {
			tcp.WriteByte('1')
		} else {
			tcp.WriteByte('0')
		}
	}
	var out bytes.Buffer
	out.WriteString(`{"n":` + strconv.Itoa(n) + `,"classes":[`)
	for i, c := range classes {
		if i > 0 {
			out.WriteByte(',')
		}
		out.Write(appendJSONString(nil, c))
	}
	out.WriteString("]")
	for _, kv := range []struct {
		k string
		b *bytes.Buffer
	}{{"dir", &dir}, {"t", &tm}, {"seq", &seq}, {"ack", &ack}, {"len", &ln}, {"flags", &flags}, {"win", &win}, {"cls", &cls}, {"tcp", &tcp}, {"sack", &sack}} {
		out.WriteString(`,"` + kv.k + `":[`)
		out.Write(kv.b.Bytes())
		out.WriteString("]")
	}
	out.WriteString("}\n")
	v := out.Bytes()
	a.series.mu.Lock()
	a.series.keys = append(a.series.keys, ind)
	a.series.vals = append(a.series.vals, v)
	if len(a.series.keys) > 4 {
		a.series.keys, a.series.vals = a.series.keys[1:], a.series.vals[1:]
	}
	a.series.mu.Unlock()
	return v, nil
}

// pick fills f with columns cols of a TAB-separated line in one pass
// (a column < 0 or past the end gives nil); f aliases line.
func pick(line []byte, cols []int, f [][]byte) {
	for k := range f {
		f[k] = nil
	}
	for c := 0; ; c++ {
		tab := bytes.IndexByte(line, '\t')
		v := line
		if tab >= 0 {
			v = line[:tab]
		}
		for k, want := range cols {
			if want == c {
				f[k] = v
			}
		}
		if tab < 0 {
			return
		}
		line = line[tab+1:]
	}
}

// sackBlocks decodes the SACK option (kind 5) of tcpOpts, the raw option
// bytes as "0x01;0x01;0x05;0x0a;...". A truncated or malformed option list
// ends the walk.
func sackBlocks(opts []byte) [][2]uint32 {
	if len(opts) == 0 {
		return nil
	}
	var b []byte
	for _, x := range bytes.Split(opts, []byte{';'}) {
		v := parseHex(x)
		if v > 255 || len(x) < 3 {
			return nil
		}
		b = append(b, byte(v))
	}
	var out [][2]uint32
	for i := 0; i < len(b); {
		switch b[i] {
		case 0:
			return out
		case 1:
			i++
			continue
		}
		if i+1 >= len(b) || b[i+1] < 2 || i+int(b[i+1]) > len(b) {
			return out
		}
		if b[i] == 5 {
			for k := i + 2; k+8 <= i+int(b[i+1]); k += 8 {
				out = append(out, [2]uint32{be32(b[k:]), be32(b[k+4:])})
			}
		}
		i += int(b[i+1])
	}
	return out
}

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// parseDec reads a decimal number (0 when it is none).
func parseDec(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0
		}
		v = v*10 + uint64(c-'0')
	}
	return v
}

// parseHex reads 0x-prefixed hex (0 when it is none).
func parseHex(b []byte) uint64 {
	if len(b) < 3 || b[0] != '0' || b[1] != 'x' {
		return 0
	}
	var v uint64
	for _, c := range b[2:] {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | uint64(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | uint64(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | uint64(c-'A'+10)
		default:
			return 0
		}
	}
	return v
}

// parseTime reads "SEC.NSEC" into nanoseconds (exact, unlike a float).
func parseTime(b []byte) int64 {
	var sec, frac int64
	i := 0
	for ; i < len(b) && b[i] != '.'; i++ {
		if b[i] < '0' || b[i] > '9' {
			return 0
		}
		sec = sec*10 + int64(b[i]-'0')
	}
	digits := 0
	for i++; i < len(b) && digits < 9; i++ {
		if b[i] < '0' || b[i] > '9' {
			break
		}
		frac = frac*10 + int64(b[i]-'0')
		digits++
	}
	for ; digits < 9; digits++ {
		frac *= 10
	}
	return sec*1e9 + frac
}
