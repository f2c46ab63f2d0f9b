package retain

// Groups merged over threads. Goroutines (or threads) running the same
// function hold the same things the same way: 88 in-flight requests each
// holding a buffer are 88 groups whose roots differ only by the thread.
// MergeThreads makes them one group, with the number of threads, so that
// it reads "each request holds ~1 MB, 88 of them" and ranks by what all of
// them retain together.
//
// Summing the merged groups' retained sizes counts no byte twice: a
// group's members reach their objects along the breadth-first tree from
// their own root, so a member of one merged group never dominates a member
// of another (its tree path, and so its root, would be the dominator's).

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/heapsift/heapsift/heap"
)

// ThreadGroup is a group, or several groups whose roots differ only by
// thread, merged: Count, Bytes and Retained are the sums, Root and Example
// those of the merged group that retains most.
type ThreadGroup struct {
	Group
	// Threads is how many threads' stack roots the group merges: 1 for a
	// stack-rooted group held by one thread, 0 for other roots.
	Threads int
	// mostRetained is the retained size of the merged group whose root
	// and example the ThreadGroup shows.
	mostRetained uint64
}

// MergeThreads merges the groups whose roots differ only by thread and
// that have the same path and type. threadless returns the key of a root
// label with the thread left out, and whether the root is a thread's
// (stack) root; roots with equal keys are merged. The result is ranked as
// Groups ranks groups.
func MergeThreads(groups []Group, threadless func(root uint32) (key string, thread bool)) []ThreadGroup {
	out := make([]ThreadGroup, 0, len(groups))
	index := make(map[string]int, len(groups))
	var sb strings.Builder
	for _, g := range groups {
		key, thread := threadless(g.Root)
		if !thread {
			out = append(out, ThreadGroup{Group: g})
			continue
		}
		sb.Reset()
		fmt.Fprintf(&sb, "%s\x00%d\x00%v", key, g.Type, g.Path)
		if i, ok := index[sb.String()]; ok {
			m := &out[i]
			m.Count += g.Count
			m.Bytes += g.Bytes
			m.Threads++
			if g.Retained > m.mostRetained {
				m.Root, m.Example, m.mostRetained = g.Root, g.Example, g.Retained
			}
			m.Retained += g.Retained
			continue
		}
		index[sb.String()] = len(out)
		out = append(out, ThreadGroup{Group: g, Threads: 1, mostRetained: g.Retained})
	}
	slices.SortStableFunc(out, func(a, b ThreadGroup) int {
		if c := cmp.Compare(b.Retained, a.Retained); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Bytes, a.Bytes); c != 0 {
			return c
		}
		return cmp.Compare(b.Count, a.Count)
	})
	return out
}

// GroupsByThread returns the analysis's groups merged over threads
// (MergeThreads): stack roots with the same function, variable and path
// in different threads are one root.
func (a *Analysis) GroupsByThread() []ThreadGroup {
	return MergeThreads(a.groups, func(label uint32) (string, bool) {
		r := a.roots.info(label)
		if r.Kind != heap.RootStack {
			return r.Key(), false
		}
		r.Thread, r.ThreadName, r.Addr = 0, "", 0
		return r.Key(), true
	})
}

// RootsReaching returns the roots (collapsed, as groups show them) from
// which object obj is reachable, in label order: the same roots reach the
// object and each of its dominators, since every path to it passes them.
// It walks the in-edges back from obj once (building them costs 8 bytes
// per edge while it runs), so it is for one object at a time (why); nil
// without the graph's edges (after grouping) or for unreachable objects.
func (a *Analysis) RootsReaching(obj int) []heap.Root {
	g := a.graph
	if g == nil || g.dst == nil || !a.Reachable(obj) {
		return nil
	}
	rev := g.Reverse()
	sr := g.SuperRoot()
	seen := make([]uint64, (g.NumNodes()+63)/64)
	reached := make([]bool, len(a.roots.infos))
	seen[obj/64] |= 1 << (obj % 64)
	stack := []uint32{uint32(obj)}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		from, edges := rev.Referrers(v)
		for i, u := range from {
			if u == sr {
				if l := g.rootLabel(edges[i]); int(l) < len(reached) {
					reached[l] = true
				}
				continue
			}
			if seen[u/64]&(1<<(u%64)) == 0 {
				seen[u/64] |= 1 << (u % 64)
				stack = append(stack, u)
			}
		}
	}
	var out []heap.Root
	for l, ok := range reached {
		if ok {
			out = append(out, a.roots.infos[l])
		}
	}
	return out
}
