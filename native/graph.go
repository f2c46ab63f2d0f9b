package native

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"github.com/heapsift/heapsift/internal/parallel"
)

// References are found conservatively: every aligned word of an
// allocation in use that points into another allocation in use (at its
// start or inside it) is a reference, labelled by the word's offset.
//
// They are not kept: arrays of them would cost 4 bytes an allocation and
// 8 a reference, as much as the rest of the model, and `histogram` needs
// none. The mark follows references as it reaches allocations, so that
// it reads only what is live; Refs reads one allocation's again;
// EachLiveRefs every live one's, in parallel, for a caller (retain) that
// builds a graph of its own; leak roots are found the first time they are
// asked for, by reading the leaked allocations. Retention reads the live
// allocations three times, so that it spends in time about what it saves
// in memory (a fifth of the overview's peak on make bench's core).

// eachRef calls fn for every reference of object i: the target and the
// offset of the pointer word.
func (h *Heap) eachRef(i int, fn func(j int, off uint32)) {
	b := h.bytesOf(i)
	lo, hi := h.index.lo, h.index.hi
	for k, v := range words(b) {
		if v-lo >= hi-lo {
			continue
		}
		if j, ok := h.find(v); ok && j != i {
			fn(j, uint32(8*k))
		}
	}
}

// hostLittleEndian says whether the memory of a little-endian core reads
// as words on this machine as it is.
var hostLittleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// words returns b's little-endian words. Reading them in place, rather
// than through a byte slice, takes a third off the time of a scan: the
// heap's memory is 8-aligned where the core is mapped or held, so that
// only an odd slice (or a big-endian host) takes a copy.
func words(b []byte) []uint64 {
	p := unsafe.SliceData(b)
	if hostLittleEndian && uintptr(unsafe.Pointer(p))%8 == 0 {
		return unsafe.Slice((*uint64)(unsafe.Pointer(p)), len(b)/8)
	}
	w := make([]uint64, len(b)/8)
	for k := range w {
		w[k] = le64(b[8*k:])
	}
	return w
}

// Refs returns the allocation's references and the offsets of their
// pointer words, in new slices.
func (h *Heap) Refs(obj int) (targets, labels []uint32) {
	if obj < 0 || obj >= len(h.addrs) {
		return nil, nil
	}
	h.eachRef(obj, func(j int, off uint32) {
		targets = append(targets, uint32(j))
		labels = append(labels, off)
	})
	return targets, labels
}

// liveRefsChunk is how many objects a worker of EachLiveRefs takes at a
// time.
const liveRefsChunk = 1 << 14

// EachLiveRefs calls fn with the references of every live allocation that
// has any, in object order. The slices are reused from call to call: fn
// must not keep them. The references are read by one worker per CPU, a
// few chunks of objects ahead of fn (parallel.EachRefs).
func (h *Heap) EachLiveRefs(fn func(obj int, targets, labels []uint32)) {
	n := len(h.addrs)
	err := parallel.EachRefs(max(1, runtime.GOMAXPROCS(0)), n, liveRefsChunk, func(_, lo, hi int, r *parallel.Refs) {
		h.liveRefs(lo, hi, r)
	}, fn)
	if f := (*parallel.Failure)(nil); errors.As(err, &f) {
		lo := f.Chunk * liveRefsChunk
		panic(fmt.Sprintf("native: reading the references of objects %d to %d: %v", lo, min(n, lo+liveRefsChunk), f.Value))
	}
}

// liveRefs finds the references of the live objects lo..hi-1 into r.
func (h *Heap) liveRefs(lo, hi int, r *parallel.Refs) {
	add := func(j int, off uint32) {
		r.Targets = append(r.Targets, uint32(j))
		r.Labels = append(r.Labels, off)
	}
	for i := lo; i < hi; i++ {
		if h.live.Has(i) {
			h.eachRef(i, add)
			r.End(i)
		}
	}
}
