package rtread

// Lookups for typing objects that nothing points to the start of: the
// struct types a program can allocate (those with a runtime type
// descriptor), and functions by their exact entry address (the first word
// of a closure object).

import (
	"debug/dwarf"
	"sort"

	"github.com/heapsift/heapsift/dump"
)

// StructEntry is a named struct type entry that has a runtime type
// descriptor (DW_AT_go_runtime_type): a struct the program may allocate
// on its own.
type StructEntry struct {
	Name  string
	Off   dwarf.Offset
	RType uint64 // offset of its descriptor from moduledata.types
}

// AllocatableStructs returns the struct types with a runtime type
// descriptor, sorted by name.
func (ix *Index) AllocatableStructs() []StructEntry {
	var out []StructEntry
	for name, a := range ix.attrs {
		if a.kind == KindStruct && a.rtype != 0 {
			out = append(out, StructEntry{Name: name, Off: a.off, RType: a.rtype})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// FuncEntryAt returns the function entry whose code starts exactly at pc
// (a link-time address) and its name.
func (ix *Index) FuncEntryAt(pc uint64) (dwarf.Offset, string, bool) {
	i := sort.Search(len(ix.funcs), func(i int) bool { return ix.funcs[i].lowpc >= pc })
	if i >= len(ix.funcs) || ix.funcs[i].lowpc != pc {
		return 0, "", false
	}
	r := ix.data.Reader()
	r.Seek(ix.funcs[i].off)
	e, err := r.Next()
	if err != nil || e == nil {
		return 0, "", false
	}
	name, _ := e.Val(dwarf.AttrName).(string)
	return ix.funcs[i].off, name, name != ""
}

// AtOffset returns the descriptor at offset off from moduledata.types.
func (rt *RTypes) AtOffset(off uint64) (*RType, error) {
	return rt.Get(rt.types + dump.Address(off))
}
