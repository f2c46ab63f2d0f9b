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

	"github.com/heapsift/heapsift/dump"
)

// Program is the model of a Go program's heap reconstructed from a core.
// Once Open has returned it, its methods only read it, and may be called
// from several goroutines at once.
type Program struct {
	reader
	elf      *elf.File // the executable
	version  string    // runtime version, e.g. "go1.26.8" or "go1.25.14 X:greenteagc"
	minor    int       // 26 for go1.26.8
	arch     dump.Arch
	greenTea bool

	spanL  spanLayout
	rtypes rtypes
	heap   heap
	types  typeTable

	objType []TypeID // object -> type
	fixed   []uint64 // objects whose type came from a malloc header or largeType
	live    []uint64 // objects reachable from the roots
	edges   edgeGraph

	modules        []module
	roots          []Root
	finalized      []finalized // objects with finalizers
	typedRoots     []typedRoot // typed variables seeding type propagation
	liveStackSlots []uint64    // stack words holding live pointers, sorted after readGoroutines
	names          *globalNamer
	closures       map[dwarf.Offset]TypeID // closure types by function entry
	uint8Type      TypeID
	tinyType       TypeID
	rtDWARF        map[dump.Address]dwarf.Type // DWARF-like types built from runtime descriptors
	classSize      []uint64                    // size of each size class, ascending
	goroutines     []Goroutine
	stackBytes     uint64
	truth          MemStats
	haveTruth      bool
	warnings       []string
}

// Open builds the heap model of the Go program whose core p is. The
// executable must be available (dump finds it from the core's file
// mappings, or it is given with dump.Options.Exe) and must be the one that
// produced the core. Open fails for cores of programs that are not Go
// programs, for executables without DWARF, and when the runtime's central
// structures cannot be read; anything less serious is returned as warnings
// beside the Program.
func Open(p *dump.Process) (*Program, []string, error) {
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
	ix, err := newDWARFIndex(dw)
	if err != nil {
		return nil, nil, err
	}
	if _, ok := ix.globals["runtime.mheap_"]; !ok {
		return nil, nil, fmt.Errorf("not a Go program: %s has no runtime.mheap_ in its DWARF", filepath.Base(exe.LocalPath))
	}
	prog.reader = reader{proc: p, dw: ix, bias: loadBias(ef, exe)}
	prog.elf = ef
	if err := prog.build(); err != nil {
		return nil, prog.warnings, err
	}
	return prog, prog.warnings, nil
}

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
	p.warnings = append(p.warnings, fmt.Sprintf(format, args...))
}

// build reads the runtime's structures and builds the model.
func (p *Program) build() error {
	var err error
	if p.spanL, err = p.spanLayout(); err != nil {
		return fmt.Errorf("reading runtime.mspan layout: %w", err)
	}
	rl, err := p.rtypeLayout()
	if err != nil {
		return fmt.Errorf("reading internal/abi.Type layout: %w", err)
	}
	p.rtypes = rtypes{r: &p.reader, l: rl, cache: make(map[dump.Address]*rtype)}
	p.types = newTypeTable()
	if err := p.readModules(); err != nil {
		return err
	}
	p.heap.hp = p.heapParams()
	p.greenTea = p.heap.hp.inlineMarkBytes != 0
	spans, warns, err := p.readSpans(p.spanL, p.heap.hp)
	p.warnings = append(p.warnings, warns...)
	if err != nil {
		return fmt.Errorf("reading heap spans: %w", err)
	}
	p.heap.spans = spans
	warns, err = p.enumerate(&p.heap, p.spanL)
	p.warnings = append(p.warnings, warns...)
	if err != nil {
		return err
	}
	if err := p.heap.pages.build(spans, p.heap.hp.pageSize, p.heap.hp.arenaBytes); err != nil {
		return fmt.Errorf("indexing heap spans: %w", err)
	}
	if p.classSize, err = p.classSizes(); err != nil {
		p.warnf("reading the size class table: %v", err)
	}
	p.objType = makeHuge[TypeID](len(p.heap.addr))
	p.fixed = makeHuge[uint64]((len(p.heap.addr) + 63) / 64)
	p.typeFromHeaders()
	p.readGoroutines()
	p.sortLiveStackSlots()
	p.collectRoots()
	if p.edges, err = p.buildEdges(edgeChunkShift); err != nil {
		return err
	}
	p.mark(maxSweeps)
	p.propagateTypes(maxSweeps)
	p.checkMemStats()
	return nil
}

// Version returns the Go version that built the program (runtime.Version).
func (p *Program) Version() string { return p.version }

// Arch returns the program's architecture.
func (p *Program) Arch() dump.Arch { return p.arch }

// GreenTea reports whether the runtime uses the Green Tea garbage collector.
func (p *Program) GreenTea() bool { return p.greenTea }
