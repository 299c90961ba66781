package subnet

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpenGeo: any file given to --geo either is refused with an error or
// answers lookups; never a panic or a hang.
func FuzzOpenGeo(f *testing.F) {
	t := &testing.T{}
	good := buildMMDB(t, map[string]map[string][]byte{
		"8.8.8.0/24":    {"country": encMap(map[string][]byte{"iso_code": encStr("US")}), "autonomous_system_organization": encStr("GOOGLE")},
		"2001:470::/32": {"organization": encStr("HE")},
	})
	f.Add(good)
	f.Add(buildMMDBSize(t, 28, map[string]map[string][]byte{"1.2.3.0/24": {"isp": encStr("x")}}))
	f.Add(buildMMDBSize(t, 32, map[string]map[string][]byte{"1.2.3.0/24": {"isp": encStr("x")}}))
	f.Add(withMeta(t, good, map[string][]byte{
		"node_count": encUint(6, 0x2AAAAAAB, 4), "record_size": encUint(5, 24, 2),
		"ip_version": encUint(5, 6, 2), "binary_format_major_version": encUint(5, 2, 2),
	}))
	f.Add([]byte("\xab\xcd\xefMaxMind.com"))
	f.Add([]byte{})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "fuzz.mmdb")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := Open(path, path)
		if err != nil {
			return
		}
		for _, a := range []string{"8.8.8.8", "1.2.3.4", "2001:470::1", "255.255.255.255", "ffff::1"} {
			cc, org := lookup(t, d, a)
			if cc == "" || org == "" || len(org) > OrgMax {
				t.Fatalf("%s: cc %q org %q", a, cc, org)
			}
		}
	})
}
