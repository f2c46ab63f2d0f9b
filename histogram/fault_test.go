package histogram

import (
	"errors"
	"testing"

	"github.com/heapsift/heapsift/internal/coretest"
)

// TestFaultInWorkers: a fault in any of the parallel workers, or in the
// calling goroutine, is a *FaultError, not a crash.
func TestFaultInWorkers(t *testing.T) {
	data := coretest.ShrunkMapping(t, 4<<20)
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
