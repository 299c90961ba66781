package serve

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"flowsift/internal/engine"
	"flowsift/internal/explain"
	"flowsift/internal/plugin"
	"flowsift/internal/tawk"
)

// Explanation is the overview's health and findings, in the shape of
// `flowsift explain`'s result (issue 10), so that its Result can be
// converted through JSON.
type Explanation struct {
	Capture  map[string]any `json:"capture"`
	Health   map[string]any `json:"health"`
	Findings []Finding      `json:"findings"`
	// Source names what produced the findings (shown on the overview).
	Source string `json:"-"`
}

// Finding is one diagnosis with the flows that show it.
type Finding struct {
	Code     string         `json:"code"`
	Severity string         `json:"severity"`
	Summary  string         `json:"summary"`
	Flows    []uint64       `json:"flows"`
	Evidence map[string]any `json:"evidence"`
}

// Explainer produces an Explanation for an analysed capture.
type Explainer interface {
	Explain(a *Analysis, reg *plugin.Registry) (*Explanation, error)
}

// DiagExplainer derives findings from tcpDiag's diagFindings bits with
// their `tawk -V diagFindings` descriptions: the overview's source until
// internal/explain is wired in.
type DiagExplainer struct{}

// diagSeverity ranks tcpDiag's findings bits for the overview: what
// stalls a transfer is an error, what costs throughput a warning, the
// rest (keep-alives, probes, ECN, the capture's own loss) information.
var diagSeverity = map[int]string{
	0: "warn", 1: "warn", 2: "warn", 3: "warn", 5: "warn", 8: "warn", 13: "warn", 15: "warn",
	9: "error", 10: "error", 14: "error",
}

// Explain groups the flows by diagFindings bit.
func (DiagExplainer) Explain(a *Analysis, _ *plugin.Registry) (*Explanation, error) {
	t := a.Flows
	cF, cInd := t.Col("diagFindings"), t.Col("flowInd")
	if cF < 0 {
		return nil, fmt.Errorf("no diagFindings column")
	}
	type agg struct {
		flows map[uint64]bool
		dirs  int
	}
	bits := map[int]*agg{}
	for i := 0; i < t.Len(); i++ {
		v, err := strconv.ParseUint(strings.TrimPrefix(t.Field(i, cF), "0x"), 16, 64)
		if err != nil || v == 0 {
			continue
		}
		ind, _ := strconv.ParseUint(t.Field(i, cInd), 10, 64)
		for b := 0; b < 64; b++ {
			if v&(1<<b) == 0 {
				continue
			}
			g := bits[b]
			if g == nil {
				g = &agg{flows: map[uint64]bool{}}
				bits[b] = g
			}
			g.flows[ind] = true
			g.dirs++
		}
	}
	ex := &Explanation{Source: "tcpDiag findings bits (diagFindings, tawk -V descriptions)",
		Capture: map[string]any{"name": a.Name, "flows": len(a.byFlow), "rows": t.Len()},
		Health:  map[string]any{}}
	sev := map[string]int{}
	for b, g := range bits {
		level := diagSeverity[b]
		if level == "" {
			level = "info"
		}
		summary := fmt.Sprintf("diagFindings bit %d", b)
		if lines, ok := tawk.Decode("diagFindings", fmt.Sprintf("0x%04x", uint64(1)<<b)); ok && len(lines) > 0 {
			summary = lines[0].Text
			if _, d, ok := strings.Cut(summary, "| "); ok {
				if _, d2, ok := strings.Cut(d, "| "); ok {
					summary = strings.TrimSpace(d2)
				}
			}
		}
		var flows []uint64
		for f := range g.flows {
			flows = append(flows, f)
		}
		sort.Slice(flows, func(i, j int) bool { return flows[i] < flows[j] })
		ex.Findings = append(ex.Findings, Finding{
			Code:     fmt.Sprintf("diagFindings.%d", b),
			Severity: level,
			Summary:  summary,
			Flows:    flows,
			Evidence: map[string]any{"bit": fmt.Sprintf("0x%04x", uint64(1)<<b), "directions": g.dirs},
		})
		sev[level] += len(flows)
	}
	rank := map[string]int{"error": 0, "warn": 1, "info": 2}
	sort.Slice(ex.Findings, func(i, j int) bool {
		a, b := ex.Findings[i], ex.Findings[j]
		if rank[a.Severity] != rank[b.Severity] {
			return rank[a.Severity] < rank[b.Severity]
		}
		if len(a.Flows) != len(b.Flows) {
			return len(a.Flows) > len(b.Flows)
		}
		return a.Code < b.Code
	})
	status := "good"
	switch {
	case sev["error"] > 0:
		status = "problems"
	case sev["warn"] > 0:
		status = "warnings"
	}
	ex.Health["status"] = status
	ex.Health["flowsWithErrors"] = sev["error"]
	ex.Health["flowsWithWarnings"] = sev["warn"]
	return ex, nil
}

// Explanation waits for the findings.
func (a *Analysis) Explanation() (*Explanation, error) {
	<-a.explDone
	return a.expl, a.explErr
}

// DefaultExplainer is the overview's source of findings: flowsift explain
// (internal/explain) over the same capture.
func DefaultExplainer() Explainer {
	return ExplainerFunc(func(a *Analysis, reg *plugin.Registry) (*Explanation, error) {
		res, err := explain.Analyze(a.Options(), reg)
		if err != nil {
			return nil, err
		}
		return FromResult(res, "flowsift explain")
	})
}

// ExplainerFunc adapts a function to Explainer.
type ExplainerFunc func(a *Analysis, reg *plugin.Registry) (*Explanation, error)

// Explain calls f.
func (f ExplainerFunc) Explain(a *Analysis, reg *plugin.Registry) (*Explanation, error) {
	return f(a, reg)
}

// FromResult converts anything that marshals to explain's JSON shape
// ({"capture", "health", "findings": [{"code", "severity", "summary",
// "flows", "evidence"}]}) into an Explanation.
func FromResult(res any, source string) (*Explanation, error) {
	b, err := json.Marshal(res)
	if err != nil {
		return nil, err
	}
	ex := &Explanation{}
	if err := json.Unmarshal(b, ex); err != nil {
		return nil, fmt.Errorf("explain result: %v", err)
	}
	if ex.Health == nil {
		ex.Health = map[string]any{}
	}
	if _, ok := ex.Health["status"]; !ok {
		// explain rates findings, not the capture: the worst one decides.
		status := "good"
		for i := range ex.Findings {
			switch ex.Findings[i].Severity {
			case "error":
				status = "problems"
			case "warning", "warn":
				if status == "good" {
					status = "warnings"
				}
			}
		}
		ex.Health["status"] = status
	}
	ex.Source = source
	return ex, nil
}

// Options are the engine options that analyse this capture (for an
// explainer that runs its own analysis).
func (a *Analysis) Options() *engine.Options {
	return &engine.Options{Inputs: a.Inputs, ReadFile: a.Inputs[0], Plugins: Plugins, Sets: map[string]string{}, CmdLine: "flowsift serve"}
}

// HealthItems lists the health facts besides the status, for the page.
func (e *Explanation) HealthItems() []stat {
	var keys []string
	for k := range e.Health {
		if k != "status" && k != "vantage" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out []stat
	for _, k := range keys {
		v := e.Health[k]
		var text string
		switch x := v.(type) {
		case nil:
			continue
		case bool:
			text = map[bool]string{true: "yes", false: "no"}[x]
		case []any:
			if len(x) == 0 {
				continue
			}
			var parts []string
			for _, p := range x {
				parts = append(parts, fmt.Sprint(p))
			}
			text = strings.Join(parts, "; ")
		default:
			text = fmt.Sprint(x)
		}
		out = append(out, stat{Label: strings.ReplaceAll(k, "_", " "), Value: text})
	}
	return out
}
