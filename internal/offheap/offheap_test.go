package offheap

import (
	"runtime"
	"testing"
)

func TestMakeFree(t *testing.T) {
	var a Arena
	small := Make[uint32](&a, 10)
	big := Make[uint64](&a, minMapped) // 8 MiB: mapped on Linux
	counts := MakeLazy[int32](&a, minMapped)
	if len(small) != 10 || len(big) != minMapped || len(counts) != minMapped {
		t.Fatalf("lengths %d, %d, %d", len(small), len(big), len(counts))
	}
	for i := range big {
		if big[i] != 0 {
			t.Fatalf("big[%d] = %d, not zeroed", i, big[i])
		}
		big[i] = uint64(i)
	}
	counts[len(counts)-1] = -1
	if big[12345] != 12345 || counts[len(counts)-1] != -1 {
		t.Fatal("writes did not hold")
	}
	mapped := len(a.mapped)
	if runtime.GOOS == "linux" && mapped != 2 {
		t.Fatalf("%d arrays mapped on Linux, want the 2 large ones", mapped)
	}
	Free(&a, small) // from the Go heap: nothing to unmap
	if len(a.mapped) != mapped {
		t.Fatalf("freeing a Go heap array changed the mappings: %d, then %d", mapped, len(a.mapped))
	}
	Free(&a, big)
	if runtime.GOOS == "linux" && len(a.mapped) != mapped-1 {
		t.Fatalf("freeing a mapped array left %d of %d mappings", len(a.mapped), mapped)
	}
	a.Release()
	if len(a.mapped) != 0 {
		t.Fatalf("Release left %d mappings", len(a.mapped))
	}
}
