//go:build !linux

package gocore

// makeHuge returns a zeroed slice of n Ts (huge pages are asked for on
// Linux only).
func makeHuge[T any](n int) []T { return make([]T, n) }
