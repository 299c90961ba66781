package tawk

import (
	"regexp"
	"sort"
	"strings"
	"sync"
)

// libFunc is one function of tawk's library: documented (help), and
// implemented either natively (in natives) or as awk source (src).
type libFunc struct {
	name string
	sig  string
	help string
	src  string // awk definition; empty for native-only functions
}

// Conventions of the awk sources: _t2H is 1 on a header line (set by the
// prelude rule), _t2hv is the value selectors return there (1, or 0 with
// -H), natives are called _t2*.
var library = []libFunc{
	{"abs", "abs(v)", "absolute value of v", ""},
	{"aggr", "aggr(fields[, val[, num]])", "aggregate rows by the key fields (e.g. $srcIP OFS $dstIP), summing val (default: count); the top num rows are printed at the end", `function aggr(fields, val, num) { if (_t2H) { _t2aggrhdr(fields, val == "" ? "Count" : val); return } _t2aggradd(fields, val == "" ? 1 : val, num, 0, ";", 0) }`},
	{"aggrrep", "aggrrep(fields[, val[, num[, ign_e[, sep]]]])", "like aggr for repeated values: every sep-separated (default ';') item of fields is a key; ign_e=1 ignores empty items", `function aggrrep(fields, val, num, ign_e, sep) { if (_t2H) { _t2aggrhdr(fields, val == "" ? "Count" : val); return } _t2aggradd(fields, val == "" ? 1 : val, num, 1, sep == "" ? ";" : sep, ign_e) }`},
	{"ah", "ah()", "selects flows whose l4Proto is 51 (IPsec AH)", `function ah() { return _t2H ? _t2hv : $_validate_col("l4Proto") == 51 }`},
	{"and", "and(a, b, ...)", "bitwise AND (gawk builtin; exact for 64-bit hex strings)", ""},
	{"base64", "base64(s)", "base64 encoding of s", ""},
	{"base64d", "base64d(s)", "decodes the base64 string s", ""},
	{"bfeq", "bfeq(a, b)", "selects rows where the (hex) bitfields a and b are equal", `function bfeq(a, b) { return _t2H ? _t2hv : _t2eq(a, b) }`},
	{"bitsallset", "bitsallset(v, mask)", "selects rows where all bits of mask are set in v", `function bitsallset(v, m) { return _t2H ? _t2hv : _t2all(v, m) }`},
	{"bitsanyset", "bitsanyset(v, mask)", "selects rows where any bit of mask is set in v", `function bitsanyset(v, m) { return _t2H ? _t2hv : _t2any(v, m) }`},
	{"chomp", "chomp(s)", "s without leading and trailing spaces", ""},
	{"compl", "compl(v)", "bitwise complement (64 bits; gawk builtin)", ""},
	{"contains", "contains(val, txt)", "selects rows where val contains txt", `function contains(val, txt) { return _t2H ? _t2hv : index(val, txt) > 0 }`},
	{"containsi", "containsi(val, txt)", "contains, ignoring case", `function containsi(val, txt) { return _t2H ? _t2hv : index(tolower(val), tolower(txt)) > 0 }`},
	{"cvalcontains", "cvalcontains(val, item)", "selects rows where an item of the compound ('_') value val equals item", `function cvalcontains(val, item) { return _t2H ? _t2hv : _t2valc(val, "_", item, 0) }`},
	{"cvalcontainsi", "cvalcontainsi(val, item)", "cvalcontains, ignoring case", `function cvalcontainsi(val, item) { return _t2H ? _t2hv : _t2valc(val, "_", item, 1) }`},
	{"dether", "dether(mac)", "selects rows whose destination MAC is mac", `function dether(mac) { return _t2H ? _t2hv : tolower($_validate_col("dstMac;dstMAC")) == tolower(mac) }`},
	{"dhcp", "dhcp()", "selects flows with DHCP traffic (needs the dhcpDecode columns)", `function dhcp() { return _t2H ? _t2hv : _t2any($_validate_col("dhcpStat"), "0xffff") }`},
	{"dhost", "dhost([ip])", "selects rows whose destination IP is ip (address or net/len); no argument: the destination IP", `function dhost(ip,   d) { d = $_validate_col("dstIP;dstIP4;dstIP6"); if (_t2H || ip == "") return d; return _t2innet(d, ip) }`},
	{"dmac", "dmac(mac)", "alias of dether", `function dmac(mac) { return dether(mac) }`},
	{"dnet", "dnet([net])", "alias of dhost", `function dnet(ip) { return dhost(ip) }`},
	{"dns", "dns()", "selects flows with DNS traffic (needs the dnsDecode columns)", `function dns() { return _t2H ? _t2hv : _t2any($_validate_col("dnsStat"), "0xffff") }`},
	{"dport", "dport([p])", "selects rows whose destination port is p (number, list 'a;b' or range 'a-b'); no argument: the port", `function dport(p,   c) { c = _validate_col("dstPort"); if (_t2H || p == "") return $c; return _t2sel($c, p, 1) }`},
	{"esp", "esp()", "selects flows whose l4Proto is 50 (IPsec ESP)", `function esp() { return _t2H ? _t2hv : $_validate_col("l4Proto") == 50 }`},
	{"ether", "ether(mac)", "selects rows whose source or destination MAC is mac", `function ether(mac) { return _t2H ? _t2hv : (sether(mac) || dether(mac)) }`},
	{"flow", "flow([f])", "selects flows by flowInd: number, list '1;5', range '1-3'; no argument: the flowInd", `function flow(f,   c) { c = _validate_col("flowInd"); if (_t2H || f == "" || f == 0) return $c; return _t2sel($c, f, 0) }`},
	{"gensub", "gensub(re, repl, how, target)", "gawk's gensub; re must be a string and target must be given", ""},
	{"gre", "gre()", "selects flows whose l4Proto is 47 (GRE)", `function gre() { return _t2H ? _t2hv : $_validate_col("l4Proto") == 47 }`},
	{"hasprefix", "hasprefix(val, pre)", "selects rows where val starts with pre", `function hasprefix(val, pre) { return _t2H ? _t2hv : substr(val, 1, length(pre)) == pre }`},
	{"hasprefixi", "hasprefixi(val, pre)", "hasprefix, ignoring case", `function hasprefixi(val, pre) { return _t2H ? _t2hv : tolower(substr(val, 1, length(pre))) == tolower(pre) }`},
	{"hassuffix", "hassuffix(val, suf)", "selects rows where val ends with suf", `function hassuffix(val, suf) { return _t2H ? _t2hv : length(val) >= length(suf) && substr(val, length(val) - length(suf) + 1) == suf }`},
	{"hassuffixi", "hassuffixi(val, suf)", "hassuffix, ignoring case", `function hassuffixi(val, suf) { return hassuffix(tolower(val), tolower(suf)) }`},
	{"hdr", "hdr()", "true on a header (column names) line: use hdr() || cond to keep the header", `function hdr() { return _t2H }`},
	{"host", "host([ip])", "selects rows whose source or destination IP is ip (address or net/len); no argument: both IPs", `function host(ip,   s, d) { s = $_validate_col("srcIP;srcIP4;srcIP6"); d = $_validate_col("dstIP;dstIP4;dstIP6"); if (_t2H || ip == "") return s OFS d; return _t2innet(s, ip) || _t2innet(d, ip) }`},
	{"hrnum", "hrnum(n[, mode[, suffix]])", "human readable number (2500 -> 2.50 K); mode 1: 'n (hr)', mode 2: n unchanged", ""},
	{"hrtime", "hrtime(secs[, mode[, unit]])", "human readable duration (123 -> 2m 3s); mode 1: 'secs (hr)'", ""},
	{"icmp", "icmp()", "selects flows whose l4Proto is 1 (ICMP)", `function icmp() { return _t2H ? _t2hv : $_validate_col("l4Proto") == 1 }`},
	{"icmp6", "icmp6()", "selects flows whose l4Proto is 58 (ICMPv6)", `function icmp6() { return _t2H ? _t2hv : $_validate_col("l4Proto") == 58 }`},
	{"igmp", "igmp()", "selects flows whose l4Proto is 2 (IGMP)", `function igmp() { return _t2H ? _t2hv : $_validate_col("l4Proto") == 2 }`},
	{"ip", "ip()", "selects IPv4 or IPv6 flows (flowStat bits 0xc000)", `function ip() { return _t2H ? _t2hv : _t2any($_validate_col("flowStat"), "0xc000") }`},
	{"ip2hex", "ip2hex(ip)", "IPv4 address to hex (0x0a000001)", ""},
	{"ip2mask", "ip2mask(ip)", "netmask to prefix length (255.255.255.0 -> 24)", ""},
	{"ip2num", "ip2num(ip)", "IPv4 address to number", ""},
	{"ip2str", "ip2str(n)", "number or hex to IPv4 address", ""},
	{"ip62str", "ip62str(hex)", "128-bit hex to IPv6 address", ""},
	{"ip6compress", "ip6compress(ip)", "compressed form of an IPv6 address", ""},
	{"ip6expand", "ip6expand(ip[, trim])", "expanded form of an IPv6 address (trim=1: no leading zeros)", ""},
	{"ipinnet", "ipinnet(ip, net[, mask])", "selects rows where ip is in net (net/len, or net and mask)", `function ipinnet(ip, net, mask) { return _t2H ? _t2hv : _t2ipinnet(ip, net, mask) }`},
	{"ipinrange", "ipinrange(ip, low, high)", "selects rows where low <= ip <= high", `function ipinrange(ip, low, high) { return _t2H ? _t2hv : _t2ipinrange(ip, low, high) }`},
	{"ipv4", "ipv4()", "selects IPv4 flows (flowStat bit 0x4000)", `function ipv4() { return _t2H ? _t2hv : _t2any($_validate_col("flowStat"), "0x4000") }`},
	{"ipv6", "ipv6()", "selects IPv6 flows (flowStat bit 0x8000)", `function ipv6() { return _t2H ? _t2hv : _t2any($_validate_col("flowStat"), "0x8000") }`},
	{"isfloat", "isfloat(v)", "selects rows where v is a floating point number", `function isfloat(v) { return _t2H ? _t2hv : _t2is(v, "float") }`},
	{"isint", "isint(v)", "selects rows where v is an integer", `function isint(v) { return _t2H ? _t2hv : _t2is(v, "int") }`},
	{"isip", "isip(v)", "true if v is an IPv4 or IPv6 address", `function isip(v) { return _t2H ? _t2hv : _t2is(v, "ip") }`},
	{"isip6", "isip6(v)", "selects rows where v is an IPv6 address", `function isip6(v) { return _t2H ? _t2hv : _t2is(v, "ip6") }`},
	{"isiphex", "isiphex(v)", "selects rows where v is an IPv4 address in hex (0x0a000001)", `function isiphex(v) { return _t2H ? _t2hv : _t2is(v, "iphex") }`},
	{"isipnum", "isipnum(v)", "selects rows where v is an IPv4 address as a number", `function isipnum(v) { return _t2H ? _t2hv : _t2is(v, "ipnum") }`},
	{"isipstr", "isipstr(v)", "selects rows where v is a dotted IPv4 address", `function isipstr(v) { return _t2H ? _t2hv : _t2is(v, "ipstr") }`},
	{"isnum", "isnum(v)", "selects rows where v is a number (decimal, float or hex)", `function isnum(v) { return _t2H ? _t2hv : _t2is(v, "num") }`},
	{"isset", "isset(v)", "true if v is neither empty nor '-' (nor '\"-\"')", `function isset(v) { return v != "" && v != "-" && v != "\"-\"" }`},
	{"isuint", "isuint(v)", "selects rows where v is an unsigned integer", `function isuint(v) { return _t2H ? _t2hv : _t2is(v, "uint") }`},
	{"join", "join(array, sep)", "joins array[1..n] with sep", `function join(a, sep,   i, s) { for (i = 1; i in a; i++) s = s (i > 1 ? sep : "") a[i]; return s }`},
	{"localtime", "localtime(t)", "Unix timestamp to local 'YYYY-MM-DD HH:MM:SS[.frac]'", ""},
	{"log2", "log2(n)", "binary logarithm", ""},
	{"loopback", "loopback(ip)", "selects rows where ip is a loopback address", `function loopback(ip) { return _t2H ? _t2hv : _t2is(ip, "loopback") }`},
	{"lshift", "lshift(v, n)", "left shift (gawk builtin)", ""},
	{"lstrip", "lstrip(s)", "s without leading spaces", ""},
	{"mac", "mac(mac)", "alias of ether", `function mac(m) { return ether(m) }`},
	{"mask2ip", "mask2ip(len)", "prefix length to IPv4 netmask as a number", ""},
	{"mask2ip6", "mask2ip6(len)", "prefix length to IPv6 netmask as 32 hex digits", ""},
	{"mask2ip6str", "mask2ip6str(len)", "prefix length to IPv6 netmask (ffff:ff00::)", ""},
	{"mask2ipstr", "mask2ipstr(len)", "prefix length to IPv4 netmask (255.255.255.0)", ""},
	{"max", "max(c)", "running maximum of column number c over the rows seen (e.g. max(numBytesSnt); call it again in END to print it)", `function max(c,   v) { if (!_t2H && _t2maxnr[c] != NR) { _t2maxnr[c] = NR; v = $c + 0; if (!(c in _t2max) || v > _t2max[c]) _t2max[c] = v } return (c in _t2max) ? _t2max[c] : "" }`},
	{"max2", "max2(a, b)", "maximum of two values", ""},
	{"max3", "max3(a, b, c)", "maximum of three values", ""},
	{"mcast", "mcast(ip)", "selects rows where ip is a multicast address", `function mcast(ip) { return _t2H ? _t2hv : _t2is(ip, "mcast") }`},
	{"mean", "mean(c)", "running mean of column number c", `function mean(c) { if (!_t2H && _t2meannr[c] != NR) { _t2meannr[c] = NR; _t2sum[c] += $c; _t2cnt[c]++ } return _t2cnt[c] ? _t2sum[c] / _t2cnt[c] : 0 }`},
	{"min", "min(c)", "running minimum of column number c", `function min(c,   v) { if (!_t2H && _t2minnr[c] != NR) { _t2minnr[c] = NR; v = $c + 0; if (!(c in _t2min) || v < _t2min[c]) _t2min[c] = v } return (c in _t2min) ? _t2min[c] : "" }`},
	{"min2", "min2(a, b)", "minimum of two values", ""},
	{"min3", "min3(a, b, c)", "minimum of three values", ""},
	{"net", "net([net])", "alias of host", `function net(ip) { return host(ip) }`},
	{"nibble_swap", "nibble_swap(n[, bytes])", "swaps the nibbles of every byte of n", ""},
	{"not", "not(q)", "negation that keeps the header: not(flow(1))", `function not(q) { return _t2H ? _t2hv : !q }`},
	{"or", "or(a, b, ...)", "bitwise OR (gawk builtin)", ""},
	{"packet", "packet([p])", "selects packets by pktNo: number, list or range ('4188-4211'); no argument: the pktNo", `function packet(p,   c) { c = _validate_col("pktNo"); if (_t2H || p == "" || p == 0) return $c; return _t2sel($c, p, 0) }`},
	{"port", "port([p])", "selects rows whose source or destination port is p (number, list or range); no argument: both ports", `function port(p,   s, d) { s = _validate_col("srcPort"); d = _validate_col("dstPort"); if (_t2H || p == "") return $s OFS $d; return _t2sel($s, p, 1) || _t2sel($d, p, 1) }`},
	{"printbold", "printbold(msg)", "prints msg in bold", ""},
	{"printerr", "printerr(msg)", "prints msg in red on stderr", ""},
	{"printinf", "printinf(msg)", "prints msg in blue", ""},
	{"printok", "printok(msg)", "prints msg in green", ""},
	{"printwrn", "printwrn(msg)", "prints msg in orange", ""},
	{"privip", "privip(ip)", "selects rows where ip is a private address (RFC 1918, fc00::/7)", `function privip(ip) { return _t2H ? _t2hv : _t2is(ip, "private") }`},
	{"proto", "proto([p])", "selects rows whose l4Proto is p (number, list or range); no argument: the l4Proto", `function proto(p,   c) { c = _validate_col("l4Proto"); if (_t2H || p == "") return $c; return _t2sel($c, p, 1) }`},
	{"proto2str", "proto2str(p)", "protocol number to name (6 -> TCP)", ""},
	{"quote", "quote(s)", "s in double quotes", ""},
	{"rshift", "rshift(v, n)", "right shift (gawk builtin)", ""},
	{"rstrip", "rstrip(s)", "s without trailing spaces", ""},
	{"rsvp", "rsvp()", "selects flows whose l4Proto is 46 (RSVP)", `function rsvp() { return _t2H ? _t2hv : $_validate_col("l4Proto") == 46 }`},
	{"rvalcontains", "rvalcontains(val, item)", "selects rows where an item of the repeated (';') value val equals item", `function rvalcontains(val, item) { return _t2H ? _t2hv : _t2valc(val, ";", item, 0) }`},
	{"rvalcontainsi", "rvalcontainsi(val, item)", "rvalcontains, ignoring case", `function rvalcontainsi(val, item) { return _t2H ? _t2hv : _t2valc(val, ";", item, 1) }`},
	{"sctp", "sctp()", "selects flows whose l4Proto is 132 (SCTP)", `function sctp() { return _t2H ? _t2hv : $_validate_col("l4Proto") == 132 }`},
	{"sether", "sether(mac)", "selects rows whose source MAC is mac", `function sether(mac) { return _t2H ? _t2hv : tolower($_validate_col("srcMac;srcMAC")) == tolower(mac) }`},
	{"shost", "shost([ip])", "selects rows whose source IP is ip (address or net/len); no argument: the source IP", `function shost(ip,   s) { s = $_validate_col("srcIP;srcIP4;srcIP6"); if (_t2H || ip == "") return s; return _t2innet(s, ip) }`},
	{"smac", "smac(mac)", "alias of sether", `function smac(mac) { return sether(mac) }`},
	{"snet", "snet([net])", "alias of shost", `function snet(ip) { return shost(ip) }`},
	{"splitc", "splitc(val[, num[, osep]])", "splits a compound ('_') value: item num (<0 from the end, '1;-1' several), or all joined by osep (default OFS)", `function splitc(val, num, osep) { return _t2split(val, "_", num, osep == "" ? OFS : osep) }`},
	{"splitr", "splitr(val[, num[, osep]])", "splits a repeated (';') value like splitc", `function splitr(val, num, osep) { return _t2split(val, ";", num, osep == "" ? OFS : osep) }`},
	{"sport", "sport([p])", "selects rows whose source port is p (number, list or range); no argument: the port", `function sport(p,   c) { c = _validate_col("srcPort"); if (_t2H || p == "") return $c; return _t2sel($c, p, 1) }`},
	{"streq", "streq(a, b)", "selects rows where a equals b (surrounding quotes ignored)", `function streq(a, b) { return _t2H ? _t2hv : unquote(a) == unquote(b) }`},
	{"streqi", "streqi(a, b)", "streq, ignoring case", `function streqi(a, b) { return _t2H ? _t2hv : tolower(unquote(a)) == tolower(unquote(b)) }`},
	{"strip", "strip(s)", "s without leading and trailing spaces", ""},
	{"strisempty", "strisempty(v)", "selects rows where v is empty (or \"\")", `function strisempty(v) { return _t2H ? _t2hv : unquote(v) == "" }`},
	{"strneq", "strneq(a, b)", "selects rows where a differs from b (drops the header)", `function strneq(a, b) { return _t2H ? 0 : unquote(a) != unquote(b) }`},
	{"strneqi", "strneqi(a, b)", "strneq, ignoring case", `function strneqi(a, b) { return _t2H ? 0 : tolower(unquote(a)) != tolower(unquote(b)) }`},
	{"strtonum", "strtonum(s)", "number from a decimal, 0x hex or 0 octal string (gawk builtin)", ""},
	{"strftime", "strftime([fmt[, t[, utc]]])", "formats timestamp t (default now) with the C strftime format fmt (gawk builtin)", ""},
	{"systime", "systime()", "current Unix time (gawk builtin)", ""},
	{"t2rsort", "t2rsort(col[, num[, type]])", "prints the rows sorted by column number col, descending, at the end (num: only the first num; type 'str' for string order)", `function t2rsort(col, num, type) { if (_t2H) { _t2sorthdr($0); return } _t2sortadd($col, $0, num, type, 1) }`},
	{"t2sort", "t2sort(col[, num[, type]])", "prints the rows sorted by column number col, ascending, at the end", `function t2sort(col, num, type) { if (_t2H) { _t2sorthdr($0); return } _t2sortadd($col, $0, num, type, 0) }`},
	{"t2split", "t2split(val, sep[, num[, osep]])", "splits val on sep like splitc", `function t2split(val, sep, num, osep) { return _t2split(val, sep, num, osep == "" ? OFS : osep) }`},
	{"tcp", "tcp()", "selects flows whose l4Proto is 6 (TCP)", `function tcp() { return _t2H ? _t2hv : $_validate_col("l4Proto") == 6 }`},
	{"tcpflags", "tcpflags([s])", "no argument: the TCP flags as '...A..S.'; with 'S!F': SYN set and FIN clear (letters F S R P A U E W)", `function tcpflags(s,   c) { c = _validate_col("tcpFlags"); if (_t2H) return $c; if (s == "") return _t2tcpfstr($c); return _t2tcpfsel($c, s) }`},
	{"texscape", "texscape(s)", "s escaped for LaTeX", ""},
	{"timestamp", "timestamp(t)", "'YYYY-MM-DD HH:MM:SS[.frac]' (UTC) to a Unix timestamp", ""},
	{"tobits", "tobits(u[, bits])", "binary representation of u on bits digits (default 8)", ""},
	{"tuple2", "tuple2()", "srcIP, dstIP (joined by OFS)", `function tuple2() { return $_validate_col("srcIP;srcIP4;srcIP6") OFS $_validate_col("dstIP;dstIP4;dstIP6") }`},
	{"tuple3", "tuple3()", "srcIP, dstIP, dstPort", `function tuple3() { return tuple2() OFS $_validate_col("dstPort") }`},
	{"tuple4", "tuple4()", "srcIP, srcPort, dstIP, dstPort", `function tuple4() { return $_validate_col("srcIP;srcIP4;srcIP6") OFS $_validate_col("srcPort") OFS $_validate_col("dstIP;dstIP4;dstIP6") OFS $_validate_col("dstPort") }`},
	{"tuple5", "tuple5()", "tuple4 and l4Proto", `function tuple5() { return tuple4() OFS $_validate_col("l4Proto") }`},
	{"tuple6", "tuple6()", "tuple5 and vlanID", `function tuple6() { return tuple5() OFS $_validate_col("vlanID") }`},
	{"udp", "udp()", "selects flows whose l4Proto is 17 (UDP)", `function udp() { return _t2H ? _t2hv : $_validate_col("l4Proto") == 17 }`},
	{"unquote", "unquote(s)", "s without surrounding double quotes", ""},
	{"urldecode", "urldecode(url)", "decodes %XX escapes and '+'", ""},
	{"utc", "utc(t)", "Unix timestamp to UTC 'YYYY-MM-DD HH:MM:SS[.frac]Z'", ""},
	{"valcontains", "valcontains(val, sep, item)", "selects rows where an item of val split on sep equals item", `function valcontains(val, sep, item) { return _t2H ? _t2hv : _t2valc(val, sep, item, 0) }`},
	{"valcontainsi", "valcontainsi(val, sep, item)", "valcontains, ignoring case", `function valcontainsi(val, sep, item) { return _t2H ? _t2hv : _t2valc(val, sep, item, 1) }`},
	{"wildcard", "wildcard(expr)", "prints the columns whose name matches the regex expr ('!expr': not matching)", `function wildcard(expr,   i, neg, out, n) { neg = sub(/^!/, "", expr); for (i = 1; i <= NF; i++) if ((COL[i] ~ expr) != neg) { out = out (n++ ? OFS : "") $i } print out }`},
	{"xor", "xor(a, b, ...)", "bitwise XOR (gawk builtin)", ""},
	{"_validate_col", "_validate_col(names[, default])", "number of the first existing column of 'a;b;c', else default, else error", `function _validate_col(names, dflt,   n, a, i) { n = split(names, a, ";"); for (i = 1; i <= n; i++) if (a[i] in COL) return COL[a[i]]; if (dflt != "") return dflt; _t2die("Column '" names "' not found") }`},
}

var identRe = lazyRegexp(`[A-Za-z_][A-Za-z_0-9]*`)

// libSource returns the awk definitions needed by a program that uses the
// identifiers in used and defines the functions in defined: only what is
// referenced is included (smaller program; a user may define his own max).
func libSource(used, defined map[string]bool) string {
	byName := map[string]*libFunc{}
	for i := range library {
		byName[library[i].name] = &library[i]
	}
	need := map[string]bool{}
	var visit func(string)
	visit = func(n string) {
		f := byName[n]
		if f == nil || f.src == "" || need[n] || defined[n] {
			return
		}
		need[n] = true
		for _, id := range identRe().FindAllString(f.src, -1) {
			if id != n {
				visit(id)
			}
		}
	}
	for n := range used {
		visit(n)
	}
	names := make([]string, 0, len(need))
	for n := range need {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString(byName[n].src)
		b.WriteByte('\n')
	}
	return b.String()
}

// lazyRegexp compiles expr on first use: tawk is one command of the
// flowsift binary, and regular expressions compiled at package start-up
// were paid by every run of every command.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
