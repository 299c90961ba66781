// Command mkdissect writes the hand-built frames of pcapgen.DissectCases,
// one pcap file per case, into a folder (tools/tshark-dissect.sh feeds
// them to tshark):
//
//	go run ./tools/mkdissect DIR
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"flowsift/internal/pcapgen"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: mkdissect DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, c := range pcapgen.DissectCases() {
		f, err := os.Create(filepath.Join(dir, c.Name+".pcap"))
		if err == nil {
			err = c.WritePcap(f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
