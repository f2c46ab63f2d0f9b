package symbolize

import (
	"bytes"
	"debug/elf"
	"debug/gosym"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/heapsift/heapsift/dump"
)

// module is one ELF file mapped into the process, ready to name addresses.
// Opening it reads only the ELF and section headers; the symbol table is
// loaded on the first lookup that lands in the module.
type module struct {
	path       string // as the core records it
	start, end uint64 // run-time addresses covered by the PT_LOAD segments
	bias       uint64 // run-time address minus the file's vaddr
	sections   sectionTable
	vaddrEnd   uint64 // end of the segments in file addresses

	file      *elf.File // nil once the symbols are loaded
	buildID   string    // the file's GNU build ID (hex), to find its debug file
	debugDirs []string

	once sync.Once
	syms []symbol
}

// openModule reads the headers of the module's local ELF file.
func openModule(m *dump.Module, data []byte, debugDirs []string) (mod *module, err error) {
	defer func() {
		// debug/elf is meant to reject bad files with errors; this only
		// keeps a bug there on a hostile file from ending the program.
		if r := recover(); r != nil {
			mod, err = nil, fmt.Errorf("malformed ELF file: %v", r)
		}
	}()
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	lo, hi, ok := segmentRange(f)
	if !ok {
		return nil, errors.New("no PT_LOAD segments")
	}
	bias, err := loadBias(f, uint64(m.Base()))
	if err != nil {
		return nil, err
	}
	mod = &module{
		path: m.Path, start: lo + bias, end: hi + bias, bias: bias,
		sections: newSectionTable(f), vaddrEnd: hi, file: f,
		buildID: m.FileBuildID, debugDirs: debugDirs,
	}
	if !mod.fits(m) {
		return nil, fmt.Errorf("its segments (%#x-%#x once loaded) do not cover where the core maps it (%#x-%#x); wrong file?",
			mod.start, mod.end, uint64(m.Start), uint64(m.End))
	}
	return mod, nil
}

// segmentRange returns the file addresses spanned by f's PT_LOAD segments.
func segmentRange(f *elf.File) (lo, hi uint64, ok bool) {
	lo = ^uint64(0)
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD || p.Vaddr+p.Memsz < p.Vaddr {
			continue
		}
		lo, hi, ok = min(lo, p.Vaddr), max(hi, p.Vaddr+p.Memsz), true
	}
	return lo, hi, ok
}

// loadBias computes how far the file was moved when loaded: 0 for a fixed
// executable; for a PIE or shared library, the address where file offset 0
// is mapped (base) minus the vaddr of the segment that maps offset 0.
func loadBias(f *elf.File, base uint64) (uint64, error) {
	switch f.Type {
	case elf.ET_EXEC:
		return 0, nil
	case elf.ET_DYN:
	default:
		return 0, fmt.Errorf("ELF type %v is neither an executable nor a shared object", f.Type)
	}
	var first *elf.Prog
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		if p.Off == 0 {
			return base - p.Vaddr, nil
		}
		if first == nil {
			first = p
		}
	}
	if first == nil {
		return 0, errors.New("no PT_LOAD segments")
	}
	// No segment maps offset 0; the first one still keeps vaddr and
	// offset congruent, so offset 0 would sit at Vaddr-Off.
	return base - (first.Vaddr - first.Off), nil
}

// fits reports whether the module's loaded segments plausibly match where
// the core says the file is mapped: the first mapping must start within a
// large page of the first segment, and the file mappings end inside the
// segments' span (rounded up to a large page).
func (mod *module) fits(m *dump.Module) bool {
	const slack = 1 << 16 // the largest page size in use
	if len(m.Mappings) == 0 {
		return true
	}
	first := uint64(m.Mappings[0].Start)
	last := uint64(m.Mappings[len(m.Mappings)-1].End)
	return first+slack > mod.start && first <= mod.start+slack && last <= mod.end+slack
}

// contains reports whether the run-time address a lies in the module.
func (mod *module) contains(a uint64) bool { return a >= mod.start && a < mod.end }

// symbols returns the module's symbol table, loading it on first use. Any
// problem loading it is passed to warn, once.
func (mod *module) symbols(warn func(string)) []symbol {
	mod.once.Do(func() {
		syms, err := mod.loadSymbols()
		if err != nil {
			warn(fmt.Sprintf("%s: %v; some of its addresses may stay unnamed", filepath.Base(mod.path), err))
		}
		mod.syms, mod.file = syms, nil
	})
	return mod.syms
}

// loadSymbols reads .symtab and .dynsym. Without .symtab, it reads the
// .symtab of the file's separate debug file, if one is installed, or else,
// for a Go binary, the function table in .gopclntab.
func (mod *module) loadSymbols() (syms []symbol, err error) {
	defer func() {
		if r := recover(); r != nil {
			syms, err = nil, fmt.Errorf("malformed symbol table: %v", r)
		}
	}()
	f := mod.file
	var cands []candidate
	var errs []error
	static, serr := f.Symbols()
	switch {
	case serr == nil:
		cands = append(cands, candidatesFrom(static, mod.sections, 0)...)
	case !errors.Is(serr, elf.ErrNoSymbols):
		errs = append(errs, fmt.Errorf("reading .symtab: %w", serr))
	}
	dynamic, derr := f.DynamicSymbols()
	switch {
	case derr == nil:
		cands = append(cands, candidatesFrom(dynamic, mod.sections, 1)...)
	case !errors.Is(derr, elf.ErrNoSymbols):
		errs = append(errs, fmt.Errorf("reading .dynsym: %w", derr))
	}
	if serr != nil {
		debug, found, err := debugFileSymbols(mod.buildID, mod.debugDirs)
		if err != nil {
			errs = append(errs, err)
		}
		cands = append(cands, debug...)
		if !found {
			funcs, err := goFunctions(f)
			if err != nil {
				errs = append(errs, err)
			}
			cands = append(cands, funcs...)
		}
	}
	return buildTable(cands, mod.vaddrEnd), errors.Join(errs...)
}

// goFunctions lists the functions of a Go binary from its pclntab, or none
// if f has no pclntab.
func goFunctions(f *elf.File) ([]candidate, error) {
	sec := f.Section(".gopclntab")
	if sec == nil {
		sec = f.Section(".data.rel.ro.gopclntab") // PIE and external linking
	}
	if sec == nil {
		return nil, nil
	}
	data, err := sec.Data()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", sec.Name, err)
	}
	text := f.Section(".text")
	if text == nil {
		return nil, fmt.Errorf("%s without .text", sec.Name)
	}
	table, err := gosym.NewTable(nil, gosym.NewLineTable(data, pclnTextStart(data, text.Addr)))
	if err != nil {
		return nil, fmt.Errorf("decoding %s: %w", sec.Name, err)
	}
	out := make([]candidate, 0, len(table.Funcs))
	for _, fn := range table.Funcs {
		if fn.Sym == nil || fn.End <= fn.Entry {
			continue
		}
		out = append(out, candidate{
			name: fn.Name, value: fn.Entry, size: fn.End - fn.Entry,
			typ: elf.STT_FUNC, bind: elf.STB_GLOBAL, source: 2,
		})
	}
	return out, nil
}

// Go 1.18 and later pclntab headers start with one of these magic numbers
// and hold runtime.text, the base of all function offsets, in their fourth
// word (after magic+pads, nfunc, nfiles).
const (
	go118Magic = 0xfffffff0
	go120Magic = 0xfffffff1
)

// pclnTextStart returns the address function offsets in the pclntab are
// relative to: the header's runtime.text when the file holds it (it is
// zero in a PIE, which leaves it to a dynamic relocation), else the start
// of .text, where runtime.text is when Go links the program itself.
func pclnTextStart(data []byte, textAddr uint64) uint64 {
	if len(data) < 8+3*8 || data[7] != 8 {
		return textAddr
	}
	magic := binary.LittleEndian.Uint32(data)
	if magic != go118Magic && magic != go120Magic {
		return textAddr
	}
	if v := binary.LittleEndian.Uint64(data[8+2*8:]); v != 0 {
		return v
	}
	return textAddr
}
