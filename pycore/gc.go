package pycore

import (
	"github.com/heapsift/heapsift/heap"

	"github.com/heapsift/heapsift/internal/bitset"
)

// Live and garbage, as CPython's collector decides: for each tracked
// object, gc_refs is its refcount minus the references from other tracked
// objects; those left with gc_refs > 0 are referred to from outside the
// tracked set (C code, frames, untracked objects), so they and everything
// they reach are alive. The rest is garbage that gc.collect() would free
// now. Roots, and references counted but not seen anywhere (RootOutside),
// keep objects alive too.

// immortalRefcnt is the smallest refcount pycore takes for an immortal
// object (3.12+ set it to 2**32-1 or 3<<30 and never change it).
const immortalRefcnt = 1 << 30

// countRootRefs counts the roots' counted references in g: each explains
// one of its object's refcount too.
func (h *Heap) countRootRefs(g *refGraph) {
	for _, r := range h.rootAddrs {
		if j, ok := h.Find(r.addr); ok && r.counted {
			g.fromAll[j]++
		}
	}
}

// liveSeeds reads each object's refcount and compares it with the
// references g counts (see outsideRefs): it returns the seeds of the
// collector's live set.
func (h *Heap) liveSeeds(g *refGraph) []int {
	h.countRootRefs(g)
	var seeds []int
	h.index.each(func(i int, a uint64) {
		rc, err := h.mem.i64(a + uint64(h.l.ObRefcnt))
		if err == nil && h.outsideRefs(i, rc, g) {
			seeds = append(seeds, i)
		}
	})
	return seeds
}

// outsideRefs compares object i's refcount rc with the references to it g
// counts: it adds a RootOutside root for references nothing seen explains,
// and reports whether the object is tracked and referred to from outside
// the tracked objects (a seed of the collector's live set).
func (h *Heap) outsideRefs(i int, rc int64, g *refGraph) bool {
	immortal := h.l.Minor >= 12 && rc >= immortalRefcnt
	if extra := rc - int64(g.fromAll[i]); !immortal && extra > 0 {
		h.roots = append(h.roots, heap.Root{
			Kind: heap.RootOutside, Object: uint32(i), Name: "held outside Python",
			Unexplained: extra,
		})
	}
	return h.tracked.Has(i) && (immortal || rc-int64(g.fromTracked[i]) > 0)
}

// decideLiveness computes the live set from seeds (see outsideRefs), the
// roots and the references g holds.
func (h *Heap) decideLiveness(g *refGraph, seeds []int) {
	reached := h.reach(g, rootObjects(h.roots))
	// A tracked object the collector keeps only for references from
	// untracked garbage still needs a root for retain to reach it. Once
	// the seeds are reached too, what is reached is what the collector
	// keeps: all that the roots and the seeds reach.
	for _, i := range seeds {
		if !reached.Has(i) {
			h.roots = append(h.roots, heap.Root{Kind: heap.RootOutside, Object: uint32(i), Name: "held outside Python"})
			h.reachInto(g, reached, []int{i})
		}
	}
	h.live = reached
}

func rootObjects(roots []heap.Root) []int {
	out := make([]int, len(roots))
	for i, r := range roots {
		out[i] = int(r.Object)
	}
	return out
}

// reach returns the objects reachable from seeds.
func (h *Heap) reach(g *refGraph, seeds []int) bitset.Set {
	seen := bitset.New(h.n)
	h.reachInto(g, seen, seeds)
	return seen
}

// reachInto adds to seen the objects reachable from seeds.
func (h *Heap) reachInto(g *refGraph, seen bitset.Set, seeds []int) {
	stack := make([]int, 0, len(seeds))
	for _, s := range seeds {
		if !seen.Has(s) {
			seen.Add(s)
			stack = append(stack, s)
		}
	}
	visit := func(t uint32) {
		if !seen.Has(int(t)) {
			seen.Add(int(t))
			stack = append(stack, int(t))
		}
	}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		g.each(i, h.folded, visit)
	}
}
