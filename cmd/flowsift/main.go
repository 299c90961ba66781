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
)

func main() {
	name := filepath.Base(os.Args[0])
	switch name {
	case "tawk":
		os.Exit(tawk.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	case "tcol":
		os.Exit(tcol.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(cli.Main(os.Args, os.Stdin, os.Stdout, os.Stderr))
}
