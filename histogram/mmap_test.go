//go:build unix

package histogram

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// mapFile writes data to a file and maps it read-only, as a core is.
func mapFile(tb testing.TB, data []byte) []byte {
	tb.Helper()
	name := filepath.Join(tb.TempDir(), "core")
	f, err := os.Create(name)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	// Sync so that writing back the file does not compete with the count.
	if _, err := f.Write(data); err != nil {
		tb.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		tb.Fatal(err)
	}
	m, err := syscall.Mmap(int(f.Fd()), 0, len(data), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		tb.Skipf("mmap: %v", err)
	}
	tb.Cleanup(func() { syscall.Munmap(m) })
	return m
}

// TestReadOnlyMemory counts read-only mapped memory: any write would
// crash.
func TestReadOnlyMemory(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	m := mapFile(t, skewed(rng, 20000))
	regions := split(rng, m)
	for _, cfg := range []config{defaultConfig(), smallConfig(), tinyConfig()} {
		check(t, regions, Options{Top: 10}, cfg)
	}
}

// BenchmarkCountMmap2GB counts a 2 GB core-like file mapped read-only
// from the page cache: the real use.
func BenchmarkCountMmap2GB(b *testing.B) {
	if testing.Short() {
		b.Skip("writes a 2 GB file")
	}
	data := mapFile(b, coreLike(3, 2<<30))
	b.Run("core-2GB-file", func(b *testing.B) { benchCount(b, data, Options{}) })
}
