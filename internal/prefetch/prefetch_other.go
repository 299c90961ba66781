//go:build !amd64

package prefetch

// Write asks for the lines at addrs, to be written: nothing here.
func Write([]uintptr) {}

// WriteRange asks for the lines of the n bytes from addr: nothing here.
func WriteRange(addr, n uintptr) {}
