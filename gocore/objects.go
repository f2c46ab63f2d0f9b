package gocore

// Objects: every allocated slot of every in-use span is a heap object. They
// are numbered densely in address order. The allocated slots of all spans
// form one bitset (slot-ordered, span after span), and a rank directory
// (set bits before each 64-bit word, kept beside the word) turns a slot's
// bit into its object number in O(1): address -> span (page table) -> slot
// (multiply by the span's divMagic) -> bit -> rank. The tables findObject
// reads per pointer are compact (32 bytes per page, 16 per 64 slots), so
// that for heaps of millions of objects they mostly stay in cache.

import (
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/gocore/rtread"
	"github.com/heapsift/heapsift/warn"
)

// heap is the dense model of the Go heap.
type heap struct {
	hp     rtread.HeapParams
	spans  []span
	pages  pageTable
	alloc  []allocWord    // allocated slots, span after span
	addr   []dump.Address // object number -> address
	spanOf []uint32       // object number -> span index
	lo, hi dump.Address   // address range of all spans
}

// buildHeap numbers the allocated objects of spans (sorted by address)
// and indexes their pages. A span whose allocation bitmap is missing is
// taken as empty, with a warning.
func buildHeap(proc *dump.Process, spans []span, hp rtread.HeapParams, w *warn.List) (heap, error) {
	h := heap{hp: hp, spans: spans}
	var nslots uint64
	for i := range h.spans {
		h.spans[i].slotBit = nslots
		nslots += uint64(h.spans[i].nelems)
	}
	allocated := make([]uint64, (nslots+63)/64)
	var nobj uint64
	for i := range h.spans {
		s := &h.spans[i]
		n, err := markAllocated(proc, s, allocated)
		if err != nil {
			w.Add(warn.New(source, "%v", err))
		}
		s.nobj = n
		s.firstObj = uint32(nobj)
		nobj += uint64(n)
	}
	if nobj >= 1<<32-1 {
		return h, fmt.Errorf("%d heap objects are too many", nobj)
	}
	h.alloc = makeHuge[allocWord](len(allocated))
	var c uint32
	for i, w := range allocated {
		h.alloc[i] = allocWord{bits: w, rank: c}
		c += uint32(bits.OnesCount64(w))
	}
	h.numberObjects(allocated, int(nobj))
	if err := h.pages.build(spans, hp.PageSize, hp.ArenaBytes); err != nil {
		return h, fmt.Errorf("indexing heap spans: %w", err)
	}
	return h, nil
}

// numberObjects fills h.addr and h.spanOf from the allocated slots.
func (h *heap) numberObjects(allocated []uint64, nobj int) {
	h.addr = makeHuge[dump.Address](nobj)
	h.spanOf = makeHuge[uint32](nobj)
	for i := range h.spans {
		s := &h.spans[i]
		obj := s.firstObj
		for slot := uint64(0); slot < uint64(s.nelems); slot++ {
			b := s.slotBit + slot
			if allocated[b/64]&(1<<(b%64)) == 0 {
				continue
			}
			h.addr[obj] = s.base + dump.Address(slot*s.elemsize)
			h.spanOf[obj] = uint32(i)
			obj++
		}
	}
	if len(h.spans) > 0 {
		last := &h.spans[len(h.spans)-1]
		h.lo, h.hi = h.spans[0].base, last.base+dump.Address(last.size(h.hp.PageSize))
	}
}

// markAllocated sets the bits of span s's allocated slots: slot i is
// allocated if i < freeindex or its allocBits bit is set (mbitmap.go isFree).
func markAllocated(proc *dump.Process, s *span, alloc []uint64) (uint32, error) {
	var ab []byte
	if nb := (uint64(s.nelems) + 7) / 8; s.allocBits != 0 && s.freeIndex < uint64(s.nelems) {
		var err error
		ab, err = proc.Slice(s.allocBits, nb)
		if err != nil {
			return 0, fmt.Errorf("span %#x: reading allocBits: %w", uint64(s.base), err)
		}
	}
	var n uint32
	for i := uint64(0); i < uint64(s.nelems); i++ {
		if i < s.freeIndex || ab != nil && ab[i/8]&(1<<(i%8)) != 0 {
			bit := s.slotBit + i
			alloc[bit/64] |= 1 << (bit % 64)
			n++
		}
	}
	return n, nil
}

// allocWord is 64 slots' allocated bits and the number of allocated slots
// before them (the object number of the first).
type allocWord struct {
	bits uint64
	rank uint32
}

// findObject returns the object holding address a and a's offset in it.
func (h *heap) findObject(a dump.Address) (obj uint32, off uint64, ok bool) {
	if a < h.lo || a >= h.hi {
		return 0, 0, false
	}
	obj, off, _, ok = h.lookup(uint64(a))
	return obj, off, ok
}

// lookup returns the object holding address a, which must be in [h.lo,
// h.hi), a's offset in it, and the entry of its page.
func (h *heap) lookup(a uint64) (obj uint32, off uint64, ps *pageSpan, ok bool) {
	ps = h.pages.spanAt(a)
	if ps == nil {
		return 0, 0, nil, false
	}
	rel := a - uint64(ps.base)
	slot := (rel * uint64(ps.divMul)) >> 32
	if slot >= uint64(ps.nelems) {
		return 0, 0, nil, false
	}
	b := ps.slotBit + slot
	w := &h.alloc[b/64]
	m := uint64(1) << (b % 64)
	if w.bits&m == 0 {
		return 0, 0, nil, false
	}
	return w.rank + uint32(bits.OnesCount64(w.bits&(m-1))), rel - slot*ps.elemsize, ps, true
}

// size returns object obj's size in bytes (its size class's size).
func (h *heap) size(obj uint32) uint64 { return h.spans[h.spanOf[obj]].elemsize }

// bytesOf returns object obj's memory, or nil if the core lacks it.
func (h *heap) bytesOf(obj uint32) []byte {
	s := &h.spans[h.spanOf[obj]]
	if s.mem == nil {
		return nil
	}
	off := uint64(h.addr[obj] - s.base)
	return s.mem[off : off+s.elemsize : off+s.elemsize]
}

func leUint64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }
