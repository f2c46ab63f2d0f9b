package retain

import (
	"math/rand"
	"slices"
	"strings"
	"testing"
)

func buildExample(t *testing.T, tg *testGraph) (*Graph, *Dominators) {
	t.Helper()
	g := tg.build(t, rand.New(rand.NewSource(0)))
	return g, ComputeDominators(g)
}

func TestDiamond(t *testing.T) {
	// root -> A; A -> B, C; B, C -> D.
	const A, B, C, D, root = 0, 1, 2, 3, 4
	tg := &testGraph{n: 4, sizes: []uint64{10, 20, 30, 40}, roots: []Root{{A, 7}},
		edges: [][3]uint32{{A, B, 0}, {A, C, 1}, {B, D, 0}, {C, D, 0}}}
	_, d := buildExample(t, tg)
	if want := []uint32{root, A, A, A, None}; !slices.Equal(d.Idom, want) {
		t.Errorf("Idom = %v, want %v", d.Idom, want)
	}
	if want := []uint64{100, 20, 30, 40, 100}; !slices.Equal(retainedAll(d), want) {
		t.Errorf("Retained = %v, want %v", retainedAll(d), want)
	}
	if got := d.DominatorsOf(D); !slices.Equal(got, []uint32{A}) {
		t.Errorf("DominatorsOf(D) = %v, want [A]", got)
	}
}

func TestCycle(t *testing.T) {
	// root -> A -> B -> C -> A, C -> D; E -> A is unreachable.
	const A, B, C, D, E, root = 0, 1, 2, 3, 4, 5
	tg := &testGraph{n: 5, sizes: []uint64{1, 2, 4, 8, 16}, roots: []Root{{A, 0}},
		edges: [][3]uint32{{A, B, 0}, {B, C, 0}, {C, A, 1}, {C, D, 2}, {E, A, 0}}}
	g, d := buildExample(t, tg)
	if want := []uint32{root, A, B, C, None, None}; !slices.Equal(d.Idom, want) {
		t.Errorf("Idom = %v, want %v", d.Idom, want)
	}
	if want := []uint64{15, 14, 12, 8, 0, 15}; !slices.Equal(retainedAll(d), want) {
		t.Errorf("Retained = %v, want %v", retainedAll(d), want)
	}
	if got := d.DominatorsOf(D); !slices.Equal(got, []uint32{A, B, C}) {
		t.Errorf("DominatorsOf(D) = %v, want [A B C]", got)
	}
	if d.Reachable(E) || !d.Reachable(root) || d.NumReachable() != 4 || d.ReachableBytes() != 15 {
		t.Errorf("reachability: E %v, root %v, %d objects, %d bytes", d.Reachable(E), d.Reachable(root), d.NumReachable(), d.ReachableBytes())
	}
	p := ShortestPaths(g)
	if got, want := p.PathTo(D), []Step{{A, 0}, {B, 0}, {C, 0}, {D, 2}}; !slices.Equal(got, want) {
		t.Errorf("PathTo(D) = %v, want %v", got, want)
	}
	if p.PathTo(E) != nil || p.PathTo(root) != nil {
		t.Errorf("paths to unreachable E %v or to the super-root %v", p.PathTo(E), p.PathTo(root))
	}
}

func TestSharedByRoots(t *testing.T) {
	// Two roots share Z; A is listed under two roots; S loops on itself.
	const X, Y, Z, A, S, root = 0, 1, 2, 3, 4, 5
	tg := &testGraph{n: 5, sizes: []uint64{1, 2, 4, 8, 16},
		roots: []Root{{X, 1}, {Y, 2}, {A, 3}, {A, 4}, {S, 5}},
		edges: [][3]uint32{{X, Z, 0}, {Y, Z, 0}, {S, S, 0}}}
	g, d := buildExample(t, tg)
	if want := []uint32{root, root, root, root, root, None}; !slices.Equal(d.Idom, want) {
		t.Errorf("Idom = %v, want %v", d.Idom, want)
	}
	if want := []uint64{1, 2, 4, 8, 16, 31}; !slices.Equal(retainedAll(d), want) {
		t.Errorf("Retained = %v, want %v", retainedAll(d), want)
	}
	if got, want := d.TopDominators(3), []uint32{S, A, Z}; !slices.Equal(got, want) {
		t.Errorf("TopDominators(3) = %v, want %v", got, want)
	}
	if got := ShortestPaths(g).PathTo(A); !slices.Equal(got, []Step{{A, 3}}) {
		t.Errorf("PathTo(A) = %v, want the first root", got)
	}
	if got := g.Roots(); !slices.Equal(got, tg.roots) {
		t.Errorf("Roots() = %v, want %v", got, tg.roots)
	}
}

func TestDominated(t *testing.T) {
	// A dominates B, C, D of sizes 5, 7, 7 and E below D.
	const A, B, C, D, E = 0, 1, 2, 3, 4
	tg := &testGraph{n: 5, sizes: []uint64{1, 5, 7, 7, 1}, roots: []Root{{A, 0}},
		edges: [][3]uint32{{A, B, 0}, {A, C, 0}, {A, D, 0}, {D, E, 0}}}
	_, d := buildExample(t, tg)
	if got, want := d.Dominated(A, 10), []uint32{D, C, B}; !slices.Equal(got, want) {
		t.Errorf("Dominated(A) = %v, want %v", got, want)
	}
	if got := d.Dominated(A, 0); got != nil {
		t.Errorf("Dominated(A, 0) = %v", got)
	}
}

func TestEmptyGraph(t *testing.T) {
	g, err := BuildGraph(0, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := ComputeDominators(g)
	if !slices.Equal(d.Idom, []uint32{None}) || d.Retained(0) != 0 || len(d.TopDominators(5)) != 0 {
		t.Errorf("empty graph: Idom %v Retained %v", d.Idom, d.Retained(0))
	}
	groups, err := Groups(d, ShortestPaths(g), nil, nil)
	if err != nil || len(groups) != 0 {
		t.Errorf("empty graph groups %v, %v", groups, err)
	}
}

func TestBuildGraphErrors(t *testing.T) {
	if _, err := BuildGraph(2, []uint64{1}, nil, nil); err == nil {
		t.Error("sizes of the wrong length accepted")
	}
	if _, err := BuildGraph(-1, nil, nil, nil); err == nil {
		t.Error("negative object count accepted")
	}
	calls := 0
	unsteady := func(emit func(from, to, label uint32)) {
		calls++
		emit(0, 1, 0)
		if calls == 2 {
			emit(1, 0, 0)
			emit(0, 0, 0)
		}
	}
	if _, err := BuildGraph(2, []uint64{1, 1}, nil, unsteady); err == nil || !strings.Contains(err.Error(), "fill pass") {
		t.Errorf("edge source emitting more edges the second time: err = %v", err)
	}
	calls = 0
	changing := func(emit func(from, to, label uint32)) {
		calls++
		emit(0, 1, uint32(calls))
	}
	if _, err := BuildGraph(2, []uint64{1, 1}, nil, changing); err == nil {
		t.Error("edge source emitting other labels the second time accepted")
	}
}

func TestBuildGraphDropsBadEdges(t *testing.T) {
	g, err := BuildGraph(2, []uint64{1, 1}, []Root{{0, 0}, {9, 0}}, func(emit func(from, to, label uint32)) {
		emit(0, 1, 0)
		emit(0, 2, 0)
		emit(5, 1, 0)
		emit(2, 0, 0) // from the super-root: not an object edge
	})
	if err != nil {
		t.Fatal(err)
	}
	if g.NumEdges() != 2 || len(g.Warnings()) != 1 {
		t.Errorf("%d edges, warnings %q; want 2 edges and one warning", g.NumEdges(), g.Warnings())
	}
	if err := g.CheckValid(); err != nil {
		t.Error(err)
	}
}

func TestEdgeOrder(t *testing.T) {
	g, err := BuildGraph(4, make([]uint64, 4), nil, func(emit func(from, to, label uint32)) {
		emit(1, 3, 30)
		emit(0, 2, 20)
		emit(1, 0, 10)
		emit(1, 2, 40)
	})
	if err != nil {
		t.Fatal(err)
	}
	to, labels := g.Edges(1)
	if !slices.Equal(to, []uint32{3, 0, 2}) || !slices.Equal(labels, []uint32{30, 10, 40}) {
		t.Errorf("edges of 1: %v labels %v; want emission order", to, labels)
	}
	if g.EdgeStart(1) != 1 || g.EdgeSource(3) != 1 || g.EdgeSource(0) != 0 {
		t.Errorf("edge start %d, sources %d %d", g.EdgeStart(1), g.EdgeSource(3), g.EdgeSource(0))
	}
}

// TestRetainedOver4GiB: retained sizes of 4 GiB and more, which do not
// fit the 4 bytes most take, come out whole.
func TestRetainedOver4GiB(t *testing.T) {
	const gib = 1 << 30
	// root -> A -> B -> C, and C is 3 GiB: A and B retain over 4 GiB.
	sizes := []uint64{3 * gib, 2 * gib, 3*gib + 5, 7}
	g, err := BuildGraph(4, sizes, []Root{{Object: 0}}, func(emit func(from, to, label uint32)) {
		emit(0, 1, 0)
		emit(1, 2, 0)
	})
	if err != nil {
		t.Fatal(err)
	}
	d := ComputeDominators(g)
	want := []uint64{8*gib + 5, 5*gib + 5, 3*gib + 5, 0, 8*gib + 5}
	for v, w := range want {
		if got := d.Retained(uint32(v)); got != w {
			t.Errorf("Retained(%d) = %d, want %d", v, got, w)
		}
	}
	if got := d.ReachableBytes(); got != 8*gib+5 {
		t.Errorf("ReachableBytes = %d", got)
	}
}

// retainedAll returns the retained size of every node.
func retainedAll(d *Dominators) []uint64 {
	out := make([]uint64, len(d.Idom))
	for v := range out {
		out[v] = d.Retained(uint32(v))
	}
	return out
}
