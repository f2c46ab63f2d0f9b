package gocore

// What each kind of slot says about the object it points to, and the rule
// for accepting a type offered for an object.

import (
	"sort"
	"strings"

	"github.com/heapsift/heapsift/dump"
)

// apply applies layout lay to the value at offset base of region r.
func (pr *propagator) apply(lay []slot, r *region, base uint64) {
	for i := range lay {
		s := &lay[i]
		off := base + s.off
		switch s.kind {
		case slotPtr:
			if v, ok := pr.word(r, off); ok && v != 0 {
				t := pr.p.downcast(s.target, v)
				pr.offer(r, off, v, t, pr.p.types.types[t].size, offerExact)
			}
		case slotSlice:
			pr.slice(r, off, s.target)
		case slotString:
			pr.str(r, off)
		case slotEface, slotIface:
			pr.iface(r, off, s.kind == slotIface)
		case slotFunc:
			if v, ok := pr.word(r, off); ok && v != 0 {
				pr.closure(v)
			}
		case slotArray:
			for j := uint64(0); j < s.count && off+j*s.stride < r.hi; j++ {
				pr.apply(s.sub, r, off+j*s.stride)
			}
		case slotSwissDir:
			pr.swissDir(r, base, s)
		case slotChanBuf:
			pr.chanBuf(r, base, s)
		case slotCounted:
			pr.counted(r, base, s)
		case slotBuckets:
			pr.buckets(r, base, s)
		}
	}
}

// How an offer describes the object it points to.
type offerKind uint8

const (
	// offerExact: the object was allocated as one t (a pointer, an
	// interface's data word), so t's allocation size must be its size.
	offerExact offerKind = iota
	// offerFit: the object holds as many t as fit (slices, channel
	// buffers).
	offerFit
	// offerBytes: string data. A string may point into the middle of
	// its bytes (a substring); a noscan object holding string bytes is
	// bytes throughout.
	offerBytes
)

// interiorOK reports whether an offer of kind for type t may point at
// offset off (from the value's start) of a noscan object: a substring's
// bytes, or a subslice of an array of scalars, element-aligned.
func (p *Program) interiorOK(kind offerKind, t TypeID, off uint64) bool {
	switch kind {
	case offerBytes:
		return true
	case offerFit:
		sz := p.types.types[t].size
		return sz != 0 && off%sz == 0
	}
	return false
}

// offer proposes type t for the object that address a, read at offset at
// of region r (nil if a comes from elsewhere), points to; size is how many
// bytes of the object the referring slot describes.
func (pr *propagator) offer(r *region, at, a uint64, t TypeID, size uint64, kind offerKind) {
	p := pr.p
	if t == NoType || size == 0 {
		return
	}
	h := &p.heap
	if dump.Address(a) < h.lo || dump.Address(a) >= h.hi {
		pr.offerStatic(a, t)
		return
	}
	obj, off, s, ok := h.lookup(a)
	if !ok || pr.open[obj/64]&(1<<(obj%64)) == 0 {
		return
	}
	if s.noscan && s.class == tinyClass && size < tinySize {
		// A tiny-allocator block: it may hold several small values.
		if p.objType[obj] == NoType {
			p.objType[obj] = p.tinyBlockType()
		}
		return
	}
	start, usable := uint64(0), s.elemsize
	if s.header {
		start, usable = h.hp.MallocHeader, s.elemsize-h.hp.MallocHeader
	}
	if off != start {
		if off < start {
			return
		}
		if !s.noscan || !p.interiorOK(kind, t, off-start) {
			// An interior pointer: it says what is at off, not what
			// the whole object is (interior.go).
			pr.noteInterior(obj, t, off-start)
			return
		}
		size = p.types.types[t].size
	}
	if size > usable {
		return // does not fit: not what it claims to point to
	}
	if kind == offerExact && p.allocSize(size, s.noscan) != s.elemsize && !p.chanFits(t, a, size, s.noscan, s.elemsize) {
		// Not allocated as one t: t is the first field of the
		// object's type, or an array's first element (interior.go).
		pr.noteInterior(obj, t, 0)
		return
	}
	nt := p.types.fit(t, usable)
	cur := p.objType[obj]
	if cur == nt {
		return
	}
	if cur != NoType {
		ce, _ := p.types.elemOf(cur)
		ne, _ := p.types.elemOf(nt)
		if p.types.types[ne].size <= p.types.types[ce].size {
			return
		}
	}
	p.objType[obj] = nt
	pr.retyped(obj)
}

// tinyBlockType returns the type given to tiny-allocator blocks.
func (p *Program) tinyBlockType() TypeID {
	if p.tinyType == NoType {
		p.tinyType = p.types.add(gotype{name: TinyBlock, size: tinySize, single: true})
	}
	return p.tinyType
}

// TinyBlock is the type name of 16-byte blocks of the tiny allocator, which
// packs several noscan values smaller than 16 bytes (short strings, small
// integers) into one heap object.
const TinyBlock = "<tiny block>"

// allocSize returns the size of the object mallocgc allocates for size
// bytes: its size class, plus a malloc header for pointerful objects over
// 512 bytes, or whole pages for large objects.
func (p *Program) allocSize(size uint64, noscan bool) uint64 {
	hp := &p.heap.hp
	if !noscan && size > hp.MinHeaderSize && size+hp.MallocHeader <= maxSmallSize {
		size += hp.MallocHeader
	}
	if size <= maxSmallSize && len(p.classSize) > 1 {
		i := sort.Search(len(p.classSize), func(i int) bool { return p.classSize[i] >= size })
		if i < len(p.classSize) {
			return p.classSize[i]
		}
	}
	return (size + hp.PageSize - 1) / hp.PageSize * hp.PageSize
}

// chanFits reports whether the object at a, of elemsize bytes, is a
// channel of type t (hchan<T>, or runtime.hchan as the runtime's own
// pointers say) of size bytes holding its buffer in the same object, as
// makechan allocates a buffered channel of pointer-free elements: its
// dataqsiz and elemsize fields, read from the object, must account for
// the rest.
func (p *Program) chanFits(t TypeID, a, size uint64, noscan bool, elemsize uint64) bool {
	if !noscan || !p.types.types[t].single || !isChanType(p.types.types[t].name) {
		return false
	}
	c := p.rd.At(dump.Address(a), "runtime.hchan")
	n, err1 := c.Field("dataqsiz").Uint()
	es, err2 := c.Field("elemsize").Uint()
	if err1 != nil || err2 != nil || n > 1<<32 || es > 1<<16 {
		return false
	}
	return p.allocSize(size+n*es, true) == elemsize
}

// isChanType reports whether a type name is a channel's runtime
// structure.
func isChanType(name string) bool {
	return strings.HasPrefix(name, "hchan<") || name == "runtime.hchan"
}

// maxSmallSize is the largest size class (malloc.go maxSmallSize).
const maxSmallSize = 32768

// The tiny allocator combines noscan allocations under 16 bytes into
// 16-byte blocks of size class 2 (malloc.go maxTinySize, tinySpanClass).
const (
	tinyClass = 2
	tinySize  = 16
)

// slice handles a slice header at offset off.
func (pr *propagator) slice(r *region, off uint64, elem TypeID) {
	ptr, ok := pr.word(r, off)
	if !ok || ptr == 0 {
		return
	}
	c, ok := pr.rawWord(r, off+16)
	if !ok || r.stack && c == 0 {
		// Only the data pointer of a stack variable is known: its
		// capacity is in a register or another piece, or its stack
		// word is stale. The array holds at least one element (a
		// slice of capacity 0 is never left pointing past its array),
		// and as many as fit.
		c = 1
	}
	if c == 0 || c > 1<<40 {
		return
	}
	pr.offer(r, off, ptr, elem, c*pr.p.types.types[elem].size, offerFit)
}

// str handles a string header at offset off: its bytes are a [n]uint8.
func (pr *propagator) str(r *region, off uint64) {
	ptr, ok := pr.word(r, off)
	if !ok || ptr == 0 {
		return
	}
	n, ok := pr.rawWord(r, off+8)
	if !ok || n == 0 || n > 1<<40 {
		return
	}
	if u8 := pr.p.byteType(); u8 != NoType {
		pr.offer(r, off, ptr, u8, n, offerBytes)
	}
}

// byteType returns the TypeID of uint8.
func (p *Program) byteType() TypeID {
	if p.uint8Type == NoType {
		if t, err := p.dw.TypeNamed("uint8"); err == nil {
			p.uint8Type = p.types.internDWARF(t)
		}
	}
	return p.uint8Type
}

// iface handles an interface at offset off: the dynamic type says what
// its data word is.
func (pr *propagator) iface(r *region, off uint64, withItab bool) {
	p := pr.p
	tw, ok := pr.rawWord(r, off)
	if !ok || tw == 0 {
		return
	}
	if withItab {
		t, err := p.rtypes.ItabType(dump.Address(tw))
		if err != nil || t == 0 {
			return
		}
		tw = uint64(t)
	}
	rt, err := p.rtypes.Get(dump.Address(tw))
	if err != nil {
		return
	}
	t := p.typeOfRuntime(rt)
	if t == NoType {
		return
	}
	if rt.DirectIface {
		// The data word is the value itself (a pointer-shaped type).
		if lay := p.layoutOf(t); len(lay) > 0 && rt.Size == 8 {
			pr.apply(lay, r, off+8)
		}
		return
	}
	data, ok := pr.word(r, off+8)
	if !ok || data == 0 {
		return
	}
	pr.offer(r, off+8, data, t, rt.Size, offerExact)
}

// swissDir handles map<K,V>.dirPtr: a single group when dirLen is 0, else
// a directory of dirLen table pointers.
func (pr *propagator) swissDir(r *region, base uint64, s *slot) {
	ptr, ok := pr.word(r, base+s.off)
	if !ok || ptr == 0 {
		return
	}
	n, ok := pr.rawWord(r, base+s.auxOff)
	if !ok || n > 1<<32 {
		return
	}
	if n == 0 {
		pr.offer(r, base+s.off, ptr, s.aux, pr.p.types.types[s.aux].size, offerExact)
		return
	}
	pr.offer(r, base+s.off, ptr, s.target, n*8, offerFit)
}

// chanBuf handles hchan<T>.buf: a separate buffer of dataqsiz elements
// when the elements have pointers (otherwise it is inside the hchan).
func (pr *propagator) chanBuf(r *region, base uint64, s *slot) {
	p := pr.p
	buf, ok := pr.word(r, base+s.off)
	if !ok || buf == 0 {
		return
	}
	et, ok := pr.rawWord(r, base+s.auxOff)
	if !ok || et == 0 {
		return
	}
	n, ok := pr.rawWord(r, base+s.aux2)
	if !ok || n == 0 || n > 1<<32 {
		return
	}
	rt, err := p.rtypes.Get(dump.Address(et))
	if err != nil || rt.PtrBytes == 0 || rt.Size == 0 {
		return
	}
	if t := p.typeOfRuntime(rt); t != NoType {
		pr.offer(r, base+s.off, buf, t, n*rt.Size, offerFit)
	}
}

// hashTrieNode starts the names of internal/sync.HashTrieMap's node types.
const hashTrieNode = "internal/sync.node["

// downcast returns the concrete type of the object at address a that a
// pointer of type *t points to, for the runtime structures whose pointers
// name a common header: the nodes of internal/sync.HashTrieMap (behind
// sync.Map and package unique) are entries or indirect nodes, as their
// isEntry field says.
func (p *Program) downcast(t TypeID, a uint64) TypeID {
	if !p.types.types[t].node {
		return t
	}
	name := p.types.types[t].name
	rest, ok := strings.CutPrefix(name, hashTrieNode)
	if !ok {
		return t
	}
	isEntry, err := p.rd.FieldOffset(name, "isEntry")
	if err != nil {
		return t
	}
	b, err := p.proc.Uint8(dump.Address(a) + dump.Address(isEntry))
	if err != nil {
		return t
	}
	concrete := "internal/sync.indirect[" + rest
	if b != 0 {
		concrete = "internal/sync.entry[" + rest
	}
	ct, err := p.dw.TypeNamed(concrete)
	if err != nil {
		return t
	}
	return p.types.internDWARF(ct)
}
