package gocore

// Marking: every object reachable from the roots, following the pointer
// words the runtime's GC information names (scan.go), with an explicit work
// stack and a bitset, as the GC does. (Objects with finalizers are not
// marked by their finalizer, but what they point to is: roots.go adds those
// referents as roots.)

import (
	"encoding/binary"
	"math/bits"

	"github.com/heapsift/heapsift/dump"
)

func (p *Program) isLive(obj uint32) bool { return p.live[obj/64]&(1<<(obj%64)) != 0 }

// marker holds the state of the mark phase.
type marker struct {
	p    *Program
	h    *heap
	live []uint64
	work []uint32
}

// grey marks the object holding address a, if any, and queues it.
func (m *marker) grey(a uint64) {
	h := m.h
	if dump.Address(a) < h.lo || dump.Address(a) >= h.hi {
		return
	}
	obj, _, ok := h.findObject(dump.Address(a))
	if !ok {
		return
	}
	if m.live[obj/64]&(1<<(obj%64)) == 0 {
		m.live[obj/64] |= 1 << (obj % 64)
		m.work = append(m.work, obj)
	}
}

// mark computes p.live.
func (p *Program) mark() {
	m := &marker{p: p, h: &p.heap, live: make([]uint64, (len(p.heap.addr)+63)/64)}
	for i := range p.roots {
		obj := uint32(p.roots[i].Object)
		if m.live[obj/64]&(1<<(obj%64)) == 0 {
			m.live[obj/64] |= 1 << (obj % 64)
			m.work = append(m.work, obj)
		}
	}
	for len(m.work) > 0 {
		obj := m.work[len(m.work)-1]
		m.work = m.work[:len(m.work)-1]
		m.scan(obj)
	}
	p.live = m.live
}

// scan greys what object obj points to. It is forEachPointerWord
// specialized for the mark loop.
func (m *marker) scan(obj uint32) {
	h := m.h
	s := &h.spans[h.spanOf[obj]]
	if s.noscan || s.mem == nil {
		return
	}
	base := uint64(h.addr[obj] - s.base)
	mem := s.mem[base : base+s.elemsize]
	if s.heapBits == 0 {
		if rt, start := m.p.scanType(s, mem); rt != nil {
			tilePointers(rt, mem, start, func(_, val uint64) bool {
				m.grey(val)
				return true
			})
		}
		return
	}
	hb := s.mem[s.heapBits:]
	w0 := base / 8
	nw := s.elemsize / 8
	for w := uint64(0); w < nw; {
		bit := w0 + w
		// Take the bits of up to 8 words at once.
		b := uint64(hb[bit/8]) >> (bit % 8)
		n := min(8-bit%8, nw-w)
		b &= 1<<n - 1
		for b != 0 {
			i := uint64(bits.TrailingZeros64(b))
			b &= b - 1
			m.grey(binary.LittleEndian.Uint64(mem[(w+i)*8:]))
		}
		w += n
	}
}
