//go:build !cgo || !linux

package timerslack

const enabled = false
