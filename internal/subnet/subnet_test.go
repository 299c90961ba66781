package subnet

import (
	"bufio"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func lookup(t *testing.T, d *DB, s string) (string, string) {
	t.Helper()
	a := netip.MustParseAddr(s)
	var b [16]byte
	ver := uint8(6)
	if a.Is4() {
		ver = 4
		a4 := a.As4()
		copy(b[:], a4[:])
	} else {
		b = a.As16()
	}
	rec := d.Lookup(ver, &b)
	return d.Country(rec), d.Org(rec)
}

func TestBuiltinLookups(t *testing.T) {
	d := Builtin()
	cases := []struct{ addr, cc, org string }{
		{"10.9.0.1", "04", "Private network"},
		{"172.31.255.255", "05", "Private network"},
		{"172.32.0.0", "-", "-"},
		{"192.168.1.105", "07", "Private network"},
		{"224.0.0.251", "10", "mDNS"},
		{"224.0.0.252", "10", "Link-local Multicast Name Reso"}, // cut to 30
		{"239.255.255.250", "10", "Organization-Local Scope"},
		{"255.255.255.255", "11", "Broadcast"},
		{"255.255.255.254", "-", "-"},
		{"0.0.0.0", "-", "-"},
		{"8.8.8.8", "-", "-"},
		{"::", "-", "-"},
		{"::1", "01", "Loopback"},
		{"fe80::1", "02", "Link-local"},
		{"fd00:9::1", "04", "Unique local"},
		{"2001:db8:1::1", "27", "doc and example source"},
		{"2001:0:4137:9e50:8000:f12a:b9c8:2815", "64", "Teredo"},
		{"ff02::1:ff00:2", "10", "Solicited node Link-local"},
		{"ff02::1", "10", "All Nodes Address"},
		{"ff02::3", "-", "-"},
		{"2001:470::1", "-", "-"},
	}
	for _, c := range cases {
		cc, org := lookup(t, d, c.addr)
		if cc != c.cc || org != c.org {
			t.Errorf("%s: got %q %q, want %q %q", c.addr, cc, org, c.cc, c.org)
		}
	}
}

func TestMostSpecific(t *testing.T) {
	d := New()
	d.Add("224.0.0.0/4", Record{Country: "10", Org: "wide"})
	d.Add("224.0.0.0/24", Record{Country: "10", Org: "mid"})
	d.Add("224.0.0.5/32", Record{Country: "10", Org: "narrow", Tor: true})
	for _, c := range []struct{ addr, org string }{
		{"224.0.0.5", "narrow"}, {"224.0.0.6", "mid"}, {"224.0.1.0", "wide"}, {"240.0.0.0", "-"},
	} {
		if _, org := lookup(t, d, c.addr); org != c.org {
			t.Errorf("%s: got %q want %q", c.addr, org, c.org)
		}
	}
	b := [16]byte{224, 0, 0, 5}
	if !d.IsTor(d.Lookup(4, &b)) {
		t.Error("Tor mark lost")
	}
	if v4, v6 := d.Ranges(); v4 != 3 || v6 != 0 {
		t.Errorf("ranges %d %d", v4, v6)
	}
	if got := d.StartupLines(); len(got) != 1 || got[0] != "IPv4 Ver: 5, Rev: , Range Mode: 0, subnet ranges loaded: 3" {
		t.Errorf("startup %q", got)
	}
}

func TestLookupNoAlloc(t *testing.T) {
	d := Builtin()
	b := [16]byte{0xfe, 0x80, 15: 1}
	if n := testing.AllocsPerRun(100, func() { d.Lookup(6, &b) }); n != 0 {
		t.Errorf("Lookup allocates %v", n)
	}
}

func sharedDir() string {
	if s := os.Getenv("FLOWSIFT_SHARED"); s != "" {
		return s
	}
	return "../../../shared"
}

// TestGoldenPairs checks every (address, country, organisation) triple of
// the golden flow files against the built-in table.
func TestGoldenPairs(t *testing.T) {
	root := filepath.Join(sharedDir(), "golden")
	if _, err := os.Stat(root); err != nil {
		t.Skip("golden outputs not found (set FLOWSIFT_SHARED): ", err)
	}
	d := Builtin()
	seen := map[string]bool{}
	var files []string
	for _, sub := range []string{"generated/*/*_flows.txt", "public/*/*/*_flows.txt"} {
		m, _ := filepath.Glob(filepath.Join(root, sub))
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Skip("no golden flow files")
	}
	for _, fn := range files {
		f, err := os.Open(fn)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		var ix map[string]int
		for sc.Scan() {
			cols := strings.Split(sc.Text(), "\t")
			if ix == nil {
				ix = map[string]int{}
				for i, n := range cols {
					ix[strings.TrimPrefix(n, "%")] = i
				}
				continue
			}
			for _, k := range [][3]string{{"srcIP", "srcIPCC", "srcIPOrg"}, {"dstIP", "dstIPCC", "dstIPOrg"}} {
				addr, cc, org := cols[ix[k[0]]], cols[ix[k[1]]], strings.Trim(cols[ix[k[2]]], `"`)
				if addr == "-" || seen[addr] {
					continue
				}
				seen[addr] = true
				gcc, gorg := lookup(t, d, addr)
				if gcc != cc || gorg != org {
					t.Errorf("%s (%s): got %s %q, golden %s %q", addr, filepath.Base(fn), gcc, gorg, cc, org)
				}
			}
		}
		f.Close()
	}
	if len(seen) < 100 {
		t.Errorf("only %d addresses checked", len(seen))
	}
}

// TestSpansMatchLongestPrefix checks the flattened spans of Lookup against
// probing every prefix length, on the built-in table and on random nested
// ranges: at every range's first and last address, their neighbours, and
// random addresses.
func TestSpansMatchLongestPrefix(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := New()
	for i := 0; i < 300; i++ {
		var a [16]byte
		for j := range a {
			a[j] = byte(rng.IntN(4)) // few distinct bytes: ranges nest and touch
		}
		if i%2 == 0 {
			p := netip.PrefixFrom(netip.AddrFrom4([4]byte(a[:4])), rng.IntN(33))
			random.Add(p.Masked().String(), Record{Country: "x", Org: strconv.Itoa(i)})
		} else {
			p := netip.PrefixFrom(netip.AddrFrom16(a), rng.IntN(129))
			random.Add(p.Masked().String(), Record{Country: "y", Org: strconv.Itoa(i)})
		}
	}
	for name, d := range map[string]*DB{"builtin": Builtin(), "random": random} {
		for ver, fam := range map[uint8]*family{4: &d.v4, 6: &d.v6} {
			n := fam.bits / 8
			var probes []addr128
			for _, s := range fam.starts {
				probes = append(probes, s)
				if nx, ok := s.next(fam.bits); ok {
					probes = append(probes, nx)
				}
				if s != (addr128{}) {
					probes = append(probes, addr128{s.hi, s.lo - 1}, addr128{s.hi - 1, ^uint64(0)})
				}
			}
			for i := 0; i < 20000; i++ {
				var k prefixKey
				for j := range k[:n] {
					k[j] = byte(rng.IntN(4))
				}
				if i%2 == 0 {
					for j := range k[:n] {
						k[j] = byte(rng.Uint32())
					}
				}
				probes = append(probes, toAddr128(&k, n))
			}
			checked := 0
			for _, a := range probes {
				if ver == 4 && a.hi != 0 || ver == 4 && a.lo > 0xffffffff || a == (addr128{}) {
					continue
				}
				k := fromAddr128(a, n)
				var addr [16]byte
				copy(addr[:], k[:])
				if got, want := d.Lookup(ver, &addr), fam.longestPrefix(&k, n); got != want {
					t.Fatalf("%s IPv%d %x: spans give record %d, prefixes %d", name, ver, k[:n], got, want)
				}
				checked++
			}
			if checked < 20000 {
				t.Errorf("%s IPv%d: only %d addresses checked", name, ver, checked)
			}
		}
	}
}
