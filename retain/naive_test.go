package retain

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"
)

// testGraph is a graph kept as plain lists, for the naive algorithms.
type testGraph struct {
	n     int
	sizes []uint64
	roots []Root
	edges [][3]uint32 // from, to, label
}

// build makes a Graph, the edge source shuffling its edges differently on
// each call to check that emission order does not matter.
func (tg *testGraph) build(t *testing.T, rng *rand.Rand) *Graph {
	t.Helper()
	g, err := BuildGraph(tg.n, tg.sizes, tg.roots, func(emit func(from, to, label uint32)) {
		order := rng.Perm(len(tg.edges))
		for _, i := range order {
			e := tg.edges[i]
			emit(e[0], e[1], e[2])
		}
	})
	if err != nil {
		t.Fatalf("BuildGraph: %v", err)
	}
	if err := g.CheckValid(); err != nil {
		t.Fatal(err)
	}
	return g
}

// succ returns the adjacency lists, super-root (node n) included.
func (tg *testGraph) succ() [][]uint32 {
	s := make([][]uint32, tg.n+1)
	for _, e := range tg.edges {
		s[e[0]] = append(s[e[0]], e[1])
	}
	for _, r := range tg.roots {
		s[tg.n] = append(s[tg.n], r.Object)
	}
	return s
}

// reachableWithout returns which nodes the super-root reaches when node
// removed is taken out (None removes nothing).
func reachableWithout(succ [][]uint32, removed uint32) []bool {
	root := uint32(len(succ) - 1)
	seen := make([]bool, len(succ))
	seen[root] = true
	stack := []uint32{root}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, t := range succ[v] {
			if t != removed && !seen[t] {
				seen[t] = true
				stack = append(stack, t)
			}
		}
	}
	return seen
}

// naiveDominators uses the definition: d dominates v iff v is reachable
// but not once d is removed. It returns the immediate dominators and the
// set of strict dominators of each node.
func naiveDominators(tg *testGraph) (idom []uint32, doms [][]uint32) {
	succ := tg.succ()
	root := uint32(tg.n)
	all := reachableWithout(succ, None)
	doms = make([][]uint32, tg.n+1)
	for v := 0; v < tg.n; v++ {
		if all[v] {
			doms[v] = []uint32{root}
		}
	}
	for d := 0; d < tg.n; d++ {
		without := reachableWithout(succ, uint32(d))
		for v := 0; v < tg.n; v++ {
			if v != d && all[v] && !without[v] {
				doms[v] = append(doms[v], uint32(d))
			}
		}
	}
	idom = make([]uint32, tg.n+1)
	for v := range idom {
		idom[v] = None
		// The immediate dominator is the strict dominator with the most
		// dominators of its own: the deepest one.
		for _, d := range doms[v] {
			if idom[v] == None || len(doms[d]) > len(doms[idom[v]]) {
				idom[v] = d
			}
		}
	}
	return idom, doms
}

// naiveRetained sums the sizes of the nodes each node dominates.
func naiveRetained(tg *testGraph, doms [][]uint32) []uint64 {
	ret := make([]uint64, tg.n+1)
	for v := 0; v < tg.n; v++ {
		if len(doms[v]) == 0 {
			continue
		}
		ret[v] += tg.sizes[v]
		for _, d := range doms[v] {
			ret[d] += tg.sizes[v]
		}
	}
	return ret
}

// randomGraph makes a small graph with cycles, diamonds, self loops,
// duplicate edges, several (and repeated) roots and unreachable nodes.
func randomGraph(rng *rand.Rand) *testGraph {
	n := rng.Intn(40)
	tg := &testGraph{n: n, sizes: make([]uint64, n)}
	for i := range tg.sizes {
		tg.sizes[i] = uint64(1 + rng.Intn(100))
	}
	if n == 0 {
		return tg
	}
	for i := rng.Intn(5); i > 0; i-- {
		tg.roots = append(tg.roots, Root{Object: uint32(rng.Intn(n)), Label: uint32(rng.Intn(3))})
	}
	density := rng.Float64() * 3
	for i := int(density * float64(n)); i > 0; i-- {
		from := uint32(rng.Intn(n))
		to := uint32(rng.Intn(n))
		switch rng.Intn(6) {
		case 0:
			to = from // self loop
		case 1, 2:
			to = uint32(min(n-1, int(from)+1+rng.Intn(3))) // chains and diamonds
		}
		tg.edges = append(tg.edges, [3]uint32{from, to, uint32(rng.Intn(4))})
	}
	return tg
}

func checkAgainstNaive(t *testing.T, tg *testGraph, d *Dominators) {
	t.Helper()
	idom, doms := naiveDominators(tg)
	ret := naiveRetained(tg, doms)
	if !slices.Equal(d.Idom, idom) {
		t.Fatalf("graph %+v:\nIdom     %v\nwant     %v", tg, d.Idom, idom)
	}
	if !slices.Equal(retainedAll(d), ret) {
		t.Fatalf("graph %+v:\nRetained %v\nwant     %v", tg, retainedAll(d), ret)
	}
}

func TestDominatorsAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 3000; i++ {
		tg := randomGraph(rng)
		g := tg.build(t, rng)
		checkAgainstNaive(t, tg, ComputeDominators(g))
	}
}

// TestDominatorsDeepChains checks graphs whose DFS and compressed paths
// are long: chains with back edges to the head and to random earlier
// nodes, like doubly linked lists.
func TestDominatorsDeepChains(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for i := 0; i < 200; i++ {
		n := 1 + rng.Intn(60)
		tg := &testGraph{n: n, sizes: make([]uint64, n), roots: []Root{{Object: 0}}}
		for v := 0; v < n; v++ {
			tg.sizes[v] = uint64(v + 1)
			if v+1 < n {
				tg.edges = append(tg.edges, [3]uint32{uint32(v), uint32(v + 1), 0})
			}
			if v > 0 && rng.Intn(3) == 0 {
				tg.edges = append(tg.edges, [3]uint32{uint32(v), uint32(rng.Intn(v)), 1})
			}
			if v > 1 && rng.Intn(8) == 0 {
				tg.edges = append(tg.edges, [3]uint32{uint32(rng.Intn(v - 1)), uint32(v), 2})
			}
		}
		if rng.Intn(2) == 0 {
			tg.roots = append(tg.roots, Root{Object: uint32(rng.Intn(n)), Label: 1})
		}
		checkAgainstNaive(t, tg, ComputeDominators(tg.build(t, rng)))
	}
}

// bfsDistance returns each node's distance from the super-root, -1 if
// unreachable.
func bfsDistance(succ [][]uint32) []int {
	dist := make([]int, len(succ))
	for i := range dist {
		dist[i] = -1
	}
	root := len(succ) - 1
	dist[root] = 0
	queue := []uint32{uint32(root)}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, t := range succ[v] {
			if dist[t] < 0 {
				dist[t] = dist[v] + 1
				queue = append(queue, t)
			}
		}
	}
	return dist
}

func hasEdge(tg *testGraph, from, to, label uint32) bool {
	if int(from) == tg.n {
		return slices.Contains(tg.roots, Root{Object: to, Label: label})
	}
	return slices.Contains(tg.edges, [3]uint32{from, to, label})
}

func TestPathsAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for i := 0; i < 1000; i++ {
		tg := randomGraph(rng)
		g := tg.build(t, rng)
		p := ShortestPaths(g)
		dist := bfsDistance(tg.succ())
		for v := 0; v < tg.n; v++ {
			path := p.PathTo(uint32(v))
			if len(path) != max(dist[v], 0) {
				t.Fatalf("graph %+v: path to %d is %v, want %d steps", tg, v, path, dist[v])
			}
			from := uint32(tg.n)
			for _, s := range path {
				if !hasEdge(tg, from, s.Object, s.Label) {
					t.Fatalf("graph %+v: path to %d %v uses no edge %d->%d label %d", tg, v, path, from, s.Object, s.Label)
				}
				from = s.Object
			}
		}
	}
}

func TestReverseAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	for i := 0; i < 300; i++ {
		tg := randomGraph(rng)
		g := tg.build(t, rng)
		r := g.Reverse()
		var got, want []string
		for v := 0; v <= tg.n; v++ {
			from, edges := r.Referrers(uint32(v))
			for k := range from {
				if g.EdgeTarget(edges[k]) != uint32(v) || g.EdgeSource(edges[k]) != from[k] {
					t.Fatalf("referrer %d of %d: edge %d goes %d->%d", from[k], v, edges[k], g.EdgeSource(edges[k]), g.EdgeTarget(edges[k]))
				}
				got = append(got, fmt.Sprintf("%d->%d/%d", from[k], v, g.EdgeLabel(edges[k])))
			}
		}
		for _, e := range tg.edges {
			want = append(want, fmt.Sprintf("%d->%d/%d", e[0], e[1], e[2]))
		}
		for _, rt := range tg.roots {
			want = append(want, fmt.Sprintf("%d->%d/%d", tg.n, rt.Object, rt.Label))
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("reverse edges %v, want %v", got, want)
		}
	}
}
