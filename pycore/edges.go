package pycore

import (
	"math"
	"sort"

	"github.com/heapsift/heapsift/internal/bitset"
	"github.com/heapsift/heapsift/internal/offheap"
)

// The references the build decides liveness with. The object search
// reads every object's references from the core once, to find the objects
// they lead to; it also records them (refRecord), so that nothing is read
// again to count and follow them once the objects are numbered.
//
// The record is a stream of words in the order the search scanned the
// objects: each scanned object's address with recHeader set, then the
// addresses of the objects it refers to. Objects are 8-byte aligned, so
// the low bits are free for flags. It holds references to objects only,
// so each word turns into an object number. Dicts that their owners
// absorb (foldable ones: see foldPair) are recorded as the search meets
// them, as address pairs.
//
// After numbering, the stream turns into refGraph's rows, in the same
// order, 4 bytes a word instead of 8, and the exact references are counted
// per target on the way (what the collector's view of liveness needs).
// The record, the rows and the counts live outside the Go heap (package
// offheap) and are unmapped as soon as they are done with: the record
// chunk by chunk as it is turned into rows, the rest once liveness is
// decided. On the Go heap they would be garbage for a while, which the
// collector's pacing lets grow to hundreds of megabytes.

// Flags in the low bits of a record word.
const (
	recHeader  = 1 // the word is a scanned object's address: its row starts
	recInexact = 2 // a word found by conservative scan (labelOffset)
	recFlags   = 7
)

// refRecord is the object search's record of the references it followed,
// in chunks so that growing it to hundreds of millions of words never
// copies what it holds.
type refRecord struct {
	arena *offheap.Arena
	full  [][]uint64 // chunks of recChunk words each
	top   []uint64
	words int
	folds [][2]uint64 // owner and dict addresses of foldable dicts
}

const recChunk = 1 << 20

func (r *refRecord) put(w uint64) {
	if len(r.top) == cap(r.top) {
		if r.top != nil {
			r.full = append(r.full, r.top)
		}
		r.top = offheap.Make[uint64](r.arena, recChunk)[:0]
	}
	r.top = append(r.top, w)
	r.words++
}

// chunks returns the record's words, chunk by chunk, in order.
func (r *refRecord) chunks() [][]uint64 {
	if r.top == nil {
		return r.full
	}
	return append(r.full, r.top)
}

// foldPair is an owner (an instance, class or module) and its dict, when
// the owner absorbs the dict: an exact dict only its owner refers to.
// Then the dict has no references of its own, and the owner has the
// dict's as its attributes.
type foldPair struct{ owner, dict uint32 }

// refGraph is every object's references, as object numbers, while
// liveness is decided: row i, at rows[at[i]-1:], is its count of
// references and then their targets (at[i] is 0 for an object without a
// row: one that can hold no references). Folded dicts' rows are followed
// from their owners (folds, by owner; hasFold marks the owners) and not
// from the dicts. fromAll and fromTracked count each object's exact
// references from any object and from tracked objects. 12 bytes an
// object, 4 a reference and 4 a scanned object, mapped by arena.
type refGraph struct {
	rows                 []uint32
	at                   []uint32
	folds                []foldPair
	hasFold              bitset.Set
	fromAll, fromTracked []int32
	arena                *offheap.Arena
}

// row returns the targets of object i's own row.
func (g *refGraph) row(i int) []uint32 {
	p := g.at[i]
	if p == 0 {
		return nil
	}
	n := g.rows[p-1]
	return g.rows[p : p+n]
}

// each calls fn with each target of object i's references: its own row
// unless it is a folded dict, and the rows of the dicts it absorbs.
func (g *refGraph) each(i int, folded bitset.Set, fn func(t uint32)) {
	if !folded.Has(i) {
		for _, t := range g.row(i) {
			fn(t)
		}
	}
	if !g.hasFold.Has(i) {
		return
	}
	k := sort.Search(len(g.folds), func(k int) bool { return g.folds[k].owner >= uint32(i) })
	for ; k < len(g.folds) && g.folds[k].owner == uint32(i); k++ {
		for _, t := range g.row(int(g.folds[k].dict)) {
			fn(t)
		}
	}
}

// free unmaps the graph's arrays; they must not be used afterwards.
func (g *refGraph) free() {
	offheap.Free(g.arena, g.rows)
	offheap.Free(g.arena, g.at)
	offheap.Free(g.arena, g.fromAll)
	offheap.Free(g.arena, g.fromTracked)
}

// graphRefs turns the record into the refGraph, after numbering, and
// counts the exact references to each object on the way. It sets the
// folded dicts and refsStop; the record is consumed.
func (h *Heap) graphRefs(rec *refRecord) *refGraph {
	n, a := h.n, rec.arena
	g := &refGraph{
		at: offheap.Make[uint32](a, n), hasFold: bitset.New(n),
		fromAll: offheap.Make[int32](a, n), fromTracked: offheap.Make[int32](a, n),
		arena: a,
	}
	h.foldDicts(rec, g)
	h.refsStop = h.refsLimit(rec)
	g.dropFoldsFrom(h.refsStop)
	// The rows fill as the record's chunks are unmapped: taking their
	// pages as they are written keeps the peak at the record's size.
	g.rows = offheap.MakeLazy[uint32](a, rec.words)[:0]
	x := h.index
	count, srcTracked, keep := false, false, false
	cnt := -1 // the position of the current row's count
	for _, chunk := range rec.chunks() {
		for _, w := range chunk {
			j, _ := x.find(w &^ recFlags) // every word recorded is an object's
			if w&recHeader != 0 {
				if cnt >= 0 {
					g.rows[cnt] = uint32(len(g.rows) - cnt - 1)
				}
				// A folded dict's row is kept for its owners.
				cnt, keep = -1, j < h.refsStop || h.folded.Has(j)
				if keep {
					cnt = len(g.rows)
					g.at[j] = uint32(cnt + 1)
					g.rows = append(g.rows, 0)
				}
				// A folded dict's references are counted from its owners.
				count, srcTracked = j < h.refsStop && !h.folded.Has(j), h.tracked.Has(j)
				continue
			}
			if !keep {
				continue
			}
			g.rows = append(g.rows, uint32(j))
			if count && w&recInexact == 0 {
				g.fromAll[j]++
				if srcTracked {
					g.fromTracked[j]++
				}
			}
		}
		offheap.Free(a, chunk)
	}
	if cnt >= 0 {
		g.rows[cnt] = uint32(len(g.rows) - cnt - 1)
	}
	*rec = refRecord{arena: a}
	// The folded dicts' references, counted from their owners: all exact,
	// a dict's keys and values.
	for _, f := range g.folds {
		tr := h.tracked.Has(int(f.owner))
		for _, t := range g.row(int(f.dict)) {
			g.fromAll[t]++
			if tr {
				g.fromTracked[t]++
			}
		}
	}
	return g
}

// foldDicts numbers the record's foldable dicts, marks them folded, and
// lists them in g by owner.
func (h *Heap) foldDicts(rec *refRecord, g *refGraph) {
	h.folded = bitset.New(h.n)
	for _, p := range rec.folds {
		o, ok1 := h.Find(p[0])
		d, ok2 := h.Find(p[1])
		if !ok1 || !ok2 {
			continue // cannot happen: both were objects when recorded
		}
		h.folded.Add(d)
		g.folds = append(g.folds, foldPair{uint32(o), uint32(d)})
	}
	sort.Slice(g.folds, func(a, b int) bool {
		fa, fb := g.folds[a], g.folds[b]
		return fa.owner < fb.owner || fa.owner == fb.owner && fa.dict < fb.dict
	})
}

// dropFoldsFrom drops the folds of the owners from stop on, which have no
// references, and marks the remaining owners.
func (g *refGraph) dropFoldsFrom(stop int) {
	k := sort.Search(len(g.folds), func(k int) bool { return g.folds[k].owner >= uint32(stop) })
	g.folds = g.folds[:k]
	for _, f := range g.folds {
		g.hasFold.Add(int(f.owner))
	}
}

// maxRows bounds the rows' words: positions in them are 4-byte numbers.
const maxRows = math.MaxUint32 - 1<<20

// refsLimit returns the first object, by number, whose references are
// left out so that the rows stay within maxRows (n when none is), with a
// warning when some are. Folded dicts' rows are always kept.
func (h *Heap) refsLimit(rec *refRecord) int {
	if rec.words < maxRows {
		return h.n
	}
	// Each object's row length (its count and targets), then the objects
	// in order until the rows are full.
	rowLen := make([]uint32, h.n)
	j := -1
	for _, chunk := range rec.chunks() {
		for _, w := range chunk {
			if w&recHeader != 0 {
				j, _ = h.Find(w &^ recFlags)
			}
			rowLen[j]++
		}
	}
	total := 0
	for i := 0; i < h.n; i++ {
		if h.folded.Has(i) {
			total += int(rowLen[i])
		}
	}
	for i := 0; i < h.n; i++ {
		if total >= maxRows {
			h.warns.Addf("pycore", "more references than heapsift can hold; the objects from %#x on have none", h.Addr(i))
			return i
		}
		if !h.folded.Has(i) {
			total += int(rowLen[i])
		}
	}
	return h.n
}
