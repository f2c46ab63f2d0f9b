package retain

import (
	"math/rand"
	"testing"
)

// iterativeDominators is the iterative algorithm of Cooper, Harvey and
// Kennedy over a reverse postorder: slow in the worst case but simple and
// independent of semi-NCA, for graphs too large for the naive check.
func iterativeDominators(g *Graph) []uint32 {
	nodes := g.NumNodes()
	root := g.SuperRoot()
	post := make([]uint32, nodes) // node -> postorder number + 1 (0: unreachable)
	var order []uint32            // nodes in postorder
	type frame struct{ v, e uint32 }
	seen := make([]bool, nodes)
	seen[root] = true
	stack := []frame{{root, g.start[root]}}
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		if f.e < g.start[f.v+1] {
			t := g.dst[f.e]
			f.e++
			if !seen[t] {
				seen[t] = true
				stack = append(stack, frame{t, g.start[t]})
			}
			continue
		}
		order = append(order, f.v)
		post[f.v] = uint32(len(order))
		stack = stack[:len(stack)-1]
	}
	preds := make([][]uint32, nodes)
	for v := 0; v < nodes; v++ {
		if post[v] == 0 {
			continue
		}
		for _, t := range g.dst[g.start[v]:g.start[v+1]] {
			preds[t] = append(preds[t], uint32(v))
		}
	}
	idom := make([]uint32, nodes)
	for v := range idom {
		idom[v] = None
	}
	idom[root] = root
	intersect := func(a, b uint32) uint32 {
		for a != b {
			for post[a] < post[b] {
				a = idom[a]
			}
			for post[b] < post[a] {
				b = idom[b]
			}
		}
		return a
	}
	for changed := true; changed; {
		changed = false
		for i := len(order) - 2; i >= 0; i-- { // reverse postorder, root excluded
			v := order[i]
			nd := None
			for _, p := range preds[v] {
				if idom[p] == None {
					continue
				}
				if nd == None {
					nd = p
				} else {
					nd = intersect(p, nd)
				}
			}
			if idom[v] != nd {
				idom[v] = nd
				changed = true
			}
		}
	}
	idom[root] = None
	return idom
}

// TestDominatorsLarge checks a graph large enough for the working arrays
// to be mapped outside the Go heap against the iterative algorithm.
func TestDominatorsLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("large graph")
	}
	const n = 1_200_000
	rng := rand.New(rand.NewSource(6))
	tg := &testGraph{n: n, sizes: make([]uint64, n)}
	for i := range tg.sizes {
		tg.sizes[i] = uint64(8 + rng.Intn(64))
	}
	for i := 0; i < 50; i++ {
		tg.roots = append(tg.roots, Root{Object: uint32(rng.Intn(n))})
	}
	for i := 0; i < 3*n; i++ {
		from := rng.Intn(n)
		to := rng.Intn(n)
		if rng.Intn(2) == 0 {
			to = min(n-1, from+1+rng.Intn(4)) // chains
		}
		tg.edges = append(tg.edges, [3]uint32{uint32(from), uint32(to), 0})
	}
	g := tg.build(t, rng)
	d := ComputeDominators(g)
	want := iterativeDominators(g)
	for v := range want {
		if d.Idom[v] != want[v] {
			t.Fatalf("Idom[%d] = %d, want %d", v, d.Idom[v], want[v])
		}
	}
	deep := 0
	for _, id := range want {
		if id != None && id != g.SuperRoot() {
			deep++
		}
	}
	if deep < n/10 {
		t.Fatalf("only %d objects have an object as immediate dominator: a weak test", deep)
	}
	t.Logf("%d of %d objects have an object as immediate dominator", deep, n)
	// Retained sizes: each node's own size plus its children's.
	sum := make([]uint64, g.NumNodes())
	for v, id := range want {
		if id != None {
			sum[v] += tg.sizes[v]
			for x := id; x != None; x = want[x] {
				sum[x] += tg.sizes[v]
			}
		}
	}
	for v := range sum {
		if d.Retained(uint32(v)) != sum[v] {
			t.Fatalf("Retained[%d] = %d, want %d", v, d.Retained(uint32(v)), sum[v])
		}
	}
	// Groups: every reachable object in one group, each group retaining
	// at least its own members.
	typeOf := make([]uint32, n)
	for v := range typeOf {
		typeOf[v] = uint32(rng.Intn(20))
	}
	groups, err := Groups(d, ShortestPaths(g), typeOf, nil)
	if err != nil {
		t.Fatal(err)
	}
	var count int
	var bytes uint64
	for _, gr := range groups {
		count += gr.Count
		bytes += gr.Bytes
		if gr.Retained < gr.Bytes {
			t.Fatalf("group %+v retains less than its members' size", gr)
		}
	}
	if count != d.NumReachable() || bytes != d.ReachableBytes() {
		t.Errorf("groups hold %d objects of %d bytes, want %d of %d", count, bytes, d.NumReachable(), d.ReachableBytes())
	}
}
