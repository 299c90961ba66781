package cli

import (
	"fmt"
	"io"

	"flowsift/internal/engine"
)

// usageFail reports a bad command line the one way every flowsift command
// does: "flowsift: MESSAGE" (the message carries its own suggestion), a
// pointer to --help, and exit status 2 (README "Exit status").
func usageFail(stderr io.Writer, format string, a ...any) int {
	fmt.Fprintf(stderr, "flowsift: "+format+"\n", a...)
	fmt.Fprintln(stderr, "Try 'flowsift --help' for more information.")
	return engine.ExitUsage
}

// failf reports an error that is not the command line's fault (a file that
// cannot be written, ...) with exit status 1.
func failf(stderr io.Writer, format string, a ...any) int {
	fmt.Fprintf(stderr, "flowsift: "+format+"\n", a...)
	return engine.ExitFailed
}
