// Command mkflood writes a SYN-flood capture: N TCP SYN packets, each
// opening a distinct flow, to test the flow table bound (autopilot) and
// memory use:
//
//	go run ./tools/mkflood -n 2000000 -o /tmp/flood.pcap
//	/usr/bin/time -v flowsift -r /tmp/flood.pcap -w /tmp/out/
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"time"

	"flowsift/internal/pcapgen"
)

func main() {
	n := flag.Int("n", 2000000, "number of packets (= flows)")
	out := flag.String("o", "flood.pcap", "output file")
	gap := flag.Duration("gap", 10*time.Microsecond, "time between packets (all flows stay live when n·gap < 182 s)")
	flag.Parse()
	f, err := os.Create(*out)
	if err == nil {
		bw := bufio.NewWriterSize(f, 1<<20)
		err = pcapgen.Flood(bw, *n, *gap)
		if err == nil {
			err = bw.Flush()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkflood:", err)
		os.Exit(1)
	}
}
