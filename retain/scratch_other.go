//go:build !linux

package retain

// Outside Linux scratch arrays come from the Go heap.

func mapBytes(size int) []byte { return nil }

func unmapBytes(b []byte) {}

func bytesAsUint32s(b []byte, n int) []uint32 { return nil }

func bytesAsUint64s(b []byte, n int) []uint64 { return nil }
