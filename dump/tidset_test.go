package dump

import "testing"

// TestTIDSet: the thread ID set agrees with a map on IDs of every sign
// and size, repeated and not.
func TestTIDSet(t *testing.T) {
	var s tidSet
	want := map[int]bool{}
	for i := range 20000 {
		for _, tid := range []int{i, -i, i * 7919, -1, 1 << 22, -1 << 31, 1<<31 - 1, i % 100} {
			if got := s.add(tid); got != want[tid] {
				t.Fatalf("add(%d) = %v, want %v", tid, got, want[tid])
			}
			want[tid] = true
		}
	}
}

// TestTIDSetSpreadsSharedLowBits: IDs that differ only in their high bits
// (a hostile core's) must not cluster, or each add probes a long run.
func TestTIDSetSpreadsSharedLowBits(t *testing.T) {
	var s tidSet
	const n = 100000
	for i := 1; i <= n; i++ {
		s.add(i << 15)
	}
	mask := uint32(len(s.slots) - 1)
	longest := uint32(0)
	for i, k := range s.slots {
		if k != 0 {
			longest = max(longest, (uint32(i)-s.home(k))&mask)
		}
	}
	if longest > 200 {
		t.Errorf("an ID sits %d slots after its home slot among %d IDs sharing their low bits", longest, n)
	}
}
