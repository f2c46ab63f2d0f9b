package pycore

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/symbolize"
	"github.com/heapsift/heapsift/warn"
)

// ErrNotPython is wrapped by Open's error when the core is not of a
// CPython process heapsift can read.
var ErrNotPython = errors.New("not a CPython process")

// Open reads the CPython heap of the dumped process p: it finds libpython
// among p's modules, fills a Layout from its DWARF (or its build-ID debug
// file in the symbolizer's debug directories; without either, from
// pycore's table and, on 3.13+, the core's _Py_DebugOffsets), finds the
// interpreter through the symbols s names, checks the layout against the
// static type objects, and builds the object graph. Problems that leave a
// usable graph are returned as warnings; one says where a layout that is
// not from DWARF came from.
func Open(p *dump.Process, s *symbolize.Symbolizer) (*Heap, []warn.Warning, error) {
	return open(p, s, openConfig{})
}

// openConfig holds Open's settings that only tests change.
type openConfig struct {
	// noDWARF ignores libpython's DWARF, as if it were stripped.
	noDWARF bool
}

func open(p *dump.Process, s *symbolize.Symbolizer, cfg openConfig) (*Heap, []warn.Warning, error) {
	mod, minor, err := findLibpython(p, s)
	if err != nil {
		return nil, nil, err
	}
	data := mod.FileData()
	if data == nil {
		return nil, nil, fmt.Errorf("pycore: %s is not at hand on this machine (point heapsift at it)", mod.Path)
	}
	dirs := []string{debugDir}
	if s != nil {
		dirs = s.DebugDirs()
	}
	var ix *dwarfIndex
	noDWARF := errors.New("its DWARF is ignored")
	if !cfg.noDWARF {
		ix, noDWARF = moduleDWARF(mod, data, dirs)
	}
	syms, err := findSymbols(s, mod, ix, data)
	if err != nil {
		return nil, nil, err
	}
	resolveGenerations(p, &syms)
	var h *Heap
	if ix != nil {
		h, err = dwarfHeap(p, mod, minor, ix, syms)
	} else {
		h, err = tableHeap(p, mod, minor, syms, noDWARF)
	}
	if err != nil {
		return nil, nil, err
	}
	if err := h.build(syms); err != nil {
		return nil, h.warns.Items(), err
	}
	return h, h.warns.Items(), nil
}

// newHeap returns an empty Heap of p for layout l.
func newHeap(p *dump.Process, mod *dump.Module, l *Layout) *Heap {
	return &Heap{
		p: p, mem: memory{p: p}, l: l, lib: mod.Path,
		version: "3." + strconv.Itoa(l.Minor),
		nameIDs: map[string]uint32{},
	}
}

// dwarfHeap returns an empty Heap whose layout is filled from ix, checked
// against the core.
func dwarfHeap(p *dump.Process, mod *dump.Module, minor int, ix *dwarfIndex, syms symbols) (*Heap, error) {
	l, err := layoutFromDWARF(ix, minor)
	if err != nil {
		return nil, fmt.Errorf("pycore: %s: %w", mod.Path, err)
	}
	h := newHeap(p, mod, l)
	h.ix = ix
	if err := h.checkLayout(syms); err != nil {
		return nil, err
	}
	if err := h.checkDebugOffsets(syms.runtime); err != nil {
		return nil, err
	}
	if err := h.findInterpreters(syms); err != nil {
		return nil, err
	}
	if err := h.checkInterpreter(syms); err != nil {
		return nil, err
	}
	return h, nil
}

// debugDir is where distributions install separate debug files.
const debugDir = "/usr/lib/debug"

// moduleDWARF reads the DWARF of mod, from its own file image data or
// else from its separate debug file (DIR/.build-id/ab/cdef….debug) in one
// of dirs. Without either, it says why.
func moduleDWARF(mod *dump.Module, data []byte, dirs []string) (*dwarfIndex, error) {
	ix, err := openDWARF(data)
	if err == nil {
		return ix, nil
	}
	id := mod.FileBuildID
	if id == "" {
		id = mod.BuildID
	}
	if len(id) <= 2 {
		return nil, fmt.Errorf("%s: %v, and it has no build ID to find its debug file by", mod.Path, err)
	}
	var paths []string
	for _, dir := range dirs {
		path := filepath.Join(dir, ".build-id", id[:2], id[2:]+".debug")
		paths = append(paths, path)
		debug, rerr := os.ReadFile(path)
		if rerr != nil {
			continue
		}
		ix, derr := openDWARF(debug)
		if derr != nil {
			return nil, fmt.Errorf("%s: %w", path, derr)
		}
		return ix, nil
	}
	return nil, fmt.Errorf("%s: %v, and no debug file %s", mod.Path, err, strings.Join(paths, " or "))
}

var libpythonRE = regexp.MustCompile(`^libpython3\.(\d+)[a-z]*\.so`)

// findLibpython returns the module holding the interpreter, libpython or
// a statically linked executable, and its minor version.
func findLibpython(p *dump.Process, s *symbolize.Symbolizer) (*dump.Module, int, error) {
	for _, m := range p.Modules() {
		if sub := libpythonRE.FindStringSubmatch(filepath.Base(m.Path)); sub != nil {
			minor, _ := strconv.Atoi(sub[1])
			if minor < 6 {
				return nil, 0, fmt.Errorf("pycore: %s: CPython 3.%d is older than 3.6: %w", m.Path, minor, ErrNotPython)
			}
			return m, minor, nil
		}
	}
	exe := p.Executable()
	if exe == nil {
		return nil, 0, fmt.Errorf("pycore: the core names no executable and maps no libpython3: %w", ErrNotPython)
	}
	base := filepath.Base(exe.Path)
	if s == nil {
		return nil, 0, fmt.Errorf("pycore: %s maps no libpython3 (and without symbols a static CPython cannot be found): %w", exe.Path, ErrNotPython)
	}
	if _, ok := s.Address(base, "PyType_Type", 0); !ok {
		return nil, 0, fmt.Errorf("pycore: %s maps no libpython3 and defines no PyType_Type: %w", exe.Path, ErrNotPython)
	}
	// A CPython linked statically: 3.11+ say their version in Py_Version.
	if a, ok := s.Address(base, "Py_Version", 0); ok {
		if v, err := p.Uint32(dump.Address(a)); err == nil && v>>24 == 3 {
			return exe, int(v >> 16 & 0xff), nil
		}
	}
	if sub := exeVersionRE.FindStringSubmatch(base); sub != nil {
		minor, _ := strconv.Atoi(sub[1])
		return exe, minor, nil
	}
	return nil, 0, fmt.Errorf("pycore: %s links CPython statically, and its version is unknown", exe.Path)
}

var exeVersionRE = regexp.MustCompile(`^python3\.(\d+)`)

// symbols are the addresses of libpython's static objects pycore starts
// from.
type symbols struct {
	typeType, tupleType, dictType, strType uint64
	runtime, interpHead, generations       uint64 // whichever the version has
	version                                uint64 // Py_Version (3.11+), or 0
	// 3.6's exported pointers, for when its static interp_head and
	// generations are not in the symbol table (a stripped build): the
	// current thread state (whose interp is the interpreter) and the
	// collector's generation 0.
	tstateCurrent, gen0 uint64
	// subtypeDealloc is the tp_dealloc of classes defined in Python.
	subtypeDealloc uint64
}

// findSymbols finds libpython's static objects, by its symbol table
// through the symbolizer, or else by its DWARF.
func findSymbols(s *symbolize.Symbolizer, mod *dump.Module, ix *dwarfIndex, data []byte) (symbols, error) {
	base := filepath.Base(mod.Path)
	bias, biasErr := loadBias(mod, data)
	find := func(name string) uint64 {
		if s != nil {
			if a, ok := s.Address(base, name, 0); ok {
				return a
			}
		}
		if ix == nil || biasErr != nil {
			return 0
		}
		if a, ok := ix.vars[name]; ok {
			return a + bias
		}
		if a, ok := ix.funcs[name]; ok {
			return a + bias
		}
		return 0
	}
	sy := symbols{
		typeType: find("PyType_Type"), tupleType: find("PyTuple_Type"),
		dictType: find("PyDict_Type"), strType: find("PyUnicode_Type"),
		runtime: find("_PyRuntime"), interpHead: find("interp_head"),
		generations: find("generations"), subtypeDealloc: find("subtype_dealloc"),
		version:       find("Py_Version"),
		tstateCurrent: find("_PyThreadState_Current"), gen0: find("_PyGC_generation0"),
	}
	if sy.typeType == 0 || sy.tupleType == 0 || sy.dictType == 0 || sy.strType == 0 {
		return sy, fmt.Errorf("pycore: %s has no PyType_Type, PyTuple_Type, PyDict_Type or PyUnicode_Type symbol: %w", mod.Path, ErrNotPython)
	}
	if sy.runtime == 0 && sy.interpHead == 0 && sy.tstateCurrent == 0 {
		return sy, fmt.Errorf("pycore: %s has neither _PyRuntime nor interp_head nor _PyThreadState_Current", mod.Path)
	}
	return sy, nil
}

// loadBias returns what to add to libpython's link-time addresses.
func loadBias(mod *dump.Module, data []byte) (uint64, error) {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return 0, err
	}
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_LOAD && prog.Off == 0 {
			return uint64(mod.Base()) - prog.Vaddr, nil
		}
	}
	return 0, fmt.Errorf("%s: no PT_LOAD segment at offset 0", mod.Path)
}

// checkLayout checks the layout against static objects whose contents are
// known: type(type) is type, and tuple, dict and str are named so.
func (h *Heap) checkLayout(sy symbols) error {
	meta, err := h.mem.u64(sy.typeType + uint64(h.l.ObType))
	if err != nil {
		return fmt.Errorf("pycore: reading PyType_Type at %#x: %w", sy.typeType, err)
	}
	if meta != sy.typeType {
		return fmt.Errorf("pycore: PyType_Type's type is %#x, not itself (%#x): the layout of %s does not fit this core", meta, sy.typeType, h.lib)
	}
	h.typeType, h.strType, h.dictTypeAddr = sy.typeType, sy.strType, sy.dictType
	h.subtypeDealloc = sy.subtypeDealloc
	// The basic sizes of type, tuple and dict are sizeof(PyHeapTypeObject),
	// offsetof(PyTupleObject, ob_item) and sizeof(PyDictObject); str's is
	// not in the layout (0: not checked).
	for _, c := range []struct {
		addr      uint64
		name      string
		basicsize int64
	}{{sy.typeType, "type", h.l.Type.HeapTypeSize}, {sy.tupleType, "tuple", h.l.Tuple.Item}, {sy.dictType, "dict", h.l.Dict.Size}, {sy.strType, "str", 0}} {
		ti, err := h.typeOf(c.addr)
		if err != nil {
			return fmt.Errorf("pycore: reading type %s at %#x: %w", c.name, c.addr, err)
		}
		if ti.name != c.name {
			return fmt.Errorf("pycore: the type at %#x reads %q, not %q: the layout of %s does not fit this core", c.addr, ti.name, c.name, h.lib)
		}
		if c.basicsize != 0 && ti.basicsize != c.basicsize {
			return fmt.Errorf("pycore: type %s's instances are %d bytes, the layout says %d: the layout of %s does not fit this core", c.name, ti.basicsize, c.basicsize, h.lib)
		}
	}
	return nil
}

// findInterpreters lists the interpreters, from _PyRuntime (3.7+) or
// interp_head (3.6).
func (h *Heap) findInterpreters(sy symbols) error {
	var head uint64
	var err error
	switch {
	case sy.runtime != 0 && h.l.State.RuntimeInterpHead != absent:
		h.runtime = sy.runtime
		head, err = h.mem.u64(sy.runtime + uint64(h.l.State.RuntimeInterpHead))
	case sy.interpHead != 0:
		head, err = h.mem.u64(sy.interpHead)
	case sy.tstateCurrent != 0:
		head, err = h.interpOfCurrentThread(sy.tstateCurrent)
	default:
		return fmt.Errorf("pycore: cannot find the interpreters' list in %s", h.lib)
	}
	if err != nil {
		return fmt.Errorf("pycore: reading the interpreters' list: %w", err)
	}
	for a := head; a != 0 && len(h.interps) < 256; {
		h.interps = append(h.interps, a)
		if a, err = h.mem.u64(a + uint64(h.l.State.InterpNext)); err != nil {
			h.warns.Add(warn.At("pycore", a, "reading the next interpreter: %v", err))
			break
		}
	}
	if len(h.interps) == 0 {
		return fmt.Errorf("pycore: the process has no Python interpreter (not initialized, or finalized)")
	}
	// The main interpreter is the last one created, at the list's end.
	last := len(h.interps) - 1
	h.interps[0], h.interps[last] = h.interps[last], h.interps[0]
	return nil
}

// interpOfCurrentThread returns the interpreter of the thread state that
// held the GIL (3.6's _PyThreadState_Current at tstateCurrent): without
// interp_head, the way to the interpreters' list of a stripped 3.6.
func (h *Heap) interpOfCurrentThread(tstateCurrent uint64) (uint64, error) {
	ts, err := h.mem.u64(tstateCurrent)
	if err != nil {
		return 0, err
	}
	if ts == 0 {
		return 0, fmt.Errorf("no thread held the GIL, and without interp_head in the symbols (a stripped build) the interpreter is found only through the thread that did")
	}
	return h.mem.u64(ts + uint64(h.l.State.ThreadInterp))
}

// resolveGenerations finds 3.6's generations through _PyGC_generation0,
// which points to the first, when the static array has no symbol.
func resolveGenerations(p *dump.Process, sy *symbols) {
	if sy.generations != 0 || sy.gen0 == 0 {
		return
	}
	if v, err := p.Uint64(dump.Address(sy.gen0)); err == nil {
		sy.generations = v
	}
}
