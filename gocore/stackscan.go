package gocore

// Stack roots: the live pointer slots of each goroutine's frames, as
// package gocore/stack computes them from the stack maps (PtrSlots, the
// stack objects a pointer reaches, conservative ranges), plus the words
// scanstack treats as roots outside the frames (g.sched.ctxt, the fn and
// link of each defer record, heap-allocated defer records). Local
// variables named by DWARF give the roots names and, through their types,
// seed type propagation.

import (
	"bytes"
	"debug/dwarf"
	"debug/elf"
	"fmt"
	"sort"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/gocore/stack"
)

// stackScanner unwinds goroutine stacks.
type stackScanner struct {
	p      *Program
	mod    *stack.Module
	vars   *stack.Vars
	defers struct {
		fn, link, heap fieldLoc
		size           int64
	}
}

// typedRoot is a variable whose type seeds type propagation: the slots of
// [addr+lo, addr+hi) hold values of the parts of typ at those offsets.
type typedRoot struct {
	addr   dump.Address
	typ    dwarf.Type
	lo, hi uint64
	stack  bool // only slots that are live stack roots count
}

func (p *Program) newStackScanner() *stackScanner {
	sc := &stackScanner{p: p}
	mod, err := stack.ModuleFromDWARF(p.dw.data, p.proc, p.bias)
	if err != nil {
		p.warnf("cannot unwind goroutine stacks (scanning them conservatively): %v", err)
	} else {
		sc.mod = mod
	}
	if data := p.proc.Executable().FileData(); data != nil {
		if ef, err := elf.NewFile(bytes.NewReader(data)); err == nil {
			if v, err := stack.NewVars(ef, p.bias); err == nil {
				sc.vars = v
			}
		}
	}
	sc.defers.fn, _ = p.locate("runtime._defer", true, "fn")
	sc.defers.link, _ = p.locate("runtime._defer", true, "link")
	sc.defers.heap, _ = p.locate("runtime._defer", true, "heap")
	if t, err := p.dw.typeNamed("runtime._defer"); err == nil {
		sc.defers.size = t.Size()
	}
	return sc
}

// scan unwinds goroutine g (whose g struct at ga has bytes b) and records
// its roots.
func (sc *stackScanner) scan(g *Goroutine, ga dump.Address, b []byte, l *gLayout) {
	p := sc.p
	lo, hi := uint64(g.StackLo), uint64(g.StackHi)
	if hi <= lo || hi-lo > 1<<30 {
		g.Error = fmt.Sprintf("bad stack bounds [%#x, %#x)", lo, hi)
		return
	}
	extra, heapRoots := sc.outsideFrames(ga, b, l)
	for _, r := range heapRoots {
		p.addRoot(Root{Kind: RootStack, Name: r.name, Goroutine: g.ID, Addr: r.addr}, r.val)
	}
	start, ok := p.startOf(g, b, l)
	if !ok || sc.mod == nil {
		if !ok {
			g.Error = "running on a thread whose registers are not in the core; stack scanned conservatively"
		}
		sc.conservative(g, lo, lo, hi)
		return
	}
	frames, err := stack.Unwind(p.proc, sc.mod, start, lo, hi, p.arch)
	if err != nil {
		g.Error = err.Error()
	}
	reach := stack.ReachableStackObjects(p.proc, frames, lo, hi, extra)
	for i := range frames {
		f := &frames[i]
		g.Frames = append(g.Frames, Frame{Func: f.Func, File: f.File, Line: f.Line, PC: f.PC, SP: f.SP})
		sc.frameRoots(g, f, reach[i])
	}
	if err != nil && len(frames) > 0 {
		// Unwinding stopped early: the rest of the stack is scanned
		// conservatively rather than ignored.
		last := frames[len(frames)-1]
		sc.conservative(g, max(last.FP, lo), lo, hi)
	} else if err != nil {
		sc.conservative(g, start.SP, lo, hi)
	}
}

// frameRoots records the roots of one frame.
func (sc *stackScanner) frameRoots(g *Goroutine, f *stack.Frame, reached []bool) {
	p := sc.p
	var vars []stack.Var
	if sc.vars != nil {
		vars, _ = sc.vars.ForPC(f.CallPC)
	}
	root := func(slot uint64) {
		val, err := p.proc.Uint64(dump.Address(slot))
		if err != nil || val < uint64(p.heap.lo) || val >= uint64(p.heap.hi) {
			return
		}
		r := Root{Kind: RootStack, Func: f.Func, Goroutine: g.ID, Addr: dump.Address(slot)}
		if v, _, ok := stack.VarAt(vars, f.FP, slot); ok {
			r.Var = v.Name
		}
		r.Name = f.Func
		if p.addRoot(r, val) {
			p.liveStackSlots = append(p.liveStackSlots, slot)
		}
	}
	for _, s := range f.PtrSlots {
		root(s)
	}
	for _, c := range f.Conservative {
		for a := (c[0] + 7) &^ 7; a+8 <= c[1]; a += 8 {
			root(a)
		}
	}
	for j, so := range f.StackObjects {
		if j >= len(reached) || !reached[j] {
			continue
		}
		for w := uint64(0); w < so.PtrBytes/8; w++ {
			if w/8 < uint64(len(so.PtrMask)) && so.PtrMask[w/8]&(1<<(w%8)) != 0 {
				root(so.Addr + w*8)
			}
		}
	}
	for _, v := range vars {
		if v.Type == nil || v.Offset < 0 && uint64(-v.Offset) > f.FP {
			continue
		}
		start := f.FP + uint64(v.Offset) - v.PieceOffset
		p.typedRoots = append(p.typedRoots, typedRoot{
			addr: dump.Address(start), typ: v.Type,
			lo: v.PieceOffset, hi: v.PieceOffset + v.Size, stack: true,
		})
	}
}

// conservative scans [from, hi) of a stack word by word.
func (sc *stackScanner) conservative(g *Goroutine, from, lo, hi uint64) {
	from = max(from, lo) &^ 7
	if from >= hi {
		return
	}
	mem, err := sc.p.proc.Slice(dump.Address(from), hi-from)
	if err != nil {
		return
	}
	for off := uint64(0); off+8 <= uint64(len(mem)); off += 8 {
		val := leUint64(mem[off:])
		if val < uint64(sc.p.heap.lo) || val >= uint64(sc.p.heap.hi) {
			continue
		}
		sc.p.addRoot(Root{Kind: RootStack, Name: "conservative", Goroutine: g.ID, Addr: dump.Address(from + off)}, val)
	}
}

type heapRoot struct {
	name string
	addr dump.Address
	val  uint64
}

// outsideFrames returns the stack words scanstack treats as roots besides
// the frames (for ReachableStackObjects), and the heap pointers among them.
func (sc *stackScanner) outsideFrames(ga dump.Address, b []byte, l *gLayout) ([]uint64, []heapRoot) {
	var slots []uint64
	var roots []heapRoot
	word := func(name string, a dump.Address) uint64 {
		slots = append(slots, uint64(a))
		v, err := sc.p.proc.Uint64(a)
		if err != nil {
			return 0
		}
		roots = append(roots, heapRoot{name, a, v})
		return v
	}
	if l.schedCtxt.off >= 0 && l.schedCtxt.read(b) != 0 {
		word("g.sched.ctxt", ga+dump.Address(l.schedCtxt.off))
	}
	d := dump.Address(l.deferp.read(b))
	for n := 0; d != 0 && n < 1<<16 && sc.defers.size > 0; n++ {
		db, err := sc.p.proc.Slice(d, uint64(sc.defers.size))
		if err != nil {
			break
		}
		if sc.defers.fn.off >= 0 {
			word("defer fn", d+dump.Address(sc.defers.fn.off))
		}
		if sc.defers.link.off >= 0 {
			word("defer link", d+dump.Address(sc.defers.link.off))
		}
		if sc.defers.heap.off >= 0 && sc.defers.heap.read(db) != 0 {
			roots = append(roots, heapRoot{"defer record", 0, uint64(d)})
		}
		d = dump.Address(sc.defers.link.read(db))
	}
	if l.panicp.off >= 0 && l.panicp.read(b) != 0 {
		slots = append(slots, uint64(ga)+uint64(l.panicp.off))
	}
	return slots, roots
}

// sortLiveStackSlots prepares liveStackSlots for isLiveStackSlot.
func (p *Program) sortLiveStackSlots() {
	sort.Slice(p.liveStackSlots, func(i, j int) bool { return p.liveStackSlots[i] < p.liveStackSlots[j] })
}

func (p *Program) isLiveStackSlot(a uint64) bool {
	s := p.liveStackSlots
	i := sort.Search(len(s), func(i int) bool { return s[i] >= a })
	return i < len(s) && s[i] == a
}
