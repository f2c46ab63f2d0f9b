package gocore

// The pointer graph. Each word of an allocated object that the GC treats as
// a pointer (scan.go) and that points into an allocated heap object is an
// edge: source object, offset of the word in it, target object. The edges
// are not kept: a model that held them would need 4 bytes per object and 8
// per edge (more than everything else it keeps per object), and resolving
// a pointer costs little more than reading a kept edge, since the tables it
// reads (objects.go) stay in cache. Marking and type propagation read them
// from the objects' memory as they visit the objects; Edges and
// ForEachPointer read one object's; EachLiveRefs reads every live object's
// in parallel workers, in chunks handed on in object order, for a caller
// (retain) that builds a graph of its own.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"runtime"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/gocore/rtread"
	"github.com/heapsift/heapsift/internal/parallel"
)

// edgeScanner finds the edges of objects, for one goroutine at a time.
type edgeScanner struct {
	p      *Program
	h      *heap
	lastTA dump.Address // the last type looked up, and its descriptor
	lastRT *rtread.RType
	// The edges of the last object scanned.
	targets, offsets []uint32
}

func (p *Program) newEdgeScanner() *edgeScanner { return &edgeScanner{p: p, h: &p.heap} }

// scan finds the edges of object obj: their targets and the offsets of
// their pointer words from the value's start (after any malloc header), in
// increasing offset order, in slices reused by the next scan. Pointers more
// than 4 GiB into an object are left out.
func (sc *edgeScanner) scan(obj uint32) (targets, offsets []uint32) {
	sc.targets, sc.offsets = sc.targets[:0], sc.offsets[:0]
	h := sc.h
	s := h.spanOf(obj)
	if s.noscan || s.mem == nil {
		return nil, nil
	}
	base := h.slotOf(obj, s) * s.elemsize
	mem := s.mem[base : base+s.elemsize]
	if s.heapBits != 0 {
		sc.bitmapWords(mem, s.mem[s.heapBits:], base/8)
	} else if rt, from := sc.scanType(s, mem); rt != nil {
		// Offsets are kept from the value's start, after any malloc
		// header.
		tilePointers(rt, mem, from, func(off, val uint64) bool {
			sc.add(off-from, val)
			return true
		})
	}
	return sc.targets, sc.offsets
}

// bitmapWords finds the edges of an object of a span with a heap bitmap:
// mem is the object, hb the bitmap, w0 the object's first word's bit.
func (sc *edgeScanner) bitmapWords(mem, hb []byte, w0 uint64) {
	nw := uint64(len(mem)) / 8
	for w := uint64(0); w < nw; {
		bit := w0 + w
		// Take the bits of up to 64 words at once.
		var m uint64
		var n uint64
		if i := bit / 8; i+8 <= uint64(len(hb)) {
			m = binary.LittleEndian.Uint64(hb[i:]) >> (bit % 8)
			n = min(64-bit%8, nw-w)
		} else {
			m = uint64(hb[i]) >> (bit % 8)
			n = min(8-bit%8, nw-w)
		}
		if n < 64 {
			m &= 1<<n - 1
		}
		for m != 0 {
			i := w + uint64(bits.TrailingZeros64(m))
			m &= m - 1
			sc.add(i*8, binary.LittleEndian.Uint64(mem[i*8:]))
		}
		w += n
	}
}

// add records an edge to what val points to, if it is a heap object.
func (sc *edgeScanner) add(off, val uint64) {
	h := sc.h
	if val-uint64(h.lo) >= uint64(h.hi-h.lo) || off > 1<<32-1 {
		return
	}
	if t, _, _, ok := h.lookup(val); ok {
		sc.targets = append(sc.targets, t)
		sc.offsets = append(sc.offsets, uint32(off))
	}
}

// scanType is Program.scanType with the last descriptor kept; descriptors
// are looked up under the Program's typesMu, since workers share them.
func (sc *edgeScanner) scanType(s *span, mem []byte) (*rtread.RType, uint64) {
	ta, start := sc.h.scanTypeAddr(s, mem)
	if ta == 0 {
		return nil, 0
	}
	if ta != sc.lastTA {
		sc.p.typesMu.Lock()
		rt := usableRType(sc.p.rtypes.Get(ta))
		sc.p.typesMu.Unlock()
		sc.lastTA, sc.lastRT = ta, rt
	}
	if sc.lastRT == nil {
		return nil, 0
	}
	return sc.lastRT, start
}

// Edges returns object obj's pointers to heap objects, as ForEachPointer
// gives them: the target object numbers and the byte offsets of the
// pointer words from obj's Addr (its value, after any malloc header), in
// increasing offset order; FieldPath(obj, offset) names an edge. They are
// read from the object's memory on each call, into new slices. (Pointers
// more than 4 GiB into an object are left out.)
func (p *Program) Edges(obj int) (targets, offsets []uint32) {
	if obj < 0 || obj >= p.heap.numObjects() {
		return nil, nil
	}
	return p.newEdgeScanner().scan(uint32(obj))
}

// liveRefsChunk is the number of objects whose edges a worker of
// EachLiveRefs finds at a time.
const liveRefsChunk = 1 << 12

// EachLiveRefs calls fn with the edges of every live object that has any,
// in object order, as Edges gives them. The slices are reused from call to
// call: fn must not keep them. The edges are found by one worker per CPU,
// a few chunks of objects ahead of fn (parallel.EachRefs).
func (p *Program) EachLiveRefs(fn func(obj int, targets, offsets []uint32)) {
	n := p.heap.numObjects()
	scanners := make([]*edgeScanner, max(1, runtime.GOMAXPROCS(0)))
	err := parallel.EachRefs(len(scanners), n, liveRefsChunk, func(w, lo, hi int, r *parallel.Refs) {
		// Each worker makes its scanner, from memory of its own: two made
		// in a row could share a cache line, which every scan writes.
		if scanners[w] == nil {
			scanners[w] = p.newEdgeScanner()
		}
		p.liveRefs(scanners[w], uint32(lo), uint32(hi), r)
	}, fn)
	if f := (*parallel.Failure)(nil); errors.As(err, &f) {
		lo := f.Chunk * liveRefsChunk
		panic(fmt.Sprintf("reading the pointers of objects %d to %d: %v", lo, min(n, lo+liveRefsChunk), f.Value))
	}
}

// liveRefs finds the edges of the live objects lo..hi-1 into r.
func (p *Program) liveRefs(sc *edgeScanner, lo, hi uint32, r *parallel.Refs) {
	for obj := lo; obj < hi; obj++ {
		if !p.isLive(obj) {
			continue
		}
		if targets, offsets := sc.scan(obj); len(targets) > 0 {
			r.Targets = append(r.Targets, targets...)
			r.Labels = append(r.Labels, offsets...)
			r.End(int(obj))
		}
	}
}
