package subnet

import (
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"
)

// MaxMind databases (--geo) are read with maxminddb-golang, MaxMind's
// maintained pure-Go reader, which validates the file's layout: no
// hand-written parser of untrusted binary files here.

// MaxGeo is how many --geo databases one run combines (e.g. a country and
// an ASN database); the per-address cache key has one slot per database.
const MaxGeo = 4

// noOffset marks "this database has no record for the address" in a key.
const noOffset = ^uintptr(0)

// geoKey identifies the combination of data records the databases hold
// for an address: addresses sharing it share one flowsift record.
type geoKey [MaxGeo]uintptr

// geoDB is one opened MaxMind database.
type geoDB struct {
	name string
	r    *maxminddb.Reader
	// fields caches each data record's decoded fields by offset, so that a
	// record shared by many ranges is decoded once.
	fields map[uintptr]geoFields
}

// geoFields are the fields flowsift prints, from whichever the database
// type has: country (City/Country databases), ASN organisation (ASN),
// organisation or ISP (ISP/Enterprise).
type geoFields struct {
	cc, org string
}

// geoRecord is the subset of a MaxMind record that flowsift reads.
type geoRecord struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	RegisteredCountry struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"registered_country"`
	ASOrg string `maxminddb:"autonomous_system_organization"`
	Org   string `maxminddb:"organization"`
	ISP   string `maxminddb:"isp"`
}

// openGeo opens the database in data (the contents of the file name).
func openGeo(name string, data []byte) (*geoDB, error) {
	r, err := maxminddb.OpenBytes(data)
	if err != nil {
		return nil, fmt.Errorf("--geo %s: not a usable MaxMind database: %v", name, err)
	}
	return &geoDB{name: name, r: r, fields: map[uintptr]geoFields{}}, nil
}

// openGeoFile reads and opens path.
func openGeoFile(path string) (*geoDB, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--geo: %v", err)
	}
	return openGeo(path, data)
}

// offset returns the data record of addr (ver 4: addr[:4]), noOffset when
// there is none or the database is damaged there. It does not allocate.
func (g *geoDB) offset(ver uint8, addr *[16]byte) uintptr {
	var ip netip.Addr
	if ver == 4 {
		ip = netip.AddrFrom4([4]byte(addr[:4]))
	} else {
		if g.r.Metadata.IPVersion == 4 {
			return noOffset // the library would build an error message
		}
		ip = netip.AddrFrom16(*addr)
	}
	res := g.r.Lookup(ip)
	if !res.Found() {
		return noOffset
	}
	return res.Offset()
}

// decode returns the fields of the record at off (empty when it cannot be
// decoded: a damaged record is an unknown address, not a failed run).
func (g *geoDB) decode(off uintptr) geoFields {
	if f, ok := g.fields[off]; ok {
		return f
	}
	var rec geoRecord
	var f geoFields
	if err := g.r.LookupOffset(off).Decode(&rec); err == nil {
		f.cc = rec.Country.ISOCode
		if f.cc == "" {
			f.cc = rec.RegisteredCountry.ISOCode
		}
		f.cc = strings.ToLower(f.cc) // as Tranalyzer prints it
		for _, s := range []string{rec.ASOrg, rec.Org, rec.ISP} {
			if s != "" {
				f.org = s
				break
			}
		}
	}
	g.fields[off] = f
	return f
}

// geoLookup resolves addr in the MaxMind databases: the country from the
// first database that has one, the organisation likewise. A combination
// of records is turned into a flowsift record once (at flow creation,
// never per packet); later lookups of it do not allocate.
func (d *DB) geoLookup(ver uint8, addr *[16]byte) uint32 {
	var key geoKey
	found := false
	for i := range key {
		key[i] = noOffset
		if i < len(d.geo) {
			key[i] = d.geo[i].offset(ver, addr)
			found = found || key[i] != noOffset
		}
	}
	if !found {
		return 0
	}
	if rec, ok := d.geoRecs[key]; ok {
		return rec
	}
	var cc, org string
	for i, g := range d.geo {
		if key[i] == noOffset {
			continue
		}
		f := g.decode(key[i])
		if cc == "" {
			cc = f.cc
		}
		if org == "" {
			org = f.org
		}
	}
	var rec uint32
	if cc != "" || org != "" {
		if cc == "" {
			cc = "-"
		}
		if org == "" {
			org = "-"
		}
		if len(org) > OrgMax {
			org = org[:OrgMax]
		}
		d.recs = append(d.recs, Record{Country: cc, Org: org})
		rec = uint32(len(d.recs) - 1)
	}
	d.geoRecs[key] = rec
	return rec
}
