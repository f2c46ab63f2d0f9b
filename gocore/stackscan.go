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
	"github.com/heapsift/heapsift/gocore/rtread"
	"github.com/heapsift/heapsift/gocore/stack"
	"github.com/heapsift/heapsift/warn"
)

// stackScanner unwinds goroutine stacks.
type stackScanner struct {
	p      *Program
	rs     *rootSet
	mod    *stack.Module
	tab    *stack.Table // mod's function table, nil if it cannot be read
	vars   *stack.Vars
	defers rtread.DeferLayout
	// What the stacks say besides their roots.
	typed     []typedRoot
	liveSlots []uint64
}

// typedRoot is a variable whose type seeds type propagation: the slots of
// [addr+lo, addr+hi) hold values of the parts of typ at those offsets.
type typedRoot struct {
	addr   dump.Address
	typ    dwarf.Type
	lo, hi uint64
	stack  bool // only slots that are live stack roots count
}

func (p *Program) newStackScanner(rs *rootSet) *stackScanner {
	sc := &stackScanner{p: p, rs: rs}
	mod, err := stack.ModuleFromDWARF(p.dw.Data(), p.proc, p.bias)
	if err != nil {
		p.warnf("cannot unwind goroutine stacks (scanning them conservatively): %v", err)
	} else {
		sc.mod = mod
		if tab, err := mod.Table(p.proc); err == nil {
			sc.tab = tab
		}
	}
	if data := p.proc.Executable().FileData(); data != nil {
		if ef, err := elf.NewFile(bytes.NewReader(data)); err == nil {
			if v, err := stack.NewVars(ef, p.bias); err == nil {
				sc.vars = v
			}
		}
	}
	var warns []warn.Warning
	sc.defers, warns = p.rd.ReadDeferLayout()
	p.warns.Add(warns...)
	return sc
}

// scan unwinds goroutine g (read from the runtime as rg) and records its
// roots.
func (sc *stackScanner) scan(g *Goroutine, rg *rtread.G) {
	p := sc.p
	lo, hi := uint64(g.StackLo), uint64(g.StackHi)
	if hi <= lo || hi-lo > 1<<30 {
		g.Error = fmt.Sprintf("bad stack bounds [%#x, %#x)", lo, hi)
		return
	}
	extra, heapRoots := sc.outsideFrames(rg)
	for _, r := range heapRoots {
		sc.rs.add(Root{Kind: RootStack, Name: r.name, Goroutine: g.ID, Addr: r.addr}, r.val)
	}
	start, ok := sc.startOf(g, rg)
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
		for j, lf := range f.Logical {
			g.Frames = append(g.Frames, Frame{Func: lf.Func, File: lf.File, Line: lf.Line, PC: f.PC, SP: f.SP, Entry: f.Entry, Inlined: j < len(f.Logical)-1})
		}
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
		if sc.rs.add(r, val) {
			sc.liveSlots = append(sc.liveSlots, slot)
		}
	}
	for _, s := range f.PtrSlots {
		root(s)
	}
	sc.slotRoots(f, vars)
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
		// Pieces of one variable next to each other in the frame (an
		// interface's two words) are one region, so that a slot that
		// reads both words sees them.
		if n := len(sc.typed); n > 0 {
			last := &sc.typed[n-1]
			if last.addr == dump.Address(start) && last.typ == v.Type && last.hi == v.PieceOffset {
				last.hi += v.Size
				continue
			}
		}
		sc.typed = append(sc.typed, typedRoot{
			addr: dump.Address(start), typ: v.Type,
			lo: v.PieceOffset, hi: v.PieceOffset + v.Size, stack: true,
		})
	}
}

// slotRoots types the live pointer words of frame f that no variable
// occupies at its PC by the variables that occupy their slots at other
// PCs (stack.SlotVars), if a variable's pointer words are exactly the live
// pointer words of its slot: what the GC's stack map says agrees with what
// DWARF says the slot holds.
func (sc *stackScanner) slotRoots(f *stack.Frame, vars []stack.Var) {
	if sc.vars == nil {
		return
	}
	live := make(map[uint64]bool, len(f.PtrSlots))
	var orphans []uint64
	for _, s := range f.PtrSlots {
		live[s] = true
		if _, _, ok := stack.VarAt(vars, f.FP, s); !ok {
			orphans = append(orphans, s)
		}
	}
	if len(orphans) == 0 {
		return
	}
	slotVars, err := sc.vars.SlotVars(f.CallPC)
	if err != nil {
		return
	}
	done := make(map[int64]bool)
	for _, s := range orphans {
		v, _, ok := stack.VarAt(slotVars, f.FP, s)
		if !ok || done[v.Offset] || v.Offset < 0 && uint64(-v.Offset) > f.FP {
			continue
		}
		done[v.Offset] = true
		start := f.FP + uint64(v.Offset)
		if !slotAgrees(v, start, live) {
			continue
		}
		sc.typed = append(sc.typed, typedRoot{
			addr: dump.Address(start - v.PieceOffset), typ: v.Type,
			lo: v.PieceOffset, hi: v.PieceOffset + v.Size, stack: true,
		})
	}
}

// slotAgrees reports whether the pointer words of piece v, at start, are
// exactly the live pointer words in its bytes.
func slotAgrees(v stack.Var, start uint64, live map[uint64]bool) bool {
	n := 0
	for _, off := range pointerWords(v.Type, 0, nil, 0) {
		if off < int64(v.PieceOffset) || off+8 > int64(v.PieceOffset+v.Size) {
			continue
		}
		if !live[start+uint64(off)-v.PieceOffset] {
			return false
		}
		n++
	}
	for a := start; a < start+v.Size; a += 8 {
		if live[a] {
			n--
		}
	}
	return n == 0
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
		sc.rs.add(Root{Kind: RootStack, Name: "conservative", Goroutine: g.ID, Addr: dump.Address(from + off)}, val)
	}
}

type heapRoot struct {
	name string
	addr dump.Address
	val  uint64
}

// outsideFrames returns the stack words scanstack treats as roots besides
// the frames (for ReachableStackObjects), and the heap pointers among them.
func (sc *stackScanner) outsideFrames(rg *rtread.G) ([]uint64, []heapRoot) {
	var slots []uint64
	var roots []heapRoot
	word := func(name string, a dump.Address) {
		slots = append(slots, uint64(a))
		if v, err := sc.p.proc.Uint64(a); err == nil {
			roots = append(roots, heapRoot{name, a, v})
		}
	}
	if rg.SchedCtxt != 0 {
		word("g.sched.ctxt", rg.SchedCtxt)
	}
	for _, d := range sc.p.rd.Defers(&sc.defers, rg.Defer) {
		if d.Fn != 0 {
			word("defer fn", d.Fn)
		}
		if d.Link != 0 {
			word("defer link", d.Link)
		}
		if d.Heap {
			roots = append(roots, heapRoot{"defer record", 0, uint64(d.Addr)})
		}
	}
	if rg.Panic != 0 {
		slots = append(slots, uint64(rg.Panic))
	}
	return slots, roots
}

func (p *Program) isLiveStackSlot(a uint64) bool {
	s := p.liveStackSlots
	i := sort.Search(len(s), func(i int) bool { return s[i] >= a })
	return i < len(s) && s[i] == a
}
