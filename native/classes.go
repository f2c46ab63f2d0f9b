package native

import (
	"sort"

	"github.com/heapsift/heapsift/heap"
)

// ClassStats is one class's allocations, leaked ones included.
type ClassStats struct {
	Type                heap.TypeID
	Name                string
	Count, Bytes        uint64
	Leaked, LeakedBytes uint64
	LeakRoots           uint64 // leaked allocations no leaked one points to
}

// Classes sums every allocation in use by class, sorted by name.
func (h *Heap) Classes() []ClassStats {
	all := make([]ClassStats, h.NumTypes())
	for i := range h.addrs {
		c := &all[h.types[i]]
		c.Count++
		c.Bytes += h.size(i)
		if !h.Live(i) {
			c.Leaked++
			c.LeakedBytes += h.size(i)
		}
		if h.LeakRoot(i) {
			c.LeakRoots++
		}
	}
	kept := all[:0]
	for id, c := range all {
		if c.Count > 0 {
			c.Type, c.Name = heap.TypeID(id), h.TypeName(heap.TypeID(id))
			kept = append(kept, c)
		}
	}
	sort.SliceStable(kept, func(i, j int) bool { return kept[i].Name < kept[j].Name })
	return kept
}
