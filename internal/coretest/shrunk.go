package coretest

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// ShrunkMapping maps a file of size bytes and then truncates it to
// nothing, so that reading the mapping faults (SIGBUS), as when a core is
// truncated while heapsift reads it. The mapping is unmapped when the test
// ends.
func ShrunkMapping(t testing.TB, size int) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "shrinks")
	if err := os.WriteFile(path, make([]byte, size), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(data) })
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	return data
}
