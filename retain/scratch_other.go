//go:build !linux

package retain

import "errors"

// Outside Linux scratch arrays come from the Go heap.

func mapBytes(size int) []byte { return nil }

func mapFile(dir string, size int) ([]byte, error) {
	return nil, errors.New("scratch files are supported on Linux only")
}

func unmapBytes(b []byte) {}

func inMemoryFS(dir string) bool { return false }

func bytesAsUint32s(b []byte, n int) []uint32 { return nil }

func bytesAsUint64s(b []byte, n int) []uint64 { return nil }
