package compare

import "testing"

func TestDiffTallies(t *testing.T) {
	old := []Tally{{"main.Order", 10, 480}, {"main.Session", 5, 440}, {"gone", 3, 30}, {"dup", 1, 8}, {"dup", 1, 8}, {"big", 1, 9000}, {"small", 1, 16}}
	new := []Tally{{"main.Order", 20, 960}, {"main.Session", 5, 440}, {"fresh", 2, 4096}, {"dup", 3, 24}, {"small", 1, 16}, {"big", 1, 9000}}
	got := DiffTallies(old, new)
	want := []TallyDelta{
		{"fresh", 0, 2, 0, 4096},
		{"main.Order", 10, 20, 480, 960},
		{"dup", 2, 3, 16, 24},
		{"big", 1, 1, 9000, 9000},
		{"main.Session", 5, 5, 440, 440},
		{"small", 1, 1, 16, 16},
		{"gone", 3, 0, 30, 0},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d rows %v, want %v", len(got), got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if gone := got[len(got)-1]; gone.DeltaBytes() != -30 || gone.DeltaCount() != -3 {
		t.Errorf("gone: delta %d bytes %d objects, want -30 and -3", gone.DeltaBytes(), gone.DeltaCount())
	}
}

