package gocore

// GC roots, as mgcmark.go markroot finds them: the pointer words of each
// module's data and bss (gcdatamask, gcbssmask), finalizer blocks (allfin),
// cleanup blocks (gcCleanups.all, Go 1.25+), span specials (finalizers,
// weak handles, cleanups) and goroutine stacks (goroutines.go).

import (
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/gocore/rtread"
	model "github.com/heapsift/heapsift/heap"
)

// RootKind says what kind of GC root holds a pointer.
type RootKind uint8

// Kinds of roots.
const (
	RootGlobal    RootKind = iota // a package-level variable (data or bss)
	RootStack                     // a goroutine's stack
	RootFinalizer                 // a finalizer or cleanup record
	RootRuntime                   // other runtime bookkeeping (weak handles)
)

func (k RootKind) String() string {
	switch k {
	case RootGlobal:
		return "global"
	case RootStack:
		return "stack"
	case RootFinalizer:
		return "finalizer"
	case RootRuntime:
		return "runtime"
	}
	return fmt.Sprintf("RootKind(%d)", uint8(k))
}

// Root is one pointer from outside the heap to a heap object.
type Root struct {
	Kind      RootKind
	Name      string       // global: variable and field path ("main.cache.items"); others: a description
	Func      string       // stack: the function of the frame
	Var       string       // global: the variable ("main.cache"); stack: the variable, if DWARF names it
	Path      model.Path   // global: the field path from Var to the pointer word (.items)
	Goroutine int64        // stack: goroutine ID
	Addr      dump.Address // where the pointer is stored
	Object    int          // the object pointed to
	Offset    uint64       // offset of the pointer within the object
}

// rootSet collects roots.
type rootSet struct {
	h     *heap
	roots []Root
}

// add records a root if val points into a heap object.
func (rs *rootSet) add(r Root, val uint64) bool {
	obj, off, ok := rs.h.findObject(dump.Address(val))
	if !ok {
		return false
	}
	r.Object, r.Offset = int(obj), off-min(off, rs.h.dataStart(obj))
	rs.roots = append(rs.roots, r)
	return true
}

// collectRoots adds to rs all roots but stacks (readStacks adds those),
// and returns the objects with finalizers.
func (p *Program) collectRoots(rs *rootSet) []finalized {
	for _, m := range p.modules {
		p.scanGlobals(rs, m.data, m.edata, m.dataMask)
		p.scanGlobals(rs, m.bss, m.ebss, m.bssMask)
	}
	p.finalizerBlocks(rs)
	p.cleanupBlocks(rs)
	fin := p.spanSpecials(rs)
	p.finalizedReferents(rs, fin)
	p.nameStaticRoots(rs.roots)
	return fin
}

// finalizedReferents adds, as finalizer roots, what each object with a
// finalizer points to: the GC keeps those alive for the finalizer (but not
// the object itself).
func (p *Program) finalizedReferents(rs *rootSet, fin []finalized) {
	for _, f := range fin {
		base := p.heap.addrOf(f.obj)
		name := fmt.Sprintf("finalizer of %#x", uint64(base))
		p.forEachPointerWord(f.obj, func(off, val uint64) bool {
			rs.add(Root{Kind: RootFinalizer, Name: name, Addr: base + dump.Address(off)}, val)
			return true
		})
	}
}

// scanGlobals adds the pointer words of [lo, hi) set in mask as roots.
func (p *Program) scanGlobals(rs *rootSet, lo, hi dump.Address, mask []byte) {
	if hi <= lo || mask == nil {
		return
	}
	mem, err := p.proc.Slice(lo, uint64(hi-lo))
	if err != nil {
		p.warnf("reading globals at %#x: %v", uint64(lo), err)
		return
	}
	names := p.globalNamer()
	for w := uint64(0); w < uint64(len(mask))*8 && (w+1)*8 <= uint64(len(mem)); w++ {
		if mask[w/8]&(1<<(w%8)) == 0 {
			continue
		}
		val := binary.LittleEndian.Uint64(mem[w*8:])
		if val < uint64(p.heap.lo) || val >= uint64(p.heap.hi) {
			continue
		}
		a := lo + dump.Address(w*8)
		v, path := names.parts(a)
		rs.add(Root{Kind: RootGlobal, Name: v + path.String(), Var: v, Path: path, Addr: a}, val)
	}
}

// globalNamer names addresses in data and bss after DWARF globals.
type globalNamer struct {
	p    *Program
	vars []rtread.Global // sorted by address
	syms []elf.Symbol    // data symbols, sorted by address
}

func (p *Program) globalNamer() *globalNamer {
	if p.names != nil {
		return p.names
	}
	g := &globalNamer{p: p}
	p.names = g
	for _, v := range p.dw.Globals() {
		v.Addr += p.bias
		g.vars = append(g.vars, v)
	}
	sort.Slice(g.vars, func(i, j int) bool { return g.vars[i].Addr < g.vars[j].Addr })
	g.loadSymbols()
	return g
}

// find returns the global holding address a and a's offset in it.
func (g *globalNamer) find(a dump.Address) (rtread.Global, dwarf.Type, uint64, bool) {
	i := sort.Search(len(g.vars), func(i int) bool { return g.vars[i].Addr > uint64(a) }) - 1
	if i < 0 {
		return rtread.Global{}, nil, 0, false
	}
	v := g.vars[i]
	t, err := g.p.dw.TypeAt(v.Type)
	if err != nil || uint64(a) >= v.Addr+uint64(max(t.Size(), 8)) {
		return rtread.Global{}, nil, 0, false
	}
	return v, t, uint64(a) - v.Addr, true
}

// parts names a as a variable and the field path within it; an address
// DWARF does not describe is named by its symbol, with no path.
func (g *globalNamer) parts(a dump.Address) (variable string, path model.Path) {
	v, t, off, ok := g.find(a)
	if !ok {
		return g.symbolName(a), nil
	}
	return v.Name, fieldSteps(t, off)
}

// loadSymbols collects the executable's data symbols.
func (g *globalNamer) loadSymbols() {
	syms, err := g.p.elf.Symbols()
	if err != nil {
		return
	}
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) == elf.STT_OBJECT && s.Value != 0 {
			s.Value += g.p.bias
			g.syms = append(g.syms, s)
		}
	}
	sort.Slice(g.syms, func(i, j int) bool { return g.syms[i].Value < g.syms[j].Value })
}

// symbolName names a in data or bss from the executable's symbol table,
// for variables DWARF does not describe.
func (g *globalNamer) symbolName(a dump.Address) string {
	i := sort.Search(len(g.syms), func(i int) bool { return g.syms[i].Value > uint64(a) }) - 1
	if i >= 0 {
		s := g.syms[i]
		if off := uint64(a) - s.Value; off < max(s.Size, 8) {
			if off == 0 {
				return s.Name
			}
			return fmt.Sprintf("%s+%d", s.Name, off)
		}
	}
	return fmt.Sprintf("global %#x", uint64(a))
}

// pointerWords returns the offsets of the pointer-holding words of DWARF
// type t (pointers, func values, maps, channels, string and slice data,
// interface words).
func pointerWords(t dwarf.Type, base int64, out []int64, depth int) []int64 {
	if depth > 32 {
		return out
	}
	switch u := rtread.StripTypedefs(t).(type) {
	case *dwarf.PtrType, *dwarf.FuncType:
		return append(out, base)
	case *dwarf.StructType:
		for _, f := range u.Field {
			out = pointerWords(f.Type, base+f.ByteOffset, out, depth+1)
		}
	case *dwarf.ArrayType:
		es := u.Type.Size()
		for i := int64(0); i < u.Count && es > 0; i++ {
			out = pointerWords(u.Type, base+i*es, out, depth+1)
		}
	}
	return out
}

// scanRecord adds a root for each pointer word of the record of DWARF type
// typ at addr (restricted to the named fields, if any).
func (p *Program) scanRecord(rs *rootSet, kind RootKind, name string, addr dump.Address, typ dwarf.Type, fields ...string) {
	var offs []int64
	if len(fields) == 0 {
		offs = pointerWords(typ, 0, nil, 0)
	}
	for _, fname := range fields {
		f, err := rtread.Field(typ, fname)
		if err != nil {
			continue
		}
		offs = pointerWords(f.Type, f.ByteOffset, offs, 0)
	}
	for _, off := range offs {
		a := addr + dump.Address(off)
		if val, err := p.proc.Uint64(a); err == nil {
			rs.add(Root{Kind: kind, Name: name, Addr: a}, val)
		}
	}
}

// finalizerBlocks scans runtime.allfin: every finblock's fin[0:cnt].
func (p *Program) finalizerBlocks(rs *rootSet) {
	fb := p.rd.Global("runtime.allfin")
	if fb.Err() != nil {
		p.warnf("finalizer roots: %v", fb.Err())
		return
	}
	p.scanBlockChain(rs, fb, "cnt", "fin", "finalizer queue")
}

// cleanupBlocks scans runtime.gcCleanups.all (Go 1.25+).
func (p *Program) cleanupBlocks(rs *rootSet) {
	gc := p.rd.Global("runtime.gcCleanups")
	if gc.Err() != nil {
		return // before Go 1.25
	}
	p.scanBlockChain(rs, gc.Field("all"), "n", "cleanups", "cleanup queue")
}

// scanBlockChain follows a chain of runtime blocks linked by alllink,
// scanning the first count entries of each block's array field.
func (p *Program) scanBlockChain(rs *rootSet, head rtread.Value, count, array, name string) {
	blk := head.Scalar() // atomic.UnsafePointer wrappers hold the pointer
	for i := 0; i < 1<<20; i++ {
		a, err := blk.Ptr()
		if err != nil || a == 0 {
			return
		}
		typ := blk.Type
		if pt, ok := rtread.StripTypedefs(typ).(*dwarf.PtrType); ok {
			typ = pt.Type
		} else if t, err := p.blockType(array); err == nil {
			typ = t
		}
		b := p.rd.ValueAt(a, typ, name)
		n, err := b.Field(count).Uint()
		if err != nil {
			p.warnf("%s: %v", name, err)
			return
		}
		arr := b.Field(array)
		at, ok := rtread.StripTypedefs(arr.Type).(*dwarf.ArrayType)
		if arr.Err() != nil || !ok {
			p.warnf("%s: block has no array %s", name, array)
			return
		}
		n = min(n, uint64(max(at.Count, 0)))
		es := at.Type.Size()
		for j := uint64(0); j < n; j++ {
			p.scanRecord(rs, RootFinalizer, name, arr.Addr+dump.Address(j*uint64(es)), at.Type)
		}
		blk = b.Field("alllink")
	}
}

// blockType finds the DWARF type of a finalizer or cleanup block when the
// chain head is an untyped pointer.
func (p *Program) blockType(array string) (dwarf.Type, error) {
	if array == "cleanups" {
		return p.dw.TypeNamed("runtime.cleanupBlock")
	}
	if t, err := p.dw.TypeNamed("runtime.finBlock"); err == nil {
		return t, nil
	}
	return p.dw.TypeNamed("runtime.finblock")
}
