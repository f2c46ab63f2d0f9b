package retain

import (
	"fmt"
	"testing"
)

// TestMergeThreads: groups whose roots differ only by thread merge, with
// summed sizes and a thread count; other roots, other paths and other
// types stay apart.
func TestMergeThreads(t *testing.T) {
	// Root labels 1..4 are the same function's variable in threads 1..4,
	// label 5 another function's, label 9 a global.
	threadless := func(root uint32) (string, bool) {
		switch {
		case root >= 1 && root <= 4:
			return "serve buf", true
		case root == 5:
			return "other buf", true
		}
		return fmt.Sprint("global ", root), false
	}
	groups := []Group{
		{Root: 9, Type: 7, Count: 1, Bytes: 3000, Retained: 3000, Example: 50},
		{Root: 2, Type: 7, Count: 1, Bytes: 1024, Retained: 1100, Example: 20},
		{Root: 1, Type: 7, Count: 1, Bytes: 1024, Retained: 1000, Example: 10},
		{Root: 3, Type: 7, Count: 1, Bytes: 1024, Retained: 1000, Example: 30},
		{Root: 4, Type: 7, Count: 2, Bytes: 2048, Retained: 900, Example: 40},
		{Root: 4, Type: 8, Count: 1, Bytes: 8, Retained: 8, Example: 41},
		{Root: 1, Path: []uint32{3}, Type: 7, Count: 1, Bytes: 16, Retained: 16, Example: 11},
		{Root: 5, Type: 7, Count: 1, Bytes: 1024, Retained: 1024, Example: 60},
		{Root: 9, Type: 8, Count: 1, Bytes: 4, Retained: 4, Example: 51},
	}
	got := MergeThreads(groups, threadless)
	if len(got) != 6 {
		t.Fatalf("%d groups, want 6: %+v", len(got), got)
	}
	m := got[0]
	if m.Root != 2 || m.Type != 7 || m.Count != 5 || m.Bytes != 5120 || m.Retained != 4000 || m.Threads != 4 || m.Example != 20 {
		t.Errorf("merged group %+v, want root 2, 5 objects, 5120 B, 4000 retained, 4 threads, example 20", m)
	}
	if g := got[1]; g.Root != 9 || g.Threads != 0 || g.Count != 1 {
		t.Errorf("second group %+v, want the global's, unmerged", g)
	}
	for _, g := range got[2:] {
		if g.Threads != 1 && g.Root != 9 {
			t.Errorf("group %+v merged %d threads, want 1", g, g.Threads)
		}
	}
}
