package engine

import (
	"flowsift/internal/plugin"
	"flowsift/internal/subnet"
)

// newSubnets opens the subnet database: the built-in table of private and
// special-purpose ranges (what Tranalyzer's reference database prints for
// them); MaxMind database paths add real country/organisation lookups.
func newSubnets(paths []string) (plugin.SubnetLookup, error) {
	db, err := subnet.Open(paths...)
	if err != nil {
		return nil, err
	}
	return db, nil
}
