package gocore

// Objects: every allocated slot of every in-use span is a heap object. They
// are numbered densely in address order. The allocated slots of all spans
// form one bitset (slot-ordered, span after span), and a rank directory
// (set bits before each 64-bit word, kept beside the word) turns a slot's
// bit into its object number in O(1): address -> span (page table) -> slot
// (multiply by the span's divMagic) -> bit -> rank. The tables findObject
// reads per pointer are compact (32 bytes per page, 16 per 64 slots), so
// that for heaps of millions of objects they mostly stay in cache.
//
// The other way, nothing is kept per object: an object's span is found
// from a sample of every 64th object's span (spanSel) and a search among
// the few spans between two samples, its slot from its rank within the
// span (the slot itself when the span's allocated slots are its first
// ones, as after a sweep of a span allocated in order; else a select in the
// span's bitset words), and its address is the span's base plus the slot
// times the element size. That costs a sixteenth of a byte per object
// where an address and a span index would cost 12.

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"sort"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/gocore/rtread"
	"github.com/heapsift/heapsift/warn"
)

// heap is the dense model of the Go heap.
type heap struct {
	hp    rtread.HeapParams
	spans []span
	pages pageTable
	alloc []allocWord // allocated slots, span after span; one more word with the total rank
	nobj  uint32      // allocated objects
	// spanSel[k] is the span of object k<<spanSelShift; one more entry
	// holds the last span.
	spanSel []uint32
	lo, hi  dump.Address // address range of all spans
}

// spanSelShift is log2 of the objects between two samples of spanSel.
const spanSelShift = 6

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
	// The bits are set in place; the ranks are filled once all are.
	h.alloc = makeHuge[allocWord](int((nslots+63)/64) + 1)
	var nobj uint64
	for i := range h.spans {
		s := &h.spans[i]
		n, err := markAllocated(proc, s, h.alloc)
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
	h.nobj = uint32(nobj)
	var c uint32
	for i := range h.alloc {
		h.alloc[i].rank = c
		c += uint32(bits.OnesCount64(h.alloc[i].bits))
	}
	h.sampleSpans()
	if len(h.spans) > 0 {
		last := &h.spans[len(h.spans)-1]
		h.lo, h.hi = h.spans[0].base, last.base+dump.Address(last.size(h.hp.PageSize))
	}
	if err := h.pages.build(spans, hp.PageSize, hp.ArenaBytes); err != nil {
		return h, fmt.Errorf("indexing heap spans: %w", err)
	}
	return h, nil
}

// sampleSpans fills spanSel.
func (h *heap) sampleSpans() {
	n := (int(h.nobj) + 1<<spanSelShift - 1) >> spanSelShift
	h.spanSel = make([]uint32, n+1)
	si := 0
	for k := 0; k < n; k++ {
		obj := uint32(k) << spanSelShift
		for h.spans[si].firstObj+h.spans[si].nobj <= obj {
			si++
		}
		h.spanSel[k] = uint32(si)
	}
	h.spanSel[n] = uint32(max(len(h.spans)-1, 0))
}

// numObjects returns the number of allocated objects.
func (h *heap) numObjects() int { return int(h.nobj) }

// spanIndex returns the index of the span holding object obj.
func (h *heap) spanIndex(obj uint32) uint32 {
	k := obj >> spanSelShift
	lo, hi := h.spanSel[k], h.spanSel[k+1]
	if lo == hi || h.spans[lo].firstObj+h.spans[lo].nobj > obj {
		return lo
	}
	if s := &h.spans[lo+1]; s.firstObj <= obj && s.firstObj+s.nobj > obj {
		return lo + 1
	}
	// The last span in (lo, hi] that starts at or before obj: spans
	// without objects start where the next one does, and come first.
	i := sort.Search(int(hi-lo), func(i int) bool { return h.spans[lo+1+uint32(i)].firstObj > obj })
	return lo + uint32(i)
}

// spanOf returns the span holding object obj.
func (h *heap) spanOf(obj uint32) *span { return &h.spans[h.spanIndex(obj)] }

// slotOf returns the slot of object obj in its span s.
func (h *heap) slotOf(obj uint32, s *span) uint64 {
	k := obj - s.firstObj
	if s.dense {
		return uint64(k)
	}
	// The word of the span's bitset holding obj's bit: the last one
	// whose rank is at most obj, among words that have a set bit.
	w0, w1 := s.slotBit/64, (s.slotBit+uint64(s.nelems)+63)/64
	w := w0 + uint64(sort.Search(int(w1-w0), func(i int) bool { return h.alloc[w0+uint64(i)+1].rank > obj }))
	b := w*64 + uint64(select64(h.alloc[w].bits, int(obj-h.alloc[w].rank)))
	return b - s.slotBit
}

// select64 returns the position of the k-th (from 0) set bit of x, which
// must have more than k.
func select64(x uint64, k int) int {
	pos := 0
	for {
		c := bits.OnesCount8(uint8(x))
		if k < c {
			break
		}
		k -= c
		x >>= 8
		pos += 8
	}
	for ; k > 0; k-- {
		x &= x - 1
	}
	return pos + bits.TrailingZeros64(x)
}

// addrOf returns the address of object obj's allocation slot.
func (h *heap) addrOf(obj uint32) dump.Address {
	s := h.spanOf(obj)
	return s.base + dump.Address(h.slotOf(obj, s)*s.elemsize)
}

// eachObject calls fn with the number and slot of each allocated object
// of span s, in address order.
func (h *heap) eachObject(s *span, fn func(obj uint32, slot uint64)) {
	if s.dense {
		for k := uint32(0); k < s.nobj; k++ {
			fn(s.firstObj+k, uint64(k))
		}
		return
	}
	obj := s.firstObj
	end := s.slotBit + uint64(s.nelems)
	for w := s.slotBit / 64; w*64 < end; w++ {
		m := h.alloc[w].bits
		if lo := s.slotBit; w*64 < lo {
			m &^= 1<<(lo-w*64) - 1
		}
		if end < (w+1)*64 {
			m &= 1<<(end-w*64) - 1
		}
		for m != 0 {
			b := uint64(bits.TrailingZeros64(m))
			m &= m - 1
			fn(obj, w*64+b-s.slotBit)
			obj++
		}
	}
}

// markAllocated sets the bits of span s's allocated slots: slot i is
// allocated if i < freeindex or its allocBits bit is set (mbitmap.go
// isFree). It notes whether they are the span's first slots (s.dense).
func markAllocated(proc *dump.Process, s *span, alloc []allocWord) (uint32, error) {
	var ab []byte
	if nb := (uint64(s.nelems) + 7) / 8; s.allocBits != 0 && s.freeIndex < uint64(s.nelems) {
		var err error
		ab, err = proc.Slice(s.allocBits, nb)
		if err != nil {
			s.dense = true
			return 0, fmt.Errorf("span %#x: reading allocBits: %w", uint64(s.base), err)
		}
	}
	var n uint32
	dense := true
	for i := uint64(0); i < uint64(s.nelems); i++ {
		if i < s.freeIndex || ab != nil && ab[i/8]&(1<<(i%8)) != 0 {
			bit := s.slotBit + i
			alloc[bit/64].bits |= 1 << (bit % 64)
			dense = dense && i == uint64(n)
			n++
		}
	}
	s.dense = dense
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
	if ps.dense {
		if slot >= uint64(ps.nobj) {
			return 0, 0, nil, false
		}
		return ps.firstObj + uint32(slot), rel - slot*ps.elemsize, ps, true
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
func (h *heap) size(obj uint32) uint64 { return h.spanOf(obj).elemsize }

// bytesOf returns object obj's memory, or nil if the core lacks it.
func (h *heap) bytesOf(obj uint32) []byte {
	s := h.spanOf(obj)
	if s.mem == nil {
		return nil
	}
	off := h.slotOf(obj, s) * s.elemsize
	return s.mem[off : off+s.elemsize : off+s.elemsize]
}

func leUint64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }
