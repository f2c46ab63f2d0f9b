package gocore

// The type table. Every type gocore can attach to an object gets a dense
// TypeID: types known to DWARF are interned by name (Go's DWARF names are
// unique and spell full import paths), runtime type descriptors without a
// DWARF entry by their own name, and arrays as (element type, count) pairs.
// A backing array of N elements of T is one object of type "[N]T", where N is
// how many elements fit in the object (its size class, minus a malloc
// header if it has one); an object that holds exactly one T is of type T.

import (
	"debug/dwarf"
	"fmt"
	"github.com/heapsift/heapsift/gocore/rtread"
	"strings"
)

// TypeID identifies a type in a Program's type table; NoType (0) means the
// object's type is unknown.
type TypeID uint32

// NoType is the TypeID of untyped objects.
const NoType TypeID = 0

// gotype is an entry of the type table.
type gotype struct {
	name    string
	size    uint64        // bytes of one value (of one element, for arrays)
	elem    TypeID        // for arrays: the element type
	count   uint64        // for arrays: the element count; 0 otherwise
	dw      dwarf.Type    // DWARF type, nil if DWARF does not know it
	rt      *rtread.RType // runtime descriptor, nil if none is known
	layout  []slot        // typed pointer slots of one value
	laidOut bool
	single  bool // never an array: the object may be larger than the type (hchan with its buffer)
	// fitUsable and fitType cache the last result of fit for this type.
	fitUsable uint64
	fitType   TypeID
	// node says pointers to this type point to one of several concrete
	// types (downcast).
	node bool
}

// typeTable interns types.
type typeTable struct {
	types  []gotype // indexed by TypeID; types[0] is the untyped placeholder
	byName map[string]TypeID
	arrays map[[2]uint64]TypeID
}

func newTypeTable() typeTable {
	return typeTable{
		types:  []gotype{{name: "<untyped>"}},
		byName: make(map[string]TypeID),
		arrays: make(map[[2]uint64]TypeID),
	}
}

// internDWARF returns the TypeID of DWARF type t.
func (tt *typeTable) internDWARF(t dwarf.Type) TypeID {
	name := rtread.TypeName(t)
	if id, ok := tt.byName[name]; ok {
		if tt.types[id].dw == nil {
			tt.types[id].dw = t
		}
		return id
	}
	// A named struct may be reached through its typedef; keep the struct.
	if td, ok := t.(*dwarf.TypedefType); ok && rtread.TypeName(rtread.StripTypedefs(td)) == name {
		t = rtread.StripTypedefs(td)
	}
	size := t.Size()
	if size < 0 {
		size = 0
	}
	// A channel's hchan may hold its buffer in the same object.
	single := isChanType(name)
	node := strings.HasPrefix(name, hashTrieNode)
	return tt.add(gotype{name: name, size: uint64(size), dw: t, single: single, node: node})
}

// internRuntime returns the TypeID of a runtime type descriptor that DWARF
// does not describe.
func (tt *typeTable) internRuntime(rt *rtread.RType) TypeID {
	if id, ok := tt.byName[rt.Name]; ok {
		return id
	}
	return tt.add(gotype{name: rt.Name, size: rt.Size, rt: rt})
}

// internArray returns the TypeID of [n]elem.
func (tt *typeTable) internArray(elem TypeID, n uint64) TypeID {
	key := [2]uint64{uint64(elem), n}
	if id, ok := tt.arrays[key]; ok {
		return id
	}
	e := &tt.types[elem]
	id := TypeID(len(tt.types))
	tt.types = append(tt.types, gotype{
		name:  fmt.Sprintf("[%d]%s", n, e.name),
		size:  e.size,
		elem:  elem,
		count: n,
	})
	tt.arrays[key] = id
	return id
}

func (tt *typeTable) add(g gotype) TypeID {
	id := TypeID(len(tt.types))
	tt.types = append(tt.types, g)
	tt.byName[g.name] = id
	return id
}

// fit returns the type of an object of usable size bytes holding values
// of type t: t itself if one fits, [n]t if n > 1 do.
func (tt *typeTable) fit(t TypeID, usable uint64) TypeID {
	g := &tt.types[t]
	if g.count != 0 || g.single || g.size == 0 || usable < 2*g.size {
		return t
	}
	if g.fitUsable == usable {
		return g.fitType
	}
	at := tt.internArray(t, usable/g.size)
	g = &tt.types[t] // internArray may have moved the table
	g.fitUsable, g.fitType = usable, at
	return at
}

// elemOf returns the type whose values an object of type t holds, and how
// many: (t, 1) for a plain type, (elem, n) for [n]elem.
func (tt *typeTable) elemOf(t TypeID) (TypeID, uint64) {
	g := &tt.types[t]
	if g.count != 0 {
		return g.elem, g.count
	}
	return t, 1
}

// unjoined marks the descriptors typeOfRuntime has not seen yet.
const unjoined = ^TypeID(0)

// typeOfRuntime returns the TypeID for a runtime type descriptor, joining
// it to DWARF through DW_AT_go_runtime_type.
func (p *Program) typeOfRuntime(rt *rtread.RType) TypeID {
	for len(p.rtTypes) <= rt.ID {
		p.rtTypes = append(p.rtTypes, unjoined)
	}
	if t := p.rtTypes[rt.ID]; t != unjoined {
		return t
	}
	t := p.joinRuntime(rt)
	p.rtTypes[rt.ID] = t
	return t
}

func (p *Program) joinRuntime(rt *rtread.RType) TypeID {
	if rt.Name == "" {
		return NoType // e.g. the synthetic types of unrolled GC programs (Go 1.22-1.23)
	}
	if dt, ok := p.rtypes.Joined(rt); ok {
		t := p.types.internDWARF(dt)
		if g := &p.types.types[t]; g.rt == nil {
			g.rt = rt
		}
		return t
	}
	t := p.types.internRuntime(rt)
	if g := &p.types.types[t]; g.dw == nil {
		// Describe it from the descriptor itself, for layouts and field
		// names.
		g.dw = p.rtypes.DWARF(rt)
	}
	return t
}
