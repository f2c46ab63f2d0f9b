package retain

import "fmt"

// Labels added after the fact. The dominators never read the edges'
// labels, and the paths read only the super-root's until the search is
// done; on a heap whose model reads references quickly again (or must
// read them again anyway, as pycore does), FromHeap builds the graph
// without them (deferLabels, keeping the super-root's few) and asks the
// edge source a third time once the dominators' working arrays are gone
// and the edge targets dropped. That takes the 4 bytes per edge of the
// labels off the peak, which is while the dominators are computed.

// fillLabels fills the labels of a graph built with deferLabels from a
// third pass over its edge source, which must emit the same edges as the
// first two. The row starts are moved to the rows' ends and placed again
// as the fill pass does; the targets may be gone (nil).
func (g *Graph) fillLabels(roots []Root, edges EdgeSource) error {
	n := uint32(g.n)
	g.labels = make([]uint32, g.start[n+1])
	copy(g.start[:n+1], g.start[1:n+2])
	t := g.fillEdges(roots, edges, true)
	if t != g.tally {
		g.labels = nil
		return fmt.Errorf("labelling the object graph: the edge source emitted %d edges on the counting pass and %d on the labelling pass, or different ones", g.tally.edges, t.edges)
	}
	g.reverseRows(g.labels)
	g.rootLabels = nil
	return nil
}
