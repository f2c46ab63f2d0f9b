package gocore

// Type propagation. Objects typed by the runtime (malloc headers, largeType)
// and typed roots (globals and stack variables, by their DWARF types) pass
// types on along their typed slots (layout.go) to the objects those slots
// point to, which pass them on in turn. A slot types an object only if it
// points to the start of the object's value and what it describes fits in
// it. An object typed by propagation may be retyped once a slot offers a
// type with larger elements (a pointer to a struct's first field typing the
// object before a pointer to the struct does); types from the runtime are
// final. Nothing recurses per object.
//
// Objects whose type changed and whose type has slots are "dirty"; a
// sweepQueue schedules their processing in address order, so that objects,
// their memory and their edges are read sequentially.

import (
	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/gocore/rtread"
)

// propagator carries the state of type propagation.
type propagator struct {
	p     *Program
	open  []uint64    // live objects whose type is not fixed
	dirty *sweepQueue // objects to process
	// interior records typed slots pointing into untyped objects, and
	// enclosing the struct types that may enclose what they point to
	// (interior.go).
	interior  []interiorOffer
	enclosing enclosingIndex
	// statics are typed values in data or bss still to apply, staticSeen
	// those queued once (staticdata.go).
	statics    []staticValue
	staticSeen map[staticValue]bool
}

// region is memory holding typed values: an object, a global, a stack.
type region struct {
	addr dump.Address
	mem  []byte
	// stack says that only words that are live stack slots count.
	stack bool
	// lo and hi bound the offsets of the region that hold the value
	// (a variable split between registers and stack has pieces).
	lo, hi uint64
}

// propagateTypes types objects, making at most maxSweeps sweeps before the
// work stack takes over.
func (p *Program) propagateTypes(maxSweeps int) {
	pr := &propagator{p: p, open: makeHuge[uint64](len(p.live)), dirty: newSweepQueue(p.heap.numObjects(), maxSweeps)}
	for i, w := range p.live {
		pr.open[i] = w &^ p.fixed[i]
	}
	for o := range p.objType {
		if p.objType[o] != NoType && p.isLive(uint32(o)) {
			pr.retyped(uint32(o))
		}
	}
	pr.finalizerTypes()
	pr.globalRoots()
	pr.stackRoots()
	pr.gcWorkerNodes()
	pr.itabTableType()
	pr.run()
	for round := 0; round < maxInteriorRounds && pr.typeEnclosing() > 0; round++ {
		pr.run()
	}
	if pr.typeClosuresByEntry() > 0 {
		pr.run()
	}
}

// run processes the dirty objects and the static values they reach until
// neither is left.
func (pr *propagator) run() {
	for {
		pr.dirty.run(pr.object)
		if pr.applyStatics() == 0 {
			return
		}
	}
}

// retyped notes that object obj's type changed: it is to be processed if
// its type has slots.
func (pr *propagator) retyped(obj uint32) {
	p := pr.p
	elem, _ := p.types.elemOf(p.objType[obj])
	if len(p.layoutOf(elem)) == 0 {
		return
	}
	pr.dirty.add(obj)
}

// object applies object obj's type to its memory.
func (pr *propagator) object(obj uint32) {
	p := pr.p
	s := p.heap.spanOf(obj)
	if s.mem == nil {
		return
	}
	elem, n := p.types.elemOf(p.objType[obj])
	lay := p.layoutOf(elem)
	if len(lay) == 0 {
		return
	}
	size := p.types.types[elem].size
	start := uint64(0)
	if s.header {
		start = p.heap.hp.MallocHeader
	}
	slot := p.heap.slotOf(obj, s) * s.elemsize
	mem := s.mem[slot : slot+s.elemsize : slot+s.elemsize]
	r := region{addr: s.base + dump.Address(slot), mem: mem, lo: 0, hi: uint64(len(mem))}
	for i := uint64(0); i < n; i++ {
		base := start + i*size
		if base+size > uint64(len(mem)) {
			break
		}
		pr.apply(lay, &r, base)
	}
}

// globalRoots applies the DWARF types of the globals in data and bss.
func (pr *propagator) globalRoots() {
	p := pr.p
	for _, m := range p.modules {
		for _, v := range p.globalNamer().vars {
			a := dump.Address(v.Addr)
			if !(a >= m.data && a < m.edata || a >= m.bss && a < m.ebss) {
				continue
			}
			t, err := p.dw.TypeAt(v.Type)
			if err != nil || t.Size() <= 0 {
				continue
			}
			lay := p.compile(t, 0, nil, 0)
			if len(lay) == 0 {
				continue
			}
			mem, err := p.proc.Slice(a, uint64(t.Size()))
			if err != nil {
				continue
			}
			pr.apply(lay, &region{addr: a, mem: mem, hi: uint64(len(mem))}, 0)
		}
	}
}

// stackRoots applies the DWARF types of stack variables to their live
// pointer slots.
func (pr *propagator) stackRoots() {
	p := pr.p
	for _, tr := range p.typedRoots {
		size := uint64(max(tr.typ.Size(), 0))
		if size == 0 || tr.hi > size || tr.lo >= tr.hi {
			continue
		}
		lay := p.compile(tr.typ, 0, nil, 0)
		if len(lay) == 0 {
			continue
		}
		mem, err := p.proc.Slice(tr.addr+dump.Address(tr.lo), tr.hi-tr.lo)
		if err != nil {
			continue
		}
		// The region's memory starts at the piece; offsets in the
		// layout are from the variable's start.
		r := region{addr: tr.addr, mem: mem, stack: tr.stack, lo: tr.lo, hi: tr.hi}
		pr.apply(lay, &r, 0)
	}
}

// finalizerTypes types objects with finalizers from the finalizer's
// record of the object's pointer type (specialfinalizer.ot).
func (pr *propagator) finalizerTypes() {
	p := pr.p
	if len(p.finalized) == 0 {
		return
	}
	ot, err := p.rd.FieldOffset("runtime.specialfinalizer", "ot")
	if err != nil {
		return
	}
	for _, f := range p.finalized {
		pt, err := p.proc.Ptr(f.special + dump.Address(ot))
		if err != nil || pt == 0 {
			continue
		}
		rt, err := p.rtypes.Get(pt)
		if err != nil || rt.Kind != rtread.KindPointer {
			continue
		}
		elem := p.rtypes.Elem(rt)
		if elem == 0 {
			continue
		}
		ert, err := p.rtypes.Get(elem)
		if err != nil {
			continue
		}
		if t := p.typeOfRuntime(ert); t != NoType {
			pr.offer(nil, 0, uint64(p.Addr(int(f.obj))), t, ert.Size, offerExact)
		}
	}
}

// word reads the word at offset off of region r, if it may be used.
func (pr *propagator) word(r *region, off uint64) (uint64, bool) {
	if off < r.lo || off+8 > r.hi {
		return 0, false
	}
	i := off - r.lo
	if i+8 > uint64(len(r.mem)) {
		return 0, false
	}
	if r.stack && !pr.p.isLiveStackSlot(uint64(r.addr)+off) {
		return 0, false
	}
	return leUint64(r.mem[i:]), true
}

// rawWord reads a non-pointer word (a length, a count) of region r.
func (pr *propagator) rawWord(r *region, off uint64) (uint64, bool) {
	if off < r.lo || off+8 > r.hi || off-r.lo+8 > uint64(len(r.mem)) {
		return 0, false
	}
	return leUint64(r.mem[off-r.lo:]), true
}
