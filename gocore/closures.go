package gocore

// Closures. A func value points to a funcval {fn, captured variables...}.
// The closure's type is named after the function fn points into; Go 1.23+
// records each captured variable's offset in the closure object
// (DW_AT_go_closure_offset on the closure function's variables), from
// which gocore builds a struct type for the closure so that what it
// captures is typed too. Go 1.22 has no such record: its closures are named
// but their contents stay untyped.

import (
	"debug/dwarf"

	"github.com/heapsift/heapsift/dump"
)

// closure types the closure object that func value a points to.
func (pr *propagator) closure(a uint64) {
	p := pr.p
	obj, off, ok := p.heap.findObject(dump.Address(a))
	if !ok || off != 0 || p.isFixed(obj) || p.objType[obj] != NoType || !p.isLive(obj) {
		return
	}
	mem := p.heap.bytesOf(obj)
	if len(mem) < 8 {
		return
	}
	t := p.closureType(leUint64(mem))
	if t == NoType {
		return
	}
	p.objType[obj] = t
	pr.retyped(obj)
}

// closureType returns the type of closures of the function holding pc.
func (p *Program) closureType(pc uint64) TypeID {
	fn, ok := p.dw.FuncAt(pc - p.bias)
	if !ok {
		return NoType
	}
	if t, ok := p.closures[fn]; ok {
		return t
	}
	t := p.buildClosureType(fn)
	if p.closures == nil {
		p.closures = make(map[dwarf.Offset]TypeID)
	}
	p.closures[fn] = t
	return t
}

// buildClosureType makes the struct type of the closures of the function
// whose DWARF entry is at off.
func (p *Program) buildClosureType(off dwarf.Offset) TypeID {
	st := p.dw.ClosureStruct(off)
	if st == nil {
		return NoType
	}
	st.StructName = shortenShapes(st.StructName)
	t := p.types.internDWARF(st)
	p.types.types[t].single = true
	return t
}
