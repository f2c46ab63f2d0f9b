package gocore

import (
	"bytes"
	"debug/buildinfo"
	"debug/dwarf"
	"debug/elf"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/gocore/rtread"
	"github.com/heapsift/heapsift/warn"
)

// Program is the model of a Go program's heap reconstructed from a core.
// Once Open has returned it, its methods only read it, and may be called
// from several goroutines at once.
type Program struct {
	rd       *rtread.Reader // reads the runtime's structures
	dw       *rtread.Index  // the executable's DWARF
	proc     *dump.Process
	bias     uint64    // load bias of the executable (PIE)
	elf      *elf.File // the executable
	version  string    // runtime version, e.g. "go1.26.8" or "go1.25.14 X:greenteagc"
	minor    int       // 26 for go1.26.8
	arch     dump.Arch
	greenTea bool

	spanL     rtread.SpanLayout
	rtypes    *rtread.RTypes
	rtTypes   []TypeID // by RType.ID: the type a descriptor stands for, or unjoined
	classSize []uint64 // size of each size class, ascending
	modules   []module
	heap      heap
	types     typeTable

	objType []TypeID // object -> type
	fixed   []uint64 // objects whose type came from a malloc header or largeType
	live    []uint64 // objects reachable from the roots
	// typesMu guards rtypes where goroutines read pointers in parallel
	// (edgeScanner: marking's workers, EachLiveRefs, Edges).
	typesMu sync.Mutex

	roots          []Root
	finalized      []finalized // objects with finalizers
	typedRoots     []typedRoot // typed variables seeding type propagation
	liveStackSlots []uint64    // stack words holding live pointers, sorted
	goroutines     []Goroutine
	stackBytes     uint64
	truth          MemStats
	// damage lists the runtime structures that failed their own
	// consistency checks in ways the totals depend on (see Damage).
	damage    []string
	haveTruth bool

	// Caches filled while building.
	names     *globalNamer
	closures  map[dwarf.Offset]TypeID // closure types by function entry
	uint8Type TypeID
	tinyType  TypeID

	warns warn.List
}

// source is the Source of gocore's warnings.
const source = "gocore"

// Open builds the heap model of the Go program whose core p is. The
// executable must be available (dump finds it from the core's file
// mappings, or it is given with dump.Options.Exe) and must be the one that
// produced the core. Open fails for cores of programs that are not Go
// programs, for executables without DWARF, and when the runtime's central
// structures cannot be read; anything less serious is returned as warnings
// beside the Program.
//
// The warnings are also kept by the Program (Warnings).
func Open(p *dump.Process) (*Program, []warn.Warning, error) { return open(p, nil) }

// open is Open, calling onStage (if not nil) at each stage of building
// the model (Program.build).
func open(p *dump.Process, onStage func(name string)) (*Program, []warn.Warning, error) {
	exe := p.Executable()
	switch {
	case exe == nil:
		return nil, nil, fmt.Errorf("the core names no executable")
	case exe.Mismatch:
		return nil, nil, fmt.Errorf("executable does not match the core: the build ID in the core (%s) differs from the file's (%s); pass the executable that produced the core", exe.BuildID, exe.FileBuildID)
	case exe.LocalPath == "" || exe.FileData() == nil:
		return nil, nil, fmt.Errorf("executable %s is not available; pass it explicitly", exe.Path)
	}
	data := exe.FileData()
	bi, err := buildinfo.Read(bytes.NewReader(data))
	if err != nil {
		return nil, nil, fmt.Errorf("not a Go program: %s: %v", filepath.Base(exe.LocalPath), err)
	}
	prog := &Program{version: bi.GoVersion, arch: p.Arch}
	prog.minor = goMinor(bi.GoVersion)
	if p.Arch != dump.ArchAMD64 && p.Arch != dump.ArchARM64 {
		return nil, nil, fmt.Errorf("unsupported architecture %v (gocore reads amd64 and arm64 cores)", p.Arch)
	}
	ef, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, nil, fmt.Errorf("reading executable %s: %w", exe.LocalPath, err)
	}
	dw, err := ef.DWARF()
	if err != nil {
		return nil, nil, fmt.Errorf("executable %s has no usable DWARF (built with -ldflags=-w?): %v", exe.LocalPath, err)
	}
	if onStage != nil {
		onStage("indexDWARF")
	}
	ix, err := rtread.NewIndex(dw)
	if err != nil {
		return nil, nil, err
	}
	if !ix.HasGlobal("runtime.mheap_") {
		return nil, nil, fmt.Errorf("not a Go program: %s has no runtime.mheap_ in its DWARF", filepath.Base(exe.LocalPath))
	}
	prog.proc, prog.dw, prog.bias, prog.elf = p, ix, loadBias(ef, exe), ef
	prog.rd = rtread.NewReader(p, ix, prog.bias)
	if err := prog.build(onStage); err != nil {
		return nil, prog.warns.Items(), err
	}
	return prog, prog.warns.Items(), nil
}

// Warnings returns what was wrong with the core but did not stop Open:
// missing memory, structures that could not be read, runtime constants
// and fields that were missing and replaced by defaults.
func (p *Program) Warnings() []warn.Warning { return p.warns.Items() }

// loadBias returns how far the executable was loaded from its link-time
// addresses (non-zero for position-independent executables).
func loadBias(ef *elf.File, exe *dump.Module) uint64 {
	for _, ph := range ef.Progs {
		if ph.Type == elf.PT_LOAD && ph.Off == 0 {
			return uint64(exe.Base()) - ph.Vaddr
		}
	}
	return 0
}

func goMinor(v string) int {
	v = strings.TrimPrefix(v, "go")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return 0
	}
	end := 0
	for end < len(parts[1]) && parts[1][end] >= '0' && parts[1][end] <= '9' {
		end++
	}
	n, _ := strconv.Atoi(parts[1][:end])
	return n
}

func (p *Program) warnf(format string, args ...any) {
	p.warns.Add(warn.New(source, format, args...))
}

// build builds the model in stages (buildStages), each of which reads
// the results of the ones before it and returns its own. onStage, if not
// nil, is called with each stage's name before it runs and with "" after
// the last: the seam where a test measures each stage's memory and time
// (stages_test.go).
func (p *Program) build(onStage func(name string)) error {
	for _, st := range p.buildStages() {
		if onStage != nil {
			onStage(st.name)
		}
		if err := st.run(); err != nil {
			return err
		}
	}
	if onStage != nil {
		onStage("")
	}
	return nil
}

// stage is one named step of building the model.
type stage struct {
	name string
	run  func() error
}

// buildStages returns the stages of build, in order:
//
//	readRuntime     layouts, heap constants, modules, type descriptors
//	findSpans       the in-use spans, with their memory
//	buildHeap       the allocated objects, numbered; the page table
//	typeFromHeaders the types the runtime recorded (malloc headers, largeType)
//	readStacks      goroutines, stack roots, typed stack variables
//	collectRoots    the other roots; objects with finalizers
//	mark            which objects the roots reach, reading their pointers
//	propagateTypes  types passed along typed pointers (refines objType)
//	checkMemStats   the runtime's own accounting, compared with the walk
func (p *Program) buildStages() []stage {
	var (
		rt    runtimeInfo
		spans []span
		rs    *rootSet
	)
	return []stage{
		{"readRuntime", func() (err error) {
			rt, err = readRuntime(p.rd, &p.warns)
			if err != nil {
				return err
			}
			p.spanL, p.modules, p.rtypes, p.classSize = rt.spanL, rt.modules, rt.rtypes, rt.classSize
			p.greenTea = rt.hp.InlineMarkBytes != 0
			p.types = newTypeTable()
			return nil
		}},
		{"findSpans", func() (err error) {
			spans, err = findSpans(p.rd, rt.spanL, rt.hp, &p.warns)
			return err
		}},
		{"buildHeap", func() (err error) {
			p.heap, err = buildHeap(p.proc, spans, rt.hp, &p.warns)
			spans = nil
			return err
		}},
		{"typeFromHeaders", func() error {
			p.objType, p.fixed = p.typeFromHeaders()
			return nil
		}},
		{"readStacks", func() error {
			rs = &rootSet{h: &p.heap}
			st := p.readStacks(rs)
			p.goroutines, p.stackBytes, p.typedRoots, p.liveStackSlots = st.goroutines, st.stackBytes, st.typed, st.liveSlots
			return nil
		}},
		{"collectRoots", func() error {
			p.finalized = p.collectRoots(rs)
			p.roots = rs.roots
			rs = nil
			return nil
		}},
		{"mark", func() (err error) {
			p.live, err = p.mark(p.roots, maxSweeps)
			return err
		}},
		{"propagateTypes", func() error {
			p.propagateTypes(maxSweeps)
			return nil
		}},
		{"checkMemStats", func() error {
			p.truth, p.haveTruth = p.checkMemStats()
			return nil
		}},
	}
}

// runtimeInfo is what the model needs to know of the runtime before it
// reads the heap.
type runtimeInfo struct {
	spanL     rtread.SpanLayout
	hp        rtread.HeapParams
	modules   []module
	rtypes    *rtread.RTypes
	classSize []uint64
}

// readRuntime reads the runtime's layouts and constants, its modules and
// its size classes.
func readRuntime(rd *rtread.Reader, w *warn.List) (runtimeInfo, error) {
	var ri runtimeInfo
	var warns []warn.Warning
	var err error
	ri.spanL, warns, err = rd.ReadSpanLayout()
	w.Add(warns...)
	if err != nil {
		return ri, err
	}
	if ri.modules, err = readModules(rd, w); err != nil {
		return ri, err
	}
	ri.rtypes, warns, err = rtread.NewRTypes(rd, ri.modules[0].types, ri.modules[0].etypes)
	w.Add(warns...)
	if err != nil {
		return ri, err
	}
	ri.hp, warns = rd.ReadHeapParams()
	w.Add(warns...)
	if ri.classSize, err = rd.ClassSizes(); err != nil {
		w.Addf(source, "reading the size class table: %v", err)
	}
	return ri, nil
}

// checkMemStats reads the runtime's heap accounting and compares the heap
// walk with it.
func (p *Program) checkMemStats() (MemStats, bool) {
	hs, err := p.rd.ReadHeapStats(p.spanL)
	if err != nil {
		p.warnf("cannot read the runtime's heap statistics to check the heap walk: %v", err)
		return MemStats{}, false
	}
	ms := MemStats{HeapAlloc: hs.HeapAlloc, HeapObjects: hs.HeapObjects}
	var objs, bytes uint64
	for si := range p.heap.spans {
		s := &p.heap.spans[si]
		objs += uint64(s.nobj)
		bytes += uint64(s.nobj) * s.elemsize
	}
	if objs != ms.HeapObjects || bytes != ms.HeapAlloc {
		p.warnf("the heap walk found %d objects / %d bytes allocated, but the runtime counts %d / %d (HeapObjects/HeapAlloc)",
			objs, bytes, ms.HeapObjects, ms.HeapAlloc)
	}
	return ms, true
}

// Global returns the runtime's (or the program's) package-level variable
// called name, through the DWARF-typed cursor gocore reads the runtime
// with.
func (p *Program) Global(name string) Value { return p.rd.Global(name) }

// At returns a Value of the named type at addr.
func (p *Program) At(addr dump.Address, typ string) Value { return p.rd.At(addr, typ) }

// Value is a typed location in the core's memory (see package rtread).
type Value = rtread.Value

// Version returns the Go version that built the program (runtime.Version).
func (p *Program) Version() string { return p.version }

// Arch returns the program's architecture.
func (p *Program) Arch() dump.Arch { return p.arch }

// GreenTea reports whether the runtime uses the Green Tea garbage collector.
func (p *Program) GreenTea() bool { return p.greenTea }
