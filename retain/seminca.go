package retain

// The four passes of semi-NCA. Node numbers here are depth-first preorder
// numbers unless said otherwise; the super-root is 0. Every pass is a
// loop: no recursion, no stack beyond the arrays described in
// dominators.go.

// depthFirst numbers the nodes reachable from the super-root in
// depth-first preorder: pre[v] is node v's number (None if unreachable),
// parent[i] the number of i's DFS tree parent. It returns the number of
// reachable nodes.
//
// Whether a node was seen is asked of a bitset small enough to stay in
// cache. The walk's stack lives in link, one word per level holding the
// next edge to explore and the end of the node's edges; the number of the
// node on top is kept in cur and found again through parent on the way
// back up.
//
// On the way it counts, in counts[i], the predecessors of node i that
// semidominators must look at: the sources of the edges into i other than
// its tree edge, duplicates of it and self loops (see isNonTreeEdge).
func (g *Graph) depthFirst(pre, parent []uint32, link []uint64, counts []uint32) int {
	for v := range pre {
		pre[v] = None
	}
	seen := make([]uint64, (len(pre)+63)/64)
	leaves := g.leafSet()
	root := g.SuperRoot()
	seen[root/64] |= 1 << (root % 64)
	pre[root] = 0
	parent[0] = None
	link[0] = uint64(g.start[root])<<32 | uint64(g.start[root+1])
	next, cur, depth := uint32(1), uint32(0), 0
	for {
		e, end := uint32(link[depth]>>32), uint32(link[depth])
		for ; e < end; e++ {
			t := g.dst[e]
			if seen[t/64]&(1<<(t%64)) == 0 {
				seen[t/64] |= 1 << (t % 64)
				pre[t] = next
				parent[next] = cur
				next++
				if leaves[t/64]&(1<<(t%64)) == 0 {
					break
				}
				continue // a leaf is done as soon as it is numbered
			}
			if j := pre[t]; isNonTreeEdge(cur, j, parent) {
				counts[j]++
			}
		}
		if e == end {
			if depth == 0 {
				return int(next)
			}
			depth--
			cur = parent[cur]
			continue
		}
		link[depth] = uint64(e+1)<<32 | uint64(end)
		t := g.dst[e]
		depth++
		link[depth] = uint64(g.start[t])<<32 | uint64(g.start[t+1])
		cur = next - 1
	}
}

// leafSet returns a bitset of the nodes without out-edges, which the
// depth-first walk numbers without looking at their (empty) rows.
func (g *Graph) leafSet() []uint64 {
	leaves := make([]uint64, (g.NumNodes()+63)/64)
	for v := 0; v < g.NumNodes(); v++ {
		if g.start[v] == g.start[v+1] {
			leaves[v/64] |= 1 << (v % 64)
		}
	}
	return leaves
}

// isNonTreeEdge reports whether the edge from node i to node j (numbers)
// must be seen by semidominators. Tree edges, and other edges from a
// node's DFS parent, give the parent, where the semidominator search
// starts anyway; self loops give nothing.
func isNonTreeEdge(i, j uint32, parent []uint32) bool {
	return j < i || (j > i && parent[j] != i)
}

// predecessors lists, for every reachable node w, the numbers of the
// sources of its non-tree edges: preds[rows[w]:rows[w+1]]. rows holds the
// counts from depthFirst; a counting pass has been done, this is the fill
// pass, with the same test. Typically about half the edges of a heap graph
// are listed.
func (g *Graph) predecessors(pre, parent, rows []uint32, reached int, s *scratch) []uint32 {
	var sum uint32
	for w := 0; w < reached; w++ {
		sum += rows[w]
		rows[w] = sum
	}
	rows[reached] = sum
	preds := s.uint32s(int(sum))
	for v, i := range pre {
		if i == None {
			continue
		}
		for _, t := range g.dst[g.start[v]:g.start[v+1]] {
			if j := pre[t]; isNonTreeEdge(i, j, parent) {
				rows[j]--
				preds[rows[j]] = i
			}
		}
	}
	return preds
}

// semidominators computes the semidominator of every reachable node but
// the super-root, in decreasing preorder. The semidominator of w is the
// least of its DFS parent, its predecessors numbered below it, and, for
// each predecessor v numbered above it, the least semidominator on the
// forest path from v (see eval).
//
// A node w, once done, is linked to its DFS parent in a forest whose
// paths eval compresses; link[w] then holds (ancestor, label): its
// ancestor in the compressed forest and the least semidominator on the way
// to it. The semidominator of w goes to rows[w+1], which nothing reads
// once w is done.
//
// Predecessors are taken in decreasing order of their index in preds, so
// those a few places below are the next to come: prefetchEval starts
// loading what eval will read for them.
func semidominators(parent, rows, preds []uint32, link []uint64, reached int) {
	const ahead = evalLookahead
	for w := uint32(reached - 1); w >= 1; w-- {
		semi := parent[w]
		for k := rows[w+1]; k > rows[w]; k-- {
			if k > 3*ahead {
				prefetchEval(link, preds[k-1-3*ahead], preds[k-1-2*ahead], preds[k-1-ahead])
			}
			if v := preds[k-1]; v < w {
				semi = min(semi, v)
			} else {
				semi = min(semi, eval(link, v, w+1))
			}
		}
		rows[w+1] = semi
		link[w] = uint64(parent[w])<<32 | uint64(semi)
	}
}

// evalLookahead is the distance, in predecessors, between the stages of
// prefetchEval: a few cache misses' worth of evals.
const evalLookahead = 10

// prefetchEval asks for the cache lines eval will read when it starts from
// far, mid and near, the predecessors coming 3, 2 and 1 lookahead
// distances from now: the first link word of far, the second of mid (its
// first having been asked for one stage ago) and the third of near. The
// walks of eval are chains of dependent cache misses that the processor
// cannot overlap by itself; on an 18-million-node heap this takes a third
// off semidominators. Link words of nodes not yet done hold stale values:
// the bounds checks keep those harmless, and a useless prefetch costs
// nothing but bandwidth.
func prefetchEval(link []uint64, far, mid, near uint32) {
	n := uint64(len(link))
	prefetch64(&link[far])
	if x := link[mid] >> 32; x < n {
		prefetch64(&link[x])
	}
	if x := link[near] >> 32; x < n {
		if y := link[x] >> 32; y < n {
			prefetch64(&link[y])
		}
	}
}

// eval returns the least semidominator on the forest path from v up to,
// not including, the first ancestor not yet done (numbered below done),
// and compresses that path so that each node on it links straight to that
// ancestor. It reverses the path's links on the way up and restores them
// on the way down instead of keeping a stack.
func eval(link []uint64, v, done uint32) uint32 {
	if uint32(link[v]>>32) < done {
		return uint32(link[v])
	}
	// Up: make each node's ancestor field point to its child on the path.
	child, x := None, v
	for {
		up := uint32(link[x] >> 32)
		if up < done {
			break
		}
		link[x] = uint64(child)<<32 | uint64(uint32(link[x]))
		child, x = x, up
	}
	// x is the top of the path; its ancestor is not done.
	top := link[x] >> 32
	label := uint32(link[x])
	for y := child; y != None; {
		below := uint32(link[y] >> 32)
		label = min(label, uint32(link[y]))
		link[y] = top<<32 | uint64(label)
		y = below
	}
	return label
}

// immediateDominators turns parent, in increasing preorder, into the
// immediate dominator of each node: the nearest ancestor of w's DFS
// parent, in the dominator tree built so far, numbered no higher than w's
// semidominator (kept in rows[w+1]).
func immediateDominators(parent, rows []uint32, reached int) {
	for w := 1; w < reached; w++ {
		semi := rows[w+1]
		x := parent[w]
		for x > semi {
			x = parent[x]
		}
		parent[w] = x
	}
}
