package retain

// Reverse holds every node's in-edges in CSR form: the referrers of v are
// src[start[v]:start[v+1]], and edge[i] is the index of the forward edge
// src[i] -> v (its label is Graph.EdgeLabel(edge[i])). Referrers come in
// increasing node order, and for one referrer in emission order.
// Memory: 4(n+2) bytes plus 8 bytes per edge.
type Reverse struct {
	start []uint32
	src   []uint32
	edge  []uint32
}

// Reverse builds the in-edges of every node with a counting pass and a fill
// pass over the forward edges: O(n + edges) time.
func (g *Graph) Reverse() *Reverse {
	r := &Reverse{
		start: make([]uint32, g.n+2),
		src:   make([]uint32, len(g.dst)),
		edge:  make([]uint32, len(g.dst)),
	}
	for _, t := range g.dst {
		r.start[t]++
	}
	var sum uint32
	for v := 0; v <= g.n; v++ {
		sum += r.start[v]
		r.start[v] = sum
	}
	r.start[g.n+1] = sum
	// Walking sources and edges backwards while filling each row from its
	// end leaves the rows in forward order.
	for v := g.n; v >= 0; v-- {
		for e := g.start[v+1]; e > g.start[v]; e-- {
			t := g.dst[e-1]
			r.start[t]--
			r.src[r.start[t]] = uint32(v)
			r.edge[r.start[t]] = e - 1
		}
	}
	return r
}

// Referrers returns the nodes with an edge to v and the indices of those
// edges. The slices share the Reverse's storage and must not be modified.
func (r *Reverse) Referrers(v uint32) (from, edges []uint32) {
	a, b := r.start[v], r.start[v+1]
	return r.src[a:b:b], r.edge[a:b:b]
}
