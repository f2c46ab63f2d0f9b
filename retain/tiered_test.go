package retain

import (
	"math/rand"
	"slices"
	"testing"
)

// TestTieredPaths: a class-level list (2) held by a module global through
// the class (0 -> 1 -> 2) and by a local variable directly (root 2): with
// tiers the list and what it holds are shown under the global, although
// the local's path is shorter; without, under the local. Groups follow
// the paths, and every node still comes after its immediate dominator.
func TestTieredPaths(t *testing.T) {
	const global, local = 0, 1 // root labels, also their tiers
	tg := &testGraph{
		n:     5,
		sizes: []uint64{8, 16, 24, 32, 40},
		roots: []Root{{Object: 2, Label: local}, {Object: 0, Label: global}},
		edges: [][3]uint32{{0, 1, 10}, {1, 2, 11}, {2, 3, 12}, {2, 4, 12}},
	}
	g := tg.build(t, rand.New(rand.NewSource(1)))
	rootOf := func(p *Paths, v uint32) uint32 { return p.PathTo(v)[0].Label }

	plain := ShortestPaths(g)
	if got := rootOf(plain, 3); got != local {
		t.Errorf("shortest path to 3 starts at root %d, want the local", got)
	}
	tiered := TieredPaths(g, func(label uint32) int { return int(label) })
	for v := uint32(0); v < 5; v++ {
		if got := rootOf(tiered, v); got != global {
			t.Errorf("tiered path to %d starts at root %d, want the global", v, got)
		}
	}
	if got := len(tiered.PathTo(4)); got != 4 {
		t.Errorf("tiered path to 4 has %d steps, want 4 (global, class, list, item)", got)
	}
	d := ComputeDominators(g)
	seen := map[uint32]bool{}
	for _, v := range tiered.order {
		if v != g.SuperRoot() && !seen[d.Idom[v]] {
			t.Errorf("node %d comes before its immediate dominator %d", v, d.Idom[v])
		}
		seen[v] = true
	}
	groups, err := Groups(d, tiered, []uint32{1, 2, 3, 4, 4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, gr := range groups {
		if gr.Root != global {
			t.Errorf("group of type %d rooted at %d, want the global", gr.Type, gr.Root)
		}
		if gr.Type == 4 && (gr.Count != 2 || !slices.Equal(gr.Path, []uint32{10, 11, 12})) {
			t.Errorf("items group: %+v", gr)
		}
	}
}

// TestDominatedOf: one pass answers for many parents as Dominated does
// for each; None and a parent named twice are handled.
func TestDominatedOf(t *testing.T) {
	tg := &testGraph{
		n:     5,
		sizes: []uint64{8, 16, 24, 32, 40},
		roots: []Root{{Object: 0, Label: 0}},
		edges: [][3]uint32{{0, 1, 10}, {1, 2, 11}, {2, 3, 12}, {2, 4, 12}},
	}
	d := ComputeDominators(tg.build(t, rand.New(rand.NewSource(1))))
	got := d.DominatedOf([]uint32{2, None, 2, 0}, 5)
	if !slices.Equal(got[0], []uint32{4, 3}) || len(got[1]) != 0 || !slices.Equal(got[2], got[0]) || !slices.Equal(got[3], []uint32{1}) {
		t.Errorf("DominatedOf = %v; want [[4 3] [] [4 3] [1]]", got)
	}
	if !slices.Equal(d.Dominated(2, 1), []uint32{4}) || len(d.Dominated(None, 3)) != 0 {
		t.Errorf("Dominated(2, 1) = %v, Dominated(None) = %v", d.Dominated(2, 1), d.Dominated(None, 3))
	}
}
