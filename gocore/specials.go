package gocore

// Span specials (mheap.go special, mgcmark.go markrootSpans): records hung
// off an in-use span for objects with finalizers, weak handles, cleanups
// and profiling. For the GC, a finalizer keeps alive what its object points
// to (not the object itself) and its function; a weak handle keeps its
// handle cell; a cleanup keeps its function and argument.

import (
	"debug/dwarf"
	"errors"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/gocore/rtread"
)

// specialKinds are the kind numbers of the specials that are roots.
type specialKinds struct {
	finalizer, weak, cleanup int64 // -1 if the version has none
	offset, kind, next       rtread.FieldLoc
	fin, weakT, cleanT       dwarf.Type
}

func (p *Program) specialKinds() (specialKinds, bool) {
	k := specialKinds{finalizer: -1, weak: -1, cleanup: -1}
	c := func(name string) int64 {
		if v, ok := p.dw.Constant(name); ok {
			return v
		}
		return -1
	}
	k.finalizer = c("runtime._KindSpecialFinalizer")
	if k.finalizer < 0 {
		p.warnf("DWARF has no constant runtime._KindSpecialFinalizer: finalizers are not roots")
	}
	k.weak = c("runtime._KindSpecialWeakHandle") // Go 1.23+
	k.cleanup = c("runtime._KindSpecialCleanup") // Go 1.25+
	var err1, err2, err3 error
	k.next, err1 = p.rd.Locate("runtime.special", false, "next")
	k.offset, err2 = p.rd.Locate("runtime.special", false, "offset")
	k.kind, err3 = p.rd.Locate("runtime.special", false, "kind")
	if err := errors.Join(err1, err2, err3); err != nil {
		p.warnf("span specials are not roots: %v", err)
		return k, false
	}
	k.fin, _ = p.dw.TypeNamed("runtime.specialfinalizer")
	k.weakT, _ = p.dw.TypeNamed("runtime.specialWeakHandle")
	k.cleanT, _ = p.dw.TypeNamed("runtime.specialCleanup")
	return k, true
}

// spanSpecials walks every in-use span's specials list, adding roots to
// rs, and returns the objects with finalizers.
func (p *Program) spanSpecials(rs *rootSet) []finalized {
	k, ok := p.specialKinds()
	if !ok {
		return nil
	}
	var fin []finalized
	for si := range p.heap.spans {
		s := &p.heap.spans[si]
		for sp, n := s.specials, 0; sp != 0 && n < 1<<20; n++ {
			b, err := p.proc.Slice(sp, uint64(k.kind.Off+k.kind.Size))
			if err != nil {
				p.warnf("reading special at %#x: %v", uint64(sp), err)
				break
			}
			fin = p.special(rs, fin, s, sp, b, &k)
			sp = dump.Address(k.next.Read(b))
		}
	}
	return fin
}

// special adds the roots of the special at sp (whose first bytes are b)
// of span s, and appends it to fin if it is a finalizer.
func (p *Program) special(rs *rootSet, fin []finalized, s *span, sp dump.Address, b []byte, k *specialKinds) []finalized {
	kind := int64(k.kind.Read(b))
	switch {
	case kind == k.finalizer && k.fin != nil:
		off := k.offset.Read(b)
		slot := s.base + dump.Address(off/s.elemsize*s.elemsize)
		if obj, _, ok := p.heap.findObject(slot); ok {
			fin = append(fin, finalized{obj: obj, special: sp})
		}
		p.scanRecord(rs, RootFinalizer, "finalizer", sp, k.fin, "fn")
	case kind == k.weak && k.weakT != nil:
		p.scanRecord(rs, RootRuntime, "weak handle", sp, k.weakT, "handle")
	case kind == k.cleanup && k.cleanT != nil:
		if rtread.HasField(k.cleanT, "cleanup") {
			p.scanRecord(rs, RootFinalizer, "cleanup", sp, k.cleanT, "cleanup")
		} else {
			p.scanRecord(rs, RootFinalizer, "cleanup", sp, k.cleanT, "fn")
		}
	}
	return fin
}

// finalized is an object with a finalizer: the GC marks what it points to
// but not the object itself.
type finalized struct {
	obj     uint32
	special dump.Address
}
