//go:build !linux

package exepages

// Release does nothing off Linux.
func Release() int { return 0 }
