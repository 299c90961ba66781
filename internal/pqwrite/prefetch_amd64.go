package pqwrite

// prefetchW asks for the cache lines at addrs, to be written (PREFETCHW):
// a hint, it reads nothing and never faults.
//
//go:noescape
func prefetchW(addrs []uintptr)
