package retain

import "container/heap"

// Graph returns the graph the dominators were computed on.
func (d *Dominators) Graph() *Graph { return d.g }

// Reachable reports whether node v is reachable from the super-root;
// false for numbers that are not nodes.
func (d *Dominators) Reachable(v uint32) bool {
	return v == d.g.SuperRoot() || (v < d.g.SuperRoot() && d.Idom[v] != None)
}

// NumReachable returns the number of objects reachable from the roots.
func (d *Dominators) NumReachable() int { return d.reachable }

// ReachableBytes returns the total size of the objects reachable from the
// roots: the super-root's retained size.
func (d *Dominators) ReachableBytes() uint64 { return d.Retained(d.g.SuperRoot()) }

// DominatorsOf returns the objects that dominate obj, outermost first
// (a child of the super-root) down to obj's immediate dominator; obj and
// the super-root are left out. It is nil for unreachable objects and for
// objects that only the super-root dominates. O(depth in the tree).
func (d *Dominators) DominatorsOf(obj uint32) []uint32 {
	root := d.g.SuperRoot()
	if obj >= root {
		return nil
	}
	var chain []uint32
	for x := d.Idom[obj]; x != None && x != root; x = d.Idom[x] {
		chain = append(chain, x)
	}
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	return chain
}

// TopDominators returns at most k objects at the top of the dominator tree
// (those only the super-root dominates), largest retained size first:
// what a leak hunt looks at first. O(n log k).
func (d *Dominators) TopDominators(k int) []uint32 {
	return d.Dominated(d.g.SuperRoot(), k)
}

// Dominated returns at most k of the objects whose immediate dominator is
// node by, largest retained size first (ties by object number): one level
// of the dominator tree, for drilling down. It scans all nodes: O(n log k).
func (d *Dominators) Dominated(by uint32, k int) []uint32 {
	return d.DominatedOf([]uint32{by}, k)[0]
}

// retainedHeap is a min-heap of objects by retained size, the smallest on
// top, so that the k largest remain.
type retainedHeap struct {
	d    *Dominators
	objs []uint32
}

// less orders by retained size, then larger object number first, so that
// among equals the smaller numbers are kept.
func (h *retainedHeap) less(a, b uint32) bool {
	ra, rb := h.d.Retained(a), h.d.Retained(b)
	if ra != rb {
		return ra < rb
	}
	return a > b
}

func (h *retainedHeap) Len() int           { return len(h.objs) }
func (h *retainedHeap) Less(i, j int) bool { return h.less(h.objs[i], h.objs[j]) }
func (h *retainedHeap) Swap(i, j int)      { h.objs[i], h.objs[j] = h.objs[j], h.objs[i] }
func (h *retainedHeap) Push(x any)         { h.objs = append(h.objs, x.(uint32)) }
func (h *retainedHeap) Pop() any {
	x := h.objs[len(h.objs)-1]
	h.objs = h.objs[:len(h.objs)-1]
	return x
}

// DominatedOf returns, for each node of parents, at most k of the objects
// it immediately dominates, largest retained size first: one level of
// the dominator tree for many nodes in one pass, O(n log k).
func (d *Dominators) DominatedOf(parents []uint32, k int) [][]uint32 {
	out := make([][]uint32, len(parents))
	if k <= 0 || len(parents) == 0 {
		return out
	}
	index := make(map[uint32]int, len(parents)) // a node's first place in parents
	for i, p := range parents {
		if _, dup := index[p]; !dup && p != None {
			index[p] = i
		}
	}
	tops := make([]retainedHeap, len(parents))
	for i := range tops {
		tops[i].d = d
	}
	for v, id := range d.Idom {
		i, ok := index[id]
		if !ok {
			continue
		}
		top := &tops[i]
		if len(top.objs) < k {
			heap.Push(top, uint32(v))
		} else if top.less(top.objs[0], uint32(v)) {
			top.objs[0] = uint32(v)
			heap.Fix(top, 0)
		}
	}
	for i := range tops {
		out[i] = make([]uint32, len(tops[i].objs))
		for j := len(out[i]) - 1; j >= 0; j-- {
			out[i][j] = heap.Pop(&tops[i]).(uint32)
		}
	}
	for i, p := range parents {
		if first, ok := index[p]; ok && first != i {
			out[i] = out[first] // a node named twice
		}
	}
	return out
}
