package retain

import (
	"sort"

	"github.com/heapsift/heapsift/heap"
)

// rootTable gives each distinct root, indices collapsed, a label.
type rootTable struct {
	h     heap.Heap
	roots []heap.Root // the model's roots, exact
	infos []heap.Root // label -> the collapsed root
	ids   map[string]uint32
	// graphRoots are the roots for BuildGraph: globals first, then
	// stacks, finalizers and runtime roots, so that among paths of equal
	// length the breadth-first search prefers a module-level variable.
	graphRoots []Root
}

func newRootTable(h heap.Heap) *rootTable {
	roots := h.Roots()
	rt := &rootTable{h: h, roots: roots, ids: map[string]uint32{}}
	order := make([]int, len(roots))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return roots[order[i]].Tier() < roots[order[j]].Tier() })
	n := uint64(h.NumObjects())
	for _, i := range order {
		r := roots[i]
		if uint64(r.Object) >= n || uint64(r.Object) >= MaxObjects {
			continue
		}
		info := r.Collapse()
		k := info.Key()
		id, ok := rt.ids[k]
		if !ok {
			id = uint32(len(rt.infos))
			rt.ids[k] = id
			rt.infos = append(rt.infos, info)
		}
		rt.graphRoots = append(rt.graphRoots, Root{Object: r.Object, Label: id})
	}
	return rt
}

// info returns the collapsed root with label label.
func (rt *rootTable) info(label uint32) heap.Root {
	if int(label) < len(rt.infos) {
		return rt.infos[label]
	}
	return heap.Root{Kind: heap.RootRuntime, Name: "?"}
}

// exact returns the uncollapsed root with label label that refers to obj.
func (rt *rootTable) exact(label uint32, obj uint32) heap.Root {
	want := rt.info(label).Key()
	for _, r := range rt.roots {
		if r.Object == obj && r.Collapse().Key() == want {
			return r
		}
	}
	return rt.info(label)
}
