package pycore

import (
	"fmt"

	"github.com/heapsift/heapsift/warn"

	"github.com/heapsift/heapsift/internal/bitset"
	"github.com/heapsift/heapsift/internal/offheap"
)

// Building the graph. The collector's generation lists give every tracked
// object; following references from them, from the roots and from the
// frames finds the untracked ones (strs, ints, floats, and tuples and
// dicts the collector stopped tracking), and records the references it
// follows (edges.go). Objects are then numbered by address; their types
// and sizes are read (objects.go) while the record is turned into rows of
// object numbers, and the refcounts compared with the references counted
// to decide what is live (gc.go).

// discovery is the state of the object search: the addresses found, a
// stack of the objects found whose references are still to follow
// (objects that can hold none, such as strs and floats, are never on it),
// and the record of the references followed.
type discovery struct {
	idx     *addrIndex
	pending foundStack
	rec     refRecord
	types   typeCache
}

// foundStack is a stack of objects to scan in chunks, so that growing
// it to millions never copies what it holds.
type foundStack struct {
	full [][]found // chunks of foundChunk each
	top  []found
}

const foundChunk = 1 << 16

func (s *foundStack) push(f found) {
	if len(s.top) == cap(s.top) && s.top != nil {
		s.full = append(s.full, s.top)
		s.top = nil
	}
	if s.top == nil {
		s.top = make([]found, 0, foundChunk)
	}
	s.top = append(s.top, f)
}

// pop removes and returns the top object; false when the stack is empty.
func (s *foundStack) pop() (found, bool) {
	if len(s.top) == 0 {
		n := len(s.full)
		if n == 0 {
			return found{}, false
		}
		s.top, s.full = s.full[n-1], s.full[:n-1]
	}
	f := s.top[len(s.top)-1]
	s.top = s.top[:len(s.top)-1]
	return f, true
}

// found is an object to scan.
type found struct {
	addr uint64
	seq  uint32 // its typeInfo's index in types.all: no pointer for the GC to scan
}

// build finds the objects, numbers them, collects their references, and
// decides what is live.
func (h *Heap) build(sy symbols) error {
	view := newCoreView(h.p)
	h.mem = memory{p: view, v: view}
	arena := &offheap.Arena{}
	defer arena.Release()
	d := &discovery{idx: newAddrIndex(view), rec: refRecord{arena: arena}}
	if err := h.search(d, sy); err != nil {
		return err
	}
	if err := h.number(d); err != nil {
		return err
	}
	// Types and sizes are read beside the making of the graph, on another
	// core if there is one: neither needs the other.
	sized := h.newSizer().start()
	g := h.graphRefs(&d.rec)
	if bad := sized.wait(); bad > 0 {
		h.warns.Addf("pycore", "%d objects lost their type while being numbered", bad)
	}
	h.resolveRoots()
	seeds := h.liveSeeds(g)
	h.decideLiveness(g, seeds)
	g.free()
	h.sumTotals()
	return nil
}

// search finds the objects from the collector's lists and the roots,
// following and recording the references of each object found.
func (h *Heap) search(d *discovery, sy symbols) error {
	heads, err := h.gcListHeads(sy)
	if err != nil {
		return err
	}
	for _, head := range heads {
		h.walkGCList(d, head)
	}
	if d.idx.n == 0 {
		h.warns.Addf("pycore", "the collector's lists hold no objects")
	}
	h.collectRoots()
	for _, r := range h.rootAddrs {
		h.offer(d, r.addr, false)
	}
	var src uint64 // the object being scanned
	record := func(t uint64, label uint32) {
		if isObj, _ := h.offer(d, t, false); isObj {
			h.recordRef(d, src, t, label)
		}
	}
	for {
		for o, ok := d.pending.pop(); ok; o, ok = d.pending.pop() {
			src = o.addr
			d.rec.put(src | recHeader)
			h.refs(src, h.types.all[o.seq], false, record)
		}
		// The static types met hold references too; what they hold may
		// hold more.
		n := len(h.rootAddrs)
		h.staticTypeRoots()
		for _, r := range h.rootAddrs[n:] {
			h.offer(d, r.addr, false)
		}
		if len(d.pending.top) == 0 && len(d.pending.full) == 0 {
			return nil
		}
	}
}

// offer adds the object at a if it is a new, plausible object: isObj
// says whether a is an object's address (new or found before), added
// whether it was new.
func (h *Heap) offer(d *discovery, a uint64, tracked bool) (isObj, added bool) {
	x := d.idx
	// One lookup of a's mapping serves heapAddr, the seen test and
	// reading ob_type.
	i, w, ok := x.locate(a)
	if !ok || !x.v.anon[i] {
		return false, false
	}
	if x.seen(i, w) {
		return true, false
	}
	held, off := x.v.held[i], w*8+uint64(h.l.ObType)
	if off+8 > uint64(len(held)) {
		return false, false
	}
	ti, err := d.typeOf(h, le64(held[off:]))
	if err != nil {
		return false, false
	}
	x.add(i, w, tracked)
	if !ti.leaf() {
		d.pending.push(found{a, ti.seq})
	}
	return true, true
}

// typeOf is h.typeOf through the discovery's cache.
func (d *discovery) typeOf(h *Heap, t uint64) (*typeInfo, error) {
	slot := d.types.slot(t)
	if ti := *slot; ti != nil && ti.addr == t {
		return ti, nil
	}
	ti, err := h.typeOf(t)
	if err == nil {
		*slot = ti
	}
	return ti, err
}

// recordRef records the reference from src to the object at t, and when
// t is src's own dict (labelOwnDict, the search's label for it) and
// foldable, the pair.
func (h *Heap) recordRef(d *discovery, src, t uint64, label uint32) {
	w := t
	if !exactLabel(label) {
		w |= recInexact
	}
	d.rec.put(w)
	if labelKind(label) == labelOwnDict && h.foldable(t) {
		d.rec.folds = append(d.rec.folds, [2]uint64{src, t})
	}
}

// gcListHeads returns the addresses of the collector's list heads.
func (h *Heap) gcListHeads(sy symbols) ([]uint64, error) {
	s := &h.l.State
	var gens uint64
	switch {
	case sy.generations != 0 && s.GCGenerations == absent:
		gens = sy.generations // 3.6: a static array in gcmodule.c
	case s.InterpGC != absent:
		gens = h.interps[0] + uint64(s.InterpGC) + uint64(s.GCGenerations)
	case s.RuntimeGC != absent && h.runtime != 0:
		gens = h.runtime + uint64(s.RuntimeGC) + uint64(s.GCGenerations)
	default:
		return nil, fmt.Errorf("pycore: cannot find the collector's generations in %s", h.lib)
	}
	var heads []uint64
	for i := uint64(0); i < 3; i++ {
		heads = append(heads, gens+i*uint64(s.GCGenerationSize))
	}
	if s.GCPermanent != absent && s.GCGenerations != absent {
		heads = append(heads, gens-uint64(s.GCGenerations)+uint64(s.GCPermanent))
	}
	return heads, nil
}

// walkGCList adds the objects of one collector list.
func (h *Heap) walkGCList(d *discovery, head uint64) {
	limit := d.idx.n + int(h.p.FileSize/16) + 16
	next := h.l.GCNext
	a, err := h.mem.u64(head + uint64(next))
	for n := 0; err == nil && a&^3 != head; n++ {
		a &^= 3
		if n > limit || a == 0 {
			h.warns.Add(warn.At("pycore", head, "the collector list is longer than the core could hold or broken; stopped after %d objects", n))
			return
		}
		obj := a + uint64(h.l.GCHeadSize)
		if isObj, added := h.offer(d, obj, true); !added {
			if isObj {
				h.warns.Add(warn.At("pycore", obj, "the collector list loops back; stopped after %d objects", n))
				return
			}
			h.warns.Add(warn.At("pycore", obj, "the collector list holds something that is not an object"))
		}
		a, err = h.mem.u64(a + uint64(next))
	}
	if err != nil {
		h.warns.Add(warn.At("pycore", head, "reading the collector list: %v", err))
	}
}

// number numbers the objects by address, and keeps which were tracked.
func (h *Heap) number(d *discovery) error {
	n := d.idx.n
	h.n = n
	h.tracked = bitset.New(n)
	err := d.idx.seal(func(i int, _ uint64, tracked bool) {
		if tracked {
			h.tracked.Add(i)
		}
	})
	h.index = d.idx
	return err
}

// foldable reports whether the dict object at a can be absorbed by its
// owner: an exact dict that only its owner refers to.
func (h *Heap) foldable(a uint64) bool {
	t, err := h.mem.u64(a + uint64(h.l.ObType))
	if err != nil || t != h.dictType() {
		return false
	}
	rc, err := h.mem.i64(a + uint64(h.l.ObRefcnt))
	return err == nil && rc == 1
}

// dictType returns the address of `dict`.
func (h *Heap) dictType() uint64 { return h.dictTypeAddr }
