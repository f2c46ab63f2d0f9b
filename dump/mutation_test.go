package dump

import (
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/heapsift/heapsift/internal/mutate"
)

// mutantCount is how many mutants a mutation test makes: brief in `make
// test`, HEAPSIFT_MUTANTS=N for a long run (`make fuzz` sets it).
func mutantCount(brief int) int {
	if n, err := strconv.Atoi(os.Getenv("HEAPSIFT_MUTANTS")); err == nil && n > 0 {
		return n
	}
	return brief
}

// TestMutantsOpen opens mutants of the sample core in every family: none
// may panic, take more than a second, or allocate more than a small
// multiple of its size (an allocation sized by a claimed count).
func TestMutantsOpen(t *testing.T) {
	n := mutantCount(400)
	seed := int64(14)
	if s, err := strconv.ParseInt(os.Getenv("HEAPSIFT_MUTANT_SEED"), 10, 64); err == nil {
		seed = s
	}
	ms := mutate.Generate(sampleCore().Build(), mutate.Options{Seed: seed, N: n, MaxCount: 100000})
	for i, m := range ms {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("mutant %d (%s: %s): panic: %v", i, m.Family, m.Name, r)
				}
			}()
			p, err := newProcess("mutant", m.Data, Options{})
			if err != nil {
				return
			}
			buf := make([]byte, 64)
			for _, mp := range p.Mappings() {
				p.ReadAt(buf, mp.Start)
				p.CString(mp.End-1, 16)
			}
			_ = p.Totals()
			p.Close()
		}()
		d := time.Since(start)
		runtime.ReadMemStats(&after)
		if d > time.Second {
			t.Errorf("mutant %d (%s: %s): %v to open", i, m.Family, m.Name, d)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8*uint64(len(m.Data))+1<<20 {
			t.Errorf("mutant %d (%s: %s): allocated %d bytes for a %d-byte core", i, m.Family, m.Name, alloc, len(m.Data))
		}
	}
}
