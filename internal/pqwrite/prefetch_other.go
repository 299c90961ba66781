//go:build !amd64

package pqwrite

func prefetchW([]uintptr) {}
