package retain

// The analysis of a language model's heap (package heap). FromHeap numbers
// the graph's nodes as the model numbers its objects and labels each edge
// with the model's label for the reference: no string is made per edge.
// Names are resolved only for what is shown: the roots (few), the
// collapsed labels (one per distinct type and reference class, cached)
// and the exact paths printed.

import (
	"fmt"

	"github.com/heapsift/heapsift/heap"
	"github.com/heapsift/heapsift/warn"
)

// HeapOptions tunes FromHeap.
type HeapOptions struct {
	// SkipGroups leaves out the groups (Groups returns nil): paths and
	// dominators alone are quicker.
	SkipGroups bool
	// Stage, if set, is called with a short description of each stage as
	// it starts ("computing dominators"), and with "" when all are done.
	// Memory no longer needed is dropped before each stage starts, so a
	// caller short of memory may collect garbage there.
	Stage func(what string)
	// ScratchDir, if set, is a directory where the analysis's large
	// arrays live as files, mapped, instead of in anonymous memory: the
	// kernel may then write them out and drop them, so a graph larger
	// than memory is analysed, slower. The files are unlinked as soon as
	// they are made. Linux only.
	ScratchDir string
}

// Analysis is the retention analysis of a heap: its object graph (nodes
// numbered as the model numbers objects), dominator tree, shortest paths
// from the roots and groups, with the names to show them.
type Analysis struct {
	h     heap.Heap
	graph *Graph
	dom   *Dominators
	paths *Paths
	// groups are the reachable objects grouped by root, collapsed path and
	// type, largest retained size first.
	groups   []Group
	roots    *rootTable
	labels   *labelTable
	warnings []warn.Warning
	// mem holds the large arrays of the graph, dominators and paths
	// (Close releases them).
	mem *scratch
}

// FromHeap computes the retention analysis of h: the graph of its live
// objects, dominators and retained sizes, shortest paths from the roots
// and the groups of objects held the same way. Close releases its memory.
//
// Memory beyond the model, per object (the graph's edges on top): the
// graph (4 bytes and 4 per edge; without the groups it stays, else it is
// dropped once the paths are found), the dominators (8, plus 20 and 4 per
// non-tree edge of working arrays while they are computed) and the paths
// (12, the visit order dropped while grouping: each object's parent and
// the label of its parent edge stay). The grouping takes 12 more while it
// runs. Sizes and types are read from the model when needed, in object
// order; the graph holds no labels but the roots' (labels.go). The peak is
// while the dominators are computed (28 bytes and 8 per edge) or while
// the objects are grouped (32 bytes).
func FromHeap(h heap.Heap, opts HeapOptions) (*Analysis, error) {
	n := h.NumObjects()
	if uint64(n) > MaxObjects {
		return nil, fmt.Errorf("analysing retention: %d objects is more than the %d a graph can hold", n, uint64(MaxObjects))
	}
	mem, err := newScratch(opts.ScratchDir)
	if err != nil {
		return nil, fmt.Errorf("analysing retention: %w", err)
	}
	a := &Analysis{h: h, mem: mem}
	if opts.ScratchDir != "" && inMemoryFS(opts.ScratchDir) {
		a.warnings = append(a.warnings, warn.New("retain", "scratch directory %s is in memory (tmpfs): its files take memory as the arrays would; give a directory on a disk", opts.ScratchDir))
	}
	if err := a.analyse(opts); err != nil {
		a.Close()
		return nil, fmt.Errorf("analysing retention: %w", err)
	}
	if err := mem.err(); err != nil {
		a.warnings = append(a.warnings, warn.New("retain", "some arrays are in memory, not in the scratch directory: %v", err))
	}
	return a, nil
}

// analyse runs the stages of FromHeap.
func (a *Analysis) analyse(opts HeapOptions) error {
	h := a.h
	stage := func(string) {}
	if opts.Stage != nil {
		stage = opts.Stage
	}
	defer stage("")

	stage("naming roots")
	a.roots = newRootTable(h)

	stage("building the object graph")
	g, err := buildGraph(&Graph{n: h.NumObjects(), sizeOf: h.Size, mem: a.mem, deferLabels: true}, a.roots.graphRoots, a.liveEdges)
	if err != nil {
		return err
	}
	a.graph = g
	for _, w := range g.Warnings() {
		a.warnings = append(a.warnings, warn.New("retain", "%s", w))
	}

	stage("computing dominators")
	a.dom = computeDominators(g, a.mem)

	stage("finding shortest paths")
	a.paths = tieredPaths(g, func(label uint32) int { return a.roots.info(label).Tier() }, a.mem)
	if opts.SkipGroups {
		// Without groups (why, dominators) the graph stays for
		// RootsReaching, and PathTo finds the few labels it needs again
		// (parentLabel).
		a.paths.dropOrderAndLabels(a.mem)
		return nil
	}
	// The groups need neither the graph's rows nor its targets, but the
	// label of every object's parent edge.
	g.dropEdges()
	if err := a.paths.labelParents(a.roots.graphRoots, a.liveEdges); err != nil {
		return err
	}
	stage("grouping objects")
	return a.group(func() { stage("ranking groups") })
}

// Close releases the analysis's large arrays; nothing may be asked of it
// afterwards but its groups. Without Close they are released when the
// process ends.
func (a *Analysis) Close() {
	if a != nil {
		a.mem.release()
		// What pointed into the released arrays is gone too, so that a
		// use after Close is a nil dereference, not a fault.
		a.graph, a.dom, a.paths = nil, nil, nil
	}
}

// group computes the groups; assigned is called once every object has
// its group, and the paths' visit order (4 bytes an object) is dropped
// then. The graph has lost its edge targets by then: this is why the
// Analysis does not hand out its graph or paths.
func (a *Analysis) group(assigned func()) error {
	a.labels = newLabelTable(a.h)
	typeOf := func(v int) uint32 { return uint32(a.h.Type(v)) }
	var err error
	a.groups, err = groupObjects(a.dom, a.paths, typeOf, a.labels.collapse, groupOptions{
		assigned: func() {
			a.mem.free(a.paths.order)
			a.paths.order = nil
			assigned()
		},
		mem:           a.mem,
		consumeLabels: true,
	})
	return err
}

// liveRefsWalker is implemented by models that compute references on
// demand rather than keep them (pycore): one pass over all live objects
// is cheaper than finding each object again. The slices are valid only
// during the call.
type liveRefsWalker interface {
	EachLiveRefs(fn func(obj int, targets, labels []uint32))
}

// liveEdges is the graph's EdgeSource: the model's references out of live
// objects, with its labels. (Garbage objects are unreachable whatever they
// point to.)
func (a *Analysis) liveEdges(emit func(from, to, label uint32)) {
	h := a.h
	if w, ok := h.(liveRefsWalker); ok {
		w.EachLiveRefs(func(obj int, targets, labels []uint32) {
			for k, t := range targets {
				emit(uint32(obj), t, labels[k])
			}
		})
		return
	}
	for i := 0; i < h.NumObjects(); i++ {
		if !h.Live(i) {
			continue
		}
		targets, labels := h.Refs(i)
		for k, t := range targets {
			emit(uint32(i), t, labels[k])
		}
	}
}

// Heap returns the heap the analysis was made of.
func (a *Analysis) Heap() heap.Heap { return a.h }

// Groups returns the groups of reachable objects, largest retained size
// first. The slice is the Analysis's own.
func (a *Analysis) Groups() []Group { return a.groups }

// Warnings returns what was wrong with the input but did not stop the
// analysis.
func (a *Analysis) Warnings() []warn.Warning { return a.warnings }

// Retained returns the bytes that freeing object obj would free.
func (a *Analysis) Retained(obj int) uint64 {
	if obj < 0 || obj >= a.graph.NumObjects() {
		return 0
	}
	return a.dom.Retained(uint32(obj))
}

// NumReachable returns the number of objects reachable from the roots.
func (a *Analysis) NumReachable() int { return a.dom.NumReachable() }

// ReachableBytes returns the total size of the objects reachable from the
// roots.
func (a *Analysis) ReachableBytes() uint64 { return a.dom.ReachableBytes() }

// Reachable reports whether object obj is reachable from the roots.
func (a *Analysis) Reachable(obj int) bool {
	return obj >= 0 && obj < a.graph.NumObjects() && a.dom.Reachable(uint32(obj))
}

// TypeName names a group's type.
func (a *Analysis) TypeName(t uint32) string { return a.h.TypeName(heap.TypeID(t)) }

// GroupRoot describes the root a group is reached from, its path
// collapsed.
func (a *Analysis) GroupRoot(g Group) heap.Root { return a.roots.info(g.Root) }

// GroupLabels returns the collapsed path of each edge of a group's path
// below its root (".results", "[]", ".slots[].elem").
func (a *Analysis) GroupLabels(g Group) []heap.Path {
	out := make([]heap.Path, len(g.Path))
	for i, l := range g.Path {
		out[i] = a.labels.path(l)
	}
	return out
}

// GroupLabelSources returns, for each edge of a group's path below its
// root, the family of the type of the objects its references are in
// ("main.Profiler", "[]*main.Timing" for arrays of any length).
func (a *Analysis) GroupLabelSources(g Group) []string {
	out := make([]string, len(g.Path))
	for i, l := range g.Path {
		out[i] = a.labels.sourceOf(l)
	}
	return out
}

// GroupPath returns a group's path as words: the root's label, the steps
// within the root variable, then each edge's steps:
// ["main.defaultProfiler", "results", "[]"].
func (a *Analysis) GroupPath(g Group) []string {
	root := a.GroupRoot(g)
	words := append([]string{root.Label()}, root.Path.Words()...)
	for _, p := range a.GroupLabels(g) {
		words = append(words, p.Words()...)
	}
	return words
}

// Hop is one step of a path from a root: the object reached and the path
// within the previous object (or, for the first hop, none) of the
// reference to it, indices exact (".results", "[2]").
type Hop struct {
	Object int
	Path   heap.Path
}

// PathTo returns a shortest path from the roots to object obj: the root,
// exactly named (not collapsed), and the hops from it, the first reaching
// the object the root refers to, the last reaching obj. ok is false if
// obj is not reachable.
func (a *Analysis) PathTo(obj int) (root heap.Root, hops []Hop, ok bool) {
	if !a.Reachable(obj) {
		return heap.Root{}, nil, false
	}
	steps := a.paths.chain(uint32(obj))
	if len(steps) == 0 {
		return heap.Root{}, nil, false
	}
	first := steps[0]
	root = a.roots.exact(a.parentLabel(a.graph.SuperRoot(), first), first)
	hops = make([]Hop, len(steps))
	hops[0] = Hop{Object: int(first)}
	for i := 1; i < len(steps); i++ {
		from := steps[i-1]
		path := heap.Path{{Kind: heap.StepUnknown}}
		if l := a.parentLabel(from, steps[i]); l != None {
			path = a.h.RefPath(int(from), l)
		}
		hops[i] = Hop{Object: int(steps[i]), Path: path}
	}
	return root, hops, true
}

// parentLabel returns the label of the edge by which the paths reached
// obj from parent. FromHeap keeps no labels once the objects are grouped
// (nor, without groups, ever): the edge is then found again as the
// search took it, the first of the parent's references to obj in the
// model's order, or for a root's object its first root in search order
// (tier, then the order given). None if the model no longer has it.
func (a *Analysis) parentLabel(parent, obj uint32) uint32 {
	if a.paths.parentLabel != nil {
		return a.paths.parentLabel[obj]
	}
	if parent == a.graph.SuperRoot() {
		for _, r := range a.roots.graphRoots {
			if r.Object == obj {
				return r.Label
			}
		}
		return None
	}
	targets, labels := a.h.Refs(int(parent))
	for k, t := range targets {
		if t == obj {
			return labels[k]
		}
	}
	return None
}

// DominatorsOf returns the objects that dominate obj, outermost first,
// down to its immediate dominator; nil if only the roots together hold
// it.
func (a *Analysis) DominatorsOf(obj int) []int {
	if !a.Reachable(obj) {
		return nil
	}
	return intsOf(a.dom.DominatorsOf(uint32(obj)))
}

// TopDominators returns at most k objects that no single object
// dominates, largest retained size first.
func (a *Analysis) TopDominators(k int) []int { return intsOf(a.dom.TopDominators(k)) }

// Dominated returns at most k objects whose immediate dominator is obj,
// largest retained size first.
func (a *Analysis) Dominated(obj, k int) []int {
	if obj < 0 || obj >= a.graph.NumObjects() {
		return nil
	}
	return intsOf(a.dom.Dominated(uint32(obj), k))
}

func intsOf(vs []uint32) []int {
	out := make([]int, len(vs))
	for i, v := range vs {
		out[i] = int(v)
	}
	return out
}

// EachDominated calls fn for every object whose immediate dominator is
// obj, in object order, without sorting them: one pass over the objects,
// for summing a level of the dominator tree (Dominated ranks a few).
func (a *Analysis) EachDominated(obj int, fn func(child int)) {
	if obj < 0 || obj >= a.graph.NumObjects() {
		return
	}
	for v, id := range a.dom.Idom {
		if id == uint32(obj) {
			fn(v)
		}
	}
}

// DominatedOf returns, for each object of objs, at most k of the objects
// it immediately dominates, largest retained size first, in one pass over
// the objects (Dominated takes one pass per object).
func (a *Analysis) DominatedOf(objs []int, k int) [][]int {
	parents := make([]uint32, 0, len(objs))
	for _, o := range objs {
		if o >= 0 && o < a.graph.NumObjects() {
			parents = append(parents, uint32(o))
		} else {
			parents = append(parents, None)
		}
	}
	lists := a.dom.DominatedOf(parents, k)
	out := make([][]int, len(lists))
	for i, l := range lists {
		out[i] = intsOf(l)
	}
	return out
}
