package gocore

import (
	"testing"
	"unsafe"
)

// TestMakeHuge checks that makeHuge returns zeroed, writable slices of the
// asked length, large ones starting on a huge page.
func TestMakeHuge(t *testing.T) {
	for _, n := range []int{0, 1, 1000, 1 << 18, 3<<20 + 5} {
		s := makeHuge[uint64](n)
		if len(s) != n || cap(s) != n {
			t.Fatalf("makeHuge(%d): len %d cap %d", n, len(s), cap(s))
		}
		for i := range s {
			if s[i] != 0 {
				t.Fatalf("makeHuge(%d)[%d] = %d, want 0", n, i, s[i])
			}
			s[i] = uint64(i)
		}
		if n*8 >= hugePage/2 {
			if a := uintptr(unsafe.Pointer(unsafe.SliceData(s))); a%hugePage != 0 {
				t.Errorf("makeHuge(%d) starts at %#x, not on a huge page", n, a)
			}
		}
	}
	p := makeHuge[pageSpan](100000)
	if len(p) != 100000 {
		t.Fatalf("makeHuge[pageSpan]: len %d", len(p))
	}
	p[len(p)-1].nelems = 1
}
