package cli

import (
	"runtime/debug"
	"strings"

	"flowsift/internal/engine"
)

// versionLine is what -V, --version and 'flowsift version' print: the
// version, the VCS revision the binary was built from (when the build
// recorded it) and the Tranalyzer release whose output it reproduces.
func versionLine() string {
	return "flowsift " + engine.Version + buildRevision(debug.ReadBuildInfo()) +
		" (output compatible with Tranalyzer 0.9.3 (Anteater) [Cobra])"
}

// buildRevision formats the VCS stamp of a build: " (rev 0123456789ab,
// 2026-01-02T03:04:05Z, modified)", or "" when the build has none (go
// test, go run of a file, -buildvcs=false).
func buildRevision(info *debug.BuildInfo, ok bool) string {
	if !ok || info == nil {
		return ""
	}
	var rev, when string
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return ""
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	parts := []string{"rev " + rev}
	if when != "" {
		parts = append(parts, when)
	}
	if modified {
		parts = append(parts, "modified")
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
