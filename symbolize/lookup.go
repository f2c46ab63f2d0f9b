package symbolize

import "path/filepath"

// Reverse lookup: from what a word means to where it is. Two processes
// running the same program load its libraries at different addresses, so a
// word such as a CPython type pointer has a different value in each, while
// its meaning (module, symbol, offset) stays the same. Comparing two dumps
// by meaning needs the addresses of a meaning in each dump.

// SymbolRef names a place by what it is rather than where it is.
type SymbolRef struct {
	// Module is the base name of the module's path ("libpython3.11.so.1.0").
	Module string
	// Symbol is the symbol as the ELF file spells it: Name.Mangled when
	// it is set, Name.Symbol otherwise.
	Symbol string
	// Offset is the offset into the symbol, as in Name.Offset.
	Offset uint64
}

// RefOf returns the SymbolRef of a KindSymbol name.
func RefOf(n Name) SymbolRef {
	sym := n.Symbol
	if n.Mangled != "" {
		sym = n.Mangled
	}
	return SymbolRef{Module: filepath.Base(n.Module), Symbol: sym, Offset: n.Offset}
}

// Addresses returns, for each ref, every address that Symbol names as that
// ref, in increasing order: none when no module of that base name is mapped
// or it lacks the symbol, several when the module defines several symbols
// of that name (static functions of different source files, say) or
// several modules share the base name. Only addresses that Symbol really
// names so are returned: an offset past the symbol's end, or into a
// symbol nested inside it, gives none.
func (s *Symbolizer) Addresses(refs []SymbolRef) [][]uint64 {
	out := make([][]uint64, len(refs))
	byModule := map[string][]int{} // module base name -> indices into refs
	for i, r := range refs {
		byModule[r.Module] = append(byModule[r.Module], i)
	}
	for _, mod := range s.mods {
		idx := byModule[filepath.Base(mod.path)]
		if len(idx) == 0 {
			continue
		}
		starts := mod.symbolStarts(refs, idx, s.warn)
		for _, i := range idx {
			for _, start := range starts[refs[i].Symbol] {
				addr := mod.bias + start + refs[i].Offset
				if n, ok := s.Symbol(addr); ok && n.Module == mod.path && RefOf(n) == refs[i] {
					out[i] = append(out[i], addr)
				}
			}
		}
	}
	return out
}

// Address returns the one address that Symbol names as module's symbol
// plus offset; false when there is none or more than one.
func (s *Symbolizer) Address(module, symbol string, offset uint64) (uint64, bool) {
	a := s.Addresses([]SymbolRef{{Module: module, Symbol: symbol, Offset: offset}})[0]
	if len(a) != 1 {
		return 0, false
	}
	return a[0], true
}

// symbolStarts returns the file addresses of the module's symbols named by
// refs[idx], by name, in one pass over its symbol table.
func (mod *module) symbolStarts(refs []SymbolRef, idx []int, warn func(string)) map[string][]uint64 {
	starts := make(map[string][]uint64, len(idx))
	for _, i := range idx {
		starts[refs[i].Symbol] = nil
	}
	for _, sym := range mod.symbols(warn) {
		if list, ok := starts[sym.name]; ok {
			starts[sym.name] = append(list, sym.start)
		}
	}
	return starts
}
