// Package plugins assembles the registry of every analysis plugin flowsift
// ships; each plugin's whole story is in its own subpackage.
package plugins

import (
	"flowsift/internal/plugin"
	"flowsift/internal/plugins/basicflow"
	"flowsift/internal/plugins/basicstats"
	"flowsift/internal/plugins/tcpdiag"
	"flowsift/internal/plugins/tcpflags"
	"flowsift/internal/plugins/tcpstates"
)

// Registry returns a registry with every plugin registered.
func Registry() *plugin.Registry {
	r := &plugin.Registry{}
	basicflow.Register(r)
	basicstats.Register(r)
	tcpflags.Register(r)
	tcpstates.Register(r)
	tcpdiag.Register(r)
	return r
}
