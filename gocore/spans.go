package gocore

// Spans: the heap is read span by span from runtime.mheap_.allspans, which
// lists every mspan the runtime ever made. Only spans in state mSpanInUse hold
// heap objects. For each of them we keep, in one dense array sorted by
// address, what object enumeration and pointer scanning need: base, page
// count, element size and count, span class, largeType, and a zero-copy view
// of the span's memory. A two-level page table (arena, then page within the
// arena) maps any address to what resolving a pointer needs of the in-use
// span holding it.

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/heapsift/heapsift/dump"
)

// fieldLoc is a field's offset and size within a runtime struct.
type fieldLoc struct{ off, size int64 }

// read decodes the field from the struct's bytes b (little-endian), or
// returns 0 if the field is absent or b too short.
func (f fieldLoc) read(b []byte) uint64 {
	if f.off < 0 || f.off+f.size > int64(len(b)) {
		return 0
	}
	b = b[f.off : f.off+f.size]
	switch f.size {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(binary.LittleEndian.Uint16(b))
	case 4:
		return uint64(binary.LittleEndian.Uint32(b))
	case 8:
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

// locate finds a field's offset and size (descending into single-value
// wrappers such as atomics); missing optional fields get offset -1.
func (r *reader) locate(typ string, optional bool, path ...string) (fieldLoc, error) {
	t, err := r.dw.typeNamed(typ)
	if err != nil {
		return fieldLoc{-1, 0}, err
	}
	v := Value{r: r, Type: t, path: typ}
	for _, p := range path {
		v = v.Field(p)
	}
	v = v.scalar()
	if v.err != nil {
		if optional {
			return fieldLoc{-1, 0}, nil
		}
		return fieldLoc{-1, 0}, v.err
	}
	return fieldLoc{int64(v.Addr), v.Type.Size()}, nil
}

// spanLayout holds the offsets of the mspan fields gocore reads.
type spanLayout struct {
	size                                                 int64
	startAddr, npages, freeindex, nelems, allocBits      fieldLoc
	gcmarkBits, sweepgen, allocCount, spanclass, state   fieldLoc
	elemsize, specials, largeType, allocCountBeforeCache fieldLoc
}

func (r *reader) spanLayout() (spanLayout, error) {
	var l spanLayout
	t, err := r.dw.typeNamed("runtime.mspan")
	if err != nil {
		return l, err
	}
	l.size = t.Size()
	var firstErr error
	get := func(optional bool, path ...string) fieldLoc {
		f, err := r.locate("runtime.mspan", optional, path...)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return f
	}
	l.startAddr = get(false, "startAddr")
	l.npages = get(false, "npages")
	l.freeindex = get(false, "freeindex")
	l.nelems = get(false, "nelems")
	l.allocBits = get(false, "allocBits")
	l.gcmarkBits = get(false, "gcmarkBits")
	l.sweepgen = get(false, "sweepgen")
	l.allocCount = get(false, "allocCount")
	l.spanclass = get(false, "spanclass")
	l.state = get(false, "state")
	l.elemsize = get(false, "elemsize")
	l.specials = get(false, "specials")
	l.largeType = get(true, "largeType")
	l.allocCountBeforeCache = get(false, "allocCountBeforeCache")
	return l, firstErr
}

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
	firstObj  uint32 // number of the span's first allocated object
	nobj      uint32 // allocated objects
	slotBit   uint64 // index of slot 0 in heap.alloc
	mem       []byte // the span's memory, nil if the core lacks it
	heapBits  uint32 // offset in mem of the pointer bitmap, 0 if none
}

// size returns the span's size in bytes.
func (s *span) size(pageSize uint64) uint64 { return s.npages * pageSize }

// pageTable maps each page to what a pointer into it needs of the in-use
// span holding it (32 bytes a page, half a cache line: 0.4% of the heap's
// size), so that resolving a pointer reads one page entry and one
// allocWord.
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
	divMul   uint32 // 0 for large-object spans, whose only slot is 0
	nelems   uint16 // 0 for a page without an in-use span
	class    uint8
	noscan   bool
	header   bool
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

// build indexes the pages of spans, whose slotBits must be set.
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
			base: s.base, slotBit: s.slotBit, elemsize: s.elemsize, divMul: s.divMul,
			nelems: uint16(min(s.nelems, maxSpanElems)), class: s.class, noscan: s.noscan, header: s.header,
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

// heapParams are the runtime constants the heap walk needs.
type heapParams struct {
	pageSize        uint64
	arenaBytes      uint64
	inUse           uint64 // mSpanInUse
	mallocHeader    uint64 // size of a malloc header
	minHeaderSize   uint64 // objects above this size have headers
	inlineMarkBytes uint64 // size of Green Tea's spanInlineMarkBits, 0 without Green Tea
	ptrSize         uint64
}

func (r *reader) heapParams() heapParams {
	c := func(name string, def int64) uint64 {
		if v, ok := r.dw.constant(name); ok {
			return uint64(v)
		}
		return uint64(def)
	}
	hp := heapParams{
		pageSize:      c("runtime.pageSize", 8192),
		arenaBytes:    c("runtime.heapArenaBytes", 64<<20),
		inUse:         c("runtime.mSpanInUse", 1),
		mallocHeader:  c("runtime.mallocHeaderSize", 8),
		minHeaderSize: c("runtime.minSizeForMallocHeader", 512),
		ptrSize:       8,
	}
	if t, err := r.dw.typeNamed("runtime.spanInlineMarkBits"); err == nil {
		hp.inlineMarkBytes = uint64(t.Size())
	}
	return hp
}

// readSpans reads the in-use spans from mheap_.allspans, sorted by address.
func (r *reader) readSpans(l spanLayout, hp heapParams) ([]span, []string, error) {
	mheap := r.Global("runtime.mheap_")
	allspans := mheap.Field("allspans")
	n, err := allspans.SliceLen()
	if err != nil {
		return nil, nil, err
	}
	arr, err := allspans.Field("array").Ptr()
	if err != nil {
		return nil, nil, err
	}
	if n < 0 || n > 1<<30 {
		return nil, nil, fmt.Errorf("runtime.mheap_.allspans has bad length %d", n)
	}
	ptrs, err := r.proc.Slice(arr, uint64(n)*8)
	if err != nil {
		return nil, nil, fmt.Errorf("reading runtime.mheap_.allspans: %w", err)
	}
	sweepgen, err := mheap.Field("sweepgen").Uint()
	if err != nil {
		return nil, nil, err
	}
	var warns []string
	spans := make([]span, 0, min(n, 1<<20))
	missing := 0
	for i := int64(0); i < n; i++ {
		sa := dump.Address(binary.LittleEndian.Uint64(ptrs[i*8:]))
		b, err := r.proc.Slice(sa, uint64(l.size))
		if err != nil {
			missing++
			continue
		}
		if l.state.read(b) != hp.inUse {
			continue
		}
		s, err := r.decodeSpan(sa, b, l, hp, uint32(sweepgen))
		if err != nil {
			warns = append(warns, err.Error())
			continue
		}
		spans = append(spans, s)
	}
	if missing > 0 {
		warns = append(warns, fmt.Sprintf("%d of %d mspan structures are missing from the core", missing, n))
	}
	noMem := 0
	for i := range spans {
		if spans[i].mem == nil {
			noMem++
		}
	}
	if noMem > 0 {
		warns = append(warns, fmt.Sprintf("the memory of %d of %d heap spans is missing from the core: their objects are counted but not scanned or typed", noMem, len(spans)))
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.base, b.base) })
	for i := 1; i < len(spans); i++ {
		prev := &spans[i-1]
		if prev.base+dump.Address(prev.size(hp.pageSize)) > spans[i].base {
			return nil, warns, fmt.Errorf("in-use spans at %#x and %#x overlap", uint64(prev.base), uint64(spans[i].base))
		}
	}
	return spans, warns, nil
}

func (r *reader) decodeSpan(sa dump.Address, b []byte, l spanLayout, hp heapParams, sweepgen uint32) (span, error) {
	s := span{
		addr:      sa,
		base:      dump.Address(l.startAddr.read(b)),
		npages:    l.npages.read(b),
		elemsize:  l.elemsize.read(b),
		nelems:    uint32(l.nelems.read(b)),
		largeType: dump.Address(l.largeType.read(b)),
		specials:  dump.Address(l.specials.read(b)),
	}
	sc := uint8(l.spanclass.read(b))
	s.class, s.noscan = sc>>1, sc&1 != 0
	sg := uint32(l.sweepgen.read(b))
	s.unswept = sg == sweepgen-2 || sg == sweepgen-1
	size := s.npages * hp.pageSize
	switch {
	case s.npages == 0 || s.npages > maxSpanPages || s.elemsize == 0:
		return s, fmt.Errorf("span at %#x: bad npages %d or elemsize %d", uint64(sa), s.npages, s.elemsize)
	case uint64(s.nelems)*s.elemsize > size:
		return s, fmt.Errorf("span at %#x: %d elements of %d bytes do not fit in %d pages", uint64(sa), s.nelems, s.elemsize, s.npages)
	case s.class != 0 && s.elemsize > maxSmallSize:
		return s, fmt.Errorf("span at %#x: size class %d with %d-byte elements", uint64(sa), s.class, s.elemsize)
	case r.proc.FindMapping(s.base) == nil:
		// A corrupted span would otherwise make the page table cover
		// address space the process never had.
		return s, fmt.Errorf("span at %#x: its base %#x is not mapped", uint64(sa), uint64(s.base))
	}
	if s.class != 0 {
		s.divMul = uint32(^uint32(0)/uint32(s.elemsize) + 1)
	}
	if mem, err := r.proc.Slice(s.base, size); err == nil {
		s.mem = mem
	}
	if s.class != 0 && s.elemsize <= hp.minHeaderSize {
		s.greenTea = hp.inlineMarkBytes != 0 && s.elemsize >= 16
		if !s.noscan {
			off := size - size/hp.ptrSize/8
			if s.greenTea {
				off -= hp.inlineMarkBytes
			}
			s.heapBits = uint32(off)
		}
	}
	s.header = s.class != 0 && !s.noscan && s.elemsize > hp.minHeaderSize
	return s, nil
}
