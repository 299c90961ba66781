package prefetch

// Write asks for the lines at addrs, to be written.
//
//go:noescape
func Write(addrs []uintptr)

// WriteRange asks for the lines of the n bytes from addr, to be written.
//
//go:noescape
func WriteRange(addr, n uintptr)
