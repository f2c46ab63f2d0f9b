package native

import (
	"github.com/heapsift/heapsift/dump"
)

// Finding malloc's state: the arenas (main_arena in libc's data, the
// others inside their first heap) and the memory each one carves chunks
// from: the brk heap for main_arena, heaps of up to heapMaxSize at
// heapMaxSize-aligned addresses for the others.

// Constants of glibc's malloc on 64-bit targets, from malloc.c and
// arena.c: they are sizes and bits in the ABI of the chunks themselves,
// not members of a struct.
const (
	sizeSz      = 8  // SIZE_SZ
	chunkAlign  = 16 // MALLOC_ALIGNMENT
	minChunk    = 32 // MINSIZE
	prevInUse   = 1  // PREV_INUSE
	isMmapped   = 2  // IS_MMAPPED
	nonMain     = 4  // NON_MAIN_ARENA
	flagBits    = 7
	heapMaxSize = 64 << 20 // HEAP_MAX_SIZE: 2 * DEFAULT_MMAP_THRESHOLD_MAX
	pageSize    = 4096
	maxArenas   = 4096 // far above glibc's 8 per core
	maxHeaps    = 1 << 16
)

// arena is one malloc_state.
type arena struct {
	addr uint64
	top  uint64
	main bool
}

// regionKind says where a region's chunks come from.
type regionKind uint8

const (
	regionBrk  regionKind = iota // main_arena's [heap]
	regionHeap                   // a non-main arena's heap
	regionMmap                   // one mmapped chunk
)

// region is a stretch of memory laid out as consecutive chunks.
type region struct {
	start, end uint64 // chunks lie in [start, end)
	top        uint64 // the arena's top chunk if it is in here, else 0
	kind       regionKind
	data       []byte // the bytes of [start, end)
}

// word reads the little-endian word at a, which must be 8-aligned.
func (o *opener) word(a uint64) (uint64, bool) {
	v, err := o.p.Uint64(dump.Address(a))
	return v, err == nil
}

// findMainArena returns main_arena's address: libc's symbol when its
// symbol table is at hand, else the arena whose top is the brk heap's
// last chunk, found in libc's writable data.
func (o *opener) findMainArena(brkTop uint64) (uint64, string) {
	if o.libc != nil && o.sym != nil {
		if a, ok := o.sym.Address(baseName(o.libc.Path), "main_arena", 0); ok {
			return a, "symbol"
		}
	}
	if brkTop == 0 {
		return 0, ""
	}
	for _, m := range o.libc.Mappings {
		if m.Perm&dump.PermWrite == 0 {
			continue
		}
		data := m.CoreData()
		for off := 0; off+8 <= len(data); off += 8 {
			if le64(data[off:]) != brkTop {
				continue
			}
			cand := uint64(m.Start) + uint64(off) - uint64(o.l.StateTop)
			if o.ringOK(cand) {
				return cand, "structure"
			}
		}
	}
	// After libc's file-backed data comes its .bss, an anonymous mapping.
	return o.findArenaInBss(brkTop)
}

// findArenaInBss looks for main_arena in the anonymous mapping that
// follows libc's last mapping (its .bss).
func (o *opener) findArenaInBss(brkTop uint64) (uint64, string) {
	m := o.p.FindMapping(o.libc.End)
	if m == nil || m.File != "" || m.Size() > 1<<20 {
		return 0, ""
	}
	data := m.CoreData()
	for off := 0; off+8 <= len(data); off += 8 {
		if le64(data[off:]) == brkTop {
			cand := uint64(m.Start) + uint64(off) - uint64(o.l.StateTop)
			if o.ringOK(cand) {
				return cand, "structure"
			}
		}
	}
	return 0, ""
}

// ringOK reports whether the arena at a has a next ring that comes back
// to a, every member readable.
func (o *opener) ringOK(a uint64) bool {
	cur := a
	for i := 0; i < maxArenas; i++ {
		next, ok := o.word(cur + uint64(o.l.StateNext))
		if !ok || next == 0 || next%8 != 0 {
			return false
		}
		if next == a {
			return true
		}
		cur = next
	}
	return false
}

// arenaRing reads the arenas on main's next ring, main first, each once:
// a damaged ring that loops back to another arena than main ends there.
func (o *opener) arenaRing(main uint64) []arena {
	var out []arena
	seen := map[uint64]bool{}
	cur := main
	for i := 0; i < maxArenas; i++ {
		top, ok := o.word(cur + uint64(o.l.StateTop))
		if !ok {
			o.warns.Add(warnAt(cur, "arena is not in the core; its chunks are not counted"))
			break
		}
		seen[cur] = true
		out = append(out, arena{addr: cur, top: top, main: cur == main})
		next, ok := o.word(cur + uint64(o.l.StateNext))
		if next == main {
			break
		}
		if !ok || next == 0 || next%8 != 0 {
			o.warns.Add(warnAt(cur, "arena's next link %#x is not an arena: the ring is damaged; arenas after it are not read", next))
			break
		}
		if seen[next] {
			o.warns.Add(warnAt(cur, "arena's next link loops back to arena %#x, not to main_arena %#x: the ring is damaged", next, main))
			break
		}
		cur = next
	}
	return out
}

// heapsOf returns the regions of a non-main arena: its heaps, from the
// one holding top back through heap_info.prev, each once: a damaged
// chain that loops back ends there, with a warning.
func (o *opener) heapsOf(a arena) []region {
	var out []region
	h := a.top &^ (heapMaxSize - 1)
	seen := map[uint64]bool{}
	for h != 0 && len(seen) < maxHeaps {
		if seen[h] {
			o.warns.Add(warnAt(h, "arena %#x's heap_info chain loops back to the heap at %#x: the chain is damaged", a.addr, h))
			break
		}
		seen[h] = true
		arPtr, ok1 := o.word(h + uint64(o.l.HeapInfoArPtr))
		size, ok2 := o.word(h + uint64(o.l.HeapInfoSz))
		prev, ok3 := o.word(h + uint64(o.l.HeapInfoPrev))
		if !ok1 || !ok2 || !ok3 || arPtr != a.addr || size > heapMaxSize || size < uint64(o.l.HeapInfoSize) {
			o.warns.Add(warnAt(h, "no heap_info of arena %#x here; the arena's older heaps are not counted", a.addr))
			break
		}
		start := h + uint64(o.l.HeapInfoSize)
		if arPtr == start {
			start += uint64(o.l.StateSize)
		}
		start = alignUp(start, chunkAlign)
		r := region{start: start, end: h + size, kind: regionHeap}
		if a.top >= r.start && a.top < r.end {
			r.top = a.top
		}
		out = append(out, r)
		if prev&(heapMaxSize-1) != 0 {
			break
		}
		h = prev
	}
	return out
}

// scanHeapInfos finds the first heaps of non-main arenas without
// main_arena: a heap_info at a heapMaxSize-aligned address whose arena
// follows it. It returns the arenas found. Only the bytes the core holds
// are looked at: a damaged program header may claim a mapping of 2^57
// bytes, 2^31 heap alignments.
func (o *opener) scanHeapInfos() []uint64 {
	var out []uint64
	for _, m := range o.p.Mappings() {
		if m.File != "" || m.Perm&dump.PermWrite == 0 {
			continue
		}
		held := uint64(m.Start) + uint64(len(m.CoreData()))
		for h := alignUp(uint64(m.Start), heapMaxSize); h+pageSize <= held; h += heapMaxSize {
			arPtr, ok := o.word(h + uint64(o.l.HeapInfoArPtr))
			size, ok2 := o.word(h + uint64(o.l.HeapInfoSz))
			if ok && ok2 && arPtr == h+uint64(o.l.HeapInfoSize) && size <= heapMaxSize && size >= pageSize {
				out = append(out, arPtr)
			}
		}
	}
	return out
}

// alignUp rounds a up to a multiple of n, a power of two.
func alignUp(a, n uint64) uint64 { return (a + n - 1) &^ (n - 1) }
