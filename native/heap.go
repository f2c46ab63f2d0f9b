package native

import (
	"sort"
	"strings"
	"sync"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/heap"
	"github.com/heapsift/heapsift/symbolize"

	"github.com/heapsift/heapsift/internal/bitset"
)

// Heap is the glibc malloc heap of one core: every chunk in use is an
// object. It implements heap.Heap.
type Heap struct {
	p     *dump.Process
	sym   *symbolize.Symbolizer
	alloc Allocator

	// Objects, numbered by address: the chunk's memory and usable size.
	addrs    []uint64
	sizes    []uint32       // bigSize: in bigSizes (sizes.go)
	bigSizes map[int]uint64 // sizes of 4 GiB or more
	types    []heap.TypeID
	index    objIndex

	typeNames heap.TypeNames
	classType []bool // by TypeID: a class, not a size or "<text>"

	mainArena, arenaSize uint64 // main_arena's malloc_state, not a root

	roots    []heap.Root
	live     bitset.Set
	leakOnce sync.Once  // guards leakRoot and stats.LeakRoots
	leakRoot bitset.Set // found by findLeakRoots
	stats    Stats
}

// Stats sums up the heap.
type Stats struct {
	Objects, Bytes         uint64 // chunks in use: count, usable bytes
	FreeChunks, FreeBytes  uint64 // free chunks (bins, tcache, fastbins), not top
	TopBytes               uint64 // the arenas' top chunks
	Leaked, LeakedBytes    uint64 // in use, reachable from no root
	LeakRoots              uint64 // leaked, pointed to by no leaked allocation
	LiveObjects, LiveBytes uint64
}

var _ heap.Heap = (*Heap)(nil)

// newHeap makes the objects of the chunks in use and counts the free ones.
// The objects' arrays are the chunk table's, compacted in place: a second
// copy would cost 20 bytes a chunk at the model's peak. The types cls gave
// become the heap's, numbered in address order.
func newHeap(o *opener, t *chunkTable, cls []*classifier, regions []region) *Heap {
	h := &Heap{p: o.p, sym: o.sym, alloc: o.alloc,
		mainArena: o.mainArena, arenaSize: uint64(o.l.StateSize)}
	types := typeNumbering{cls: cls, ids: make([][]heap.TypeID, len(cls))}
	n := 0
	for i, f := range t.flags {
		size := t.sizeAt(i)
		switch {
		case f&chunkTop != 0:
			h.stats.TopBytes += size
		case f&chunkInternal != 0:
		case f&chunkInUse == 0 || f&chunkFree != 0:
			h.stats.FreeChunks++
			h.stats.FreeBytes += size - sizeSz
		default:
			usable := size - sizeSz
			if f&chunkMmapped != 0 {
				usable -= sizeSz
			}
			s, big := fitSize(usable)
			if big {
				if h.bigSizes == nil {
					h.bigSizes = map[int]uint64{}
				}
				h.bigSizes[n] = usable
			}
			t.addr[n], t.size[n] = t.addr[i]+2*sizeSz, s // n <= i
			t.types[n] = types.retag(t.types[i])
			h.stats.Bytes += usable
			n++
		}
	}
	h.addrs, h.sizes, h.types = t.addr[:n:n], t.size[:n:n], t.types[:n:n]
	*t = chunkTable{}
	h.typeNames = types.names
	h.classType = make([]bool, h.typeNames.Len())
	for id := range h.classType {
		name := h.typeNames.Name(heap.TypeID(id))
		h.classType[id] = !(strings.HasPrefix(name, "<") && strings.HasSuffix(name, ">"))
	}
	h.stats.Objects = uint64(n)
	h.index = buildIndex(h.addrs, regions)
	return h
}

// Allocator returns what the model knows about malloc.
func (h *Heap) Allocator() Allocator { return h.alloc }

// Stats returns the heap's totals.
func (h *Heap) Stats() Stats {
	h.findLeakRoots()
	return h.stats
}

// Language returns "native".
func (h *Heap) Language() string { return "native" }

// NumObjects returns the number of allocations in use.
func (h *Heap) NumObjects() int { return len(h.addrs) }

// Addr returns the allocation's address, as malloc returned it.
func (h *Heap) Addr(obj int) uint64 { return h.addrs[obj] }

// Size returns the allocation's usable size (malloc_usable_size).
func (h *Heap) Size(obj int) uint64 { return h.size(obj) }

// Live reports whether the allocation is reachable from a root; the rest
// is leaked.
func (h *Heap) Live(obj int) bool { return h.live.Has(obj) }

// LeakRoot reports whether obj is leaked and no other leaked allocation
// points to it: the head of a leaked structure.
func (h *Heap) LeakRoot(obj int) bool {
	h.findLeakRoots()
	return h.leakRoot.Has(obj)
}

// Type returns the allocation's class.
func (h *Heap) Type(obj int) heap.TypeID { return h.types[obj] }

// NumTypes returns the number of type IDs.
func (h *Heap) NumTypes() int { return h.typeNames.Len() }

// TypeName returns a type's name: a C++ class ("shapes::Circle"), a
// CPython type, "<text>", or "<48 bytes>" for an unclassified size.
func (h *Heap) TypeName(t heap.TypeID) string {
	return h.typeNames.Name(t)
}

// TypeFamily returns the type's name: native types have no lengths.
func (h *Heap) TypeFamily(t heap.TypeID) string { return h.TypeName(t) }

// RefPath names a reference: by its word's offset in a class ("+16"), by
// its word's index in an allocation of unknown layout ("[3]"), which is
// most often an array of pointers.
func (h *Heap) RefPath(obj int, label uint32) heap.Path {
	if !h.isClass(h.types[obj]) {
		return heap.Path{heap.Index(int64(label / 8))}
	}
	return heap.Path{{Kind: heap.StepOffset, Index: int64(label)}}
}

// RefClass is the reference's offset in a class, and one class for every
// reference out of an allocation of unknown layout, as its words are
// elements alike.
func (h *Heap) RefClass(t heap.TypeID, label uint32) uint32 {
	if !h.isClass(t) {
		return 0
	}
	return label
}

// isClass reports whether t is a class, whose layout is the same in
// every allocation, rather than a size or "<text>".
func (h *Heap) isClass(t heap.TypeID) bool { return int(t) < len(h.classType) && h.classType[t] }

// Roots returns the references from data, bss, stacks, registers and TLS.
func (h *Heap) Roots() []heap.Root { return h.roots }

// ObjectAt returns the allocation holding addr and addr's offset in it.
func (h *Heap) ObjectAt(addr uint64) (int, uint64, bool) {
	i, ok := h.find(addr)
	if !ok {
		return 0, 0, false
	}
	return i, addr - h.addrs[i], true
}

// PathAt names an offset within an allocation: "+16".
func (h *Heap) PathAt(obj int, off uint64) heap.Path {
	return heap.Path{{Kind: heap.StepOffset, Index: int64(off)}}
}

// objIndex finds the allocation holding an address: the region by binary
// search, then a page table of each brk or arena heap region narrows the
// search to the allocations starting on one page.
type objIndex struct {
	lo, hi uint64 // bounds of every region
	starts []uint64
	ends   []uint64
	first  []int // the region's first object
	page0  []int // the region's first entry in pages, -1 for none
	data   [][]byte
	pages  []uint32 // first object at or after each page start
}

const pageShift = 12

func buildIndex(addrs []uint64, regions []region) objIndex {
	ix := objIndex{lo: ^uint64(0)}
	for _, r := range regions {
		first := sort.Search(len(addrs), func(i int) bool { return addrs[i] >= r.start })
		ix.starts = append(ix.starts, r.start)
		ix.ends = append(ix.ends, r.end)
		ix.first = append(ix.first, first)
		ix.data = append(ix.data, r.data)
		ix.lo, ix.hi = min(ix.lo, r.start), max(ix.hi, r.end)
		if r.kind == regionMmap {
			ix.page0 = append(ix.page0, -1)
			continue
		}
		ix.page0 = append(ix.page0, len(ix.pages))
		j := first
		for pg := r.start &^ (1<<pageShift - 1); pg <= r.end; pg += 1 << pageShift {
			for j < len(addrs) && addrs[j] < pg {
				j++
			}
			ix.pages = append(ix.pages, uint32(j))
		}
	}
	return ix
}

// find returns the object whose [addr, addr+size) holds v.
func (h *Heap) find(v uint64) (int, bool) {
	ix, addrs := &h.index, h.addrs
	if v < ix.lo || v >= ix.hi {
		return 0, false
	}
	r := ix.region(v)
	if r < 0 || v >= ix.ends[r] {
		return 0, false
	}
	lo, hi := ix.first[r], len(addrs)
	if r+1 < len(ix.first) {
		hi = ix.first[r+1]
	}
	if p0 := ix.page0[r]; p0 >= 0 {
		k := p0 + int((v>>pageShift)-(ix.starts[r]>>pageShift))
		lo = max(lo, int(ix.pages[k])-1)
		if k+1 < len(ix.pages) {
			hi = min(hi, int(ix.pages[k+1]))
		}
	}
	i := lastAtOrBelow(addrs, lo, hi, v)
	if i < lo || i < 0 || v >= addrs[i]+h.size(i) {
		return 0, false
	}
	return i, true
}

// region returns the index of the last region starting at or below v,
// or -1.
func (ix *objIndex) region(v uint64) int { return lastAtOrBelow(ix.starts, 0, len(ix.starts), v) }

// lastAtOrBelow returns the last i in [lo, hi) with s[i] <= v, s being
// sorted, or lo-1. It is sort.Search without a function call a step: the
// lookups of a scan run it for every word that looks like a pointer.
func lastAtOrBelow(s []uint64, lo, hi int, v uint64) int {
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if s[mid] <= v {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo - 1
}

// bytesOf returns the bytes of object i, or nil when the core lacks them.
func (h *Heap) bytesOf(i int) []byte {
	ix := &h.index
	a := h.addrs[i]
	r := ix.region(a)
	if r < 0 {
		return nil
	}
	off, n := a-ix.starts[r], h.size(i)
	if off+n > uint64(len(ix.data[r])) {
		return nil
	}
	return ix.data[r][off : off+n]
}

// Untyped implements heap.UntypedReporter: sizes and "<text>" are not
// classes.
func (h *Heap) Untyped(t heap.TypeID) bool { return !h.isClass(t) }
