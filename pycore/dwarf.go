package pycore

// The DWARF layout reader: one pass over libpython's top-level debugging
// entries indexes its named structs, unions and typedefs and its static
// variables; struct members are then looked up by name, through nested and
// anonymous members, as the Layout is filled. debug/dwarf decodes and caches
// the type entries asked for.

import (
	"bytes"
	"debug/dwarf"
	"debug/elf"
	"fmt"
	"strings"

	"github.com/heapsift/heapsift/internal/dwarfx"
)

// dwarfIndex names libpython's type entries and static variables.
type dwarfIndex struct {
	data  *dwarf.Data
	types map[string]dwarf.Offset // "PyObject", "struct _is", "union _gc_head"
	vars  map[string]uint64       // static variables' link-time addresses
	funcs map[string]uint64       // functions' link-time entry addresses
}

// openDWARF reads the DWARF of an ELF file image.
func openDWARF(image []byte) (*dwarfIndex, error) {
	f, err := elf.NewFile(bytes.NewReader(image))
	if err != nil {
		return nil, fmt.Errorf("reading ELF: %w", err)
	}
	if f.Section(".debug_info") == nil && f.Section(".zdebug_info") == nil {
		return nil, fmt.Errorf("no debugging information (stripped: no .debug_info section)")
	}
	d, err := f.DWARF()
	if err != nil {
		return nil, fmt.Errorf("reading DWARF: %w", err)
	}
	ix := &dwarfIndex{data: d, types: map[string]dwarf.Offset{}, vars: map[string]uint64{}, funcs: map[string]uint64{}}
	declNames := map[dwarf.Offset]string{} // extern declarations of the current unit
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			return nil, fmt.Errorf("reading DWARF entries: %w", err)
		}
		if e == nil {
			break
		}
		if e.Tag == dwarf.TagCompileUnit {
			clear(declNames)
			continue
		}
		ix.add(e, declNames)
		if e.Children {
			r.SkipChildren()
		}
	}
	if len(ix.types) == 0 {
		return nil, fmt.Errorf("no DWARF type entries")
	}
	return ix, nil
}

func (ix *dwarfIndex) add(e *dwarf.Entry, declNames map[dwarf.Offset]string) {
	name, _ := e.Val(dwarf.AttrName).(string)
	if decl, _ := e.Val(dwarf.AttrDeclaration).(bool); decl {
		if e.Tag == dwarf.TagVariable && name != "" {
			declNames[e.Offset] = name
		}
		return
	}
	if name == "" && e.Tag == dwarf.TagVariable {
		// A definition of a variable declared extern: named by its
		// declaration (DW_AT_specification).
		if spec, ok := e.Val(dwarf.AttrSpecification).(dwarf.Offset); ok {
			name = declNames[spec]
		}
	}
	if name == "" {
		return
	}
	key := ""
	switch e.Tag {
	case dwarf.TagTypedef:
		key = name
	case dwarf.TagStructType:
		key = "struct " + name
	case dwarf.TagUnionType:
		key = "union " + name
	case dwarf.TagVariable:
		ix.addVar(name, e)
		return
	case dwarf.TagSubprogram:
		if low, ok := e.Val(dwarf.AttrLowpc).(uint64); ok {
			if _, dup := ix.funcs[name]; !dup {
				ix.funcs[name] = low
			}
		}
		return
	default:
		return
	}
	if _, ok := ix.types[key]; !ok {
		ix.types[key] = e.Offset
	}
}

func (ix *dwarfIndex) addVar(name string, e *dwarf.Entry) {
	loc, _ := e.Val(dwarf.AttrLocation).([]byte)
	const opAddr = 0x03 // DW_OP_addr: a static address follows
	if len(loc) != 9 || loc[0] != opAddr {
		return
	}
	var addr uint64
	for i := 8; i >= 1; i-- {
		addr = addr<<8 | uint64(loc[i])
	}
	if _, ok := ix.vars[name]; !ok {
		ix.vars[name] = addr
	}
}

// lookup returns the type named name: a typedef, or a struct or union tag.
func (ix *dwarfIndex) lookup(name string) (dwarf.Type, bool) {
	for _, key := range []string{name, "struct " + name, "union " + name} {
		off, ok := ix.types[key]
		if !ok {
			continue
		}
		t, err := ix.data.Type(off)
		if err != nil {
			return nil, false
		}
		// A typedef of a struct declared but not defined in its unit:
		// find the definition by the struct's tag.
		if st, ok := strip(t).(*dwarf.StructType); ok && st.Incomplete && st.StructName != "" {
			if off, ok := ix.types[st.Kind+" "+st.StructName]; ok {
				if full, err := ix.data.Type(off); err == nil {
					return full, true
				}
			}
		}
		return t, true
	}
	return nil, false
}

// member is a struct member found by path (see dwarfx.Member).
type member = dwarfx.Member

// strip removes typedefs and qualifiers.
func strip(t dwarf.Type) dwarf.Type { return dwarfx.Strip(t) }

// field finds a member of a named struct by a dotted path
// ("interpreters.head"), looking through anonymous members on the way.
func (ix *dwarfIndex) field(structName, path string) (member, bool) {
	t, ok := ix.lookup(structName)
	if !ok {
		return member{}, false
	}
	return dwarfx.MemberPath(t, path)
}

// findMember finds name among the members of the struct or union m,
// recursing into anonymous members.
func findMember(m member, name string) (member, bool) {
	return dwarfx.FindMember(m, name, 0)
}

// size returns the byte size of the named type.
func (ix *dwarfIndex) size(name string) (int64, bool) {
	t, ok := ix.lookup(name)
	if !ok || t.Size() <= 0 {
		return 0, false
	}
	return t.Size(), true
}

// isObjectPointer reports whether t points to a Python object: PyObject or
// a struct that starts with an ob_base member.
func isObjectPointer(t dwarf.Type) bool {
	p, ok := strip(t).(*dwarf.PtrType)
	if !ok || p.Type == nil {
		return false
	}
	st, ok := strip(p.Type).(*dwarf.StructType)
	if !ok {
		return false
	}
	if st.StructName == "_object" {
		return true
	}
	return len(st.Field) > 0 && st.Field[0].Name == "ob_base" && st.Field[0].ByteOffset == 0
}

// objectFields lists the object-pointer members of the named struct (and
// of structs embedded in it, but not its ob_base header), skipping weak
// references: the references a C object of that struct holds.
func (ix *dwarfIndex) objectFields(structName string) ([]namedOffset, bool) {
	t, ok := ix.lookup(structName)
	if !ok {
		return nil, false
	}
	var out []namedOffset
	collectObjectFields(t, 0, "", &out, 0)
	return out, true
}

func collectObjectFields(t dwarf.Type, base int64, prefix string, out *[]namedOffset, depth int) {
	st, ok := strip(t).(*dwarf.StructType)
	if !ok || depth > 4 {
		return
	}
	for _, f := range st.Field {
		if f.Name == "ob_base" || strings.Contains(f.Name, "weakref") || strings.Contains(f.Name, "weaklist") {
			continue
		}
		name := f.Name
		if prefix != "" && name != "" {
			name = prefix + "." + name
		} else if name == "" {
			name = prefix
		}
		switch ft := strip(f.Type).(type) {
		case *dwarf.PtrType:
			if isObjectPointer(ft) && !borrowedMember(name) {
				*out = append(*out, namedOffset{name: name, off: base + f.ByteOffset})
			}
		case *dwarf.StructType:
			if ft.Kind == "struct" {
				collectObjectFields(ft, base+f.ByteOffset, name, out, depth+1)
			}
		}
	}
}

// namedOffset is a member's name and offset.
type namedOffset struct {
	name string
	off  int64
}

// borrowedMember reports whether an object member holds a borrowed
// reference: a frame's generator (3.6-3.10), and the globals and builtins
// of a generator's embedded interpreter frame (3.11+).
func borrowedMember(path string) bool {
	if path == "f_gen" {
		return true
	}
	return strings.Contains(path, "iframe.") &&
		(strings.HasSuffix(path, ".f_globals") || strings.HasSuffix(path, ".f_builtins"))
}
