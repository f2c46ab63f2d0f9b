package gocore

// Span specials (mheap.go special, mgcmark.go markrootSpans): records hung
// off an in-use span for objects with finalizers, weak handles, cleanups
// and profiling. For the GC, a finalizer keeps alive what its object points
// to (not the object itself) and its function; a weak handle keeps its
// handle cell; a cleanup keeps its function and argument.

import (
	"debug/dwarf"

	"github.com/heapsift/heapsift/dump"
)

// specialKinds are the kind numbers of the specials that are roots.
type specialKinds struct {
	finalizer, weak, cleanup int64 // -1 if the version has none
	offset, kind, next       fieldLoc
	fin, weakT, cleanT       dwarf.Type
}

func (p *Program) specialKinds() (specialKinds, bool) {
	k := specialKinds{finalizer: -1, weak: -1, cleanup: -1}
	c := func(name string) int64 {
		if v, ok := p.dw.constant(name); ok {
			return v
		}
		return -1
	}
	k.finalizer = c("runtime._KindSpecialFinalizer")
	k.weak = c("runtime._KindSpecialWeakHandle")
	k.cleanup = c("runtime._KindSpecialCleanup")
	var err error
	if k.next, err = p.locate("runtime.special", false, "next"); err != nil {
		p.warnf("span specials: %v", err)
		return k, false
	}
	k.offset, _ = p.locate("runtime.special", false, "offset")
	k.kind, _ = p.locate("runtime.special", false, "kind")
	k.fin, _ = p.dw.typeNamed("runtime.specialfinalizer")
	k.weakT, _ = p.dw.typeNamed("runtime.specialWeakHandle")
	k.cleanT, _ = p.dw.typeNamed("runtime.specialCleanup")
	return k, true
}

// spanSpecials walks every in-use span's specials list.
func (p *Program) spanSpecials() {
	k, ok := p.specialKinds()
	if !ok {
		return
	}
	for si := range p.heap.spans {
		s := &p.heap.spans[si]
		for sp, n := s.specials, 0; sp != 0 && n < 1<<20; n++ {
			b, err := p.proc.Slice(sp, uint64(k.kind.off+k.kind.size))
			if err != nil {
				p.warnf("reading special at %#x: %v", uint64(sp), err)
				break
			}
			p.special(s, sp, b, &k)
			sp = dump.Address(k.next.read(b))
		}
	}
}

func (p *Program) special(s *span, sp dump.Address, b []byte, k *specialKinds) {
	kind := int64(k.kind.read(b))
	switch {
	case kind == k.finalizer && k.fin != nil:
		off := k.offset.read(b)
		slot := s.base + dump.Address(off/s.elemsize*s.elemsize)
		if obj, _, ok := p.heap.findObject(slot); ok {
			p.finalized = append(p.finalized, finalized{obj: obj, special: sp})
		}
		p.scanRecord(RootFinalizer, "finalizer", sp, k.fin, "fn")
	case kind == k.weak && k.weakT != nil:
		p.scanRecord(RootRuntime, "weak handle", sp, k.weakT, "handle")
	case kind == k.cleanup && k.cleanT != nil:
		if hasField(k.cleanT, "cleanup") {
			p.scanRecord(RootFinalizer, "cleanup", sp, k.cleanT, "cleanup")
		} else {
			p.scanRecord(RootFinalizer, "cleanup", sp, k.cleanT, "fn")
		}
	}
}

// finalized is an object with a finalizer: the GC marks what it points to
// but not the object itself.
type finalized struct {
	obj     uint32
	special dump.Address
}
