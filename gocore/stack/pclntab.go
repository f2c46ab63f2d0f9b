package stack

// The pclntab (runtime symtab.go, cmd/link pcln.go) is laid out as:
//
//	pcHeader  {magic uint32; pad1, pad2, minLC, ptrSize uint8; nfunc int;
//	           nfiles uint; _ uintptr; funcnameOffset, cuOffset,
//	           filetabOffset, pctabOffset, pclnOffset uintptr}
//	funcnametab  NUL-terminated function names, indexed by _func.nameOff
//	cutab        uint32 per (compilation unit, file): offset into filetab
//	filetab      NUL-terminated file names
//	pctab        the pc-value tables, indexed by _func.pcsp etc.
//	pclntable    ftab [nfunc+1]{entryoff, funcoff uint32} sorted by entry
//	             (the last entry marks the end of the text), then the
//	             _func records that funcoff points at, each followed by
//	             npcdata uint32 pctab offsets and nfuncdata uint32 offsets
//	             from moduledata.gofunc (^0 = none).
//
// All offsets in the header are from the start of the pcHeader. This is a
// file format fixed by the magic number, like debug/gosym reads it, so the
// layout is not taken from DWARF: stripped binaries keep their pclntab.

import (
	"encoding/binary"
	"fmt"
	"sort"
)

// Magic is the pclntab magic number of Go 1.20 through 1.26.
const Magic = 0xfffffff1

const (
	pcHeaderSize = 72 // on 64-bit machines
	funcSize     = 44 // the fixed part of a _func record
	ftabEntry    = 8  // {entryoff, funcoff uint32}
)

// Special function flags (internal/abi FuncFlag), the same in 1.22–1.26.
const (
	FuncFlagTopFrame = 1 << 0 // the function is the outermost frame of a stack
	FuncFlagSPWrite  = 1 << 1 // the function writes SP in ways pcsp cannot describe
	FuncFlagAsm      = 1 << 2 // the function is written in assembly
)

// argsSizeUnknown is _func.args for functions whose argument size only the
// function itself knows (reflect.makeFuncStub, reflect.methodValueCall).
const argsSizeUnknown = -0x80000000

// Indexes of the pc-value and funcdata tables the unwinder uses (internal/abi
// PCDATA_* and FUNCDATA_*), the same in 1.22–1.26.
const (
	PCDataUnsafePoint   = 0
	PCDataStackMapIndex = 1
	PCDataInlTreeIndex  = 2

	FuncDataArgsPointerMaps   = 0
	FuncDataLocalsPointerMaps = 1
	FuncDataStackObjects      = 2
	FuncDataInlTree           = 3
)

// table is a parsed pclntab.
type table struct {
	minLC     uint32
	nfunc     int
	funcnames []byte
	cutab     []byte
	filetab   []byte
	pctab     []byte
	pclntable []byte
}

// Table gives access to a module's function table. It is cheap to make
// (Module.Table) and safe for concurrent use.
type Table struct {
	t   *table
	mod *Module
}

// Func is one function record (_func) of the pclntab.
type Func struct {
	Index       int    // position in the function table
	Entry       uint64 // address of the first instruction
	End         uint64 // entry of the next function: Entry ≤ pc < End are this function's
	Name        string
	Args        int32 // size of the argument area, or -0x80000000 if only the function knows
	DeferReturn uint32
	PCSP        uint32 // pctab offsets of the pc-value tables (0 = none)
	PCFile      uint32
	PCLn        uint32
	CUOffset    uint32
	StartLine   int32
	FuncID      uint8 // internal/abi.FuncID; values change between versions, so match by Name
	Flag        uint8 // FuncFlag* bits
	NPCData     uint32
	NFuncData   uint8

	off uint32 // offset of the record in pclntable
}

// parseTable checks the pcHeader and slices the tables it points at.
func parseTable(data []byte, mod *Module) (*table, error) {
	if len(data) < pcHeaderSize {
		return nil, fmt.Errorf("pclntab of %d bytes is shorter than its header", len(data))
	}
	le := binary.LittleEndian
	if magic := le.Uint32(data); magic != Magic {
		return nil, fmt.Errorf("pclntab magic %#x, want %#x (Go 1.20–1.26)", magic, uint32(Magic))
	}
	if data[4] != 0 || data[5] != 0 || data[7] != 8 {
		return nil, fmt.Errorf("pclntab header pad %d,%d pointer size %d: want a 64-bit table", data[4], data[5], data[7])
	}
	nfunc := le.Uint64(data[8:])
	t := &table{minLC: uint32(data[6])}
	if t.minLC == 0 || t.minLC > 4 {
		return nil, fmt.Errorf("pclntab minLC %d is not 1, 2 or 4", t.minLC)
	}
	offs := [5]uint64{}
	for i := range offs {
		offs[i] = le.Uint64(data[32+8*i:])
		if offs[i] < pcHeaderSize || offs[i] > uint64(len(data)) {
			return nil, fmt.Errorf("pclntab header offset %d is %#x, outside the %#x-byte table", i, offs[i], len(data))
		}
	}
	// The tables follow one another in this order.
	for i := 0; i+1 < len(offs); i++ {
		if offs[i] > offs[i+1] {
			return nil, fmt.Errorf("pclntab header offsets %#x out of order", offs)
		}
	}
	t.funcnames = data[offs[0]:offs[1]]
	t.cutab = data[offs[1]:offs[2]]
	t.filetab = data[offs[2]:offs[3]]
	t.pctab = data[offs[3]:offs[4]]
	t.pclntable = data[offs[4]:]
	if nfunc == 0 || nfunc >= uint64(len(t.pclntable))/ftabEntry {
		return nil, fmt.Errorf("pclntab claims %d functions; its %#x-byte function table holds fewer than %d", nfunc, len(t.pclntable), uint64(len(t.pclntable))/ftabEntry)
	}
	t.nfunc = int(nfunc)
	return t, nil
}

// ftab returns entry i of the function table.
func (t *table) ftab(i int) (entryOff, funcOff uint32) {
	b := t.pclntable[i*ftabEntry:]
	return binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:])
}

// NumFuncs returns the number of functions in the table.
func (t *Table) NumFuncs() int { return t.t.nfunc }

// MinLC returns the pc quantum: 1 on amd64, 4 on arm64.
func (t *Table) MinLC() uint32 { return t.t.minLC }

// FuncForPC returns the function whose code holds pc. It is a binary search
// over the function table.
func (t *Table) FuncForPC(pc uint64) (Func, bool) {
	off, ok := t.mod.textOff(pc)
	if !ok {
		return Func{}, false
	}
	n := t.t.nfunc
	// The first entry whose start is beyond off, minus one.
	i := sort.Search(n, func(i int) bool {
		e, _ := t.t.ftab(i + 1)
		return e > off
	})
	if i >= n {
		return Func{}, false
	}
	if e, _ := t.t.ftab(i); e > off {
		return Func{}, false
	}
	f, err := t.FuncAt(i)
	return f, err == nil
}

// FuncAt returns function i of the table.
func (t *Table) FuncAt(i int) (Func, error) {
	if i < 0 || i >= t.t.nfunc {
		return Func{}, fmt.Errorf("function index %d out of range [0,%d)", i, t.t.nfunc)
	}
	entryOff, funcOff := t.t.ftab(i)
	nextOff, _ := t.t.ftab(i + 1)
	p := t.t.pclntable
	if uint64(funcOff)+funcSize > uint64(len(p)) {
		return Func{}, fmt.Errorf("function %d record at pclntable+%#x is outside the table", i, funcOff)
	}
	b := p[funcOff:]
	le := binary.LittleEndian
	f := Func{
		Index:       i,
		Entry:       t.mod.textAddr(le.Uint32(b[0:])),
		End:         t.mod.textAddr(nextOff),
		Args:        int32(le.Uint32(b[8:])),
		DeferReturn: le.Uint32(b[12:]),
		PCSP:        le.Uint32(b[16:]),
		PCFile:      le.Uint32(b[20:]),
		PCLn:        le.Uint32(b[24:]),
		NPCData:     le.Uint32(b[28:]),
		CUOffset:    le.Uint32(b[32:]),
		StartLine:   int32(le.Uint32(b[36:])),
		FuncID:      b[40],
		Flag:        b[41],
		NFuncData:   b[43],
		off:         funcOff,
	}
	if le.Uint32(b[0:]) != entryOff {
		return Func{}, fmt.Errorf("function %d: record at pclntable+%#x has entry offset %#x, the function table says %#x", i, funcOff, le.Uint32(b), entryOff)
	}
	if tail := uint64(funcOff) + funcSize + 4*(uint64(f.NPCData)+uint64(f.NFuncData)); tail > uint64(len(p)) {
		return Func{}, fmt.Errorf("function %d: %d pcdata and %d funcdata offsets run past the table", i, f.NPCData, f.NFuncData)
	}
	f.Name = cString(t.t.funcnames, int64(int32(le.Uint32(b[4:]))))
	return f, nil
}

// cString returns the NUL-terminated string at off in b, or "?" if off is
// out of range.
func cString(b []byte, off int64) string {
	if off < 0 || off >= int64(len(b)) {
		return "?"
	}
	s := b[off:]
	for i, c := range s {
		if c == 0 {
			return string(s[:i])
		}
	}
	return string(s)
}

// pcdataOff returns the pctab offset of pc-value table k of f (0 if none).
func (t *Table) pcdataOff(f *Func, k uint32) uint32 {
	if k >= f.NPCData {
		return 0
	}
	at := uint64(f.off) + funcSize + 4*uint64(k)
	return binary.LittleEndian.Uint32(t.t.pclntable[at:])
}

// FuncDataAddr returns the address of funcdata i of f (moduledata.gofunc
// plus the recorded offset), or false if f has none.
func (t *Table) FuncDataAddr(f *Func, i uint8) (uint64, bool) {
	if i >= f.NFuncData {
		return 0, false
	}
	at := uint64(f.off) + funcSize + 4*uint64(f.NPCData) + 4*uint64(i)
	off := binary.LittleEndian.Uint32(t.t.pclntable[at:])
	if off == ^uint32(0) {
		return 0, false
	}
	return t.mod.GoFunc + uint64(off), true
}

// File returns the name of file number fileno of f's compilation unit.
func (t *Table) File(f *Func, fileno int32) string {
	if fileno < 0 {
		return "?"
	}
	at := 4 * (uint64(f.CUOffset) + uint64(fileno))
	if at+4 > uint64(len(t.t.cutab)) {
		return "?"
	}
	off := binary.LittleEndian.Uint32(t.t.cutab[at:])
	if off == ^uint32(0) {
		return "?"
	}
	return cString(t.t.filetab, int64(off))
}
