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
