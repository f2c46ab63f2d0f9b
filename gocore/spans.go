package gocore

// Spans: the heap is read span by span, from the in-use spans package
// rtread finds in runtime.mheap_.allspans. For each of them we keep, in one
// dense array sorted by address, what object enumeration and pointer
// scanning need: base, page count, element size and count, span class,
// largeType, and a zero-copy view of the span's memory. A two-level page table (arena, then page within the
// arena) maps any address to what resolving a pointer needs of the in-use
// span holding it.

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/gocore/rtread"
	"github.com/heapsift/heapsift/warn"
)

// maxSpanPages bounds the size of a span gocore believes (64 GiB with 8 KiB
// pages); a larger one is taken for a corrupt mspan.
const maxSpanPages = 1 << 23

// maxSpanElems bounds the objects of a span that pointers are resolved to
// (the runtime's spans hold at most 1024: 8-byte objects in 8 KiB).
const maxSpanElems = 1<<16 - 1

// span is an in-use heap span.
type span struct {
	addr      dump.Address // of the mspan struct
	base      dump.Address
	npages    uint64
	elemsize  uint64
	nelems    uint32
	divMul    uint32 // (offset*divMul)>>32 == offset/elemsize for small spans
	class     uint8  // size class; 0 for large objects
	noscan    bool
	unswept   bool
	greenTea  bool         // has Green Tea inline mark bits
	header    bool         // objects start with a malloc header (*abi.Type)
	largeType dump.Address // type of a large object, or 0
	specials  dump.Address
	firstObj  uint32       // number of the span's first allocated object
	nobj      uint32       // allocated objects
	dense     bool         // the allocated slots are the first nobj
	slotBit   uint64       // index of slot 0 in heap.alloc
	mem       []byte       // the span's memory, nil if the core lacks it
	heapBits  uint32       // offset in mem of the pointer bitmap, 0 if none
	freeIndex uint64       // slots below it are allocated
	allocBits dump.Address // the allocation bitmap of the slots from freeIndex
}

// size returns the span's size in bytes.
func (s *span) size(pageSize uint64) uint64 { return s.npages * pageSize }

// pageTable maps each page to what a pointer into it needs of the in-use
// span holding it (40 bytes a page: 0.5% of the heap's size), so that
// resolving a pointer reads one page entry, and one allocWord unless the
// span's allocated slots are its first ones.
type pageTable struct {
	pageShift  uint
	arenaShift uint
	minArena   uint64
	arenas     [][]pageSpan // [arena - minArena][page in arena]
}

// pageSpan describes the in-use span holding a page.
type pageSpan struct {
	base     dump.Address
	slotBit  uint64 // index of the span's slot 0 in heap.alloc
	elemsize uint64
	firstObj uint32 // number of the span's first allocated object
	divMul   uint32 // 0 for large-object spans, whose only slot is 0
	nelems   uint16 // 0 for a page without an in-use span
	// nobj is the number of allocated objects when they are the span's
	// first slots (dense), which then need no allocWord to number.
	nobj   uint16
	dense  bool
	class  uint8
	noscan bool
	header bool
}

// spanAt returns the entry of the page holding a, or nil.
func (pt *pageTable) spanAt(a uint64) *pageSpan {
	ai := a>>pt.arenaShift - pt.minArena
	if ai >= uint64(len(pt.arenas)) {
		return nil
	}
	pages := pt.arenas[ai]
	if pages == nil {
		return nil
	}
	return &pages[(a>>pt.pageShift)&uint64(len(pages)-1)]
}

// build indexes the pages of spans, whose slotBits, objects and dense
// flags must be set.
func (pt *pageTable) build(spans []span, pageSize, arenaBytes uint64) error {
	if pageSize == 0 || pageSize&(pageSize-1) != 0 || arenaBytes < pageSize || arenaBytes&(arenaBytes-1) != 0 {
		return fmt.Errorf("bad page size %d or arena size %d", pageSize, arenaBytes)
	}
	pt.pageShift = uint(log2(pageSize))
	pt.arenaShift = uint(log2(arenaBytes))
	if len(spans) == 0 {
		return nil
	}
	lo := uint64(spans[0].base) >> pt.arenaShift
	hi := uint64(spans[len(spans)-1].base+dump.Address(spans[len(spans)-1].size(pageSize))-1) >> pt.arenaShift
	if hi-lo >= 1<<22 {
		return fmt.Errorf("heap spans %#x..%#x cover too many arenas", uint64(spans[0].base), hi<<pt.arenaShift)
	}
	pt.minArena = lo
	pt.arenas = make([][]pageSpan, hi-lo+1)
	perArena := arenaBytes / pageSize
	// The pages of all arenas with spans, in one allocation.
	used := make([]bool, len(pt.arenas))
	n := 0
	for i := range spans {
		s := &spans[i]
		first := uint64(s.base) >> pt.arenaShift
		last := (uint64(s.base) + s.size(pageSize) - 1) >> pt.arenaShift
		for ai := first - lo; ai <= last-lo; ai++ {
			if !used[ai] {
				used[ai] = true
				n++
			}
		}
	}
	all := makeHuge[pageSpan](n * int(perArena))
	for ai := range used {
		if used[ai] {
			pt.arenas[ai], all = all[:perArena:perArena], all[perArena:]
		}
	}
	for i := range spans {
		s := &spans[i]
		e := pageSpan{
			base: s.base, slotBit: s.slotBit, elemsize: s.elemsize, firstObj: s.firstObj, divMul: s.divMul,
			nelems: uint16(min(s.nelems, maxSpanElems)), class: s.class, noscan: s.noscan, header: s.header,
		}
		if s.dense && s.nelems <= maxSpanElems {
			e.dense, e.nobj = true, uint16(s.nobj)
		}
		for p := uint64(s.base) >> pt.pageShift; p < (uint64(s.base)+s.size(pageSize))>>pt.pageShift; p++ {
			pt.arenas[p/perArena-lo][p%perArena] = e
		}
	}
	return nil
}

func log2(x uint64) int {
	n := 0
	for x > 1 {
		x >>= 1
		n++
	}
	return n
}

// findSpans reads the in-use spans, checks them, and returns them sorted
// by address, each with a view of its memory. A span that cannot be right
// is left out with a warning.
func findSpans(rd *rtread.Reader, l rtread.SpanLayout, hp rtread.HeapParams, w *warn.List) ([]span, error) {
	ms, warns, err := rd.ReadInUseSpans(l, hp)
	w.Add(warns...)
	if err != nil {
		return nil, fmt.Errorf("reading heap spans: %w", err)
	}
	spans := make([]span, 0, len(ms))
	noMem := 0
	for i := range ms {
		s, err := newSpan(rd.Proc(), &ms[i], hp)
		if err != nil {
			w.Add(warn.New(source, "%v", err))
			continue
		}
		if s.mem == nil {
			noMem++
		}
		spans = append(spans, s)
	}
	if noMem > 0 {
		w.Addf(source, "the memory of %d of %d heap spans is missing from the core: their objects are counted but not scanned or typed", noMem, len(spans))
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.base, b.base) })
	for i := 1; i < len(spans); i++ {
		prev := &spans[i-1]
		if prev.base+dump.Address(prev.size(hp.PageSize)) > spans[i].base {
			return nil, fmt.Errorf("reading heap spans: in-use spans at %#x and %#x overlap", uint64(prev.base), uint64(spans[i].base))
		}
	}
	return spans, nil
}

// newSpan checks the in-use mspan m and makes the model's span of it.
func newSpan(proc *dump.Process, m *rtread.MSpan, hp rtread.HeapParams) (span, error) {
	s := span{
		addr:      m.Addr,
		base:      m.Base,
		npages:    m.NPages,
		elemsize:  m.ElemSize,
		nelems:    m.NElems,
		class:     m.SpanClass >> 1,
		noscan:    m.SpanClass&1 != 0,
		unswept:   m.Unswept,
		largeType: m.LargeType,
		specials:  m.Specials,
		freeIndex: m.FreeIndex,
		allocBits: m.AllocBits,
	}
	sa := uint64(m.Addr)
	size := s.npages * hp.PageSize
	switch {
	case s.npages == 0 || s.npages > maxSpanPages || s.elemsize == 0:
		return s, fmt.Errorf("span at %#x: bad npages %d or elemsize %d", sa, s.npages, s.elemsize)
	case uint64(s.nelems)*s.elemsize > size:
		return s, fmt.Errorf("span at %#x: %d elements of %d bytes do not fit in %d pages", sa, s.nelems, s.elemsize, s.npages)
	case s.class != 0 && s.elemsize > maxSmallSize:
		return s, fmt.Errorf("span at %#x: size class %d with %d-byte elements", sa, s.class, s.elemsize)
	case proc.FindMapping(s.base) == nil:
		// A corrupted span would otherwise make the page table cover
		// address space the process never had.
		return s, fmt.Errorf("span at %#x: its base %#x is not mapped", sa, uint64(s.base))
	}
	if s.class != 0 {
		s.divMul = uint32(^uint32(0)/uint32(s.elemsize) + 1)
	}
	if mem, err := proc.Slice(s.base, size); err == nil {
		s.mem = mem
	}
	if s.class != 0 && s.elemsize <= hp.MinHeaderSize {
		s.greenTea = hp.InlineMarkBytes != 0 && s.elemsize >= 16
		if !s.noscan {
			off := size - size/hp.PtrSize/8
			if s.greenTea {
				off -= hp.InlineMarkBytes
			}
			s.heapBits = uint32(off)
		}
	}
	s.header = s.class != 0 && !s.noscan && s.elemsize > hp.MinHeaderSize
	return s, nil
}
