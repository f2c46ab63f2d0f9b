package retain

import (
	"fmt"
	"sort"
)

// The graph in compressed sparse row (CSR) form.
//
// Nodes are the objects 0..n-1 plus the super-root, node n. The out-edges
// of node v are the entries start[v] up to start[v+1] of two parallel
// arrays: dst holds the target object, labels the caller's label id for
// the edge (a field path index for object edges, a root name id for the
// super-root's edges). start has n+2 entries, so start[n+1] is the number
// of edges. Edges keep the order in which the source emitted them.
//
// Memory: 4(n+2) bytes for start plus 8 bytes per edge; the sizes slice is
// the caller's and is not copied, and FromHeap keeps none: it reads each
// size from the model, in object order, when it is needed (twice per
// object). FromHeap also builds the graph without its labels but the
// super-root's (labels.go).

// None stands for "no node": the immediate dominator and the shortest-path
// parent of the super-root and of unreachable objects.
const None = ^uint32(0)

// MaxObjects is the largest number of objects a Graph can hold: node
// numbers, the super-root included, must fit in a uint32 below None.
const MaxObjects = 1<<32 - 2

// maxEdges is the largest number of edges a Graph can hold: edge indices
// are uint32.
const maxEdges = 1<<32 - 1

// Root is an object the program reaches without following heap pointers
// (a global, a stack slot, a finalizer...). Label is the caller's id for
// the root's name. An object may be listed under several roots.
type Root struct {
	Object uint32
	Label  uint32
}

// EdgeSource emits every pointer edge of the heap: emit(from, to, label)
// once per pointer slot of object from that points into object to, label
// being the caller's id for the slot (its field path). BuildGraph calls it
// twice, a counting pass and a fill pass, and both calls must emit the
// same edges (in any order).
type EdgeSource func(emit func(from, to, label uint32))

// Graph is the object graph: objects 0..n-1 with their sizes, the edges
// between them and a super-root (node n) whose edges go to the roots.
// It is immutable once built and safe for concurrent readers.
type Graph struct {
	n     int
	sizes []uint64
	// sizeOf gives the sizes when sizes is nil (FromHeap): read in
	// object order, it is read once per object for the dominators and
	// once for the groups.
	sizeOf   func(obj int) uint64
	start    []uint32
	dst      []uint32
	labels   []uint32
	warnings []string
	// mem holds the rows, targets and labels, nil for the Go heap.
	mem *scratch
	// With deferLabels the build keeps only the super-root's labels, in
	// rootLabels: the paths then ask the edge source for the labels of
	// their own edges (labels.go).
	deferLabels bool
	rootLabels  []uint32
	tally       edgeTally // the counting pass's, for the labelling pass to check
}

// BuildGraph builds the graph of n objects whose sizes are sizes[0..n-1]
// (kept, not copied), whose roots are roots and whose edges edges emits.
// Edges and roots naming objects outside 0..n-1 are dropped with a
// warning. It fails if n is out of range, sizes has the wrong length, there
// are too many edges, or edges emits different edges on its two calls.
func BuildGraph(n int, sizes []uint64, roots []Root, edges EdgeSource) (*Graph, error) {
	if len(sizes) != n {
		return nil, fmt.Errorf("building object graph: %d sizes for %d objects", len(sizes), n)
	}
	return buildGraph(&Graph{n: n, sizes: sizes}, roots, edges)
}

// buildGraph builds g's rows and edges; g has its object count and sizes.
func buildGraph(g *Graph, roots []Root, edges EdgeSource) (*Graph, error) {
	n := g.n
	if n < 0 || uint64(n) > MaxObjects {
		return nil, fmt.Errorf("building object graph: %d objects is out of range (at most %d)", n, uint64(MaxObjects))
	}
	g.start = g.mem.uint32s(n + 2)
	counted, err := g.countEdges(roots, edges)
	if err != nil {
		return nil, err
	}
	g.tally = counted
	g.dst = g.mem.uint32s(int(counted.edges))
	if g.deferLabels {
		rootEdges := g.start[n] // the counting pass left row ends
		if n > 0 {
			rootEdges -= g.start[n-1]
		}
		g.rootLabels = make([]uint32, rootEdges)
	} else {
		g.labels = g.mem.uint32s(int(counted.edges))
	}
	filled := g.fillEdges(roots, edges)
	if filled != counted {
		return nil, fmt.Errorf("building object graph: the edge source emitted %d edges on the counting pass and %d on the fill pass, or different ones", counted.edges, filled.edges)
	}
	g.reverseRows(g.dst)
	if g.labels != nil {
		g.reverseRows(g.labels)
	} else {
		reverse(g.rootLabels)
	}
	if counted.dropped > 0 {
		g.warnings = append(g.warnings, fmt.Sprintf("dropped %d edges and roots naming objects outside 0..%d", counted.dropped, n-1))
	}
	return g, nil
}

// edgeTally summarizes one pass over the edge source. The checksum is a
// sum of per-edge hashes, so it does not depend on emission order; it is
// there to catch a source that is not deterministic, not an adversary.
type edgeTally struct {
	edges    uint64
	dropped  uint64
	checksum uint64
}

func (t *edgeTally) add(from, to, label uint32) {
	t.edges++
	t.checksum += (uint64(from)<<32|uint64(to))*0x9e3779b97f4a7c15 ^ uint64(label)*0xc2b2ae3d27d4eb4f
}

// countEdges runs the counting pass: start[v] becomes the number of
// out-edges of v, then the running sum up to and including v, so that the
// fill pass can place each edge by decrementing start[from].
func (g *Graph) countEdges(roots []Root, edges EdgeSource) (edgeTally, error) {
	var t edgeTally
	n := uint32(g.n)
	count := func(from, to, label uint32) {
		if from >= n || to >= n {
			t.dropped++
			return
		}
		g.start[from]++
		t.add(from, to, label)
	}
	if edges != nil {
		edges(count)
	}
	for _, r := range roots {
		if r.Object >= n {
			t.dropped++
			continue
		}
		g.start[n]++
		t.add(n, r.Object, r.Label)
	}
	if t.edges > maxEdges {
		return t, fmt.Errorf("building object graph: %d edges is more than the %d a graph can hold", t.edges, uint64(maxEdges))
	}
	var sum uint32
	for v := 0; v <= g.n; v++ {
		sum += g.start[v]
		g.start[v] = sum
	}
	g.start[n+1] = sum
	return t, nil
}

// fillEdges runs the fill pass. Each edge goes to the slot just below
// start[from], which therefore ends at the first edge of from; the guard
// keeps a misbehaving source from writing out of bounds, and the returned
// tally lets the caller notice it.
func (g *Graph) fillEdges(roots []Root, edges EdgeSource) edgeTally {
	var t edgeTally
	n := uint32(g.n)
	placingRoots := false
	place := func(from, to, label uint32) {
		if from > n || to >= n || (from == n && !placingRoots) {
			t.dropped++
			return
		}
		if g.start[from] == 0 {
			t.edges = maxEdges + 1 // more edges than counted: force a mismatch
			return
		}
		g.start[from]--
		i := g.start[from]
		switch {
		case g.labels != nil:
			g.dst[i], g.labels[i] = to, label
		case from == n:
			g.dst[i] = to
			g.rootLabels[i-(uint32(len(g.dst))-uint32(len(g.rootLabels)))] = label
		default:
			g.dst[i] = to
		}
		t.add(from, to, label)
	}
	if edges != nil {
		edges(place)
	}
	placingRoots = true
	for _, r := range roots {
		place(n, r.Object, r.Label)
	}
	return t
}

// reverseRows reverses each node's run of a, an array parallel to the
// edges, which the fill passes store last first.
func (g *Graph) reverseRows(a []uint32) {
	for v := 0; v <= g.n; v++ {
		reverse(a[g.start[v]:g.start[v+1]])
	}
}

func reverse(a []uint32) {
	for i, j := 0, len(a)-1; i < j; i, j = i+1, j-1 {
		a[i], a[j] = a[j], a[i]
	}
}

// NumObjects returns n, the number of objects (the super-root excluded).
func (g *Graph) NumObjects() int { return g.n }

// NumNodes returns n+1, the number of nodes including the super-root.
func (g *Graph) NumNodes() int { return g.n + 1 }

// NumEdges returns the number of edges, root edges included.
func (g *Graph) NumEdges() int { return len(g.dst) }

// SuperRoot returns the super-root's node number, n.
func (g *Graph) SuperRoot() uint32 { return uint32(g.n) }

// Size returns the size of object v in bytes; 0 for the super-root.
func (g *Graph) Size(v uint32) uint64 {
	if int(v) >= g.n {
		return 0
	}
	if g.sizes == nil {
		return g.sizeOf(int(v))
	}
	return g.sizes[v]
}

// dropEdges frees the rows and targets of a graph built with deferLabels
// once the dominators and paths are found: the groups need neither. Only
// the super-root's labels remain.
func (g *Graph) dropEdges() {
	g.mem.free(g.dst)
	g.mem.free(g.start)
	g.dst, g.start = nil, nil
}

// Edges returns the targets and labels of v's out-edges, in emission order.
// The slices share the graph's storage and must not be modified. The first
// edge of v has index EdgeStart(v).
func (g *Graph) Edges(v uint32) (targets, labels []uint32) {
	a, b := g.start[v], g.start[v+1]
	if g.labels == nil {
		return g.dst[a:b:b], nil
	}
	return g.dst[a:b:b], g.labels[a:b:b]
}

// EdgeStart returns the index of v's first out-edge.
func (g *Graph) EdgeStart(v uint32) uint32 { return g.start[v] }

// EdgeTarget returns the object edge e points to.
func (g *Graph) EdgeTarget(e uint32) uint32 { return g.dst[e] }

// EdgeLabel returns the label of edge e.
func (g *Graph) EdgeLabel(e uint32) uint32 { return g.labels[e] }

// rootLabel returns the label of edge e, one of the super-root's, also
// in a graph built with deferLabels.
func (g *Graph) rootLabel(e uint32) uint32 {
	if g.labels == nil {
		return g.rootLabels[e-g.start[g.n]]
	}
	return g.labels[e]
}

// EdgeSource returns the node edge e leaves from, by binary search over
// the row starts: O(log n).
func (g *Graph) EdgeSource(e uint32) uint32 {
	return uint32(sort.Search(g.n+1, func(v int) bool { return g.start[v+1] > e }))
}

// Roots returns the super-root's edges as roots, in the order given.
func (g *Graph) Roots() []Root {
	objs, labels := g.Edges(g.SuperRoot())
	roots := make([]Root, len(objs))
	for i := range objs {
		roots[i] = Root{Object: objs[i], Label: labels[i]}
	}
	return roots
}

// Warnings returns what was wrong with the input but did not stop the build.
func (g *Graph) Warnings() []string { return g.warnings }

// CheckValid verifies the graph's invariants: row starts that begin at 0,
// never decrease and end at the edge count, and edge targets that are
// objects.
func (g *Graph) CheckValid() error {
	if len(g.start) != g.n+2 || g.start[0] != 0 || int(g.start[g.n+1]) != len(g.dst) || len(g.labels) != len(g.dst) {
		return fmt.Errorf("graph of %d objects: bad row table (%d rows, %d edges, %d labels)", g.n, len(g.start), len(g.dst), len(g.labels))
	}
	for v := 0; v <= g.n; v++ {
		if g.start[v] > g.start[v+1] {
			return fmt.Errorf("graph: row %d starts at edge %d after its end %d", v, g.start[v], g.start[v+1])
		}
	}
	for e, t := range g.dst {
		if int(t) >= g.n {
			return fmt.Errorf("graph: edge %d points to node %d, not an object", e, t)
		}
	}
	return nil
}
