package histogram

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// shrunkMapping maps a file of size bytes and then truncates it to
// nothing, so that reading the mapping faults (SIGBUS), as when a core is
// truncated while heapsift reads it.
func shrunkMapping(t *testing.T, size int) []byte {
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

// TestFaultInWorkers: a fault in any of the parallel workers, or in the
// calling goroutine, is a *FaultError, not a crash.
func TestFaultInWorkers(t *testing.T) {
	data := shrunkMapping(t, 4<<20)
	regions := []Region{{Addr: 0x1000, Data: data}}
	small := defaultConfig()
	small.exactWords, small.chunkWords, small.sampleWords = 1<<10, 1<<12, 1<<12
	for name, run := range map[string]func() error{
		"sampled": func() error { _, err := count(regions, Options{Workers: 4}, small); return err },
		"exact":   func() error { _, err := Count(regions, Options{Workers: 4}); return err },
		"values":  func() error { _, err := CountValues(regions, []uint64{1, 2}, 4); return err },
	} {
		t.Run(name, func(t *testing.T) {
			var fe *FaultError
			if err := run(); !errors.As(err, &fe) {
				t.Fatalf("error %v, want a *FaultError", err)
			}
		})
	}
}
