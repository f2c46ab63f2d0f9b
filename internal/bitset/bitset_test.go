package bitset

import "testing"

func TestSet(t *testing.T) {
	s := New(130)
	for _, i := range []int{0, 63, 64, 129} {
		s.Add(i)
	}
	for i := -1; i < 200; i++ {
		want := i == 0 || i == 63 || i == 64 || i == 129
		if s.Has(i) != want {
			t.Errorf("Has(%d) = %v", i, !want)
		}
	}
}
