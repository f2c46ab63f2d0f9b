package stack

import (
	"debug/dwarf"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/heapsift/heapsift/dump"
)

// ModuleFromDWARF fills a Module from the executable's DWARF and the dead
// process's memory: it finds the variable runtime.firstmoduledata, reads
// the fields of runtime.moduledata that Module mirrors by their names
// (pcHeader, pclntable, text, etext, minpc, maxpc, textsectmap, gofunc,
// rodata, and epclntab when present), the layout of
// runtime.stackObjectRecord and runtime.inlinedCall, the size of
// internal/abi.RegArgs and where runtime.ucontext keeps the interrupted PC
// and SP. bias is
// added to the addresses DWARF gives (the load bias of a PIE executable; 0
// otherwise). The pclntab is left to be read from memory on first use.
//
// Only the first module is described; plugins and Go shared libraries
// (moduledata.next) are not followed.
func ModuleFromDWARF(d *dwarf.Data, mem Memory, bias uint64) (*Module, error) {
	want := map[string]dwarf.Tag{
		"runtime.firstmoduledata":   dwarf.TagVariable,
		"runtime.moduledata":        dwarf.TagStructType,
		"runtime.textsect":          dwarf.TagStructType,
		"runtime.stackObjectRecord": dwarf.TagStructType,
		"internal/abi.RegArgs":      dwarf.TagStructType,
		"runtime.ucontext":          dwarf.TagStructType,
		"runtime.inlinedCall":       dwarf.TagStructType,
		"runtime.sigcontext":        dwarf.TagStructType,
	}
	ents, err := findNamed(d, want)
	if err != nil {
		return nil, err
	}
	md, ok := ents["runtime.firstmoduledata"]
	if !ok {
		return nil, errors.New("DWARF has no variable runtime.firstmoduledata")
	}
	addr, err := globalAddr(md)
	if err != nil {
		return nil, fmt.Errorf("runtime.firstmoduledata: %w", err)
	}
	fields, err := structFields(d, ents, "runtime.moduledata")
	if err != nil {
		return nil, err
	}
	r := fieldReader{mem: mem, base: addr + bias, fields: fields}
	m := &Module{
		PCHeaderAddr: r.word("pcHeader", 0),
		Text:         r.word("text", 0),
		EText:        r.word("etext", 0),
		MinPC:        r.word("minpc", 0),
		MaxPC:        r.word("maxpc", 0),
		GoFunc:       r.word("gofunc", 0),
		Rodata:       r.word("rodata", 0),
	}
	tabPtr, tabLen := r.word("pclntable", 0), r.word("pclntable", 8)
	if r.err != nil {
		return nil, fmt.Errorf("reading runtime.firstmoduledata at %#x: %w", addr+bias, r.err)
	}
	if tabPtr < m.PCHeaderAddr {
		return nil, fmt.Errorf("moduledata.pclntable %#x lies before pcHeader %#x", tabPtr, m.PCHeaderAddr)
	}
	m.PCLNTabSize = tabPtr + tabLen - m.PCHeaderAddr
	if _, ok := fields["epclntab"]; ok {
		if end := r.word("epclntab", 0); r.err == nil && end > m.PCHeaderAddr {
			m.PCLNTabSize = max(m.PCLNTabSize, end-m.PCHeaderAddr)
		}
	}
	if m.TextSects, err = readTextSects(d, ents, &r); err != nil {
		return nil, err
	}
	if m.StackObjectRecord, err = stackObjectLayout(d, ents); err != nil {
		return nil, err
	}
	if e, ok := ents["internal/abi.RegArgs"]; ok {
		if t, err := d.Type(e.Offset); err == nil && t.Size() > 0 {
			m.RegArgsSize = uint64(t.Size())
		}
	}
	m.UContext, _ = uContextFromDWARF(d, ents)
	if f, err := structFields(d, ents, "runtime.inlinedCall"); err == nil {
		name, ok1 := f["nameOff"]
		parent, ok2 := f["parentPc"]
		if ok1 && ok2 && name+4 <= f[""] && parent+4 <= f[""] {
			m.InlinedCall = InlinedCallLayout{Size: f[""], NameOff: name, ParentPC: parent}
		}
	}
	return m, nil
}

// findNamed scans the top level of every compilation unit for the named
// entries with the given tags.
func findNamed(d *dwarf.Data, want map[string]dwarf.Tag) (map[string]*dwarf.Entry, error) {
	got := make(map[string]*dwarf.Entry, len(want))
	r := d.Reader()
	for len(got) < len(want) {
		e, err := r.Next()
		if err != nil {
			return nil, fmt.Errorf("reading DWARF: %w", err)
		}
		if e == nil {
			break
		}
		if e.Tag == dwarf.TagCompileUnit {
			continue // look at its children
		}
		if name, ok := e.Val(dwarf.AttrName).(string); ok {
			if tag, ok := want[name]; ok && tag == e.Tag {
				if _, dup := got[name]; !dup {
					got[name] = e
				}
			}
		}
		if e.Children {
			r.SkipChildren()
		}
	}
	return got, nil
}

// globalAddr decodes a DW_AT_location of the form DW_OP_addr ADDR.
func globalAddr(e *dwarf.Entry) (uint64, error) {
	loc, ok := e.Val(dwarf.AttrLocation).([]byte)
	if !ok || len(loc) != 9 || loc[0] != opAddr {
		return 0, fmt.Errorf("location %v is not DW_OP_addr", e.Val(dwarf.AttrLocation))
	}
	return binary.LittleEndian.Uint64(loc[1:]), nil
}

// structFields returns the byte offsets of the named struct's fields.
func structFields(d *dwarf.Data, ents map[string]*dwarf.Entry, name string) (map[string]uint64, error) {
	e, ok := ents[name]
	if !ok {
		return nil, fmt.Errorf("DWARF has no type %s", name)
	}
	t, err := d.Type(e.Offset)
	if err != nil {
		return nil, fmt.Errorf("reading DWARF type %s: %w", name, err)
	}
	st, ok := t.(*dwarf.StructType)
	if !ok {
		return nil, fmt.Errorf("DWARF type %s is a %T, not a struct", name, t)
	}
	fields := make(map[string]uint64, len(st.Field))
	for _, f := range st.Field {
		fields[f.Name] = uint64(f.ByteOffset)
	}
	fields[""] = uint64(st.Size()) // the struct's size, under a name no field has
	return fields, nil
}

// fieldReader reads words of a struct in memory by field name, keeping the
// first error.
type fieldReader struct {
	mem    Memory
	base   uint64
	fields map[string]uint64
	err    error
}

func (r *fieldReader) word(name string, extra uint64) uint64 {
	if r.err != nil {
		return 0
	}
	off, ok := r.fields[name]
	if !ok {
		r.err = fmt.Errorf("no field %q", name)
		return 0
	}
	v, err := r.mem.Uint64(dump.Address(r.base + off + extra))
	if err != nil {
		r.err = fmt.Errorf("field %s: %w", name, err)
	}
	return v
}

// readTextSects reads moduledata.textsectmap, a []textsect.
func readTextSects(d *dwarf.Data, ents map[string]*dwarf.Entry, r *fieldReader) ([]TextSect, error) {
	ptr, n := r.word("textsectmap", 0), r.word("textsectmap", 8)
	if r.err != nil {
		return nil, fmt.Errorf("moduledata: %w", r.err)
	}
	if n <= 1 {
		return nil, nil
	}
	if n > 1<<12 {
		return nil, fmt.Errorf("moduledata.textsectmap has %d entries", n)
	}
	fields, err := structFields(d, ents, "runtime.textsect")
	if err != nil {
		return nil, err
	}
	sects := make([]TextSect, n)
	for i := range sects {
		sr := fieldReader{mem: r.mem, base: ptr + uint64(i)*fields[""], fields: fields}
		sects[i] = TextSect{VAddr: sr.word("vaddr", 0), End: sr.word("end", 0), BaseAddr: sr.word("baseaddr", 0)}
		if sr.err != nil {
			return nil, fmt.Errorf("textsectmap[%d]: %w", i, sr.err)
		}
	}
	return sects, nil
}

// stackObjectLayout reads runtime.stackObjectRecord's layout by field name;
// the pointer-data field is _ptrdata (1.22–1.23, negative for a GC
// program) or ptrBytes (1.24+).
func stackObjectLayout(d *dwarf.Data, ents map[string]*dwarf.Entry) (StackObjectLayout, error) {
	if _, ok := ents["runtime.stackObjectRecord"]; !ok {
		return DefaultStackObjectLayout(), nil // a program with no stack objects may lack the type
	}
	f, err := structFields(d, ents, "runtime.stackObjectRecord")
	if err != nil {
		return StackObjectLayout{}, err
	}
	l := StackObjectLayout{RecordSize: f[""], Off: f["off"], Size: f["size"], GCDataOff: f["gcdataoff"]}
	ptr, okNew := f["ptrBytes"]
	if !okNew {
		var okOld bool
		if ptr, okOld = f["_ptrdata"]; !okOld {
			return StackObjectLayout{}, errors.New("runtime.stackObjectRecord has neither ptrBytes nor _ptrdata")
		}
		l.GCProg = true
	}
	l.PtrBytes = ptr
	for _, name := range []string{"off", "size", "gcdataoff"} {
		if _, ok := f[name]; !ok {
			return StackObjectLayout{}, fmt.Errorf("runtime.stackObjectRecord has no field %s", name)
		}
	}
	if l.RecordSize < 16 || l.Off+4 > l.RecordSize || l.Size+4 > l.RecordSize || l.PtrBytes+4 > l.RecordSize || l.GCDataOff+4 > l.RecordSize {
		return StackObjectLayout{}, fmt.Errorf("runtime.stackObjectRecord layout %+v does not fit its size", l)
	}
	return l, nil
}
