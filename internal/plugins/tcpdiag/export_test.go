package tcpdiag

import "flowsift/internal/plugin"

// SetPlainAcks switches feedback's short path for plain ACKs (tests).
func SetPlainAcks(on bool) { plainAcks = on }

// Syncs is the number of times the packet goroutine of p's run waited for
// the analysis goroutine (0: the analysis stayed on the packet goroutine).
func (p *Plugin) Syncs() int {
	if p.thread == nil {
		return 0
	}
	return p.thread.syncs
}

// RecordBuilt makes r's tcpDiag registration add every plugin it builds
// to made.
func RecordBuilt(r *plugin.Registry, made *[]*Plugin) {
	reg := r.Find(Name)
	build := reg.New
	reg.New = func(env *plugin.Env, s plugin.Settings) (plugin.Plugin, error) {
		pl, err := build(env, s)
		if p, ok := pl.(*Plugin); ok {
			*made = append(*made, p)
		}
		return pl, err
	}
}
