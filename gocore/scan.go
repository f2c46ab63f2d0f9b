package gocore

// Pointer slots of heap objects, from the runtime's own GC information
// (mbitmap.go typePointersOfUnchecked):
//
//   - noscan spans: none;
//   - objects of at most 512 bytes: the span's heap bitmap at its end, one
//     bit per word;
//   - larger objects of small size classes: the type in their 8-byte malloc
//     header, its pointer mask tiled over the rest of the slot;
//   - large objects: span.largeType, tiled the same way over the span.

import (
	"encoding/binary"
	"math/bits"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/gocore/rtread"
)

// scanTypeAddr returns the address of the type descriptor that covers the
// data of an object of span s whose memory is mem (from its malloc header
// or the span's largeType; 0 if none), and where that data starts.
func (h *heap) scanTypeAddr(s *span, mem []byte) (dump.Address, uint64) {
	if s.header {
		return dump.Address(binary.LittleEndian.Uint64(mem)), h.hp.MallocHeader
	}
	return s.largeType, 0
}

// usableRType keeps a descriptor only if its pointer mask can be applied.
func usableRType(rt *rtread.RType, err error) *rtread.RType {
	if err != nil || rt.MaskErr != nil || rt.Size == 0 {
		return nil
	}
	return rt
}

// scanType returns the type whose pointer mask covers object obj's data
// and where that data starts, for objects with a header or largeType.
func (p *Program) scanType(s *span, mem []byte) (*rtread.RType, uint64) {
	ta, start := p.heap.scanTypeAddr(s, mem)
	if ta == 0 {
		return nil, 0
	}
	if rt := usableRType(p.rtypes.Get(ta)); rt != nil {
		return rt, start
	}
	return nil, 0
}

// forEachPointerWord calls fn with the offset and value of each word of
// object obj that the GC treats as a pointer. The values are raw (they may
// be nil or point outside the heap). fn returns false to stop.
func (p *Program) forEachPointerWord(obj uint32, fn func(off uint64, val uint64) bool) {
	s := p.heap.spanOf(obj)
	if s.noscan || s.mem == nil {
		return
	}
	base := p.heap.slotOf(obj, s) * s.elemsize
	mem := s.mem[base : base+s.elemsize]
	if s.heapBits != 0 {
		hb := s.mem[s.heapBits:]
		w0 := base / 8
		nw := s.elemsize / 8
		for w := uint64(0); w < nw; w++ {
			bit := w0 + w
			if hb[bit/8]&(1<<(bit%8)) == 0 {
				continue
			}
			if !fn(w*8, binary.LittleEndian.Uint64(mem[w*8:])) {
				return
			}
		}
		return
	}
	rt, start := p.scanType(s, mem)
	if rt == nil {
		return
	}
	tilePointers(rt, mem, start, fn)
}

// tilePointers calls fn for each pointer word of consecutive values of type
// rt laid out from offset start of mem.
func tilePointers(rt *rtread.RType, mem []byte, start uint64, fn func(off uint64, val uint64) bool) {
	limit := uint64(len(mem))
	words := rt.PtrBytes / 8
	for elem := start; elem+8 <= limit; elem += rt.Size {
		for i, m := range rt.Mask {
			for m != 0 {
				w := uint64(i)*64 + uint64(bits.TrailingZeros64(m))
				m &= m - 1
				if w >= words {
					break
				}
				off := elem + w*8
				if off+8 > limit {
					return
				}
				if !fn(off, binary.LittleEndian.Uint64(mem[off:])) {
					return
				}
			}
		}
	}
}

// ForEachPointer calls fn for each pointer from object obj to a heap
// object, with the offset of the pointer within obj and the target object
// number, following the runtime's GC information, in increasing offset
// order (the edges Edges returns). fn returns false to stop.
func (p *Program) ForEachPointer(obj int, fn func(offset uint64, target int) bool) {
	targets, offsets := p.Edges(obj)
	for i, t := range targets {
		if !fn(uint64(offsets[i]), int(t)) {
			return
		}
	}
}
