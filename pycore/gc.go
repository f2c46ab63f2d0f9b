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

// decideLiveness computes the live set from the references g holds and
// counts, and adds RootOutside roots for objects with references nothing
// seen explains.
func (h *Heap) decideLiveness(g *refGraph) {
	fromAll, fromTracked := g.fromAll, g.fromTracked
	// A root's counted reference explains one of the refcount too.
	for _, r := range h.rootAddrs {
		if j, ok := h.Find(r.addr); ok && r.counted {
			fromAll[j]++
		}
	}
	var seeds []int
	h.index.each(func(i int, a uint64) {
		rc, err := h.mem.i64(a + uint64(h.l.ObRefcnt))
		if err != nil {
			return
		}
		immortal := h.l.Minor >= 12 && rc >= immortalRefcnt
		if h.tracked.Has(i) && (immortal || rc-int64(fromTracked[i]) > 0) {
			seeds = append(seeds, i)
		}
		if extra := rc - int64(fromAll[i]); !immortal && extra > 0 {
			h.roots = append(h.roots, heap.Root{
				Kind: heap.RootOutside, Object: uint32(i), Name: "held outside Python",
				Unexplained: extra,
			})
		}
	})
	for _, r := range h.roots {
		seeds = append(seeds, int(r.Object))
	}
	h.live = h.reach(g, seeds)
	reached := h.reach(g, rootObjects(h.roots))
	// A tracked object the collector keeps only for references from
	// untracked garbage still needs a root for retain to reach it.
	for _, i := range seeds {
		if !reached.Has(i) {
			h.roots = append(h.roots, heap.Root{Kind: heap.RootOutside, Object: uint32(i), Name: "held outside Python"})
			h.reachInto(g, reached, []int{i})
		}
	}
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
