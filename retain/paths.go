package retain

import (
	"slices"
	"sort"
)

// Paths is the breadth-first tree of the graph from the super-root: each
// reachable object's parent edge on one shortest path from a root.
// Among shortest paths the one found first wins: roots in the order given,
// then edges in emission order. Memory: 12 bytes per node, 8 once the
// order is dropped.
type Paths struct {
	g *Graph
	// parent[v] is the node from which the search reached v by its
	// parent edge, the super-root for a root's object; None for the
	// super-root and unreachable objects.
	parent []uint32
	// parentLabel[v] is the label of v's parent edge (a root label for a
	// root's object). A graph built with deferLabels has only the root
	// labels here until labelParents.
	parentLabel []uint32
	// order lists the reachable nodes in the order the search reached
	// them, the super-root first: by distance from the roots, so every
	// node comes after its parent and after its immediate dominator. The
	// children of each node form one block, the blocks in the order of
	// their parents.
	order []uint32
}

// Step is one edge of a path: the object it reaches and its label. The
// first step of a path from the roots carries a root label.
type Step struct {
	Object uint32
	Label  uint32
}

// ShortestPaths runs a breadth-first search from the super-root:
// O(n + edges) time. The queue says which nodes come next, so the search
// asks for their memory ahead of time (see prefetchQueue).
func ShortestPaths(g *Graph) *Paths { return tieredPaths(g, nil, nil) }

// TieredPaths is ShortestPaths with the roots in tiers: tierOf gives the
// tier of each root label, and the search from the roots of one tier
// runs to its end before the roots of the next tier start. So an object a
// module-level variable reaches is shown held by it, even if a local
// variable reaches it in fewer steps: the variable that outlives the frame
// explains a leak. Within a tier paths are shortest. A nil tierOf is one
// tier.
//
// The order still lists every node after its parent and its immediate
// dominator (a tree ancestor); the super-root's children form one block
// per tier.
func TieredPaths(g *Graph, tierOf func(label uint32) int) *Paths { return tieredPaths(g, tierOf, nil) }

// tieredPaths is TieredPaths with its arrays from mem.
func tieredPaths(g *Graph, tierOf func(label uint32) int, mem *scratch) *Paths {
	p := &Paths{
		g:           g,
		parent:      mem.uint32s(g.NumNodes()),
		parentLabel: mem.uint32s(g.NumNodes()),
		order:       mem.uint32s(g.NumNodes())[:1],
	}
	for v := range p.parent {
		p.parent[v], p.parentLabel[v] = None, None
	}
	sr := g.SuperRoot()
	p.order[0] = sr
	tiers := map[int]bool{}
	if tierOf != nil {
		for e := g.start[sr]; e < g.start[sr+1]; e++ {
			tiers[tierOf(g.rootLabel(e))] = true
		}
	}
	if len(tiers) <= 1 {
		p.search(0)
		return p
	}
	order := make([]int, 0, len(tiers))
	for t := range tiers {
		order = append(order, t)
	}
	sort.Ints(order)
	for _, tier := range order {
		head := len(p.order)
		for e := g.start[sr]; e < g.start[sr+1]; e++ {
			if t, l := g.dst[e], g.rootLabel(e); tierOf(l) == tier && p.parent[t] == None {
				p.parent[t], p.parentLabel[t] = sr, l
				p.order = append(p.order, t)
			}
		}
		p.search(head)
	}
	return p
}

// search runs the breadth-first search over the queue from position
// head; the super-root's edges are followed only when it is queued.
func (p *Paths) search(head int) {
	g := p.g
	sr := g.SuperRoot()
	for ; head < len(p.order); head++ {
		p.prefetchQueue(head)
		v := p.order[head]
		for e := g.start[v]; e < g.start[v+1]; e++ {
			t := g.dst[e]
			if p.parent[t] == None {
				p.parent[t] = v
				switch {
				case g.labels != nil:
					p.parentLabel[t] = g.labels[e]
				case v == sr:
					p.parentLabel[t] = g.rootLabel(e)
				}
				p.order = append(p.order, t)
			}
		}
	}
}

// queueLookahead is the distance, in queued nodes, between the stages of
// prefetchQueue.
const queueLookahead = 4

// prefetchQueue asks for what the search will read for the nodes queued
// after position head: the row start of the node 4 lookahead distances
// ahead, the first edges of the node 2 distances ahead, and the
// parent words of the targets of the node 1 distance ahead, each
// stage reading what the one before asked for. This takes about a quarter
// off the search on large heaps.
func (p *Paths) prefetchQueue(head int) {
	g, order := p.g, p.order
	if h := head + 4*queueLookahead; h < len(order) {
		prefetch32(&g.start[order[h]])
	}
	if h := head + 2*queueLookahead; h < len(order) {
		if a, u := g.start[order[h]], order[h]; a < g.start[u+1] {
			prefetch32(&g.dst[a])
		}
	}
	if h := head + queueLookahead; h < len(order) {
		u := order[h]
		for _, t := range g.dst[g.start[u]:g.start[u+1]] {
			prefetch32(&p.parent[t])
		}
	}
}

// chain returns the objects on the path to obj, from a root's object to
// obj; nil for unreachable objects and the super-root.
func (p *Paths) chain(obj uint32) []uint32 {
	sr := p.g.SuperRoot()
	if obj >= sr || p.parent[obj] == None {
		return nil
	}
	var nodes []uint32
	for x := obj; x != sr; x = p.parent[x] {
		nodes = append(nodes, x)
	}
	slices.Reverse(nodes)
	return nodes
}

// dropOrderAndLabels frees the visit order and the parent labels, which
// FromHeap keeps only for grouping.
func (p *Paths) dropOrderAndLabels(mem *scratch) {
	mem.free(p.order)
	mem.free(p.parentLabel)
	p.order, p.parentLabel = nil, nil
}

// PathTo returns a shortest chain of edges from the roots to obj: the
// first step is the root edge (its Label a root label), the last reaches
// obj. It is nil for unreachable objects and the super-root.
// O(length).
func (p *Paths) PathTo(obj uint32) []Step {
	sr := p.g.SuperRoot()
	if obj >= sr || p.parent[obj] == None {
		return nil
	}
	nodes := p.chain(obj)
	steps := make([]Step, len(nodes))
	for i, x := range nodes {
		steps[i] = Step{Object: x, Label: p.parentLabel[x]}
	}
	return steps
}
