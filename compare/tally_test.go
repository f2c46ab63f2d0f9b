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

func TestDiffTypes(t *testing.T) {
	d := DiffTypes([]Tally{{"a", 2, 32}, {"b", 1, 100}}, []Tally{{"a", 5, 80}, {"c", 1, 8}})
	want := TallyDelta{"the live heap", 3, 6, 132, 88}
	if d.Total != want || d.Total.DeltaBytes() != -44 || len(d.Rows) != 3 || d.Rows[0].Name != "a" {
		t.Errorf("DiffTypes = total %+v, rows %+v; want total %+v and a first", d.Total, d.Rows, want)
	}
}

func TestChange(t *testing.T) {
	tests := []struct {
		d           TallyDelta
		ratio       float64 // -1: none
		isNew, gone bool
	}{
		{TallyDelta{"grew", 10, 20, 480, 1440}, 3, false, false},
		{TallyDelta{"fresh", 0, 2, 0, 64}, -1, true, false},
		{TallyDelta{"gone", 3, 0, 30, 0}, 0, false, true},
		{TallyDelta{"sizeless", 3, 6, 0, 0}, -1, false, false},
	}
	for _, tt := range tests {
		c := tt.d.Change()
		okRatio := (tt.ratio < 0 && c.Ratio == nil) || (c.Ratio != nil && *c.Ratio == tt.ratio)
		if !okRatio || c.New != tt.isNew || c.Gone != tt.gone {
			t.Errorf("%s: change %+v, want ratio %v new %v gone %v", tt.d.Name, c, tt.ratio, tt.isNew, tt.gone)
		}
	}
	// Words have no size: their ratio is of the counts.
	w := WordDelta{OldCount: 4, NewCount: 10}
	if c := w.Change(); c.Ratio == nil || *c.Ratio != 2.5 {
		t.Errorf("word change %+v, want ratio 2.5", c)
	}
}
