package tawk

import "flowsift/internal/plugins/tcpdiag"

// flowsift's own bit fields join the -V tables from their plugins'
// declarations, so that the bit names live in one place.
func init() {
	bitTables = append(bitTables, docBitTable("diagFindings", 4, tcpdiag.FindingsDoc))
}

func docBitTable(name string, digits int, doc []tcpdiag.BitDoc) bitTable {
	t := bitTable{name: name, header: "bit | " + name + " | Description", width: len(name) + 2, digits: digits, groups: 1}
	for _, d := range doc {
		t.rows = append(t.rows, bitRow{bit: d.Bit, marker: d.Marker, desc: d.Desc})
	}
	return t
}
