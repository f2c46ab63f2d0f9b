package retain

// Dominators by the semi-NCA algorithm (Georgiadis and Tarjan), the
// simple-linking variant of Lengauer–Tarjan that computes semidominators
// with path compression and then each immediate dominator as a nearest
// common ancestor walk. The passes, in seminca.go, work in depth-first
// preorder numbers (the super-root is 0) and without recursion.
//
// Working memory for a graph of N nodes and P non-tree predecessor
// entries (see predecessors), all of it scratch (see scratch), each array
// released as soon as it is done:
//
//	pre    []uint32 N    node -> preorder number
//	parent []uint32 N    DFS tree parent; then the idom (preorder numbers)
//	link   []uint64 N    DFS stack; then (ancestor, label) for eval; then
//	                     retained sizes by preorder number
//	rows   []uint32 N+1  predecessor counts, row starts, semidominators;
//	                     then preorder number -> node
//	preds  []uint32 P    non-tree predecessors, by node
//
// that is 20 bytes per node plus 4 per listed predecessor, arrays taking
// on new roles from pass to pass instead of being reallocated. The
// results, Idom and the retained sizes, take 8 more bytes per node (a
// retained size of 4 GiB or more goes to a map: only the few nodes near
// the top of a large heap's dominator tree have one); they are allocated
// once preds, pre and then parent are gone, so the peak is during the
// semidominator pass.
// The sizes are read from the graph in object order (one pass, as a
// model reads them fastest) into the retained sizes' working array while
// the preorder numbers are still there to place them.

// Dominators holds the immediate dominator and retained size of every
// node of a Graph.
type Dominators struct {
	g *Graph
	// Idom[v] is the immediate dominator of node v: the super-root for
	// objects no single object dominates, None for the super-root itself
	// and for unreachable objects. Read only.
	Idom []uint32
	// retained[v] is the size of v's dominator subtree (Retained), or
	// bigRetained for one of 4 GiB or more, kept in big.
	retained []uint32
	big      map[uint32]uint64
	// reachable is the number of reachable objects.
	reachable int
}

// ComputeDominators computes the dominator tree of g rooted at the
// super-root and the retained size of every node. Time O(E log N) in the
// worst case and close to linear on heap graphs.
func ComputeDominators(g *Graph) *Dominators { return computeDominators(g, nil) }

// computeDominators is ComputeDominators with its results from mem and
// its working arrays mapped where mem maps (nil: the results from the Go
// heap, the working arrays in anonymous mappings).
func computeDominators(g *Graph, mem *scratch) *Dominators {
	preWork, parentWork, linkWork, rowWork, predWork := mem.sub(), mem.sub(), mem.sub(), mem.sub(), mem.sub()
	defer preWork.release()
	defer parentWork.release()
	defer linkWork.release()
	defer rowWork.release()
	nodes := g.NumNodes()
	pre := preWork.uint32s(nodes)
	parent := parentWork.uint32s(nodes)
	link := linkWork.uint64s(nodes)
	rows := rowWork.uint32s(nodes + 1)
	reached := g.depthFirst(pre, parent, link, rows)
	preds := g.predecessors(pre, parent, rows, reached, predWork)
	semidominators(parent, rows, preds, link, reached)
	predWork.release()
	immediateDominators(parent, rows, reached)
	vertex, ret := rows[:reached], link
	for v, i := range pre {
		if i != None {
			vertex[i] = uint32(v)
			ret[i] = g.Size(uint32(v))
		}
	}
	preWork.release()
	sumRetained(vertex, parent, ret)
	d := &Dominators{g: g, reachable: reached - 1}
	d.Idom = idomByNode(vertex, parent, nodes, mem)
	parentWork.release()
	d.retained = mem.uint32s(nodes)
	for i, v := range vertex {
		d.setRetained(v, ret[i])
	}
	return d
}

// bigRetained marks, in Dominators.retained, a size kept in the map.
const bigRetained = ^uint32(0)

func (d *Dominators) setRetained(v uint32, size uint64) {
	if size >= uint64(bigRetained) {
		if d.big == nil {
			d.big = map[uint32]uint64{}
		}
		d.big[v] = size
		size = uint64(bigRetained)
	}
	d.retained[v] = uint32(size)
}

// Retained returns the size of node v's dominator subtree: the bytes
// freed if v were freed. 0 for unreachable objects; the super-root's is
// the total size of the reachable objects.
func (d *Dominators) Retained(v uint32) uint64 {
	if r := d.retained[v]; r != bigRetained {
		return uint64(r)
	}
	return d.big[v]
}

// idomByNode turns immediate dominators by preorder number into
// immediate dominators by node, None for unreachable nodes and the
// super-root.
func idomByNode(vertex, idom []uint32, nodes int, mem *scratch) []uint32 {
	byNode := mem.uint32s(nodes)
	for v := range byNode {
		byNode[v] = None
	}
	for i, v := range vertex[1:] {
		byNode[v] = vertex[idom[i+1]]
	}
	return byNode
}

// sumRetained sums the retained sizes of the reachable nodes in ret, in
// preorder numbers, given each node's size in ret and immediate
// dominator (idom) by number. Every node comes after its immediate
// dominator in preorder, so one backward pass adds each subtree to its
// root; it reads sequentially but for the additions.
func sumRetained(vertex, idom []uint32, ret []uint64) {
	ret[0] = 0 // the super-root
	for i := len(vertex) - 1; i >= 1; i-- {
		ret[idom[i]] += ret[i]
	}
}
