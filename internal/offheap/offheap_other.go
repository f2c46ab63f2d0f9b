//go:build !linux

package offheap

// Outside Linux the arrays come from the Go heap.

func mapBytes(size int, populate bool) []byte { return nil }

func unmapBytes(b []byte) {}
