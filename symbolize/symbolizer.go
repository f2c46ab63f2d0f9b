package symbolize

import (
	"bytes"
	"cmp"
	"fmt"
	"github.com/heapsift/heapsift/warn"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/ianlancetaylor/demangle"

	"github.com/heapsift/heapsift/dump"
)

// Options control how names are made.
type Options struct {
	// NoDemangle keeps C++ and Rust symbol names as the file spells them.
	NoDemangle bool
	// DebugDirs are searched for separate debug files by build ID
	// (DIR/.build-id/ab/cdef….debug) for modules without .symtab; nil
	// means /usr/lib/debug.
	DebugDirs []string
}

// defaultDebugDir is where distributions install separate debug files.
const defaultDebugDir = "/usr/lib/debug"

// A Symbolizer names addresses and words of one process. It is safe for
// concurrent use. It reads the module files the Process has mapped, so it
// must not be used after the Process is closed.
type Symbolizer struct {
	p    *dump.Process
	opts Options
	mods []*module // sorted by start, disjoint

	mu       sync.Mutex
	warnings []warn.Warning // found while loading symbol tables lazily
}

// New opens the ELF files of p's modules. Modules whose file is not at
// hand, or does not match the core, stay unnamed; the warnings say which
// (dump has already warned about build-ID mismatches).
func New(p *dump.Process, opts Options) (*Symbolizer, []warn.Warning, error) {
	if p == nil {
		return nil, nil, fmt.Errorf("symbolize: no process")
	}
	s := &Symbolizer{p: p, opts: opts}
	debugDirs := s.DebugDirs()
	var warnings []warn.Warning
	for _, m := range p.Modules() {
		if m.Mismatch {
			continue
		}
		data := m.FileData()
		if m.LocalPath == "" || data == nil {
			if holdsCode(m) {
				warnings = append(warnings, warn.New("symbolize", "%s", missingWarning(m)))
			}
			continue
		}
		mod, err := openModule(m, data, debugDirs)
		if err != nil {
			warnings = append(warnings, warn.New("symbolize", "%s: %s: %v; its addresses stay unnamed", filepath.Base(m.Path), m.LocalPath, err))
			continue
		}
		s.mods = append(s.mods, mod)
	}
	warnings = append(warnings, s.sortModules()...)
	return s, warnings, nil
}

// DebugDirs returns the directories searched for separate debug files by
// build ID (Options.DebugDirs, or /usr/lib/debug), for other readers of
// the same modules' debugging information.
func (s *Symbolizer) DebugDirs() []string {
	if s.opts.DebugDirs == nil {
		return []string{defaultDebugDir}
	}
	return s.opts.DebugDirs
}

// missingWarning says that a module's file was not found, and how to point
// heapsift at it.
func missingWarning(m *dump.Module) string {
	hint := "use --sysroot or --lib-dir"
	if m.Main {
		hint = "use --exe"
	}
	return fmt.Sprintf("%s: not found; its addresses stay unnamed (%s)", filepath.Base(m.Path), hint)
}

// holdsCode reports whether a module is an ELF file worth a warning when it
// is missing, rather than a mapped data file (a locale archive, a font): the
// core holds its ELF header or build ID, or it is mapped executable.
func holdsCode(m *dump.Module) bool {
	if m.BuildID != "" || m.Main {
		return true
	}
	for _, mp := range m.Mappings {
		if mp.Perm&dump.PermExec != 0 {
			return true
		}
		if mp.FileOffset == 0 && bytes.HasPrefix(mp.CoreData(), []byte("\x7fELF")) {
			return true
		}
	}
	return false
}

// sortModules orders the modules by address and drops any that overlap an
// earlier one, which only a wrong file can cause.
func (s *Symbolizer) sortModules() []warn.Warning {
	slices.SortFunc(s.mods, func(a, b *module) int { return cmp.Compare(a.start, b.start) })
	var warnings []warn.Warning
	out := s.mods[:0]
	for _, m := range s.mods {
		if n := len(out); n > 0 && m.start < out[n-1].end {
			warnings = append(warnings, warn.New("symbolize", "%s: its segments overlap those of %s; its addresses stay unnamed",
				filepath.Base(m.path), filepath.Base(out[n-1].path)))
			continue
		}
		out = append(out, m)
	}
	s.mods = out
	return warnings
}

// Warnings returns the problems found since New while loading modules'
// symbol tables on first use (a malformed .symtab, say).
func (s *Symbolizer) Warnings() []warn.Warning {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.warnings)
}

func (s *Symbolizer) warn(msg string) {
	s.mu.Lock()
	s.warnings = append(s.warnings, warn.New("symbolize", "%s", msg))
	s.mu.Unlock()
}

// moduleAt returns the module whose segments hold addr, or nil.
func (s *Symbolizer) moduleAt(addr uint64) *module {
	i := sort.Search(len(s.mods), func(i int) bool { return s.mods[i].start > addr }) - 1
	if i >= 0 && s.mods[i].contains(addr) {
		return s.mods[i]
	}
	return nil
}

// Symbol names addr by the symbol containing it, if there is one.
func (s *Symbolizer) Symbol(addr uint64) (Name, bool) {
	mod := s.moduleAt(addr)
	if mod == nil {
		return Name{}, false
	}
	syms := mod.symbols(s.warn)
	vaddr := addr - mod.bias
	i := lookup(syms, vaddr)
	if i < 0 {
		return Name{}, false
	}
	n := Name{
		Value:   addr,
		Kind:    KindSymbol,
		Symbol:  s.demangle(syms[i].name),
		Offset:  vaddr - syms[i].start,
		Module:  mod.path,
		Section: mod.sections.find(vaddr),
	}
	if n.Symbol != syms[i].name {
		n.Mangled = syms[i].name
	}
	return n, true
}

// demangle turns a C++ or Rust symbol name into source form, unless the
// options say not to; other names are returned as they are.
func (s *Symbolizer) demangle(name string) string {
	if s.opts.NoDemangle || !(strings.HasPrefix(name, "_Z") || strings.HasPrefix(name, "_R")) {
		return name
	}
	return demangle.Filter(name, demangle.MaxLength(16))
}

// Describe says what the word v is: a symbol, a pointer into a mapping, or
// a kind of plain value. It never fails.
func (s *Symbolizer) Describe(v uint64) Name {
	if v == 0 {
		return Name{Kind: KindZero}
	}
	if n, ok := s.Symbol(v); ok {
		if t, ok := s.textInsteadOfCode(n); ok {
			return t
		}
		return n
	}
	if n, ok := s.pointer(v); ok {
		return n
	}
	return classifyValue(v)
}

// pointer describes v as an address inside a mapping, or inside a module's
// segments (when the core lacks that part of the address space).
func (s *Symbolizer) pointer(v uint64) (Name, bool) {
	n := Name{Value: v, Kind: KindPointer}
	mod := s.moduleAt(v)
	if mod != nil {
		n.Module, n.Section = mod.path, mod.sections.find(v-mod.bias)
	}
	m := s.p.FindMapping(dump.Address(v))
	switch {
	case m == nil && mod == nil:
		return Name{}, false
	case m == nil:
		n.Offset = v - mod.start
	case m.File != "":
		n.Mapping, n.Module = m.Name, m.File
		n.Offset = m.FileOffset + uint64(dump.Address(v)-m.Start)
	default:
		n.Mapping = m.Name
		n.Offset = uint64(dump.Address(v) - m.Start)
	}
	return n, true
}
