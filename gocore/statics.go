package gocore

import (
	"debug/dwarf"
	"encoding/binary"
	"sort"
	"strings"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/gocore/rtread"
	model "github.com/heapsift/heapsift/heap"
)

// Statically allocated values. For `var p = &T{...}` at package level the
// compiler may place the T itself in data or bss, under no variable of its
// own (a "pkg..stmp_3" symbol, or none): the pointers it holds into the
// heap are roots that DWARF cannot name. nameStaticRoots names them after
// the pointer variable that points to the value, and the field:
// "main.defaultProfiler.results".

// maxStaticCandidates bounds the pointer words tried for one root.
const maxStaticCandidates = 8

// staticPointer is a word of data or bss (at) that points into data or
// bss (value).
type staticPointer struct {
	value, at dump.Address
}

// nameStaticRoots renames the global roots that lie in a statically
// allocated value.
func (p *Program) nameStaticRoots(roots []Root) {
	var unnamed []int
	for i, r := range roots {
		if r.Kind == RootGlobal && unnamedGlobal(r.Name) {
			unnamed = append(unnamed, i)
		}
	}
	if len(unnamed) == 0 {
		return
	}
	ptrs := p.staticPointers()
	names := p.globalNamer()
	for _, i := range unnamed {
		if v, path := nameStatic(names, ptrs, roots[i].Addr); v != "" {
			roots[i].Name, roots[i].Var, roots[i].Path = v+path.String(), v, path
		}
	}
}

// unnamedGlobal reports whether a global root was named by its address or
// by a compiler-made symbol rather than by a variable.
func unnamedGlobal(name string) bool {
	return strings.HasPrefix(name, "global 0x") || strings.Contains(name, "..stmp_")
}

// nameStatic names the word at a from the pointer variables that point at
// or below it, nearest first: a variable of type *T whose T holds a names
// it "variable" plus T's field path to a.
func nameStatic(names *globalNamer, ptrs []staticPointer, a dump.Address) (variable string, path model.Path) {
	i := sort.Search(len(ptrs), func(i int) bool { return ptrs[i].value > a })
	for tried := 0; i > 0 && tried < maxStaticCandidates; tried++ {
		i--
		sp := ptrs[i]
		v, t, off, ok := names.find(sp.at)
		if !ok || off != 0 {
			continue
		}
		pt, ok := rtread.StripTypedefs(t).(*dwarf.PtrType)
		if !ok || pt.Type == nil {
			continue
		}
		into := uint64(a - sp.value)
		if size := pt.Type.Size(); size <= 0 || into >= uint64(size) {
			continue
		}
		return v.Name, fieldSteps(pt.Type, into)
	}
	return "", nil
}

// staticPointers returns the words of the modules' data and bss that point
// into data or bss, sorted by value.
func (p *Program) staticPointers() []staticPointer {
	type span struct{ lo, hi dump.Address }
	var spans []span
	for _, m := range p.modules {
		spans = append(spans, span{m.data, m.edata}, span{m.bss, m.ebss})
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
		if s.hi <= s.lo {
			continue
		}
		mem, err := p.proc.Slice(s.lo, uint64(s.hi-s.lo))
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
