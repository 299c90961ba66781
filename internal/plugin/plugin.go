// Package plugin defines what an analysis plugin is: the columns it owns in
// the flow and packet files, its per-packet update, its end-of-flow output
// and its end-report lines. Plugins run in ascending Order (spec README):
// that order is the column order of both files and of the report.
package plugin

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"flowsift/internal/column"
	"flowsift/internal/decode"
	"flowsift/internal/flow"
	"flowsift/internal/report"
	"flowsift/internal/tcptrack"
)

// Plugin is one analyzer. All methods are called from one goroutine.
type Plugin interface {
	// FlowColumns and PacketColumns declare the columns this plugin writes,
	// in order. They must not change after construction.
	FlowColumns() []column.Column
	PacketColumns() []column.Column

	// NewFlow resets the plugin's state for a flow created by p (before
	// Packet is called for p).
	NewFlow(f *flow.Flow, p *decode.Packet)

	// Packet updates f with p. In packet mode pw is non-nil and the plugin
	// writes its packet columns (Col() before each), reflecting its state
	// after this packet.
	Packet(f *flow.Flow, p *decode.Packet, pw column.Writer)

	// FlowOutput writes f's flow-file columns. The partner's row of a pair is
	// written right after (or before) this one; both flows are still live.
	FlowOutput(f *flow.Flow, w column.Writer)

	// Report writes the plugin's end-report lines.
	Report(r *report.Report)
}

// Stopper is a plugin with goroutines of its own (tcpDiag's analysis).
// Report ends them in a run that completes; Stop ends them, without
// waiting, in one that ends without its report (an internal error), so
// that none outlives the run.
type Stopper interface {
	Stop()
}

// Env is what the core shares with plugins: run-wide state that plugins may
// read or add to. One Env per run; no globals.
type Env struct {
	// Status is the run-wide aggregated flowStat (plugins may add bit 51).
	Status uint64
	// Packets counts all packets read so far (report percentages).
	Packets uint64
	// ABytes and BBytes are the capture-length bytes of packets of flows
	// without / with flowStat bit 0 (core.md §13.3 item 15); the core fills
	// them, basicStats' talker line takes its byte percentage of their sum.
	ABytes, BBytes uint64
	// PacketMode is true with -s.
	PacketMode bool
	// PacketRows is true when Packet is given a writer (packet mode, or
	// explain recording a flow's packet rows): plugins then know each
	// packet's result when Packet returns.
	PacketRows bool
	// Subnets resolves subnet records (basicFlow, basicStats talker lines).
	Subnets SubnetLookup
	// Live is set for a live capture (-i); KernelReceived/KernelDropped
	// are then the kernel's packet counters (received by the filter, and
	// of those lost because the ring was full), set before the reports,
	// for capture-loss views.
	Live                          bool
	KernelReceived, KernelDropped uint64
	// Timeouts are the idle timeouts a plugin may give a flow, registered
	// at construction in Tranalyzer's order (the flow table keeps one
	// timeout walk per distinct value, core.md §9).
	Timeouts []float32
	// TCP is the shared TCP tracker: the current packet's parsed header and
	// every flow direction's endpoint state (nil in plugin tests that run
	// without the engine).
	TCP *tcptrack.Tracker
	// L4Sums is set at construction by a plugin that reads
	// decode.Packet.L4Sum: the engine then has the decoder fill it.
	L4Sums bool
	// OutputRecords are the per-slot stores a plugin reads in FlowOutput,
	// registered at construction: while the flow table outputs a flow,
	// the engine asks for the next one's records (flow.Table.OutputAhead).
	OutputRecords []SlotRecords
}

// SlotRecords is a per-slot store (flow.Store) whose records the engine
// may ask for ahead of their use.
type SlotRecords interface{ Prefetch(slot int32) }

// ReadsAtOutput registers s among OutputRecords; nothing without an Env
// (plugin tests build plugins without one).
func (e *Env) ReadsAtOutput(s SlotRecords) {
	if e != nil {
		e.OutputRecords = append(e.OutputRecords, s)
	}
}

// SubnetLookup is the geo/organisation database (basicFlow.md §4).
type SubnetLookup interface {
	// Lookup returns the record number for an address (0 = not found).
	Lookup(ver uint8, addr *[16]byte) uint32
	// Country and Org return the record's fields ("-" for record 0).
	Country(rec uint32) string
	Org(rec uint32) string
	// IsTor reports whether the record is marked as a Tor address.
	IsTor(rec uint32) bool
	// StartupLines returns the "[INF] IPv4 Ver: ..." lines (none without a DB).
	StartupLines() []string
}

// Switch is a run-time setting of a plugin (a Tranalyzer compile-time switch).
type Switch struct {
	Name    string
	Default string
	Help    string
}

// Settings holds the values of a plugin's switches.
type Settings map[string]string

// Int returns a switch as an integer (the caller validated it).
func (s Settings) Int(name string) int {
	v, _ := strconv.Atoi(s[name])
	return v
}

// Timeout returns a switch holding a timeout in seconds: a finite
// number, not negative, as float32 (Tranalyzer's timeout type).
func (s Settings) Timeout(name string) (float32, error) {
	v, err := strconv.ParseFloat(s[name], 32)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("%s=%s: want a number of seconds (e.g. 120 or 0.1)", name, s[name])
	}
	return float32(v), nil
}

// Bool returns a switch as a boolean (non-zero integer).
func (s Settings) Bool(name string) bool { return s.Int(name) != 0 }

// Registration describes a plugin to the registry.
type Registration struct {
	Name     string // e.g. "tcpFlags"
	Order    int    // Tranalyzer plugin number (100, 120, 130, 132, ...)
	Version  string
	Default  bool // part of the default plugin set
	Switches []Switch
	New      func(env *Env, s Settings) (Plugin, error)
}

// Instance is a constructed plugin with its registration.
type Instance struct {
	Reg *Registration
	Plugin
}

// Registry is the set of known plugins.
type Registry struct {
	regs []*Registration
}

// Add registers a plugin.
func (r *Registry) Add(reg *Registration) { r.regs = append(r.regs, reg) }

// All returns the registrations in plugin order.
func (r *Registry) All() []*Registration {
	out := append([]*Registration(nil), r.regs...)
	sort.Slice(out, func(i, j int) bool { return out[i].Order < out[j].Order })
	return out
}

// Find returns the registration with the given name (case-insensitive).
func (r *Registry) Find(name string) *Registration {
	for _, reg := range r.regs {
		if strings.EqualFold(reg.Name, name) {
			return reg
		}
	}
	return nil
}

// Build constructs the named plugins (nil = the default set) in plugin
// order, applying sets of the form "plugin.SWITCH" → value.
func (r *Registry) Build(env *Env, names []string, sets map[string]string) ([]Instance, error) {
	var chosen []*Registration
	if names == nil {
		for _, reg := range r.All() {
			if reg.Default {
				chosen = append(chosen, reg)
			}
		}
	} else {
		for _, n := range names {
			reg := r.Find(n)
			if reg == nil {
				return nil, fmt.Errorf("--plugins: unknown plugin %q (known: %s; see 'flowsift config')", n, r.names())
			}
			chosen = append(chosen, reg)
		}
		sort.SliceStable(chosen, func(i, j int) bool { return chosen[i].Order < chosen[j].Order })
	}
	settings := map[string]Settings{}
	for _, reg := range r.regs {
		s := Settings{}
		for _, sw := range reg.Switches {
			s[sw.Name] = sw.Default
		}
		settings[strings.ToLower(reg.Name)] = s
	}
	for k, v := range sets {
		dot := strings.IndexByte(k, '.')
		if dot < 0 {
			return nil, fmt.Errorf("--set %s: want PLUGIN.SWITCH=VALUE", k)
		}
		pl, sw := k[:dot], k[dot+1:]
		reg := r.Find(pl)
		if reg == nil {
			if strings.EqualFold(pl, "core") {
				continue // core switches are the engine's
			}
			return nil, fmt.Errorf("--set %s: unknown plugin %q (known: core, %s; see 'flowsift config')", k, pl, r.names())
		}
		found := false
		for _, s := range reg.Switches {
			if s.Name == sw {
				found = true
				if _, err := strconv.Atoi(v); err != nil && isNumeric(s.Default) {
					return nil, fmt.Errorf("--set %s=%s: %s takes a number", k, v, sw)
				}
			}
		}
		if !found {
			return nil, fmt.Errorf("--set %s: plugin %s has no switch %q (see 'flowsift config')", k, reg.Name, sw)
		}
		settings[strings.ToLower(reg.Name)][sw] = v
	}
	var out []Instance
	for _, reg := range chosen {
		p, err := reg.New(env, settings[strings.ToLower(reg.Name)])
		if err != nil {
			return nil, fmt.Errorf("--set %s: %w (see 'flowsift config %s')", reg.Name, err, reg.Name)
		}
		out = append(out, Instance{Reg: reg, Plugin: p})
	}
	return out, nil
}

// Check validates a plugin list and switch settings exactly as Build does,
// without keeping the plugins, so that the command line can reject them
// as usage errors before any file is opened.
func (r *Registry) Check(names []string, sets map[string]string) error {
	_, err := r.Build(&Env{}, names, sets)
	return err
}

// names lists the registered plugins in plugin order.
func (r *Registry) names() string {
	var out []string
	for _, reg := range r.All() {
		out = append(out, reg.Name)
	}
	return strings.Join(out, ", ")
}

func isNumeric(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}
