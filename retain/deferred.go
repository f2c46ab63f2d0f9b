package retain

import "fmt"

// Labels found after the fact. The dominators never read the edges'
// labels, and the paths need only the label of each object's parent edge;
// on a heap whose model reads references quickly again (or must read them
// again anyway, as pycore does), FromHeap builds the graph without labels
// (deferLabels, keeping the super-root's few), and once the dominators
// and paths are found, and the graph's rows and targets dropped, asks the
// edge source a third time for the labels of the parent edges alone. So
// no label of an edge is ever held: 4 bytes per edge off the dominators'
// peak, and after the paths 4 bytes per object instead of the graph's
// rows and labels.

// labelParents fills p.parentLabel from a third pass over the roots and
// edge source of p's graph, which must emit the same edges as the first
// two, each node's in the same order. The parent edge of an object is
// the first edge from its parent to it, in emission order, as the search
// took it; the super-root's edges were labelled by the search. found
// marks the objects whose label is known (n/8 bytes).
func (p *Paths) labelParents(roots []Root, edges EdgeSource) error {
	g := p.g
	n := uint32(g.n)
	found := make([]uint64, (n+63)/64)
	var t edgeTally
	label := func(from, to, label uint32) {
		if from >= n || to >= n {
			t.dropped++
			return
		}
		t.add(from, to, label)
		if p.parent[to] == from && found[to/64]&(1<<(to%64)) == 0 {
			found[to/64] |= 1 << (to % 64)
			p.parentLabel[to] = label
		}
	}
	if edges != nil {
		edges(label)
	}
	for _, r := range roots {
		if r.Object >= n {
			t.dropped++
			continue
		}
		t.add(n, r.Object, r.Label)
	}
	if t != g.tally {
		return fmt.Errorf("labelling the object graph: the edge source emitted %d edges on the counting pass and %d on the labelling pass, or different ones", g.tally.edges, t.edges)
	}
	return nil
}
