package subnet

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flowsift/internal/subnet/mmdbtest"
)

// Short names for the test database writer.
var (
	encStr  = mmdbtest.Str
	encUint = mmdbtest.Uint
	encMap  = mmdbtest.Map
)

func buildMMDB(t *testing.T, entries map[string]map[string][]byte) []byte {
	return mmdbtest.Build(entries)
}

func buildMMDBSize(t *testing.T, size int, entries map[string]map[string][]byte) []byte {
	return mmdbtest.BuildSize(size, entries)
}

func TestMMDB(t *testing.T) {
	db := buildMMDB(t, map[string]map[string][]byte{
		"8.8.8.0/24": {
			"country":                        encMap(map[string][]byte{"iso_code": encStr("US")}),
			"autonomous_system_organization": encStr("GOOGLE"),
		},
		"10.0.0.0/8": { // shadowed by the built-in private range
			"country": encMap(map[string][]byte{"iso_code": encStr("ZZ")}),
		},
		"2001:470::/32": {
			"country":      encMap(map[string][]byte{"iso_code": encStr("US")}),
			"organization": encStr("Hurricane Electric LLC, a very long name"),
		},
	})
	path := filepath.Join(t.TempDir(), "t.mmdb")
	if err := os.WriteFile(path, db, 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ addr, cc, org string }{
		{"8.8.8.8", "us", "GOOGLE"},
		{"8.8.9.1", "-", "-"},
		{"10.1.2.3", "04", "Private network"},
		{"2001:470:1f11::1", "us", "Hurricane Electric LLC, a very"},
		{"fe80::1", "02", "Link-local"},
		{"2001:4860::1", "-", "-"},
	}
	for _, c := range cases {
		cc, org := lookup(t, d, c.addr)
		if cc != c.cc || org != c.org {
			t.Errorf("%s: got %q %q want %q %q", c.addr, cc, org, c.cc, c.org)
		}
	}
	// Same data record twice → same record number, decoded once.
	a := [16]byte{8, 8, 8, 1}
	b := [16]byte{8, 8, 8, 2}
	if d.Lookup(4, &a) != d.Lookup(4, &b) {
		t.Error("records not shared")
	}
	if n := testing.AllocsPerRun(50, func() { d.Lookup(4, &a) }); n != 0 {
		t.Errorf("cached lookup allocates %v", n)
	}
}

var mmdbMarker = mmdbtest.Marker

func parseMMDB(buf []byte) (*geoDB, error) { return openGeo("test.mmdb", buf) }

// withMeta replaces the metadata of a database built by buildMMDB.
func withMeta(t *testing.T, good []byte, meta map[string][]byte) []byte {
	t.Helper()
	i := bytes.LastIndex(good, mmdbMarker)
	bad := append([]byte(nil), good[:i+len(mmdbMarker)]...)
	return append(bad, encMap(meta)...)
}

func TestMMDBErrors(t *testing.T) {
	if _, err := parseMMDB([]byte("not a database")); err == nil {
		t.Error("garbage accepted")
	}
	good := buildMMDB(t, map[string]map[string][]byte{"1.0.0.0/8": {"organization": encStr("x")}})
	i := bytes.LastIndex(good, mmdbMarker)
	if _, err := parseMMDB(good[:i+len(mmdbMarker)+5]); err == nil {
		t.Error("truncated metadata accepted")
	}
	// Metadata claiming more nodes than the file holds.
	bad := withMeta(t, good, map[string][]byte{
		"node_count": encUint(6, 1<<24, 4), "record_size": encUint(5, 24, 2),
		"ip_version": encUint(5, 6, 2), "binary_format_major_version": encUint(5, 2, 2),
	})
	if _, err := parseMMDB(bad); err == nil {
		t.Error("oversized tree accepted")
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing.mmdb")); err == nil {
		t.Error("missing file accepted")
	}
}

// TestMMDBNodeCountOverflow: a node count whose tree size wraps around 32
// bits (0x2AAAAAAB nodes of 6 bytes) made the old hand-written reader cut
// the file with a slice-bounds panic; it must be a plain error.
func TestMMDBNodeCountOverflow(t *testing.T) {
	good := buildMMDB(t, map[string]map[string][]byte{"1.0.0.0/8": {"organization": encStr("x")}})
	evil := withMeta(t, good, map[string][]byte{
		"node_count": encUint(6, 0x2AAAAAAB, 4), "record_size": encUint(5, 24, 2),
		"ip_version": encUint(5, 6, 2), "binary_format_major_version": encUint(5, 2, 2),
	})
	path := filepath.Join(t.TempDir(), "evil.mmdb")
	if err := os.WriteFile(path, evil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path)
	if err == nil || !strings.Contains(err.Error(), "--geo "+path+": not a usable MaxMind database") {
		t.Errorf("evil.mmdb: err %v", err)
	}
}

// TestGeoCombined: a country database and an ASN database given together
// (--geo twice): the country comes from the one, the organisation from the
// other; an address only one of them knows gets that one's field.
func TestGeoCombined(t *testing.T) {
	dir := t.TempDir()
	country := filepath.Join(dir, "country.mmdb")
	asn := filepath.Join(dir, "asn.mmdb")
	os.WriteFile(country, buildMMDB(t, map[string]map[string][]byte{
		"8.8.8.0/24":  {"country": encMap(map[string][]byte{"iso_code": encStr("US")})},
		"9.9.9.0/24":  {"country": encMap(map[string][]byte{"iso_code": encStr("CH")})},
		"2a00:1::/32": {"registered_country": encMap(map[string][]byte{"iso_code": encStr("DE")})},
		"10.0.0.0/8":  {"country": encMap(map[string][]byte{"iso_code": encStr("XX")})}, // hidden by the built-in range
	}), 0o644)
	os.WriteFile(asn, buildMMDB(t, map[string]map[string][]byte{
		"8.8.0.0/16":  {"autonomous_system_number": encUint(6, 15169, 4), "autonomous_system_organization": encStr("GOOGLE")},
		"1.1.1.0/24":  {"autonomous_system_organization": encStr("CLOUDFLARENET")},
		"2a00:1::/32": {"autonomous_system_organization": encStr("EXAMPLE-AS")},
	}), 0o644)
	d, err := Open(country, asn)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ addr, cc, org string }{
		{"8.8.8.8", "us", "GOOGLE"},
		{"8.8.4.4", "-", "GOOGLE"},
		{"9.9.9.9", "ch", "-"},
		{"1.1.1.1", "-", "CLOUDFLARENET"},
		{"2a00:1:2::3", "de", "EXAMPLE-AS"},
		{"10.1.2.3", "04", "Private network"},
		{"4.4.4.4", "-", "-"},
	} {
		if cc, org := lookup(t, d, c.addr); cc != c.cc || org != c.org {
			t.Errorf("%s: got %q %q want %q %q", c.addr, cc, org, c.cc, c.org)
		}
	}
	a := [16]byte{8, 8, 8, 1}
	if n := testing.AllocsPerRun(50, func() { d.Lookup(4, &a) }); n != 0 {
		t.Errorf("cached combined lookup allocates %v", n)
	}
	if _, err := Open(country, asn, country, asn, country); err == nil {
		t.Errorf("%d databases accepted", MaxGeo+1)
	}
}

func TestMMDBRecordSizes(t *testing.T) {
	for _, size := range []int{24, 28, 32} {
		db := buildMMDBSize(t, size, map[string]map[string][]byte{
			"1.2.3.0/24":   {"organization": encStr("one")},
			"1.2.4.0/24":   {"organization": encStr("two")},
			"2a00:1::/32":  {"isp": encStr("three")},
			"129.0.0.0/8":  {"registered_country": encMap(map[string][]byte{"iso_code": encStr("DE")})},
			"255.0.0.0/16": {"organization": encStr("four")},
		})
		g, err := parseMMDB(db)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		d := New()
		d.AddGeo(g)
		for _, c := range []struct{ addr, cc, org string }{
			{"1.2.3.4", "-", "one"}, {"1.2.4.4", "-", "two"}, {"1.2.5.4", "-", "-"},
			{"2a00:1:2::3", "-", "three"}, {"129.1.1.1", "de", "-"}, {"255.0.9.9", "-", "four"},
		} {
			if cc, org := lookup(t, d, c.addr); cc != c.cc || org != c.org {
				t.Errorf("size %d %s: got %q %q want %q %q", size, c.addr, cc, org, c.cc, c.org)
			}
		}
	}
}
