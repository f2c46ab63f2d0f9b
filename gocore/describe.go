package gocore

import (
	"debug/dwarf"
	"fmt"
	"strings"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/gocore/rtread"
)

// fieldPath names the field of DWARF type t at byte offset off: ".User",
// ".items[3].Name", "" for offset 0 of a scalar, "+12" where no field is.
func fieldPath(t dwarf.Type, off uint64) string {
	var sb strings.Builder
	for depth := 0; depth < 32; depth++ {
		switch u := rtread.StripTypedefs(t).(type) {
		case *dwarf.StructType:
			f := fieldAt(u, off)
			if f == nil {
				if off != 0 {
					fmt.Fprintf(&sb, "+%d", off)
				}
				return sb.String()
			}
			sb.WriteString(".")
			sb.WriteString(f.Name)
			off -= uint64(f.ByteOffset)
			t = f.Type
		case *dwarf.ArrayType:
			es := uint64(u.Type.Size())
			if es == 0 {
				return sb.String()
			}
			fmt.Fprintf(&sb, "[%d]", off/es)
			off %= es
			t = u.Type
		default:
			if off != 0 {
				fmt.Fprintf(&sb, "+%d", off)
			}
			return sb.String()
		}
	}
	return sb.String()
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
// unknown or off is the start of a scalar). Retention paths use it to
// label pointers.
func (p *Program) FieldPath(obj int, off uint64) string {
	o := uint32(obj)
	t := p.objType[o]
	if t == NoType {
		return ""
	}
	return p.typePath(t, off)
}

// typePath names offset off within a value of type t.
func (p *Program) typePath(t TypeID, off uint64) string {
	g := &p.types.types[t]
	if g.count != 0 {
		if g.size == 0 {
			return ""
		}
		return fmt.Sprintf("[%d]", off/g.size) + p.typePath(g.elem, off%g.size)
	}
	if g.dw != nil {
		return fieldPath(g.dw, off)
	}
	if off != 0 {
		return fmt.Sprintf("+%d", off)
	}
	return ""
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
		name := p.TypeName(p.objType[o])
		if p.objType[o] == NoType {
			name = fmt.Sprintf("<untyped %d>", p.heap.size(o))
		}
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
