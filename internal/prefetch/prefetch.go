// Package prefetch asks the processor for cache lines before they are
// written: a hint that reads nothing and never faults. It is for memory
// that another goroutine, likely on the other processor, touched last:
// its lines must come from that processor's cache, and a writer that
// waits for each of them in turn stalls.
//
//	Write(addrs)         the lines at addrs
//	WriteRange(addr, n)  the lines of the n bytes from addr
//
// On amd64 they are PREFETCHW (AMD's since the K6-2; Intel's before
// Broadwell execute it as a no-op without the CPUID bit, which is why
// 64-bit Windows 8.1 could require it); elsewhere they do nothing.
package prefetch
