package tawk

import (
	"encoding/base64"
	"errors"
	"flowsift/internal/colour"
	"fmt"
	"io"
	"math"
	"math/big"
	"net/netip"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// natives holds the per-run state of the Go-implemented functions
// (aggregation and sort buffers, output writers).
type natives struct {
	stdout, stderr       io.Writer
	outColour, errColour bool // colours of the print* functions

	aggrHdr  string
	aggrNum  int
	aggrKeys []string
	aggrSum  map[string]float64

	sortHdr  string
	sortRows []sortRow
	sortNum  int
	sortStr  bool
	sortDesc bool
}

type sortRow struct {
	key  string
	num  float64
	line string
}

// funcs returns the map handed to GoAWK (parser and interpreter).
func (n *natives) funcs() map[string]any {
	return map[string]any{
		// gawk builtins GoAWK lacks. Arguments arrive as strings so that
		// 64-bit hex values are parsed exactly.
		"and":      func(a ...string) uint64 { return fold(a, func(x, y uint64) uint64 { return x & y }) },
		"or":       func(a ...string) uint64 { return fold(a, func(x, y uint64) uint64 { return x | y }) },
		"xor":      func(a ...string) uint64 { return fold(a, func(x, y uint64) uint64 { return x ^ y }) },
		"compl":    func(a string) uint64 { return ^toUint(a) },
		"lshift":   func(a string, s int) uint64 { return toUint(a) << uint(s) },
		"rshift":   func(a string, s int) uint64 { return toUint(a) >> uint(s) },
		"strtonum": strtonum,
		"systime":  func() int64 { return time.Now().Unix() },
		"strftime": strftimeFunc,
		"gensub":   gensub,

		"abs":     math.Abs,
		"base64":  func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) },
		"base64d": func(s string) string { b, _ := base64.StdEncoding.DecodeString(s); return string(b) },
		"chomp":   func(s string) string { return strings.Trim(s, " ") },
		"strip":   func(s string) string { return strings.Trim(s, " \t") },
		"lstrip":  func(s string) string { return strings.TrimLeft(s, " \t") },
		"rstrip":  func(s string) string { return strings.TrimRight(s, " \t") },
		"quote":   func(s string) string { return `"` + s + `"` },
		"unquote": unquote,
		"hrnum":   hrnum,
		"hrtime":  hrtime,
		"utc": func(t string) string {
			if s := fmtTime(t, time.UTC); s != strings.TrimSpace(t) {
				return s + "Z"
			}
			return t
		},
		"localtime":   func(t string) string { return fmtTime(t, time.Local) },
		"timestamp":   timestamp,
		"log2":        math.Log2,
		"max2":        math.Max,
		"min2":        math.Min,
		"max3":        func(a, b, c float64) float64 { return math.Max(a, math.Max(b, c)) },
		"min3":        func(a, b, c float64) float64 { return math.Min(a, math.Min(b, c)) },
		"nibble_swap": nibbleSwap,
		"tobits":      tobits,
		"urldecode": func(s string) string {
			u, err := url.QueryUnescape(s)
			if err != nil {
				return s
			}
			return u
		},
		"texscape":  texscape,
		"proto2str": proto2str,
		"ip2hex": func(s string) string {
			v, ok := ip4num(s)
			if !ok {
				return ""
			}
			return fmt.Sprintf("0x%08x", v)
		},
		"ip2num": func(s string) string {
			v, ok := ip4num(s)
			if !ok {
				return ""
			}
			return strconv.FormatUint(uint64(v), 10)
		},
		"ip2str": func(s string) string {
			v, ok := ip4num(s)
			if !ok {
				return ""
			}
			return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}).String()
		},
		"ip62str": ip62str,
		"ip6compress": func(s string) string {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return s
			}
			return a.String()
		},
		"ip6expand": ip6expand,
		"ip2mask":   ip2mask,
		"mask2ip":   func(n int) uint64 { return uint64(mask4(n)) },
		"mask2ipstr": func(n int) string {
			m := mask4(n)
			return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}).String()
		},
		"mask2ip6":    func(n int) string { b := mask6(n); return fmt.Sprintf("%x", b[:]) },
		"mask2ip6str": func(n int) string { return netip.AddrFrom16(mask6(n)).String() },
		"printbold":   func(s string) { fmt.Fprintln(n.stdout, colour.Paint(n.outColour, colour.Bold, s)) },
		"printerr":    func(s string) { fmt.Fprintln(n.stderr, colour.Paint(n.errColour, colour.Red, s)) },
		"printinf":    func(s string) { fmt.Fprintln(n.stdout, colour.Paint(n.outColour, colour.Blue, s)) },
		"printok":     func(s string) { fmt.Fprintln(n.stdout, colour.Paint(n.outColour, colour.Green, s)) },
		"printwrn":    func(s string) { fmt.Fprintln(n.stdout, colour.Paint(n.outColour, colour.Yellow, s)) },

		// Helpers of the awk library.
		"_t2any":       func(v, m string) bool { return toUint(v)&toUint(m) != 0 },
		"_t2all":       func(v, m string) bool { mm := toUint(m); return toUint(v)&mm == mm },
		"_t2eq":        func(a, b string) bool { return toUint(a) == toUint(b) },
		"_t2sel":       selectValue,
		"_t2innet":     inNet,
		"_t2ipinnet":   ipInNet,
		"_t2ipinrange": ipInRange,
		"_t2is":        isKind,
		"_t2valc":      valContains,
		"_t2split":     splitValue,
		"_t2tcpfstr":   tcpFlagString,
		"_t2tcpfsel":   tcpFlagSelect,
		"_t2die":       func(msg string) (int, error) { return 0, errors.New(msg) },
		"_t2aggrhdr":   n.aggrHeader,
		"_t2aggradd":   n.aggrAdd,
		"_t2aggrout":   n.aggrOut,
		"_t2sorthdr":   func(line string) { n.sortHdr = line },
		"_t2sortadd":   n.sortAdd,
		"_t2sortout":   n.sortOut,
	}
}

func fold(a []string, f func(x, y uint64) uint64) uint64 {
	if len(a) == 0 {
		return 0
	}
	r := toUint(a[0])
	for _, s := range a[1:] {
		r = f(r, toUint(s))
	}
	return r
}

// toUint converts like gawk's strtonum, exactly for 64-bit integers:
// 0x hex, leading-0 octal, decimal (fractions truncated, negatives wrap).
func toUint(s string) uint64 {
	s = strings.TrimSpace(s)
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	var v uint64
	switch {
	case len(s) > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		v = prefixUint(s[2:], 16)
	case len(s) > 1 && s[0] == '0' && isOctal(digitsPrefix(s)):
		v = prefixUint(s, 8)
	default:
		d := digitsPrefix(s)
		if len(d) < len(s) && (s[len(d)] == '.' || s[len(d)] == 'e' || s[len(d)] == 'E') {
			f, _ := strconv.ParseFloat(floatPrefix(s), 64)
			v = uint64(f)
		} else {
			v = prefixUint(d, 10)
		}
	}
	if neg {
		v = -v
	}
	return v
}

func digitsPrefix(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

func floatPrefix(s string) string {
	for i := len(s); i > 0; i-- {
		if _, err := strconv.ParseFloat(s[:i], 64); err == nil {
			return s[:i]
		}
	}
	return "0"
}

func prefixUint(s string, base int) uint64 {
	i := 0
	for i < len(s) {
		c := s[i]
		var d int
		switch {
		case c >= '0' && c <= '9':
			d = int(c - '0')
		case c >= 'a' && c <= 'f':
			d = int(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = int(c-'A') + 10
		default:
			d = 99
		}
		if d >= base {
			break
		}
		i++
	}
	v, _ := strconv.ParseUint(s[:i], base, 64)
	return v
}

// strtonum returns a float (awk's number type) for decimals with
// fractions, and the exact integer otherwise.
func strtonum(s string) float64 {
	t := strings.TrimSpace(s)
	if d := digitsPrefix(strings.TrimLeft(t, "+-")); !strings.HasPrefix(strings.TrimLeft(t, "+-"), "0x") &&
		!strings.HasPrefix(strings.TrimLeft(t, "+-"), "0X") && !(len(d) > 1 && d[0] == '0' && isOctal(d)) {
		f, _ := strconv.ParseFloat(floatPrefix(t), 64)
		return f
	}
	v := toUint(t)
	if strings.HasPrefix(t, "-") {
		return -float64(-v)
	}
	return float64(v)
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// awkNum formats a number as awk prints it (integers plain, else %.6g).
func awkNum(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e16 {
		return strconv.FormatFloat(f, 'f', 0, 64)
	}
	return strconv.FormatFloat(f, 'g', 6, 64)
}

var hrUnits = []string{"", "K", "M", "G", "T", "P", "E", "Z", "Y"}

func hrnum(s string, mode int, suffix string) string {
	if mode == 2 {
		return s
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		n = strtonum(s)
	}
	if math.Abs(n) < 1000 {
		return s
	}
	k := int(math.Log2(math.Abs(n)) / 10)
	k = min(max(k, 1), 8)
	q := n / math.Pow(1000, float64(k))
	var txt string
	if q == math.Trunc(q) {
		txt = strconv.FormatFloat(q, 'f', 0, 64)
	} else {
		txt = strconv.FormatFloat(q, 'f', 2, 64)
	}
	txt += " " + hrUnits[k] + suffix
	if mode == 1 {
		return s + " (" + txt + ")"
	}
	return txt
}

func hrtime(s string, mode int, unit string) string {
	secs, _ := strconv.ParseFloat(strings.TrimSpace(s), 64)
	neg := secs < 0
	secs = math.Abs(secs)
	parts := []string{}
	whole := int64(secs)
	frac := secs - float64(whole)
	for _, u := range []struct {
		n int64
		s string
	}{{86400 * 365, "y"}, {86400, "d"}, {3600, "h"}, {60, "m"}} {
		if whole >= u.n {
			parts = append(parts, strconv.FormatInt(whole/u.n, 10)+u.s)
			whole %= u.n
		}
	}
	if whole > 0 || frac > 0 || len(parts) == 0 {
		parts = append(parts, strconv.FormatFloat(float64(whole)+frac, 'f', -1, 64)+"s")
	}
	txt := strings.Join(parts, " ")
	if neg {
		txt = "-" + txt
	}
	if mode == 1 {
		return s + " (" + txt + ")"
	}
	return txt
}

// fmtTime renders "secs[.frac]" as "YYYY-MM-DD HH:MM:SS[.frac]" keeping
// the original fractional digits.
func fmtTime(t string, loc *time.Location) string {
	t = strings.TrimSpace(t)
	whole, frac, hasFrac := strings.Cut(t, ".")
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || (hasFrac && !isDecimal(frac)) {
		return t // not a timestamp (e.g. the header row): unchanged
	}
	out := time.Unix(sec, 0).In(loc).Format("2006-01-02 15:04:05")
	if hasFrac {
		out += "." + frac
	}
	return out
}

func timestamp(s string) string {
	s = strings.TrimSuffix(strings.TrimSpace(s), "Z")
	base, frac, hasFrac := strings.Cut(s, ".")
	t, err := time.ParseInLocation("2006-01-02 15:04:05", base, time.UTC)
	if err != nil {
		return ""
	}
	out := strconv.FormatInt(t.Unix(), 10)
	if hasFrac {
		out += "." + frac
	}
	return out
}

func nibbleSwap(s string, nbytes int) uint64 {
	v := toUint(s)
	if nbytes <= 0 {
		nbytes = 1
	}
	var r uint64
	for i := 0; i < nbytes && i < 8; i++ {
		b := (v >> (8 * i)) & 0xff
		r |= ((b&0x0f)<<4 | b>>4) << (8 * i)
	}
	return r
}

func tobits(s string, bits int) string {
	if bits <= 0 {
		bits = 8
	}
	v := toUint(s)
	var b strings.Builder
	for i := bits - 1; i >= 0; i-- {
		if i < 64 && v>>uint(i)&1 == 1 {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
	}
	return b.String()
}

func texscape(s string) string {
	r := strings.NewReplacer(`\`, `\textbackslash{}`, "&", `\&`, "%", `\%`, "$", `\$`, "#", `\#`,
		"_", `\_`, "{", `\{`, "}", `\}`, "~", `\textasciitilde{}`, "^", `\textasciicircum{}`)
	return r.Replace(s)
}

var protoNames = map[uint64]string{0: "HOPOPT", 1: "ICMP", 2: "IGMP", 4: "IPIP", 6: "TCP", 17: "UDP",
	41: "IPv6", 43: "IPv6-Route", 44: "IPv6-Frag", 46: "RSVP", 47: "GRE", 50: "ESP", 51: "AH",
	58: "ICMPv6", 59: "IPv6-NoNxt", 60: "IPv6-Opts", 89: "OSPF", 103: "PIM", 112: "VRRP",
	132: "SCTP", 136: "UDPLite", 137: "MPLS-in-IP"}

func proto2str(s string) string {
	if n, ok := protoNames[toUint(s)]; ok {
		return n
	}
	return s
}

// ip4num parses a dotted, decimal or 0x hex IPv4 address.
func ip4num(s string) (uint32, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		if !a.Is4() {
			return 0, false
		}
		b := a.As4()
		return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]), true
	}
	if s == "" {
		return 0, false
	}
	v := toUint(s)
	return uint32(v), v <= math.MaxUint32
}

func ip62str(s string) string {
	s = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "0x"), "0X")
	s = strings.ReplaceAll(s, "_", "")
	var b big.Int
	if _, ok := b.SetString(s, 16); !ok {
		return s
	}
	var a [16]byte
	b.FillBytes(a[:])
	return netip.AddrFrom16(a).String()
}

func ip6expand(s string, trim int) string {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return s
	}
	b := a.As16()
	parts := make([]string, 8)
	for i := range parts {
		v := uint16(b[2*i])<<8 | uint16(b[2*i+1])
		if trim != 0 {
			parts[i] = fmt.Sprintf("%x", v)
		} else {
			parts[i] = fmt.Sprintf("%04x", v)
		}
	}
	return strings.Join(parts, ":")
}

func ip2mask(s string) int {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		v, ok := ip4num(s)
		if !ok {
			return 0
		}
		a = netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	n := 0
	for _, x := range a.AsSlice() {
		for i := 7; i >= 0; i-- {
			if x>>uint(i)&1 == 0 {
				return n
			}
			n++
		}
	}
	return n
}

func mask4(n int) uint32 {
	n = min(max(n, 0), 32)
	if n == 0 {
		return 0
	}
	return ^uint32(0) << uint(32-n)
}

func mask6(n int) [16]byte {
	var b [16]byte
	for i := 0; i < 16; i++ {
		k := min(max(n-8*i, 0), 8)
		b[i] = byte(0xff << uint(8-k))
	}
	return b
}

// selectValue implements the list/range selection of flow(), packet()
// (mode 0) and port(), proto() (mode 1).
func selectValue(val, spec string, mode int) bool {
	spec = strings.TrimSpace(spec)
	if isDecimal(spec) {
		return toUint(val) == toUint(spec) && isDecimal(strings.TrimSpace(val))
	}
	for _, item := range strings.FieldsFunc(spec, func(r rune) bool { return r == ',' || r == ';' }) {
		item = strings.TrimSpace(item)
		if lo, hi, ok := strings.Cut(item, "-"); ok && lo != "" {
			v := toUint(val)
			if v >= toUint(lo) && v <= toUint(hi) {
				return true
			}
			continue
		}
		if mode == 0 {
			// 0.9.3 compares single items as strings: "0x24" never matches.
			if strings.TrimSpace(val) == item {
				return true
			}
		} else if toUint(val) == toUint(item) {
			return true
		}
	}
	return false
}

func isDecimal(s string) bool {
	return s != "" && digitsPrefix(s) == s
}

// parsePrefix accepts "addr" (a host prefix) or "addr/len".
func parsePrefix(s string) (netip.Prefix, bool) {
	s = strings.TrimSpace(unquote(s))
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		return p.Masked(), true
	}
	a, ok := parseAddr(s)
	if !ok {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, a.BitLen()), true
}

// parseAddr accepts textual IPv4/IPv6 and numeric/hex IPv4.
func parseAddr(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(unquote(s))
	if a, err := netip.ParseAddr(s); err == nil {
		return a, true
	}
	if s == "" || !(isDecimal(s) || strings.HasPrefix(s, "0x") && isHex(s[2:])) {
		return netip.Addr{}, false
	}
	v, ok := ip4num(s)
	if !ok {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

func inNet(ip, spec string) bool {
	a, ok := parseAddr(ip)
	if !ok {
		return false
	}
	p, ok := parsePrefix(spec)
	return ok && a.Is4() == p.Addr().Is4() && p.Contains(a)
}

func ipInNet(ip, network, mask string) bool {
	if mask != "" {
		if isDecimal(mask) {
			network += "/" + mask
		} else {
			network += "/" + strconv.Itoa(ip2mask(mask))
		}
	}
	return inNet(ip, network)
}

func ipInRange(ip, lo, hi string) bool {
	a, ok1 := parseAddr(ip)
	l, ok2 := parseAddr(lo)
	h, ok3 := parseAddr(hi)
	if !ok1 || !ok2 || !ok3 || a.Is4() != l.Is4() || a.Is4() != h.Is4() {
		return false
	}
	return a.Compare(l) >= 0 && a.Compare(h) <= 0
}

var (
	reInt   = lazyRegexp(`^[-+]?[0-9]+$`)
	reUint  = lazyRegexp(`^[0-9]+$`)
	reFloat = lazyRegexp(`^[-+]?([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)([eE][-+]?[0-9]+)?$`)
	reHex   = lazyRegexp(`^0[xX][0-9a-fA-F]+$`)
	reIPHex = lazyRegexp(`^0[xX][0-9a-fA-F]{8}$`)
)

func isKind(v, kind string) bool {
	v = strings.TrimSpace(v)
	switch kind {
	case "num":
		return reFloat().MatchString(v) || reHex().MatchString(v)
	case "int":
		return reInt().MatchString(v)
	case "uint":
		return reUint().MatchString(v)
	case "float":
		return reFloat().MatchString(v) && !reInt().MatchString(v)
	case "iphex":
		return reIPHex().MatchString(v)
	case "ipnum":
		return reUint().MatchString(v) && toUint(v) <= math.MaxUint32
	}
	a, err := netip.ParseAddr(unquote(v))
	if err != nil {
		return false
	}
	switch kind {
	case "ip":
		return true
	case "ip6":
		return a.Is6()
	case "ipstr":
		return a.Is4()
	case "loopback":
		return a.IsLoopback()
	case "mcast":
		return a.IsMulticast()
	case "private":
		return a.IsPrivate()
	}
	return false
}

func valContains(val, sep, item string, icase int) bool {
	val, item = unquote(val), unquote(item)
	if icase != 0 {
		val, item = strings.ToLower(val), strings.ToLower(item)
	}
	if sep == "" {
		return val == item
	}
	for _, p := range strings.Split(val, sep) {
		if unquote(p) == item {
			return true
		}
	}
	return false
}

// splitValue splits val on sep and returns the items selected by num
// ("" or 0: all; "2"; "-1"; "1;-1"), joined by osep. A quoted value is
// unquoted before splitting and its items re-quoted (0.9.3 split a stale
// variable instead: a deliberate difference).
func splitValue(val, sep, num, osep string) string {
	quoted := len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"'
	if quoted {
		val = val[1 : len(val)-1]
	}
	items := strings.Split(val, sep)
	if sep == "" {
		items = []string{val}
	}
	var sel []string
	num = strings.TrimSpace(num)
	if num == "" || num == "0" {
		sel = items
	} else {
		for _, k := range strings.Split(num, ";") {
			i, err := strconv.Atoi(strings.TrimSpace(k))
			if err != nil || i == 0 {
				continue
			}
			if i < 0 {
				i += len(items) + 1
			}
			if i >= 1 && i <= len(items) {
				sel = append(sel, items[i-1])
			} else {
				sel = append(sel, "")
			}
		}
	}
	if quoted {
		for i, s := range sel {
			sel[i] = `"` + s + `"`
		}
	}
	return strings.Join(sel, osep)
}

const tcpFlagLetters = "FSRPAUEW"

func tcpFlagString(v string) string {
	f := toUint(v)
	b := []byte("........")
	for i := 0; i < 8; i++ {
		if f>>uint(i)&1 == 1 {
			b[7-i] = tcpFlagLetters[i]
		}
	}
	return string(b)
}

func tcpFlagSelect(v, spec string) bool {
	f := toUint(v) & 0xff
	set, clear, _ := strings.Cut(strings.ToUpper(spec), "!")
	for _, c := range set {
		if i := strings.IndexRune(tcpFlagLetters, c); i >= 0 && f>>uint(i)&1 == 0 {
			return false
		}
	}
	for _, c := range clear {
		if i := strings.IndexRune(tcpFlagLetters, c); i >= 0 && f>>uint(i)&1 == 1 {
			return false
		}
	}
	return true
}

func (n *natives) aggrHeader(fields, val string) {
	n.aggrHdr = fields + "\t" + val
}

func (n *natives) aggrAdd(fields, val string, num int, rep int, sep string, ignEmpty int) {
	if n.aggrSum == nil {
		n.aggrSum = map[string]float64{}
	}
	n.aggrNum = num
	v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
	if err != nil {
		v = strtonum(val)
	}
	keys := []string{fields}
	if rep != 0 {
		keys = strings.Split(fields, sep)
	}
	for _, k := range keys {
		if ignEmpty != 0 && (k == "" || k == "-" || k == `""`) {
			continue
		}
		if _, ok := n.aggrSum[k]; !ok {
			n.aggrKeys = append(n.aggrKeys, k)
		}
		n.aggrSum[k] += v
	}
}

// aggrOut returns the aggregated table (header, then rows by decreasing
// value), OFS-separated.
func (n *natives) aggrOut(ofs string) string {
	if n.aggrSum == nil && n.aggrHdr == "" {
		return ""
	}
	keys := append([]string(nil), n.aggrKeys...)
	sort.SliceStable(keys, func(i, j int) bool { return n.aggrSum[keys[i]] > n.aggrSum[keys[j]] })
	if n.aggrNum > 0 && len(keys) > n.aggrNum {
		keys = keys[:n.aggrNum]
	}
	var b strings.Builder
	if n.aggrHdr != "" {
		b.WriteString(strings.ReplaceAll(n.aggrHdr, "\t", ofs) + "\n")
	}
	for _, k := range keys {
		b.WriteString(k + ofs + awkNum(n.aggrSum[k]) + "\n")
	}
	return b.String()
}

func (n *natives) sortAdd(key, line string, num int, typ string, desc int) {
	f, err := strconv.ParseFloat(strings.TrimSpace(key), 64)
	if err != nil {
		f = strtonum(key)
	}
	n.sortRows = append(n.sortRows, sortRow{key, f, line})
	n.sortNum, n.sortStr, n.sortDesc = num, typ == "str" || typ == "s", desc != 0
}

func (n *natives) sortOut() string {
	if n.sortRows == nil && n.sortHdr == "" {
		return ""
	}
	rows := n.sortRows
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if n.sortDesc {
			a, b = b, a
		}
		if n.sortStr {
			return a.key < b.key
		}
		return a.num < b.num
	})
	if n.sortNum > 0 && len(rows) > n.sortNum {
		rows = rows[:n.sortNum]
	}
	var b strings.Builder
	if n.sortHdr != "" {
		b.WriteString(n.sortHdr + "\n")
	}
	for _, r := range rows {
		b.WriteString(r.line + "\n")
	}
	return b.String()
}

// gensub is gawk's gensub with a string regex and explicit target.
func gensub(re, repl, how, target string) (string, error) {
	rx, err := regexp.Compile(re)
	if err != nil {
		return "", fmt.Errorf("gensub: %v", err)
	}
	which := -1 // all
	if h := strings.TrimSpace(how); h != "" && h[0] != 'g' && h[0] != 'G' {
		which = int(toUint(h))
		if which < 1 {
			which = 1
		}
	}
	count := 0
	var b strings.Builder
	last := 0
	for _, m := range rx.FindAllStringSubmatchIndex(target, -1) {
		count++
		if which > 0 && count != which {
			continue
		}
		b.WriteString(target[last:m[0]])
		for i := 0; i < len(repl); i++ {
			c := repl[i]
			switch {
			case c == '\\' && i+1 < len(repl) && repl[i+1] >= '0' && repl[i+1] <= '9':
				g := int(repl[i+1] - '0')
				if 2*g+1 < len(m) && m[2*g] >= 0 {
					b.WriteString(target[m[2*g]:m[2*g+1]])
				}
				i++
			case c == '\\' && i+1 < len(repl) && repl[i+1] == '&':
				b.WriteByte('&')
				i++
			case c == '&':
				b.WriteString(target[m[0]:m[1]])
			default:
				b.WriteByte(c)
			}
		}
		last = m[1]
	}
	b.WriteString(target[last:])
	return b.String(), nil
}

// strftimeFunc is gawk's strftime([format [, timestamp [, utc]]]).
func strftimeFunc(format string, ts string, utc int) string {
	if format == "" {
		format = "%a %b %e %H:%M:%S %Z %Y"
	}
	t := time.Now()
	if strings.TrimSpace(ts) != "" {
		t = time.Unix(int64(strtonum(ts)), 0)
	}
	if utc != 0 {
		t = t.UTC()
	}
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 == len(format) {
			b.WriteByte(c)
			continue
		}
		i++
		switch format[i] {
		case 'Y':
			fmt.Fprintf(&b, "%04d", t.Year())
		case 'y':
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'e':
			fmt.Fprintf(&b, "%2d", t.Day())
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'I':
			fmt.Fprintf(&b, "%02d", (t.Hour()+11)%12+1)
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 'p':
			b.WriteString(t.Format("PM"))
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case 'a':
			b.WriteString(t.Format("Mon"))
		case 'A':
			b.WriteString(t.Format("Monday"))
		case 'b', 'h':
			b.WriteString(t.Format("Jan"))
		case 'B':
			b.WriteString(t.Format("January"))
		case 'Z':
			b.WriteString(t.Format("MST"))
		case 'z':
			b.WriteString(t.Format("-0700"))
		case 's':
			fmt.Fprintf(&b, "%d", t.Unix())
		case 'T':
			b.WriteString(t.Format("15:04:05"))
		case 'D':
			b.WriteString(t.Format("01/02/06"))
		case 'F':
			b.WriteString(t.Format("2006-01-02"))
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(format[i])
		}
	}
	return b.String()
}
