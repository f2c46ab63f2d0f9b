package retain

// The adapter from a Go heap (package gocore) to the algorithms of this
// package. FromHeap numbers the graph's nodes as gocore numbers its
// objects and labels each edge with the byte offset of its pointer word,
// copied from gocore's edge arrays: no string is made per edge. Names are
// resolved only for what is shown: the roots (few), the collapsed labels
// (one per distinct type and pointer word within an element, cached) and
// the exact field names of the paths printed.

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/heapsift/heapsift/gocore"
)

// HeapOptions tunes FromHeap.
type HeapOptions struct {
	// SkipGroups leaves out the groups (Groups returns nil): paths and
	// dominators alone are quicker.
	SkipGroups bool
	// Stage, if set, is called with a short description of each stage as
	// it starts ("computing dominators"), and with "" when all are done.
	Stage func(what string)
}

// Analysis is the retention analysis of a Go heap: its object graph
// (nodes numbered as gocore numbers objects), dominator tree, shortest
// paths from the roots and groups, with the names to show them.
type Analysis struct {
	prog  *gocore.Program
	graph *Graph
	dom   *Dominators
	paths *Paths
	// groups are the reachable objects grouped by root, collapsed path and
	// type, largest retained size first.
	groups []Group
	roots  *rootTable
	labels *labelTable
	// numTypes is gocore's type count; type ids from numTypes on stand for
	// untyped objects of the size untypedSizes[id-numTypes].
	numTypes     uint32
	untypedSizes []uint64
	stages       []Stage
	warnings     []string
}

// Stage is the time one stage of FromHeap took.
type Stage struct {
	Name     string
	Duration time.Duration
}

// FromHeap computes the retention analysis of prog's heap: the graph of
// its live objects, dominators and retained sizes, shortest paths from the
// roots and the groups of objects held the same way.
//
// Memory beyond the Program: 8 bytes per object for the sizes and 4 for
// the type ids (dropped once grouped), the graph (4 bytes per object and
// 8 per edge), the dominators (12 per object, plus working arrays outside
// the Go heap while they are computed) and the paths (8 per object).
func FromHeap(prog *gocore.Program, opts HeapOptions) (*Analysis, error) {
	n := prog.NumObjects()
	if uint64(n) > MaxObjects {
		return nil, fmt.Errorf("analysing retention: %d objects is more than the %d a graph can hold", n, uint64(MaxObjects))
	}
	a := &Analysis{prog: prog, numTypes: uint32(prog.NumTypes())}
	stage := a.stageTimer(opts.Stage)
	defer stage("")

	stage("naming roots")
	a.roots = newRootTable(prog)
	sizes := objectSizes(prog)

	stage("building the object graph")
	g, err := BuildGraph(n, sizes, a.roots.graphRoots, a.liveEdges)
	if err != nil {
		return nil, fmt.Errorf("analysing retention: %w", err)
	}
	a.graph = g
	a.warnings = append(a.warnings, g.Warnings()...)

	stage("computing dominators")
	a.dom = ComputeDominators(g)

	stage("finding shortest paths")
	a.paths = ShortestPaths(g)

	if !opts.SkipGroups {
		stage("grouping objects")
		if err := a.group(); err != nil {
			return nil, fmt.Errorf("analysing retention: %w", err)
		}
	}
	return a, nil
}

// group computes the groups. Memory is at its peak here, so what the
// searches alone needed is released first (the edge targets), and the
// type ids and sizes once every object has its group. Those arrays are
// gone afterwards: this is why the Analysis does not hand out its graph.
func (a *Analysis) group() error {
	a.graph.dst = nil
	runtime.GC() // the type ids below take the targets' place
	typeOf := a.typeIDs()
	a.labels = newLabelTable(a.prog, typeOf, a.numTypes)
	var err error
	a.groups, err = groupObjects(a.dom, a.paths, typeOf, a.labels.collapse, func() {
		a.labels.typeOf, typeOf = nil, nil
		a.graph.sizes = nil
		debug.FreeOSMemory()
	})
	return err
}

// stageTimer returns a function that ends the current stage, records its
// time and starts the next one ("" ends the last).
func (a *Analysis) stageTimer(report func(string)) func(string) {
	current, start := "", time.Now()
	return func(next string) {
		now := time.Now()
		if current != "" {
			a.stages = append(a.stages, Stage{Name: current, Duration: now.Sub(start)})
		}
		current, start = next, now
		if report != nil {
			report(next)
		}
	}
}

// objectSizes returns every object's size.
func objectSizes(prog *gocore.Program) []uint64 {
	sizes := make([]uint64, prog.NumObjects())
	for i := range sizes {
		sizes[i] = prog.Size(i)
	}
	return sizes
}

// typeIDs returns every object's grouping type id: gocore's TypeID, or
// for an untyped object an id past gocore's types standing for "untyped,
// of this size".
func (a *Analysis) typeIDs() []uint32 {
	prog := a.prog
	typeOf := make([]uint32, prog.NumObjects())
	untyped := map[uint64]uint32{}
	for i := range typeOf {
		t := uint32(prog.Type(i))
		if t == uint32(gocore.NoType) {
			size := prog.Size(i)
			id, ok := untyped[size]
			if !ok {
				id = a.numTypes + uint32(len(a.untypedSizes))
				untyped[size] = id
				a.untypedSizes = append(a.untypedSizes, size)
			}
			t = id
		}
		typeOf[i] = t
	}
	return typeOf
}

// liveEdges is the graph's EdgeSource: gocore's edges out of live objects,
// labelled with the offsets of their pointer words. (Garbage objects are
// unreachable whatever they point to.)
func (a *Analysis) liveEdges(emit func(from, to, label uint32)) {
	prog := a.prog
	for i := 0; i < prog.NumObjects(); i++ {
		if !prog.Live(i) {
			continue
		}
		targets, offsets := prog.Edges(i)
		for k, t := range targets {
			emit(uint32(i), t, offsets[k])
		}
	}
}

// Program returns the heap model the analysis was made of.
func (a *Analysis) Program() *gocore.Program { return a.prog }

// Groups returns the groups of reachable objects, largest retained size
// first. The slice is the Analysis's own.
func (a *Analysis) Groups() []Group { return a.groups }

// Stages returns the time each stage of FromHeap took.
func (a *Analysis) Stages() []Stage { return a.stages }

// Warnings returns what was wrong with the input but did not stop the
// analysis.
func (a *Analysis) Warnings() []string { return a.warnings }

// Retained returns the bytes that freeing object obj would free.
func (a *Analysis) Retained(obj int) uint64 {
	if obj < 0 || obj >= a.graph.NumObjects() {
		return 0
	}
	return a.dom.Retained[obj]
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

// TypeName names a grouping type id: gocore's name for its types,
// "<untyped N>" for the untyped objects of size N.
func (a *Analysis) TypeName(t uint32) string {
	if t >= a.numTypes && int(t-a.numTypes) < len(a.untypedSizes) {
		return fmt.Sprintf("<untyped %d>", a.untypedSizes[t-a.numTypes])
	}
	return a.prog.TypeName(gocore.TypeID(t))
}

// ObjectTypeName names object obj's type as the histogram does.
func (a *Analysis) ObjectTypeName(obj int) string {
	if t := a.prog.Type(obj); t != gocore.NoType {
		return a.prog.TypeName(t)
	}
	return fmt.Sprintf("<untyped %d>", a.prog.Size(obj))
}

// GroupRoot describes the root a group is reached from.
func (a *Analysis) GroupRoot(g Group) RootInfo { return a.roots.info(g.Root) }

// GroupLabels returns the collapsed labels of a group's path below its
// root, one per edge (".results", "[]", ".slots[].elem").
func (a *Analysis) GroupLabels(g Group) []string {
	out := make([]string, len(g.Path))
	for i, l := range g.Path {
		out[i] = a.labels.name(l)
	}
	return out
}

// GroupLabelSources returns, for each edge of a group's path below its
// root, the type of the objects its pointers are in ("main.Profiler",
// "[]*main.Timing" for arrays of any length; "" for untyped objects).
func (a *Analysis) GroupLabelSources(g Group) []string {
	out := make([]string, len(g.Path))
	for i, l := range g.Path {
		out[i] = a.labels.source(l)
	}
	return out
}

// GroupPath returns a group's path as words: the root's name, the fields
// within the root variable, then each label split into its fields and
// "[]" indices: ["main.defaultProfiler", "results", "[]"].
func (a *Analysis) GroupPath(g Group) []string {
	root := a.GroupRoot(g)
	return append([]string{root.String()}, append(root.Fields, SplitFieldPath(joinLabels(a.GroupLabels(g)))...)...)
}

// Hop is one step of a path from a root: the object reached and the
// field of the previous object (or, for the first hop, of the root) that
// points to it, indices exact (".results", "[2]").
type Hop struct {
	Object int
	Field  string
}

// PathTo returns a shortest path from the roots to object obj: the root,
// exactly named (not collapsed), and the hops from it, the first reaching
// the object the root points to, the last reaching obj. ok is false if
// obj is not reachable.
func (a *Analysis) PathTo(obj int) (root RootInfo, hops []Hop, ok bool) {
	if !a.Reachable(obj) {
		return RootInfo{}, nil, false
	}
	steps := a.paths.PathTo(uint32(obj))
	if len(steps) == 0 {
		return RootInfo{}, nil, false
	}
	first := steps[0]
	root = a.roots.exact(first.Label, int(first.Object))
	hops = make([]Hop, len(steps))
	hops[0] = Hop{Object: int(first.Object)}
	for i := 1; i < len(steps); i++ {
		from := int(steps[i-1].Object)
		hops[i] = Hop{Object: int(steps[i].Object), Field: displayField(a.prog.FieldPath(from, uint64(steps[i].Label)), false)}
	}
	return root, hops, true
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
