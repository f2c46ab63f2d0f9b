package gocore

import (
	"debug/dwarf"
	"fmt"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/gocore/rtread"
	model "github.com/heapsift/heapsift/heap"
)

// fieldPath names the field of DWARF type t at byte offset off: ".User",
// ".items[3].Name", "" for offset 0 of a scalar, "+12" where no field is.
func fieldPath(t dwarf.Type, off uint64) string { return fieldSteps(t, off).String() }

// fieldSteps is fieldPath as steps.
func fieldSteps(t dwarf.Type, off uint64) model.Path {
	var path model.Path
	for depth := 0; depth < 32; depth++ {
		switch u := rtread.StripTypedefs(t).(type) {
		case *dwarf.StructType:
			f := fieldAt(u, off)
			if f == nil {
				return appendOffset(path, off)
			}
			path = append(path, model.Field(f.Name))
			off -= uint64(f.ByteOffset)
			t = f.Type
		case *dwarf.ArrayType:
			es := uint64(u.Type.Size())
			if es == 0 {
				return path
			}
			path = append(path, model.Index(int64(off/es)))
			off %= es
			t = u.Type
		default:
			return appendOffset(path, off)
		}
	}
	return path
}

// appendOffset ends a path that reached no field with the bytes left.
func appendOffset(path model.Path, off uint64) model.Path {
	if off == 0 {
		return path
	}
	return append(path, model.Step{Kind: model.StepOffset, Index: int64(off)})
}

// fieldAt returns the field of st holding byte offset off.
func fieldAt(st *dwarf.StructType, off uint64) *dwarf.StructField {
	var best *dwarf.StructField
	for _, f := range st.Field {
		fo := uint64(f.ByteOffset)
		if fo <= off && off < fo+uint64(max(f.Type.Size(), 0)) {
			best = f
		}
	}
	return best
}

// FieldPath names the field at offset off of object obj according to its
// type: ".User", "[3].Name", ".slots[2].elem" (empty if the type is
// unknown or off is the start of a scalar).
func (p *Program) FieldPath(obj int, off uint64) string { return p.FieldSteps(obj, off).String() }

// FieldSteps is FieldPath as steps; nil if the type is unknown.
func (p *Program) FieldSteps(obj int, off uint64) model.Path {
	if obj < 0 || obj >= len(p.objType) {
		return nil
	}
	t := p.objType[obj]
	if t == NoType {
		return nil
	}
	return p.typeSteps(nil, t, off)
}

// typeSteps appends the steps naming offset off within a value of type t.
func (p *Program) typeSteps(path model.Path, t TypeID, off uint64) model.Path {
	for depth := 0; depth < 32; depth++ {
		g := &p.types.types[t]
		switch {
		case g.count != 0:
			if g.size == 0 {
				return path
			}
			path = append(path, model.Index(int64(off/g.size)))
			t, off = g.elem, off%g.size
		case g.dw != nil:
			return append(path, fieldSteps(g.dw, off)...)
		default:
			return appendOffset(path, off)
		}
	}
	return path
}

// Describe names address a: the heap object holding it with its type,
// offset and field ("0xc000123450: main.Session+16 .User"), or the global
// variable holding it.
func (p *Program) Describe(a dump.Address) string {
	if obj, off, ok := p.heap.findObject(a); ok && off < p.dataStart(obj) {
		return fmt.Sprintf("%#x: the malloc header of the object at %#x", uint64(a), uint64(p.Addr(int(obj))))
	}
	if obj, off, ok := p.ObjectAt(a); ok {
		o := uint32(obj)
		name := p.ObjectTypeName(int(o))
		s := fmt.Sprintf("%#x: %s+%d", uint64(a), name, off)
		if path := p.FieldPath(int(obj), off); path != "" {
			s += " " + path
		}
		return s
	}
	if v, t, off, ok := p.globalNamer().find(a); ok {
		return fmt.Sprintf("%#x: %s+%d %s", uint64(a), v.Name, off, fieldPath(t, off))
	}
	return fmt.Sprintf("%#x", uint64(a))
}
