package retain

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"
)

// groupKey prints a group's identity for comparisons.
func groupKey(root uint32, path []uint32, typ uint32) string {
	return fmt.Sprintf("%d/%v/%d", root, path, typ)
}

func TestGroupsExample(t *testing.T) {
	const (
		tArr, tNode, tStr = 1, 2, 3
		rootG             = 100
		idx               = 9 // what collapse maps 10, 11 to
		next, name        = 20, 21
	)
	collapse := func(l uint32) uint32 {
		if l == 10 || l == 11 {
			return idx
		}
		return l
	}
	// An array (0) of nodes 1, 2; node 1 heads a list 1 -> 7 -> 8; every
	// node names a string (4, 5, 6, 9). Object 10 is unreachable.
	tg := &testGraph{
		n:     11,
		sizes: []uint64{24, 16, 16, 0, 8, 8, 8, 16, 16, 8, 1000},
		roots: []Root{{0, rootG}},
		edges: [][3]uint32{
			{0, 1, 10}, {0, 2, 11},
			{1, 4, name}, {1, 7, next}, {2, 5, name},
			{7, 6, name}, {7, 8, next}, {8, 9, name},
			{10, 1, next},
		},
	}
	typeOf := []uint32{tArr, tNode, tNode, 0, tStr, tStr, tStr, tNode, tNode, tStr, tNode}
	g, d := buildExample(t, tg)
	groups, err := Groups(d, ShortestPaths(g), typeOf, collapse)
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		count           int
		bytes, retained uint64
		example         uint32
	}
	wants := map[string]want{
		groupKey(rootG, nil, tArr):                       {1, 24, 120, 0},
		groupKey(rootG, []uint32{idx}, tNode):            {2, 32, 96, 1},
		groupKey(rootG, []uint32{idx, next}, tNode):      {2, 32, 48, 7}, // 7 dominates 8: counted once
		groupKey(rootG, []uint32{idx, name}, tStr):       {2, 16, 16, 4},
		groupKey(rootG, []uint32{idx, next, name}, tStr): {2, 16, 16, 6},
	}
	if len(groups) != len(wants) {
		t.Fatalf("%d groups, want %d: %+v", len(groups), len(wants), groups)
	}
	for i, gr := range groups {
		key := groupKey(gr.Root, gr.Path, gr.Type)
		w, ok := wants[key]
		if !ok {
			t.Errorf("unexpected group %s: %+v", key, gr)
			continue
		}
		if got := (want{gr.Count, gr.Bytes, gr.Retained, gr.Example}); got != w {
			t.Errorf("group %s: %+v, want %+v", key, got, w)
		}
		if i > 0 && groups[i-1].Retained < gr.Retained {
			t.Errorf("groups not ranked by retained size: %d before %d", groups[i-1].Retained, gr.Retained)
		}
	}
}

func TestGroupsErrors(t *testing.T) {
	tg := &testGraph{n: 2, sizes: []uint64{1, 1}, roots: []Root{{0, 0}}}
	g1, d1 := buildExample(t, tg)
	g2, _ := buildExample(t, tg)
	if _, err := Groups(d1, ShortestPaths(g1), []uint32{0}, nil); err == nil {
		t.Error("type ids of the wrong length accepted")
	}
	if _, err := Groups(d1, ShortestPaths(g2), []uint32{0, 0}, nil); err == nil {
		t.Error("paths of another graph accepted")
	}
}

// naiveGroups groups objects by a path built step by step from PathTo,
// folding recurring labels, and sums retained sizes as the size of the
// union of the members' dominated sets.
func naiveGroups(tg *testGraph, p *Paths, typeOf []uint32, collapse func(uint32) uint32) map[string]Group {
	_, doms := naiveDominators(tg)
	members := map[string][]uint32{}
	for v := 0; v < tg.n; v++ {
		steps := p.PathTo(uint32(v))
		if steps == nil {
			continue
		}
		var path []uint32
		for _, s := range steps[1:] {
			l := collapse(s.Label)
			if i := slices.Index(path, l); i >= 0 {
				path = path[:i+1]
			} else {
				path = append(path, l)
			}
		}
		key := groupKey(steps[0].Label, path, typeOf[v])
		members[key] = append(members[key], uint32(v))
	}
	groups := map[string]Group{}
	for key, ms := range members {
		var gr Group
		retained := map[uint32]bool{}
		for _, m := range ms {
			gr.Count++
			gr.Bytes += tg.sizes[m]
			retained[m] = true
		}
		for v := 0; v < tg.n; v++ {
			for _, d := range doms[v] {
				if slices.Contains(ms, d) {
					retained[uint32(v)] = true
				}
			}
		}
		for v := range retained {
			gr.Retained += tg.sizes[v]
		}
		groups[key] = gr
	}
	return groups
}

func TestGroupsAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	collapse := func(l uint32) uint32 { return l / 2 }
	for i := 0; i < 1000; i++ {
		tg := randomGraph(rng)
		typeOf := make([]uint32, tg.n)
		for v := range typeOf {
			typeOf[v] = uint32(rng.Intn(2))
		}
		g := tg.build(t, rng)
		d := ComputeDominators(g)
		p := ShortestPaths(g)
		groups, err := Groups(d, p, typeOf, collapse)
		if err != nil {
			t.Fatal(err)
		}
		want := naiveGroups(tg, p, typeOf, collapse)
		if len(groups) != len(want) {
			t.Fatalf("graph %+v: %d groups, want %d", tg, len(groups), len(want))
		}
		for _, gr := range groups {
			key := groupKey(gr.Root, gr.Path, gr.Type)
			w := want[key]
			if gr.Count != w.Count || gr.Bytes != w.Bytes || gr.Retained != w.Retained {
				t.Fatalf("graph %+v: group %s: count %d bytes %d retained %d, want %d %d %d",
					tg, key, gr.Count, gr.Bytes, gr.Retained, w.Count, w.Bytes, w.Retained)
			}
		}
	}
}
