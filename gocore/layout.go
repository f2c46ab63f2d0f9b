package gocore

// Layouts: a DWARF type compiled into the list of its slots that lead to
// other heap objects with a known type. Type propagation applies a layout
// to the memory of each typed value. Slot kinds follow how Go represents
// each kind of value:
//
//	*T               one word, a pointer to a T
//	[]T              {array, len, cap}: array points to cap Ts
//	string           {str, len}: str points to len bytes
//	interface{}      {type, data}: the dynamic type says what data is
//	interface{M()}   {itab, data}: the same, with the type in the itab
//	func             a pointer to a closure {fn, captured variables...}
//	map (swiss)      map<K,V>.dirPtr points to one group or to a table directory
//	chan             hchan<T>.buf points to the element buffer
//	sync.Pool        local and victim point to localSize and victimSize poolLocals
//
// Arrays of values with slots repeat their element's layout.

import (
	"debug/dwarf"
	"github.com/heapsift/heapsift/gocore/rtread"
	"strings"
)

// slotKind is what a layout slot holds.
type slotKind uint8

const (
	slotPtr      slotKind = iota + 1 // pointer to target
	slotSlice                        // slice of target
	slotString                       // string
	slotEface                        // empty interface
	slotIface                        // non-empty interface
	slotFunc                         // func value (closure pointer)
	slotArray                        // count repetitions of sub, stride apart
	slotSwissDir                     // swiss map directory pointer
	slotChanBuf                      // channel buffer pointer
	slotCounted                      // pointer to as many targets as the word at auxOff (plus count) says
	slotBuckets                      // pre-1.24 map buckets: 1<<B targets, B the byte at auxOff
)

// slot is one typed slot of a layout.
type slot struct {
	off    uint64
	kind   slotKind
	target TypeID // slotPtr: pointee; slotSlice: element; slotSwissDir: *table
	aux    TypeID // slotSwissDir: group type
	auxOff uint64 // slotSwissDir: offset of dirLen; slotChanBuf: offset of elemtype; slotCounted: of the count
	aux2   uint64 // slotChanBuf: offset of dataqsiz
	count  uint64 // slotArray: repetitions; slotCounted: added to the count word
	stride uint64 // slotArray
	sub    []slot // slotArray
}

// maxInlineArray is the largest array whose element layouts are copied
// into the enclosing layout rather than repeated by a slotArray.
const maxInlineArray = 8

// layoutOf returns the layout of a value of type t (an element type, not
// an array-of-objects type).
func (p *Program) layoutOf(t TypeID) []slot {
	g := &p.types.types[t]
	if g.laidOut {
		return g.layout
	}
	g.laidOut = true
	if g.dw == nil {
		return nil
	}
	lay := p.compile(g.dw, 0, nil, 0)
	// compile may intern types and move the table: index it again.
	p.types.types[t].layout = lay
	p.types.types[t].laidOut = true
	return lay
}

// compile appends the slots of DWARF type t at offset base to out.
func (p *Program) compile(t dwarf.Type, base uint64, out []slot, depth int) []slot {
	if depth > 40 || t == nil {
		return out
	}
	name := rtread.TypeName(t)
	switch p.dw.GoKind(name) {
	case rtread.KindInterface:
		if rtread.TypeName(rtread.StripTypedefs(t)) == "runtime.eface" {
			return append(out, slot{off: base, kind: slotEface})
		}
		return append(out, slot{off: base, kind: slotIface})
	case rtread.KindFunc:
		return append(out, slot{off: base, kind: slotFunc})
	case rtread.KindString:
		return append(out, slot{off: base, kind: slotString})
	case rtread.KindSlice:
		if elem := p.sliceElem(t); elem != nil {
			return append(out, slot{off: base, kind: slotSlice, target: p.types.internDWARF(elem)})
		}
		return out
	}
	switch u := t.(type) {
	case *dwarf.TypedefType:
		return p.compile(u.Type, base, out, depth+1)
	case *dwarf.QualType:
		return p.compile(u.Type, base, out, depth+1)
	case *dwarf.FuncType:
		return append(out, slot{off: base, kind: slotFunc})
	case *dwarf.PtrType:
		if u.Type == nil || u.Type.Size() <= 0 {
			return out // unsafe.Pointer, or a pointer to a zero-size type
		}
		if _, ok := u.Type.(*dwarf.VoidType); ok {
			return out
		}
		return append(out, slot{off: base, kind: slotPtr, target: p.types.internDWARF(u.Type)})
	case *dwarf.ArrayType:
		return p.compileArray(u, base, out, depth)
	case *dwarf.StructType:
		return p.compileStruct(u, base, out, depth)
	}
	return out
}

func (p *Program) compileArray(u *dwarf.ArrayType, base uint64, out []slot, depth int) []slot {
	stride := uint64(max(u.Type.Size(), 0))
	if u.Count <= 0 || stride == 0 {
		return out
	}
	sub := p.compile(u.Type, 0, nil, depth+1)
	if len(sub) == 0 {
		return out
	}
	if u.Count <= maxInlineArray {
		for i := uint64(0); i < uint64(u.Count); i++ {
			for _, s := range sub {
				s.off += base + i*stride
				out = append(out, s)
			}
		}
		return out
	}
	return append(out, slot{off: base, kind: slotArray, count: uint64(u.Count), stride: stride, sub: sub})
}

func (p *Program) compileStruct(u *dwarf.StructType, base uint64, out []slot, depth int) []slot {
	switch name := u.StructName; {
	case name == "string":
		return append(out, slot{off: base, kind: slotString})
	case name == "runtime.eface" || name == "sync.eface":
		// sync.eface is sync.Pool's copy of an empty interface's
		// layout, {typ, val unsafe.Pointer}.
		return append(out, slot{off: base, kind: slotEface})
	case name == "runtime.iface":
		return append(out, slot{off: base, kind: slotIface})
	case strings.HasPrefix(name, "[]"):
		if elem := p.sliceElem(u); elem != nil {
			return append(out, slot{off: base, kind: slotSlice, target: p.types.internDWARF(elem)})
		}
		return out
	case strings.HasPrefix(name, "map<") && rtread.HasField(u, "dirPtr"):
		if s, ok := p.swissDirSlot(u, base); ok {
			out = append(out, s)
		}
		return out
	case isAtomicPointer(name):
		if s, ok := p.atomicPointerSlot(u, base); ok {
			out = append(out, s)
		}
		return out
	case name == "sync.Pool":
		return p.compilePool(u, base, out, depth)
	case strings.HasPrefix(name, "table<") && rtread.HasField(u, "groups"):
		return p.compileSwissTable(u, base, out, depth)
	case isHmap(u):
		return p.compileHmap(u, base, out, depth)
	case strings.HasPrefix(name, "hchan<"):
		out = p.compileFields(u, base, out, depth, "buf")
		if s, ok := p.chanBufSlot(u, base); ok {
			out = append(out, s)
		}
		return out
	}
	return p.compileFields(u, base, out, depth, "")
}

func (p *Program) compileFields(u *dwarf.StructType, base uint64, out []slot, depth int, skip string) []slot {
	for _, f := range u.Field {
		if f.Name == skip {
			continue
		}
		out = p.compile(f.Type, base+uint64(f.ByteOffset), out, depth+1)
	}
	return out
}

// sliceElem returns the element type of slice type t.
func (p *Program) sliceElem(t dwarf.Type) dwarf.Type {
	f, err := rtread.Field(t, "array")
	if err != nil {
		return nil
	}
	pt, ok := rtread.StripTypedefs(f.Type).(*dwarf.PtrType)
	if !ok || pt.Type == nil || pt.Type.Size() <= 0 {
		return nil
	}
	return pt.Type
}

// swissDirSlot describes map<K,V>.dirPtr: a **table<K,V> that points to a
// single group when dirLen is 0.
func (p *Program) swissDirSlot(u *dwarf.StructType, base uint64) (slot, bool) {
	dir, err1 := rtread.Field(u, "dirPtr")
	dirLen, err2 := rtread.Field(u, "dirLen")
	if err1 != nil || err2 != nil {
		return slot{}, false
	}
	pp, ok := rtread.StripTypedefs(dir.Type).(*dwarf.PtrType)
	if !ok {
		return slot{}, false
	}
	tablePtr := pp.Type // *table<K,V>
	tp, ok := rtread.StripTypedefs(tablePtr).(*dwarf.PtrType)
	if !ok {
		return slot{}, false
	}
	groups, err := rtread.Field(tp.Type, "groups")
	if err != nil {
		return slot{}, false
	}
	data, err := rtread.Field(groups.Type, "data")
	if err != nil {
		return slot{}, false
	}
	gp, ok := rtread.StripTypedefs(data.Type).(*dwarf.PtrType)
	if !ok || gp.Type == nil {
		return slot{}, false
	}
	return slot{
		off:    base + uint64(dir.ByteOffset),
		kind:   slotSwissDir,
		target: p.types.internDWARF(tablePtr),
		aux:    p.types.internDWARF(gp.Type),
		auxOff: base + uint64(dirLen.ByteOffset),
	}, true
}

// compileSwissTable appends the slots of a swiss map's table<K,V>: its
// other fields, and groups.data as a pointer to groups.lengthMask+1
// group<K,V> (a pointer to one group would offer the wrong size for any
// table of more than one group).
func (p *Program) compileSwissTable(u *dwarf.StructType, base uint64, out []slot, depth int) []slot {
	out = p.compileFields(u, base, out, depth, "groups")
	groups, err := rtread.Field(u, "groups")
	if err != nil {
		return out
	}
	data, err1 := rtread.Field(groups.Type, "data")
	mask, err2 := rtread.Field(groups.Type, "lengthMask")
	if err1 != nil || err2 != nil {
		return p.compile(groups.Type, base+uint64(groups.ByteOffset), out, depth+1)
	}
	gp, ok := rtread.StripTypedefs(data.Type).(*dwarf.PtrType)
	if !ok || gp.Type == nil || gp.Type.Size() <= 0 {
		return out
	}
	at := base + uint64(groups.ByteOffset)
	return append(out, slot{
		off:    at + uint64(data.ByteOffset),
		kind:   slotCounted,
		target: p.types.internDWARF(gp.Type),
		auxOff: at + uint64(mask.ByteOffset),
		count:  1,
	})
}

// chanBufSlot describes hchan<T>.buf; the element type is read from the
// channel's elemtype at run time.
func (p *Program) chanBufSlot(u *dwarf.StructType, base uint64) (slot, bool) {
	buf, err1 := rtread.Field(u, "buf")
	et, err2 := rtread.Field(u, "elemtype")
	qs, err3 := rtread.Field(u, "dataqsiz")
	if err1 != nil || err2 != nil || err3 != nil {
		return slot{}, false
	}
	return slot{
		off:    base + uint64(buf.ByteOffset),
		kind:   slotChanBuf,
		auxOff: base + uint64(et.ByteOffset),
		aux2:   base + uint64(qs.ByteOffset),
	}, true
}

// isAtomicPointer reports whether a struct is sync/atomic.Pointer[T] or the
// runtime's internal/runtime/atomic.Pointer[T], whose pointer word is an
// unsafe.Pointer to a T.
func isAtomicPointer(name string) bool {
	return strings.HasPrefix(name, "sync/atomic.Pointer[") ||
		strings.HasPrefix(name, "internal/runtime/atomic.Pointer[") ||
		strings.HasPrefix(name, "runtime/internal/atomic.Pointer[")
}

// atomicPointerSlot types the pointer word of an atomic.Pointer[T]: from
// its "_ [0]*T" field, or by T's name.
func (p *Program) atomicPointerSlot(u *dwarf.StructType, base uint64) (slot, bool) {
	var elem dwarf.Type
	for _, f := range u.Field {
		if at, ok := rtread.StripTypedefs(f.Type).(*dwarf.ArrayType); ok && at.Count == 0 {
			if pt, ok := rtread.StripTypedefs(at.Type).(*dwarf.PtrType); ok {
				elem = pt.Type
			}
		}
	}
	if elem == nil {
		name := u.StructName
		arg := name[strings.Index(name, "[")+1 : len(name)-1]
		if strings.HasPrefix(arg, "go.shape.") {
			return slot{}, false
		}
		t, err := p.dw.TypeNamed(arg)
		if err != nil {
			return slot{}, false
		}
		elem = t
	}
	if elem == nil || elem.Size() <= 0 {
		return slot{}, false
	}
	words := pointerWords(u, 0, nil, 0)
	if len(words) != 1 {
		return slot{}, false
	}
	return slot{off: base + uint64(words[0]), kind: slotPtr, target: p.types.internDWARF(elem)}, true
}
