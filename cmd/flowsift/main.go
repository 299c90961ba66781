// Command flowsift turns packet captures into bidirectional flows with
// Tranalyzer2-compatible output. It also answers to the names tawk and tcol
// (symlinks), and has the subcommands tawk, tcol, config and
// install-aliases.
package main

import (
	"os"
	"path/filepath"

	"flowsift/internal/cli"

	"flowsift/internal/tawk"
	"flowsift/internal/tcol"

	// Timer slack 1 ns from the first thread on (scheduler hand-offs).
	_ "flowsift/internal/timerslack"
)

// stopProfile ends the CPU profile of a -tags cpuprofile build
// (cpuprofile.go); a no-op otherwise.
var stopProfile = func() {}

func main() {
	var code int
	switch filepath.Base(os.Args[0]) {
	case "tawk":
		code = tawk.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	case "tcol":
		code = tcol.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	default:
		code = cli.Main(os.Args, os.Stdin, os.Stdout, os.Stderr)
	}
	stopProfile()
	os.Exit(code)
}
