package retain

import (
	"bytes"
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"sort"
	"strings"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/gocore"
)

// Statically allocated values. For `var p = &T{...}` at package level the
// compiler may place the T itself in data or bss, under no name of its
// own; the pointers it holds into the heap are roots that gocore can only
// call "global 0x…" (or "pkg..stmp_3+8"). staticRootNames names them
// after the pointer variable that points to the value and the field:
// "main.p.results".

// maxStaticCandidates bounds the pointer words tried for one root.
const maxStaticCandidates = 8

// staticPointer is a word of data or bss pointing into data or bss.
type staticPointer struct {
	value, at dump.Address
}

// staticRootNames returns names for the global roots whose names gocore
// could not give, keyed by the roots' addresses. It needs the core (for
// the data and bss words) and returns nil without it.
func staticRootNames(prog *gocore.Program, proc *dump.Process, roots []gocore.Root) map[dump.Address]string {
	if proc == nil {
		return nil
	}
	var unnamed []dump.Address
	for _, r := range roots {
		if r.Kind == gocore.RootGlobal && unnamedGlobal(r.Name) {
			unnamed = append(unnamed, r.Addr)
		}
	}
	if len(unnamed) == 0 {
		return nil
	}
	ptrs := staticPointers(proc)
	if len(ptrs) == 0 {
		return nil
	}
	names := map[dump.Address]string{}
	for _, a := range unnamed {
		if name := nameStatic(prog, ptrs, a); name != "" {
			names[a] = name
		}
	}
	return names
}

// unnamedGlobal reports whether gocore named a global root by address or
// by a compiler-made symbol rather than by a variable.
func unnamedGlobal(name string) bool {
	return strings.HasPrefix(name, "global 0x") || strings.Contains(name, "..stmp_")
}

// nameStatic names the root word at a from the pointer variables that
// point at or below it, nearest first: a variable of type *T whose T
// holds a names it "variable" plus T's field path to a.
func nameStatic(prog *gocore.Program, ptrs []staticPointer, a dump.Address) string {
	i := sort.Search(len(ptrs), func(i int) bool { return ptrs[i].value > a })
	for tried := 0; i > 0 && tried < maxStaticCandidates; tried++ {
		i--
		p := ptrs[i]
		variable, ok := pointerVariable(prog, p.at)
		if !ok {
			continue
		}
		v := prog.Global(variable)
		if v.Err() != nil {
			continue
		}
		pt, ok := stripTypedefs(v.Type).(*dwarf.PtrType)
		if !ok || pt.Type == nil {
			continue
		}
		off := uint64(a - p.value)
		if size := pt.Type.Size(); size <= 0 || off >= uint64(size) {
			continue
		}
		return variable + dwarfFieldPath(pt.Type, off)
	}
	return ""
}

// pointerVariable returns the package-level variable that is exactly the
// word at at ("main.defaultProfiler"), from gocore's description of the
// address ("0x…: main.defaultProfiler+0 ").
func pointerVariable(prog *gocore.Program, at dump.Address) (string, bool) {
	d := prog.Describe(at)
	_, rest, ok := strings.Cut(d, ": ")
	if !ok {
		return "", false
	}
	name, off, ok := strings.Cut(rest, "+")
	if !ok || !strings.HasPrefix(off, "0") || (len(off) > 1 && off[1] != ' ') || strings.Contains(name, " ") {
		return "", false
	}
	return name, true
}

// staticPointers returns the words of the executable's .data and .bss
// that point into .data or .bss, sorted by value.
func staticPointers(proc *dump.Process) []staticPointer {
	exe := proc.Executable()
	if exe == nil || exe.Mismatch || exe.FileData() == nil {
		return nil
	}
	f, err := elf.NewFile(bytes.NewReader(exe.FileData()))
	if err != nil {
		return nil
	}
	bias, ok := loadBias(f, exe.Base())
	if !ok {
		return nil
	}
	type span struct{ lo, hi dump.Address }
	var spans []span
	for _, name := range []string{".data", ".bss"} {
		if s := f.Section(name); s != nil && s.Size > 0 {
			lo := dump.Address(s.Addr + bias)
			spans = append(spans, span{lo, lo + dump.Address(s.Size)})
		}
	}
	inStatic := func(v dump.Address) bool {
		for _, s := range spans {
			if v >= s.lo && v < s.hi {
				return true
			}
		}
		return false
	}
	var ptrs []staticPointer
	for _, s := range spans {
		mem, err := proc.Slice(s.lo, uint64(s.hi-s.lo))
		if err != nil {
			continue
		}
		for off := 0; off+8 <= len(mem); off += 8 {
			v := dump.Address(binary.LittleEndian.Uint64(mem[off:]))
			if inStatic(v) {
				ptrs = append(ptrs, staticPointer{value: v, at: s.lo + dump.Address(off)})
			}
		}
	}
	sort.Slice(ptrs, func(i, j int) bool {
		if ptrs[i].value != ptrs[j].value {
			return ptrs[i].value < ptrs[j].value
		}
		return ptrs[i].at < ptrs[j].at
	})
	return ptrs
}

// loadBias returns how far the executable is loaded from its link-time
// addresses, given where its file offset 0 is mapped.
func loadBias(f *elf.File, base dump.Address) (uint64, bool) {
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			return uint64(base) - (p.Vaddr - p.Off), true
		}
	}
	return 0, false
}

func stripTypedefs(t dwarf.Type) dwarf.Type {
	for i := 0; i < 32; i++ {
		td, ok := t.(*dwarf.TypedefType)
		if !ok {
			return t
		}
		t = td.Type
	}
	return t
}

// dwarfFieldPath names byte off of a value of type t: ".results.array",
// "[3].Name".
func dwarfFieldPath(t dwarf.Type, off uint64) string {
	var sb strings.Builder
	for depth := 0; depth < 32; depth++ {
		switch u := stripTypedefs(t).(type) {
		case *dwarf.StructType:
			var field *dwarf.StructField
			for _, f := range u.Field {
				fo := uint64(f.ByteOffset)
				if fo <= off && off < fo+uint64(max(f.Type.Size(), 0)) {
					field = f
				}
			}
			if field == nil {
				return sb.String() + plusOffset(off)
			}
			sb.WriteString("." + field.Name)
			off -= uint64(field.ByteOffset)
			t = field.Type
		case *dwarf.ArrayType:
			es := uint64(max(u.Type.Size(), 0))
			if es == 0 {
				return sb.String()
			}
			fmt.Fprintf(&sb, "[%d]", off/es)
			off %= es
			t = u.Type
		default:
			return sb.String() + plusOffset(off)
		}
	}
	return sb.String()
}

func plusOffset(off uint64) string {
	if off == 0 {
		return ""
	}
	return fmt.Sprintf("+%d", off)
}
