// Package exepages gives back the pages of flowsift's own executable that
// starting up mapped and the run will not use again.
//
// Why: before the first packet is read, the package initialisers and the
// setup of a run (those of every subcommand's dependencies too: net/http,
// html/template, crypto, goawk, the compressors) have mapped some 7-8 MB
// of the executable, each fault mapping the 64 KiB around it. A run then
// uses a few MB of it. Released, those pages stop counting in the
// process' resident memory (peak RSS of a packet-mode run on the
// benchmark capture: 44.6 -> 42.1 MB; docs/performance.md); the kernel
// keeps them in its page cache, and the pages the run uses fault back
// in, a few hundred faults in all.
package exepages
