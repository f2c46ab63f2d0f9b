// Package suspects finds leak suspects in a heap, the way Eclipse MAT's
// Leak Suspects report does, for any language heapsift models: it reads
// only package heap and the retention analysis of package retain.
//
// A suspect is either one object that retains more than a threshold share
// of the reachable heap (by default 10%), or a group of objects (one root,
// one collapsed path, one type) that retains more than that together
// without any single object of the heap holding them. For each suspect the
// dominator tree is walked down from the suspect to its accumulation
// point: the first object below which no single dominated object holds
// most (more than half) of the retained size, usually the array, list or
// map where many small objects pile up. What accumulates there is the
// type whose objects, dominated directly by the accumulation point, retain
// most; the suspect names it with a count and bytes, gives the path from a
// root to the accumulation point and one plain sentence.
//
// Growth (Compare) ranks the suspects of a newer heap by how much they
// grew since an older one of the same program, matching them by root,
// collapsed path and types.
package suspects

import (
	"cmp"
	"slices"
	"strings"

	"github.com/heapsift/heapsift/heap"
	"github.com/heapsift/heapsift/retain"
)

// Kind says whether a suspect is one object or a group of objects.
type Kind string

// The kinds of suspects.
const (
	KindObject Kind = "object"
	KindGroup  Kind = "group"
)

// DefaultThreshold is the share of the reachable heap a suspect retains
// at least, as in MAT.
const DefaultThreshold = 0.10

// maxDescent bounds the walk down the dominator tree: each step scans the
// objects once, and a long linked list would otherwise be walked to its
// end.
const maxDescent = 32

// Options tunes Find.
type Options struct {
	// Threshold is the least share (0..1) of the reachable bytes a
	// suspect retains; 0 means DefaultThreshold.
	Threshold float64
	// Max bounds the number of suspects (0: no bound).
	Max int
}

// Members is what accumulates at an accumulation point: the objects of
// one type that it (or, for a group, the root and path) holds.
type Members struct {
	Type  string
	Count int
	// Bytes is the members' own size; Retained what they retain.
	Bytes    uint64
	Retained uint64
	// Example is the member retaining most.
	Example int
}

// Suspect is one leak suspect.
type Suspect struct {
	Kind Kind
	// Object is the suspect object (KindObject) or the group's example
	// member (KindGroup).
	Object int
	// Retained is the bytes the suspect retains, Share its share of the
	// reachable bytes.
	Retained uint64
	Share    float64
	// Root and Path lead to the accumulation point: the root exactly
	// named, Path as words from the root's label (["main.defaultProfiler",
	// "results"]). Expr writes them as source code would
	// ("main.defaultProfiler.results"). A group's path is its collapsed
	// path to the members.
	Root heap.Root
	Path []string
	Expr string
	// Accumulation is the object where the members accumulate, AccType
	// its type, AccRetained what it retains and AccRefs its references
	// out (the elements of an array or list).
	Accumulation int
	AccType      string
	AccFamily    string
	AccRetained  uint64
	AccRefs      int
	// AccElements says the accumulation point is a container: its
	// references are elements (indices, map or dict values, set members),
	// not named fields.
	AccElements bool
	Members     Members
	// Threads is how many threads' (goroutines') stack roots a group
	// suspect merges, each holding its share the same way: 0 for a group
	// of one thread and for other suspects.
	Threads int
	// Key matches the suspect across two heaps of one program: the
	// root's kind and name (a stack root by function and variable), the
	// collapsed path and the types.
	Key string
	// Explanation is one plain sentence saying all of the above.
	Explanation string
}

// Find returns the suspects of an analysis, largest retained size first.
// A heap where nothing retains the threshold has none.
func Find(a *retain.Analysis, opts Options) []Suspect {
	threshold := opts.Threshold
	if threshold <= 0 {
		threshold = DefaultThreshold
	}
	total := a.ReachableBytes()
	if total == 0 {
		return nil
	}
	limit := uint64(threshold * float64(total))
	var out []Suspect
	for _, obj := range a.TopDominators(64) {
		if a.Retained(obj) <= limit {
			break
		}
		out = append(out, objectSuspect(a, obj, total))
	}
	// Goroutines or threads running one function that each hold a little
	// are one suspect together (88 in-flight requests of 1 MB each).
	for _, g := range a.GroupsByThread() {
		if g.Retained <= limit {
			break
		}
		if g.Count > 1 && !explained(a, int(g.Example), out) {
			out = append(out, groupSuspect(a, g, total))
		}
	}
	slices.SortStableFunc(out, func(x, y Suspect) int { return cmp.Compare(y.Retained, x.Retained) })
	if opts.Max > 0 && len(out) > opts.Max {
		out = out[:opts.Max]
	}
	return out
}

// explained reports whether an object suspect already covers obj: obj
// is the suspect or one of the objects it dominates.
func explained(a *retain.Analysis, obj int, found []Suspect) bool {
	doms := a.DominatorsOf(obj)
	for _, s := range found {
		if s.Kind != KindObject {
			continue
		}
		if s.Object == obj || slices.Contains(doms, s.Object) {
			return true
		}
	}
	return false
}

// objectSuspect describes the object suspect obj: its accumulation point
// down the dominator tree, what accumulates there and the path to it.
func objectSuspect(a *retain.Analysis, obj int, total uint64) Suspect {
	h := a.Heap()
	acc := accumulationPoint(a, obj)
	s := Suspect{
		Kind: KindObject, Object: obj, Retained: a.Retained(obj),
		Share:        float64(a.Retained(obj)) / float64(total),
		Accumulation: acc, AccType: heap.ObjectTypeName(h, acc), AccFamily: h.TypeFamily(h.Type(acc)),
		AccRetained: a.Retained(acc),
		Members:     dominantMembers(a, acc),
	}
	s.AccRefs, s.AccElements = elements(h, acc)
	s.Root, s.Path, s.Expr = pathTo(a, acc)
	s.Key = keyOf(s.Root, collapsedPath(a, acc), s.AccFamily, s.Members.Type)
	s.Explanation = explain(s, total)
	return s
}

// groupSuspect describes a group that retains more than the threshold
// with no single object holding it: it accumulates in the object that
// refers to its largest member.
func groupSuspect(a *retain.Analysis, g retain.ThreadGroup, total uint64) Suspect {
	h := a.Heap()
	example := int(g.Example)
	s := Suspect{
		Kind: KindGroup, Object: example, Retained: g.Retained,
		Share:   float64(g.Retained) / float64(total),
		Root:    a.GroupRoot(g.Group),
		Path:    a.GroupPath(g.Group),
		Members: Members{Type: a.TypeName(g.Type), Count: g.Count, Bytes: g.Bytes, Retained: g.Retained, Example: example},
		// Without a holding object, the members accumulate under the root.
		Accumulation: -1,
	}
	if g.Threads > 1 {
		s.Threads = g.Threads
		s.Path[0] = s.Root.MergedLabel(g.Threads)
	}
	s.Expr = heap.WordsText(s.Path)
	if _, hops, ok := a.PathTo(example); ok && len(hops) >= 2 {
		acc := hops[len(hops)-2].Object
		s.Accumulation, s.AccType, s.AccRetained = acc, heap.ObjectTypeName(h, acc), a.Retained(acc)
		s.AccFamily = h.TypeFamily(h.Type(acc))
		s.AccRefs, s.AccElements = elements(h, acc)
	}
	s.Key = keyOf(s.Root, s.Path[1:], "", s.Members.Type)
	s.Explanation = explain(s, total)
	return s
}

// accumulationPoint walks down the dominator tree from obj while one
// dominated object retains more than half of what the current one does.
func accumulationPoint(a *retain.Analysis, obj int) int {
	cur := obj
	for range maxDescent {
		next := a.Dominated(cur, 1)
		if len(next) == 0 || 2*a.Retained(next[0]) <= a.Retained(cur) {
			break
		}
		cur = next[0]
	}
	return cur
}

// dominantMembers sums the objects acc immediately dominates by type
// and returns the type retaining most.
func dominantMembers(a *retain.Analysis, acc int) Members {
	h := a.Heap()
	byType := map[heap.TypeID]*Members{}
	a.EachDominated(acc, func(child int) {
		t := h.Type(child)
		m := byType[t]
		if m == nil {
			m = &Members{Type: h.TypeName(t), Example: child}
			byType[t] = m
		}
		m.Count++
		m.Bytes += h.Size(child)
		r := a.Retained(child)
		m.Retained += r
		if r > a.Retained(m.Example) {
			m.Example = child
		}
	})
	var best *Members
	for _, m := range byType {
		if best == nil || m.Retained > best.Retained || (m.Retained == best.Retained && m.Type < best.Type) {
			best = m
		}
	}
	if best == nil {
		return Members{Example: acc}
	}
	return *best
}

// pathTo returns the root of a shortest path to obj and the path as words
// and as an expression.
func pathTo(a *retain.Analysis, obj int) (heap.Root, []string, string) {
	root, hops, ok := a.PathTo(obj)
	if !ok {
		return heap.Root{}, nil, ""
	}
	words := append([]string{root.Label()}, root.Path.Words()...)
	for _, hop := range hops {
		words = append(words, hop.Path.Words()...)
	}
	return root, words, heap.WordsText(words)
}

// collapsedPath returns the words of the shortest path to obj below its
// root's label, indices collapsed, for matching across heaps.
func collapsedPath(a *retain.Analysis, obj int) []string {
	root, hops, ok := a.PathTo(obj)
	if !ok {
		return nil
	}
	words := root.Path.Collapse().Words()
	for _, hop := range hops {
		words = append(words, hop.Path.Collapse().Words()...)
	}
	return words
}

// keyOf identifies a suspect across heaps of one program: a root by kind
// and variable (a stack root by function and variable, whatever its
// thread), the collapsed path and the types.
func keyOf(root heap.Root, path []string, accType, memberType string) string {
	name := root.Label()
	if root.Kind == heap.RootStack {
		name = root.Func + " " + root.Var
	}
	parts := append([]string{root.Kind.String(), name}, path...)
	return strings.Join(append(parts, accType, memberType), "\x00")
}

// elements counts obj's references and says whether the model names them
// as elements of a container (the first one tells: a container's
// references are all alike), whatever the language.
func elements(h heap.Heap, obj int) (refs int, container bool) {
	targets, labels := h.Refs(obj)
	if len(targets) == 0 {
		return 0, false
	}
	for _, step := range h.RefPath(obj, labels[0]) {
		switch step.Kind {
		case heap.StepIndex, heap.StepValue, heap.StepElem, heap.StepMapValue, heap.StepKey, heap.StepMapKey:
			return len(targets), true
		}
	}
	return len(targets), false
}
