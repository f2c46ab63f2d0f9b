package rtread

// Spans as the runtime keeps them: runtime.mheap_.allspans lists every
// mspan the runtime ever made; only those in state mSpanInUse hold heap
// objects. Each mspan is read as raw bytes through a SpanLayout and
// decoded into an MSpan, the handful of fields the heap model needs. The
// runtime constants the heap walk depends on (page size, arena size, the
// malloc header's size and threshold) are HeapParams.

import (
	"encoding/binary"
	"fmt"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/warn"
)

// SpanLayout holds the offsets of the mspan fields gocore reads.
type SpanLayout struct {
	Size                                                 int64
	StartAddr, NPages, FreeIndex, NElems, AllocBits      FieldLoc
	GCMarkBits, SweepGen, AllocCount, SpanClass, State   FieldLoc
	ElemSize, Specials, LargeType, AllocCountBeforeCache FieldLoc
}

// ReadSpanLayout locates the fields of runtime.mspan.
func (r *Reader) ReadSpanLayout() (SpanLayout, []warn.Warning, error) {
	var l SpanLayout
	t, err := r.dw.TypeNamed("runtime.mspan")
	if err != nil {
		return l, nil, fmt.Errorf("reading runtime.mspan layout: %w", err)
	}
	l.Size = t.Size()
	b := &layoutBuilder{r: r}
	const ms = "runtime.mspan"
	l.StartAddr = b.need(ms, "startAddr")
	l.NPages = b.need(ms, "npages")
	l.FreeIndex = b.need(ms, "freeindex")
	l.NElems = b.need(ms, "nelems")
	l.AllocBits = b.need(ms, "allocBits")
	l.GCMarkBits = b.need(ms, "gcmarkBits")
	l.SweepGen = b.need(ms, "sweepgen")
	l.AllocCount = b.need(ms, "allocCount")
	l.SpanClass = b.need(ms, "spanclass")
	l.State = b.need(ms, "state")
	l.ElemSize = b.need(ms, "elemsize")
	l.Specials = b.need(ms, "specials")
	l.LargeType = b.opt("large objects are typed by propagation only", ms, "largeType")
	l.AllocCountBeforeCache = b.need(ms, "allocCountBeforeCache")
	if b.firstErr != nil {
		return l, b.warns, fmt.Errorf("reading runtime.mspan layout: %w", b.firstErr)
	}
	return l, b.warns, nil
}

// HeapParams are the runtime constants the heap walk needs.
type HeapParams struct {
	PageSize        uint64
	ArenaBytes      uint64
	InUse           uint64 // mSpanInUse
	MallocHeader    uint64 // size of a malloc header
	MinHeaderSize   uint64 // objects above this size have headers
	InlineMarkBytes uint64 // size of Green Tea's spanInlineMarkBits, 0 without Green Tea
	PtrSize         uint64
}

// ReadHeapParams reads the heap's constants from DWARF; a missing one is
// replaced by its value in the Go versions heapsift knows, with a warning.
func (r *Reader) ReadHeapParams() (HeapParams, []warn.Warning) {
	b := &layoutBuilder{r: r}
	c := func(name string, def int64) uint64 { return uint64(b.constant(name, def)) }
	hp := HeapParams{
		PageSize:      c("runtime.pageSize", 8192),
		ArenaBytes:    c("runtime.heapArenaBytes", 64<<20),
		InUse:         c("runtime.mSpanInUse", 1),
		MallocHeader:  c("runtime.mallocHeaderSize", 8),
		MinHeaderSize: c("runtime.minSizeForMallocHeader", 512),
		PtrSize:       8,
	}
	if t, err := r.dw.TypeNamed("runtime.spanInlineMarkBits"); err == nil {
		hp.InlineMarkBytes = uint64(t.Size()) // Green Tea
	}
	return hp, b.warns
}

// MSpan is what the heap model needs of one in-use mspan.
type MSpan struct {
	Addr      dump.Address // of the mspan struct
	Base      dump.Address // startAddr
	NPages    uint64
	ElemSize  uint64
	NElems    uint32
	SpanClass uint8 // size class << 1 | noscan
	Unswept   bool  // the sweeper had not reached it
	LargeType dump.Address
	Specials  dump.Address
	FreeIndex uint64
	AllocBits dump.Address
}

// maxAllSpans bounds the length of allspans gocore believes.
const maxAllSpans = 1 << 30

// ReadInUseSpans reads the in-use spans listed by mheap_.allspans, in its
// order; mspans missing from the core are counted in a warning.
func (r *Reader) ReadInUseSpans(l SpanLayout, hp HeapParams) ([]MSpan, []warn.Warning, error) {
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
	if n < 0 || n > maxAllSpans {
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
	var warns []warn.Warning
	spans := make([]MSpan, 0, min(n, 1<<20))
	missing := 0
	var rep repeats
	for i := int64(0); i < n; i++ {
		sa := dump.Address(binary.LittleEndian.Uint64(ptrs[i*8:]))
		b, err := r.proc.Slice(sa, uint64(l.Size))
		if err != nil {
			missing++
			continue
		}
		if l.State.Read(b) != hp.InUse || rep.again(sa) {
			continue
		}
		spans = append(spans, decodeSpan(sa, b, &l, uint32(sweepgen)))
	}
	warns = append(warns, rep.warnings("runtime.mheap_.allspans", "mspans")...)
	if missing > 0 {
		warns = append(warns, warn.New(source, "%d of %d mspan structures are missing from the core", missing, n))
	}
	return spans, warns, nil
}

// decodeSpan decodes the mspan at sa, whose bytes are b.
func decodeSpan(sa dump.Address, b []byte, l *SpanLayout, sweepgen uint32) MSpan {
	sg := uint32(l.SweepGen.Read(b))
	return MSpan{
		Addr:      sa,
		Base:      dump.Address(l.StartAddr.Read(b)),
		NPages:    l.NPages.Read(b),
		ElemSize:  l.ElemSize.Read(b),
		NElems:    uint32(l.NElems.Read(b)),
		SpanClass: uint8(l.SpanClass.Read(b)),
		Unswept:   sg == sweepgen-2 || sg == sweepgen-1,
		LargeType: dump.Address(l.LargeType.Read(b)),
		Specials:  dump.Address(l.Specials.Read(b)),
		FreeIndex: l.FreeIndex.Read(b),
		AllocBits: dump.Address(l.AllocBits.Read(b)),
	}
}
