package symbolize

import (
	"cmp"
	"debug/elf"
	"slices"
	"sort"
	"strings"
)

// A symbol table is one module's symbols as a slice sorted by start
// address, in the ELF file's own addresses (before the load bias), with at
// most one symbol per start address. Each symbol covers [start, end): its
// st_size for sized symbols; for size-0 symbols (assembler labels, linker
// markers), up to the next symbol or the end of its section, as gdb treats
// minimal symbols. Ranges may nest (a label inside a function), so each
// entry also carries maxEnd, the greatest end of it and all entries before
// it: a lookup finds the last symbol starting at or below the address by
// binary search and walks back only while maxEnd says an earlier symbol can
// still reach the address. The innermost (latest-starting) symbol wins.

// symbol is one entry of a symbol table.
type symbol struct {
	start, end uint64
	maxEnd     uint64
	name       string // as the file spells it (mangled)
}

// candidate is a symbol as read from .symtab, .dynsym or .gopclntab, before
// duplicates are removed.
type candidate struct {
	name  string
	value uint64
	size  uint64
	// sec is the extent of the section the symbol is defined in (zero
	// when unknown), which bounds a size-0 symbol.
	sec    section
	typ    elf.SymType
	bind   elf.SymBind
	source int // order of the table it came from, for a stable choice
}

// wanted reports whether an ELF symbol names code or data at an address:
// functions, objects and untyped labels defined in some section. Section
// and file symbols, undefined imports, absolute values, TLS offsets (which
// are not addresses) and arm64 mapping symbols ($x, $d) are left out.
func wanted(s elf.Symbol) bool {
	switch elf.ST_TYPE(s.Info) {
	case elf.STT_FUNC, elf.STT_OBJECT, elf.STT_NOTYPE, elf.STT_COMMON, elf.STT_GNU_IFUNC:
	default:
		return false
	}
	if s.Section == elf.SHN_UNDEF || s.Section == elf.SHN_ABS || s.Section >= elf.SHN_LORESERVE {
		return false
	}
	return s.Name != "" && !isMappingSymbol(s.Name)
}

// isMappingSymbol reports whether name is an ARM mapping symbol, which marks
// where code or data starts and names nothing.
func isMappingSymbol(name string) bool {
	if len(name) < 2 || name[0] != '$' {
		return false
	}
	switch name[1] {
	case 'x', 'd', 'a', 't':
		return len(name) == 2 || name[2] == '.'
	}
	return false
}

// candidatesFrom converts the wanted symbols of one ELF symbol table; secs
// are the sections of the file holding the table.
func candidatesFrom(syms []elf.Symbol, secs sectionTable, source int) []candidate {
	bySection := secs.dense()
	out := make([]candidate, 0, len(syms))
	for _, s := range syms {
		if !wanted(s) {
			continue
		}
		c := candidate{
			name: s.Name, value: s.Value, size: s.Size,
			typ: elf.ST_TYPE(s.Info), bind: elf.ST_BIND(s.Info), source: source,
		}
		if int(s.Section) < len(bySection) {
			c.sec = bySection[s.Section]
		}
		out = append(out, c)
	}
	return out
}

// better orders candidates at the same address, best first: sized before
// size-0, typed before untyped, global before weak before local, the table
// read first, the shorter name (malloc over __libc_malloc), then by name so
// the choice never depends on input order.
func better(a, b candidate) int {
	return cmp.Or(
		cmp.Compare(boolRank(a.size == 0), boolRank(b.size == 0)),
		cmp.Compare(boolRank(a.typ == elf.STT_NOTYPE), boolRank(b.typ == elf.STT_NOTYPE)),
		cmp.Compare(bindRank(a.bind), bindRank(b.bind)),
		cmp.Compare(a.source, b.source),
		cmp.Compare(len(a.name), len(b.name)),
		strings.Compare(a.name, b.name),
	)
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

func bindRank(b elf.SymBind) int {
	switch b {
	case elf.STB_GLOBAL:
		return 0
	case elf.STB_WEAK:
		return 1
	case elf.STB_LOCAL:
		return 2
	}
	return 3
}

// buildTable sorts and deduplicates the candidates and gives every symbol
// its range. limit (the end of the module's segments) bounds size-0
// symbols whose section is unknown.
func buildTable(cands []candidate, limit uint64) []symbol {
	slices.SortFunc(cands, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(a.value, b.value), better(a, b))
	})
	syms := make([]symbol, 0, len(cands))
	// For each size-0 symbol, where its section ends; 0 for sized ones.
	var unsizedEnd []uint64
	for i, c := range cands {
		if i > 0 && c.value == cands[i-1].value {
			continue // the best candidate at this address came first
		}
		end := c.value + c.size
		if end < c.value {
			end = ^uint64(0) // a size that wraps around
		}
		syms = append(syms, symbol{start: c.value, end: end, name: c.name})
		var secEnd uint64
		if c.size == 0 {
			secEnd = limit
			if c.sec.end != 0 && c.value >= c.sec.start {
				secEnd = c.sec.end
			}
		}
		unsizedEnd = append(unsizedEnd, secEnd)
	}
	for i := range syms {
		if unsizedEnd[i] == 0 {
			continue // sized
		}
		end := unsizedEnd[i]
		if i+1 < len(syms) {
			end = min(end, syms[i+1].start)
		}
		syms[i].end = max(end, syms[i].start)
	}
	var maxEnd uint64
	for i := range syms {
		maxEnd = max(maxEnd, syms[i].end)
		syms[i].maxEnd = maxEnd
	}
	return syms
}

// lookup returns the index of the innermost symbol containing addr, or -1.
func lookup(syms []symbol, addr uint64) int {
	i := sort.Search(len(syms), func(i int) bool { return syms[i].start > addr }) - 1
	for ; i >= 0 && syms[i].maxEnd > addr; i-- {
		if syms[i].end > addr {
			return i
		}
	}
	return -1
}

// section is one allocated ELF section, in the file's addresses.
type section struct {
	start, end uint64
	name       string
	index      elf.SectionIndex
}

// sectionTable holds a module's allocated sections sorted by address,
// leaving out empty and thread-local ones (.tbss overlaps the sections
// after it in the address space).
type sectionTable []section

// newSectionTable collects the sections of f that occupy addresses.
func newSectionTable(f *elf.File) sectionTable {
	var t sectionTable
	for i, s := range f.Sections {
		if s.Flags&elf.SHF_ALLOC == 0 || s.Flags&elf.SHF_TLS != 0 || s.Size == 0 || s.Addr+s.Size < s.Addr {
			continue
		}
		t = append(t, section{start: s.Addr, end: s.Addr + s.Size, name: s.Name, index: elf.SectionIndex(i)})
	}
	slices.SortFunc(t, func(a, b section) int { return cmp.Compare(a.start, b.start) })
	return t
}

// find returns the name of the section containing addr, or "".
func (t sectionTable) find(addr uint64) string {
	i := sort.Search(len(t), func(i int) bool { return t[i].start > addr }) - 1
	if i >= 0 && addr < t[i].end {
		return t[i].name
	}
	return ""
}

// dense returns the sections indexed by ELF section index, with zero
// entries for the sections the table leaves out.
func (t sectionTable) dense() []section {
	var n elf.SectionIndex
	for _, s := range t {
		n = max(n, s.index+1)
	}
	d := make([]section, n)
	for _, s := range t {
		d[s.index] = s
	}
	return d
}
