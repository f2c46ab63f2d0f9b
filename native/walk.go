package native

import (
	"encoding/binary"
	"sort"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/heap"
)

// Walking chunks: inside a region every chunk's size word leads to the
// next chunk, and the next chunk's PREV_INUSE bit says whether this one is
// in use. A size that breaks the structure is a corrupted header: it is
// reported, and the walk resumes at the next address from which a run of
// consistent headers leads on.

// Chunk flags in chunkTable.flags.
const (
	chunkInUse    = 1 << iota // the next chunk's PREV_INUSE bit, or mmapped
	chunkTop                  // an arena's top chunk
	chunkFree                 // in a tcache or fastbin list
	chunkInternal             // malloc's own (a tcache_perthread_struct)
	chunkMmapped              // an mmapped chunk
)

// chunkTable holds every chunk found, in parallel dense arrays sorted by
// address once all regions are walked.
type chunkTable struct {
	addr  []uint64
	size  []uint32          // bigSize: in big (sizes.go)
	big   map[uint64]uint64 // sizes of 4 GiB or more, by address
	flags []uint8
	types []heap.TypeID // of chunks in use, tagged by cls (classify.go)

	cls      *classifier // classifies chunks in use as they are added
	noRecord bool
	lastTop  uint64
	counted  int
}

// add records a chunk of r, classifying it if it is in use; a table with
// noRecord set keeps only the last top chunk seen.
func (t *chunkTable) add(r *region, a, size uint64, flags uint8) {
	if t.noRecord {
		t.counted++
		if flags&chunkTop != 0 {
			t.lastTop = a
		}
		return
	}
	t.addr = append(t.addr, a)
	s, big := fitSize(size)
	if big {
		if t.big == nil {
			t.big = map[uint64]uint64{}
		}
		t.big[a] = size
	}
	t.size = append(t.size, s)
	t.flags = append(t.flags, flags)
	var typ heap.TypeID
	if flags&chunkInUse != 0 && t.cls != nil {
		typ = t.cls.chunkType(r, a, size, flags)
	}
	t.types = append(t.types, typ)
}

func (t *chunkTable) Len() int           { return len(t.addr) }
func (t *chunkTable) Less(i, j int) bool { return t.addr[i] < t.addr[j] }
func (t *chunkTable) Swap(i, j int) {
	t.addr[i], t.addr[j] = t.addr[j], t.addr[i]
	t.size[i], t.size[j] = t.size[j], t.size[i]
	t.flags[i], t.flags[j] = t.flags[j], t.flags[i]
	t.types[i], t.types[j] = t.types[j], t.types[i]
}

// find returns the index of the chunk at address a.
func (t *chunkTable) find(a uint64) (int, bool) {
	i := sort.Search(len(t.addr), func(i int) bool { return t.addr[i] >= a })
	return i, i < len(t.addr) && t.addr[i] == a
}

func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

// resyncRun is how many consistent headers in a row make a place to
// resume a walk after a corrupted one.
const resyncRun = 8

// walkRegion adds r's chunks to t.
func (o *opener) walkRegion(r *region, t *chunkTable) { o.walkFrom(r, r.start, r.end, t) }

// walkFrom adds r's chunks from the one at a to the last before stop. It
// returns the address of the first chunk at or after stop, or 0 if the
// region's chunks end before it (its top, its end, or bytes the core
// lacks).
func (o *opener) walkFrom(r *region, a, stop uint64, t *chunkTable) uint64 {
	w := chunkWalker{o: o, r: r, t: t, a: a, stop: stop}
	for !w.done {
		w.step()
	}
	return w.end
}

// chunkWalker is a walk of a region's chunks taken one step at a time,
// so that several walks can take turns in one goroutine (walkpar.go).
type chunkWalker struct {
	o       *opener
	r       *region
	t       *chunkTable
	a, stop uint64 // the next chunk, and where to stop
	end     uint64 // once done: the first chunk at or after stop, or 0
	done    bool
}

// step adds the chunk at w.a, or ends the walk.
func (w *chunkWalker) step() {
	o, r, a := w.o, w.r, w.a
	if a+2*sizeSz > r.end {
		w.done = true
		return
	}
	if a >= w.stop {
		w.done, w.end = true, a
		return
	}
	off := a - r.start
	if off+2*sizeSz > uint64(len(r.data)) {
		o.warns.Add(warnAt(a, "heap region %#x-%#x is not all in the core; its chunks from here on are not counted", r.start, r.end))
		w.done = true
		return
	}
	hdr := le64(r.data[off+sizeSz:])
	size := hdr &^ flagBits
	switch {
	case a == r.top:
		w.t.add(r, a, size, chunkTop)
		w.done = true
		return
	case size <= 2*sizeSz && r.end-a <= 4*sizeSz:
		w.done = true // the fenceposts that close a heap
		return
	case !o.headerOK(r, a, hdr):
		o.warns.Add(warnAt(a, "corrupted chunk header (size word %#x) in heap region %#x-%#x; walking on from the next consistent chunk", hdr, r.start, r.end))
		w.a = o.resync(r, a+chunkAlign)
		return
	}
	next := a + size
	var flags uint8 = chunkInUse
	switch {
	case r.kind == regionMmap:
		flags |= chunkMmapped
	case r.top == 0 && r.kind == regionBrk && next == r.end:
		flags = chunkTop // the brk heap's last chunk when main_arena is unknown
	case next-r.start+2*sizeSz <= uint64(len(r.data)) && next < r.end:
		if le64(r.data[next-r.start+sizeSz:])&prevInUse == 0 {
			flags = 0
		}
	}
	w.t.add(r, a, size, flags)
	w.a = next
}

// headerOK checks a chunk header against its region: a multiple of the
// alignment, at least MINSIZE, inside the region, and with the flags a
// chunk of this region carries.
func (o *opener) headerOK(r *region, a, hdr uint64) bool {
	size := hdr &^ flagBits
	if size < minChunk || size%chunkAlign != 0 || size > r.end-a {
		return false
	}
	switch r.kind {
	case regionBrk:
		return hdr&(isMmapped|nonMain) == 0
	case regionHeap:
		return hdr&isMmapped == 0
	}
	return true
}

// resync returns the first address from a on where resyncRun headers in a
// row are consistent (or lead exactly to the region's end or top), or the
// region's end.
func (o *opener) resync(r *region, a uint64) uint64 {
	for ; a+2*sizeSz <= r.end && a-r.start+2*sizeSz <= uint64(len(r.data)); a += chunkAlign {
		if o.runOK(r, a) {
			return a
		}
	}
	return r.end
}

func (o *opener) runOK(r *region, a uint64) bool {
	for i := 0; i < resyncRun; i++ {
		if a == r.top || a == r.end {
			return true
		}
		off := a - r.start
		if off+2*sizeSz > uint64(len(r.data)) {
			return false
		}
		hdr := le64(r.data[off+sizeSz:])
		if !o.headerOK(r, a, hdr) {
			return false
		}
		a += hdr &^ flagBits
	}
	return true
}

// scanMmapped finds mmapped chunks: page-aligned headers with only
// IS_MMAPPED set and a page-multiple size that fits the mapping, in
// anonymous writable memory outside the arenas' heaps and the stacks.
func (o *opener) scanMmapped(claimed []region) []region {
	var out []region
	for _, m := range o.p.Mappings() {
		if m.File != "" || m.Perm&dump.PermWrite == 0 || m.Name == "[heap]" || m.Name == "[vdso]" {
			continue
		}
		data := m.CoreData()
		for a := uint64(m.Start); a+pageSize <= uint64(m.End); {
			if r, ok := claimedAt(claimed, a); ok {
				a = alignUp(r.end, pageSize)
				continue
			}
			off := a - uint64(m.Start)
			if off+2*sizeSz > uint64(len(data)) {
				break
			}
			prev, hdr := le64(data[off:]), le64(data[off+sizeSz:])
			size := hdr &^ flagBits
			if prev != 0 || hdr&flagBits != isMmapped || size < pageSize || size%pageSize != 0 || size > uint64(m.End)-a {
				a += pageSize
				continue
			}
			out = append(out, region{start: a, end: a + size, kind: regionMmap, data: data[off:min(uint64(len(data)), off+size)]})
			a += size
		}
	}
	return out
}

// claimedAt returns the region of claimed (sorted by start) holding a.
func claimedAt(claimed []region, a uint64) (region, bool) {
	i := sort.Search(len(claimed), func(i int) bool { return claimed[i].end > a })
	if i < len(claimed) && claimed[i].start&^(pageSize-1) <= a {
		return claimed[i], true
	}
	return region{}, false
}
