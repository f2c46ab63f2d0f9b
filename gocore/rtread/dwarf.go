package rtread

// The DWARF index: one pass over the executable's top-level debugging
// entries collects what the rest of the package looks up by name (runtime
// types, globals, integer constants), the Go-specific attributes of type
// entries (kind, element and key types, runtime type descriptor), and the
// address ranges of functions. Type entries are decoded lazily by
// debug/dwarf, which caches them by offset.

import (
	"debug/dwarf"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/heapsift/heapsift/internal/dwarfx"
)

// Go-specific DWARF attributes (cmd/internal/dwarf).
const (
	attrGoKind          dwarf.Attr = 0x2900
	attrGoKey           dwarf.Attr = 0x2901
	attrGoElem          dwarf.Attr = 0x2902
	attrGoRuntimeType   dwarf.Attr = 0x2904
	attrGoClosureOffset dwarf.Attr = 0x2907
)

// Go kinds, as in internal/abi and DW_AT_go_kind.
const (
	KindBool          = 1
	KindArray         = 17
	KindChan          = 18
	KindFunc          = 19
	KindInterface     = 20
	KindMap           = 21
	KindPointer       = 22
	KindSlice         = 23
	KindString        = 24
	KindStruct        = 25
	KindUnsafePointer = 26
)

// goTypeAttrs holds the Go-specific attributes of a type entry.
type goTypeAttrs struct {
	off   dwarf.Offset
	kind  uint8
	key   dwarf.Offset // map key type
	elem  dwarf.Offset // element type of slices, maps, channels
	rtype uint64       // offset of the runtime type descriptor from moduledata.types, 0 if none
}

// Global is a package-level variable with a static address.
type Global struct {
	Name string
	Addr uint64 // link-time address (before any PIE load bias)
	Type dwarf.Offset
}

// dwarfFunc is a function's entry, for closures' captured variables.
type dwarfFunc struct {
	lowpc, highpc uint64
	off           dwarf.Offset
}

// typeEntry is a named type entry.
type typeEntry struct {
	off     dwarf.Offset
	typedef bool
}

// Index is the name index of an executable's DWARF.
type Index struct {
	mu      sync.Mutex // guards data's type cache
	data    *dwarf.Data
	types   map[string]typeEntry    // named type entries
	attrs   map[string]goTypeAttrs  // Go attributes of type entries, by type name
	byRT    map[uint64]dwarf.Offset // runtime type offset -> type entry
	consts  map[string]int64
	globals map[string]Global
	funcs   []dwarfFunc // sorted by lowpc
}

// NewIndex indexes the top-level entries of d in one pass.
func NewIndex(d *dwarf.Data) (*Index, error) {
	ix := &Index{
		data:    d,
		types:   make(map[string]typeEntry),
		attrs:   make(map[string]goTypeAttrs),
		byRT:    make(map[uint64]dwarf.Offset),
		consts:  make(map[string]int64),
		globals: make(map[string]Global),
	}
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			return nil, fmt.Errorf("reading DWARF: %w", err)
		}
		if e == nil {
			break
		}
		switch e.Tag {
		case dwarf.TagCompileUnit:
			continue // descend into the unit
		case dwarf.TagSubprogram:
			ix.addFunc(e)
		case dwarf.TagVariable:
			ix.addGlobal(e)
		case dwarf.TagConstant:
			ix.addConst(e)
		default:
			ix.addType(e)
		}
		if e.Children {
			r.SkipChildren()
		}
	}
	sort.Slice(ix.funcs, func(i, j int) bool { return ix.funcs[i].lowpc < ix.funcs[j].lowpc })
	return ix, nil
}

func (ix *Index) addType(e *dwarf.Entry) {
	name, _ := e.Val(dwarf.AttrName).(string)
	if name == "" {
		return
	}
	// A named Go type may have both a typedef and a struct entry; keep the
	// one that is not a typedef.
	if old, ok := ix.types[name]; !ok || old.typedef && e.Tag != dwarf.TagTypedef {
		ix.types[name] = typeEntry{e.Offset, e.Tag == dwarf.TagTypedef}
	}
	kind, ok := e.Val(attrGoKind).(int64)
	if !ok {
		return
	}
	a := goTypeAttrs{off: e.Offset, kind: uint8(kind)}
	if v, ok := e.Val(attrGoKey).(dwarf.Offset); ok {
		a.key = v
	}
	if v, ok := e.Val(attrGoElem).(dwarf.Offset); ok {
		a.elem = v
	}
	if v, ok := e.Val(attrGoRuntimeType).(uint64); ok {
		a.rtype = v
	} else if v, ok := e.Val(attrGoRuntimeType).(int64); ok {
		a.rtype = uint64(v)
	}
	if old, ok := ix.attrs[name]; !ok || old.rtype == 0 && a.rtype != 0 {
		ix.attrs[name] = a
	}
	if a.rtype != 0 {
		if _, ok := ix.byRT[a.rtype]; !ok {
			ix.byRT[a.rtype] = e.Offset
		}
	}
}

func (ix *Index) addGlobal(e *dwarf.Entry) {
	name, _ := e.Val(dwarf.AttrName).(string)
	loc, _ := e.Val(dwarf.AttrLocation).([]byte)
	typ, _ := e.Val(dwarf.AttrType).(dwarf.Offset)
	// A static variable's location is DW_OP_addr followed by its address.
	const opAddr = 0x03
	if name == "" || len(loc) != 9 || loc[0] != opAddr {
		return
	}
	var addr uint64
	for i := 8; i >= 1; i-- {
		addr = addr<<8 | uint64(loc[i])
	}
	ix.globals[name] = Global{Name: name, Addr: addr, Type: typ}
}

func (ix *Index) addConst(e *dwarf.Entry) {
	name, _ := e.Val(dwarf.AttrName).(string)
	switch v := e.Val(dwarf.AttrConstValue).(type) {
	case int64:
		ix.consts[name] = v
	case uint64:
		ix.consts[name] = int64(v)
	}
}

func (ix *Index) addFunc(e *dwarf.Entry) {
	low, ok := e.Val(dwarf.AttrLowpc).(uint64)
	if !ok {
		return
	}
	high := low
	switch v := e.Val(dwarf.AttrHighpc).(type) {
	case uint64:
		high = v
	case int64:
		high = low + uint64(v)
	}
	ix.funcs = append(ix.funcs, dwarfFunc{lowpc: low, highpc: high, off: e.Offset})
}

// TypeAt decodes the type entry at off. debug/dwarf caches decoded types
// in a map, so decoding is serialized.
func (ix *Index) TypeAt(off dwarf.Offset) (dwarf.Type, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.data.Type(off)
}

// TypeNamed returns the type entry called name.
func (ix *Index) TypeNamed(name string) (dwarf.Type, error) {
	te, ok := ix.types[name]
	if !ok {
		return nil, fmt.Errorf("DWARF has no type %s", name)
	}
	t, err := ix.TypeAt(te.off)
	if err != nil {
		return nil, fmt.Errorf("decoding DWARF type %s: %w", name, err)
	}
	return t, nil
}

// Constant returns the DWARF integer constant called name.
func (ix *Index) Constant(name string) (int64, bool) {
	v, ok := ix.consts[name]
	return v, ok
}

// FuncAt returns the function entry whose code holds pc (a link-time
// address).
func (ix *Index) FuncAt(pc uint64) (dwarf.Offset, bool) {
	i := sort.Search(len(ix.funcs), func(i int) bool { return ix.funcs[i].lowpc > pc }) - 1
	if i < 0 || pc >= ix.funcs[i].highpc {
		return 0, false
	}
	return ix.funcs[i].off, true
}

// StripTypedefs returns t with typedefs and qualifiers removed.
func StripTypedefs(t dwarf.Type) dwarf.Type { return dwarfx.Strip(t) }

// TypeName returns a Go type's name as DWARF spells it.
func TypeName(t dwarf.Type) string {
	switch u := t.(type) {
	case nil:
		return "<nil>"
	case *dwarf.StructType:
		return u.StructName
	case *dwarf.TypedefType:
		return u.Name
	case *dwarf.PtrType:
		if _, ok := u.Type.(*dwarf.VoidType); ok || u.Type == nil {
			return "unsafe.Pointer"
		}
		return "*" + TypeName(u.Type)
	case *dwarf.ArrayType:
		return fmt.Sprintf("[%d]%s", u.Count, TypeName(u.Type))
	case *dwarf.FuncType:
		if u.Name != "" {
			return u.Name
		}
		return "func"
	}
	if n := t.Common().Name; n != "" {
		return n
	}
	return strings.TrimPrefix(t.String(), "struct ")
}

// Field returns the field of struct type t called name.
func Field(t dwarf.Type, name string) (*dwarf.StructField, error) {
	if _, ok := StripTypedefs(t).(*dwarf.StructType); !ok {
		return nil, fmt.Errorf("%s is not a struct (looking for field %s)", TypeName(t), name)
	}
	if f, ok := dwarfx.Field(t, name); ok {
		return f, nil
	}
	return nil, fmt.Errorf("%s has no field %s", TypeName(t), name)
}

// HasField reports whether struct type t has a field called name.
func HasField(t dwarf.Type, name string) bool {
	_, err := Field(t, name)
	return err == nil
}

// Data returns the DWARF the index was built from.
func (ix *Index) Data() *dwarf.Data { return ix.data }

// HasGlobal reports whether DWARF describes a package-level variable
// called name.
func (ix *Index) HasGlobal(name string) bool {
	_, ok := ix.globals[name]
	return ok
}

// Globals returns the package-level variables with static addresses, in
// no particular order.
func (ix *Index) Globals() []Global {
	out := make([]Global, 0, len(ix.globals))
	for _, g := range ix.globals {
		out = append(out, g)
	}
	return out
}

// GoKind returns the Go kind (DW_AT_go_kind) of the type entry called
// name, or 0.
func (ix *Index) GoKind(name string) uint8 { return ix.attrs[name].kind }

// RuntimeTypeEntry returns the type entry whose runtime type descriptor is
// at offset off from moduledata.types.
func (ix *Index) RuntimeTypeEntry(off uint64) (dwarf.Offset, bool) {
	e, ok := ix.byRT[off]
	return e, ok
}
