package pycore

import (
	"fmt"
	"sort"

	"github.com/heapsift/heapsift/warn"
)

// Building the graph. The collector's generation lists give every tracked
// object; following references from them, from the roots and from the
// frames finds the untracked ones (strs, ints, floats, and tuples and
// dicts the collector stopped tracking). Objects are then numbered by
// address, and their references collected into CSR arrays.

// found is an object in discovery order.
type found struct {
	addr uint64
	ti   *typeInfo
}

// discovery is the state of the object search.
type discovery struct {
	seen     addrSet
	objs     []found
	nTracked int
	queue    int // next index of objs to scan
}

// build finds the objects, numbers them, collects their references, and
// decides what is live.
func (h *Heap) build(sy symbols) error {
	d := &discovery{}
	heads, err := h.gcListHeads(sy)
	if err != nil {
		return err
	}
	for _, head := range heads {
		h.walkGCList(d, head)
	}
	d.nTracked = len(d.objs)
	if d.nTracked == 0 {
		h.warns.Addf("pycore", "the collector's lists hold no objects")
	}
	h.collectRoots()
	for _, r := range h.rootAddrs {
		h.offer(d, r.addr)
	}
	for {
		for d.queue < len(d.objs) {
			o := d.objs[d.queue]
			d.queue++
			h.refs(o.addr, o.ti, false, func(t uint64, _ uint32) { h.offer(d, t) })
		}
		// The static types met hold references too; what they hold may
		// hold more.
		n := len(h.rootAddrs)
		h.staticTypeRoots()
		for _, r := range h.rootAddrs[n:] {
			h.offer(d, r.addr)
		}
		if d.queue == len(d.objs) {
			break
		}
	}
	h.number(d)
	h.collectEdges()
	h.resolveRoots()
	h.decideLiveness()
	h.computeSizes()
	return nil
}

// offer adds the object at a if it is a new, plausible object.
func (h *Heap) offer(d *discovery, a uint64) {
	if !h.mem.heapAddr(a) {
		return
	}
	t, err := h.mem.u64(a + uint64(h.l.ObType))
	if err != nil {
		return
	}
	ti, err := h.typeOf(t)
	if err != nil {
		return
	}
	if !d.seen.add(a) {
		return
	}
	d.objs = append(d.objs, found{a, ti})
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
	limit := len(d.objs) + int(h.p.FileSize/16) + 16
	next := h.l.GCNext
	a, err := h.mem.u64(head + uint64(next))
	for n := 0; err == nil && a&^3 != head; n++ {
		a &^= 3
		if n > limit || a == 0 {
			h.warns.Add(warn.At("pycore", head, "the collector list is longer than the core could hold or broken; stopped after %d objects", n))
			return
		}
		obj := a + uint64(h.l.GCHeadSize)
		before := len(d.objs)
		h.offer(d, obj)
		if len(d.objs) == before {
			if !d.seen.add(obj) {
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

// number sorts the objects by address and keeps which were tracked.
func (h *Heap) number(d *discovery) {
	n := len(d.objs)
	order := make([]int32, n)
	for i := range order {
		order[i] = int32(i)
	}
	sort.Slice(order, func(i, j int) bool { return d.objs[order[i]].addr < d.objs[order[j]].addr })
	h.addrs = make([]uint64, n)
	h.tinfo = make([]*typeInfo, n)
	h.tracked = newBitset(n)
	for i, o := range order {
		h.addrs[i] = d.objs[o].addr
		h.tinfo[i] = d.objs[o].ti
		if int(o) < d.nTracked {
			h.tracked.set(i)
		}
	}
}

// collectEdges computes every object's references into CSR arrays, after
// deciding which dicts their owners absorb.
func (h *Heap) collectEdges() {
	n := len(h.addrs)
	h.folded = newBitset(n)
	for i, a := range h.addrs {
		if d, ok := h.ownDict(a, h.tinfo[i]); ok {
			if j, ok := h.Find(d); ok && h.foldable(j) {
				h.folded.set(j)
			}
		}
	}
	h.edgeStart = make([]int, n+1)
	for i, a := range h.addrs {
		h.edgeStart[i] = len(h.edgeTo)
		if h.folded.has(i) {
			continue
		}
		h.refs(a, h.tinfo[i], true, func(t uint64, label uint32) {
			if j, ok := h.Find(t); ok {
				h.edgeTo = append(h.edgeTo, uint32(j))
				h.edgeLabel = append(h.edgeLabel, label)
			}
		})
	}
	h.edgeStart[n] = len(h.edgeTo)
}

// foldable reports whether dict object j can be absorbed by its owner:
// an exact dict that only its owner refers to.
func (h *Heap) foldable(j int) bool {
	if h.tinfo[j].addr != h.dictType() {
		return false
	}
	rc, err := h.mem.i64(h.addrs[j] + uint64(h.l.ObRefcnt))
	return err == nil && rc == 1
}

// dictType returns the address of `dict`.
func (h *Heap) dictType() uint64 { return h.dictTypeAddr }
