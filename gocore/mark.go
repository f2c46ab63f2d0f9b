package gocore

// Marking: every object reachable from the roots, following the edges of
// the pointer graph (edges.go), which follow the pointer words the
// runtime's GC information names (scan.go). (Objects with finalizers are
// not marked by their finalizer, but what they point to is: roots.go adds
// those referents as roots.)
//
// Marked objects not yet scanned are grey. They are scanned in sweeps over
// the heap in address order, so that the graph is read sequentially: an
// object greyed ahead of the sweep's finger waits for the finger, one
// greyed behind it for the next sweep. A sweep with little to do costs
// little (a pass over a bitset), but a long list whose nodes each point to
// the one before them in memory would take a sweep per node: after
// maxSweeps sweeps, objects greyed behind the finger go on a work stack
// and are scanned at once.

import "math/bits"

func (p *Program) isLive(obj uint32) bool { return p.live[obj/64]&(1<<(obj%64)) != 0 }

// marker holds the state of the mark phase.
type marker struct {
	g      *edgeGraph
	live   []uint64
	grey   []uint64
	greys  int    // set bits in grey
	finger uint32 // the object the sweep is at
	atOnce bool   // objects greyed behind the finger go on work
	work   []uint32
}

// mark computes p.live, making at most maxSweeps sweeps before the work
// stack takes over.
func (p *Program) mark(maxSweeps int) {
	n := (len(p.heap.addr) + 63) / 64
	m := &marker{g: &p.edges, live: makeHuge[uint64](n), grey: makeHuge[uint64](n)}
	for i := range p.roots {
		m.shade(uint32(p.roots[i].Object))
	}
	for sweep := 1; m.greys > 0; sweep++ {
		m.sweep()
		m.atOnce = sweep >= maxSweeps
	}
	p.live = m.live
}

// shade marks obj, if it is not marked yet, and greys it.
func (m *marker) shade(obj uint32) {
	w, bit := obj/64, uint64(1)<<(obj%64)
	if m.live[w]&bit != 0 {
		return
	}
	m.live[w] |= bit
	if m.atOnce && obj <= m.finger {
		m.work = append(m.work, obj)
		return
	}
	m.grey[w] |= bit
	m.greys++
}

// sweep scans the grey objects in address order.
func (m *marker) sweep() {
	m.finger = 0
	for w := range m.grey {
		for m.grey[w] != 0 {
			b := uint32(bits.TrailingZeros64(m.grey[w]))
			m.grey[w] &^= 1 << b
			m.greys--
			obj := uint32(w)*64 + b
			m.finger = obj
			m.scan(obj)
			for len(m.work) > 0 {
				o := m.work[len(m.work)-1]
				m.work = m.work[:len(m.work)-1]
				m.scan(o)
			}
		}
	}
}

// scan shades the targets of obj.
func (m *marker) scan(obj uint32) {
	targets, _ := m.g.of(obj)
	for _, t := range targets {
		if m.live[t/64]&(1<<(t%64)) == 0 {
			m.shade(t)
		}
	}
}
