package gocore

// Marking: every object reachable from the roots, following the edges of
// the pointer graph (edges.go), read from each object's memory as it is
// scanned: the pointer words the runtime's GC information names (scan.go). (Objects with finalizers are
// not marked by their finalizer, but what they point to is: roots.go adds
// those referents as roots.)
//
// Marked objects not yet scanned are grey; a sweepQueue schedules their
// scanning in address order.

func (p *Program) isLive(obj uint32) bool { return p.live[obj/64]&(1<<(obj%64)) != 0 }

// marker holds the state of the mark phase.
type marker struct {
	sc   *edgeScanner
	live []uint64
	grey *sweepQueue
}

// mark returns which of the heap's objects the roots reach (one bit per
// object), making at most maxSweeps sweeps before the work stack takes
// over.
func (p *Program) mark(roots []Root, maxSweeps int) []uint64 {
	n := p.heap.numObjects()
	m := &marker{sc: p.newEdgeScanner(), live: makeHuge[uint64]((n + 63) / 64), grey: newSweepQueue(n, maxSweeps)}
	for i := range roots {
		m.shade(uint32(roots[i].Object))
	}
	m.grey.run(m.scan)
	return m.live
}

// shade marks obj, if it is not marked yet, and greys it.
func (m *marker) shade(obj uint32) {
	w, bit := obj/64, uint64(1)<<(obj%64)
	if m.live[w]&bit != 0 {
		return
	}
	m.live[w] |= bit
	m.grey.add(obj)
}

// scan shades the targets of obj.
func (m *marker) scan(obj uint32) {
	m.sc.each(obj, func(_ uint64, t uint32) {
		if m.live[t/64]&(1<<(t%64)) == 0 {
			m.shade(t)
		}
	})
}
