// Command runcorpus runs flowsift over every corpus capture into a folder
// laid out like ../shared/golden, so that t2cmp can compare them:
//
//	go run ./tools/runcorpus -o /tmp/out [-s] [-- extra flowsift args]
//	../shared/tools/t2cmp --dirs -q ../shared/golden/generated /tmp/out/generated
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"flowsift/internal/cli"
	"flowsift/internal/corpus"
)

func main() {
	out := flag.String("o", "out", "output folder")
	packets := flag.Bool("s", true, "packet mode")
	only := flag.String("only", "", "only captures whose golden path contains this")
	flag.Parse()
	shared := corpus.SharedDir()
	if shared == "" {
		fmt.Fprintln(os.Stderr, "runcorpus: no shared folder (set FLOWSIFT_SHARED)")
		os.Exit(1)
	}
	caps, _ := corpus.List(shared)
	failed := 0
	for _, c := range caps {
		if *only != "" && !strings.Contains(c.Rel, *only) {
			continue
		}
		dir := filepath.Join(*out, c.Rel)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		prefix := filepath.Join(dir, c.Name)
		args := []string{"flowsift", "-r", c.Path, "-w", prefix}
		if *packets {
			args = append(args, "-s")
		}
		args = append(args, flag.Args()...)
		stdout, _ := os.Create(prefix + "_stdout.txt")
		code := cli.Main(args, nil, stdout, io.Discard)
		stdout.Close()
		os.WriteFile(prefix+"_rc.txt", []byte(fmt.Sprintf("%d\n", code)), 0o644)
		if code != 0 {
			failed++
			fmt.Fprintf(os.Stderr, "%s: exit %d\n", c.Rel, code)
		}
	}
	fmt.Fprintf(os.Stderr, "runcorpus: %d captures, %d non-zero exits\n", len(caps), failed)
}
