package gocore

// Goroutines: runtime.allgs lists every g. For each one that is not dead
// we read its status, wait reason and stack bounds, unwind its stack with
// package gocore/stack from its saved context (g.syscallpc/sp in a system
// call, else g.sched), or from its thread's registers when it was running,
// and turn the live pointer slots of each frame into stack roots.

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/gocore/rtread"
	"github.com/heapsift/heapsift/gocore/stack"
)

// Goroutine is one goroutine of the program.
type Goroutine struct {
	ID         int64
	Status     string // "running", "runnable", "waiting", "syscall", ...
	WaitReason string // for waiting goroutines, e.g. "chan receive"
	StackLo    dump.Address
	StackHi    dump.Address
	// Frames are the logical frames, as a traceback prints them: the
	// calls inlined into a physical frame come before it, marked Inlined.
	Frames []Frame
	// CreatedBy is the go statement that started the goroutine (Func is
	// the function that ran it), or nil for goroutine 1 and when unknown;
	// ParentID is the goroutine that ran it, 0 when unknown.
	CreatedBy *Frame
	ParentID  int64
	// StartFunc is the function the goroutine started in (g.startpc).
	StartFunc string
	// System says the runtime counts it as its own (runtime
	// isSystemGoroutine): its traceback hides it unless GOTRACEBACK is
	// system or crash, and pprof does not count it.
	System bool
	// WaitSince is the runtime nanotime at which a waiting goroutine
	// started blocking (0: not recorded; the runtime records it only for
	// waits that reached a garbage collection), and Waited how long it had
	// been blocked by the latest nanotime the core records (a lower bound).
	WaitSince int64
	Waited    time.Duration
	// Error says why the stack could not be unwound completely, or is "".
	Error string
}

// Frame is one logical frame of a goroutine's stack, innermost first.
type Frame struct {
	Func string
	File string
	Line int
	// PC and SP are those of the physical frame; Entry is the entry PC of
	// its function (PC-Entry is the offset a traceback prints).
	PC, SP, Entry uint64
	// Inlined says the call was inlined into the physical frame's function.
	Inlined bool
}

// Goroutines returns the program's goroutines (dead ones excluded).
func (p *Program) Goroutines() []Goroutine { return p.goroutines }

// stackRoots is what readStacks finds: the goroutines, and what their
// stacks say about the heap besides the roots themselves.
type stackRoots struct {
	goroutines []Goroutine
	stackBytes uint64      // bytes of goroutine stacks in use
	typed      []typedRoot // stack variables with DWARF types
	liveSlots  []uint64    // stack words holding live pointers, sorted
}

// readStacks enumerates goroutines, unwinds their stacks and adds their
// roots to rs.
func (p *Program) readStacks(rs *rootSet) stackRoots {
	var st stackRoots
	gs, warns, err := p.rd.ReadGoroutines()
	p.warns.Add(warns...)
	if err != nil {
		p.warnf("goroutines: %v", err)
		p.damage = append(p.damage, fmt.Sprintf("the goroutines cannot be read (%v), so their stacks are not roots and live totals are too low", err))
		return st
	}
	sc := p.newStackScanner(rs)
	now, finRunning := p.rd.LatestNanotime(), p.rd.FinalizerRunning()
	for i := range gs {
		rg := &gs[i]
		g := Goroutine{ID: rg.ID, Status: rg.Status, WaitReason: rg.WaitReason, StackLo: rg.StackLo, StackHi: rg.StackHi}
		st.stackBytes += uint64(g.StackHi - g.StackLo)
		sc.scan(&g, rg)
		sc.describe(&g, rg, finRunning)
		if rg.WaitSince > 0 && g.Status == "waiting" {
			g.WaitSince = rg.WaitSince
			if now > rg.WaitSince {
				g.Waited = time.Duration(now - rg.WaitSince)
			}
		}
		st.goroutines = append(st.goroutines, g)
	}
	st.typed, st.liveSlots = sc.typed, sc.liveSlots
	slices.Sort(st.liveSlots)
	return st
}

// describe fills in where goroutine g came from: the go statement that
// created it and whether the runtime counts it as its own.
func (sc *stackScanner) describe(g *Goroutine, rg *rtread.G, finRunning bool) {
	if sc.tab == nil {
		return
	}
	if f, ok := sc.tab.FuncForPC(rg.StartPC); ok {
		g.StartFunc = f.Name
		g.System = isSystemFunc(f.Name, finRunning)
	}
	g.ParentID = rg.ParentID
	if rg.GoPC == 0 || g.ID == 1 {
		return
	}
	f, ok := sc.tab.FuncForPC(rg.GoPC)
	if !ok {
		return
	}
	pc := rg.GoPC
	if pc > f.Entry {
		pc-- // back up to the call, as the runtime's printcreatedby does
	}
	file, line := sc.tab.FileLine(&f, pc)
	g.CreatedBy = &Frame{Func: f.Name, File: file, Line: line, PC: rg.GoPC, Entry: f.Entry}
}

// isSystemFunc reports whether a goroutine that started in function name
// is one of the runtime's own (runtime isSystemGoroutine): runtime.main
// and the goroutines that run user code (the finalizer goroutine while it
// runs a finalizer) are not.
func isSystemFunc(name string, finRunning bool) bool {
	switch name {
	case "runtime.main", "runtime.corostart", "runtime.handleAsyncEvent":
		return false
	case "runtime.runfinq":
		return !finRunning
	}
	return strings.HasPrefix(name, "runtime.")
}

// TracebackName returns a function name as the runtime's traceback prints
// it: a generic function's type arguments as [...], runtime.gopanic as
// panic.
func TracebackName(name string) string {
	if name == "runtime.gopanic" {
		return "panic"
	}
	i := strings.IndexByte(name, '[')
	j := strings.LastIndexByte(name, ']')
	if i < 0 || j <= i {
		return name
	}
	return name[:i] + "[...]" + name[j+1:]
}

// threadOfM returns the thread of the runtime.m at address m.
func (p *Program) threadOfM(m uint64) *dump.Thread {
	if m == 0 {
		return nil
	}
	procid, err := p.rd.MProcID(m)
	if err != nil {
		return nil
	}
	for _, t := range p.proc.Threads {
		if uint64(t.TID) == procid {
			return t
		}
	}
	return nil
}

// startOf returns where to start unwinding goroutine g.
func (sc *stackScanner) startOf(g *Goroutine, rg *rtread.G) (stack.Start, bool) {
	p := sc.p
	if g.Status == "running" {
		m := rg.M
		t := p.threadOfM(m)
		if t == nil {
			return stack.Start{}, false
		}
		lo, hi := uint64(g.StackLo), uint64(g.StackHi)
		if sp := uint64(t.SP); sp >= lo && sp < hi {
			st := stack.Start{PC: uint64(t.PC), SP: sp, Async: true}
			if p.arch == dump.ArchARM64 {
				st.LR = regValue(t, "x30", "lr")
			}
			return st, true
		}
		// The thread is running a signal handler on the signal stack:
		// the goroutine's registers are in the signal frame.
		return sc.signalContext(t, m, lo, hi)
	}
	if sp := rg.SyscallSP; sp != 0 {
		return stack.Start{PC: rg.SyscallPC, SP: sp, Syscall: true}, true
	}
	return stack.Start{PC: rg.SchedPC, SP: rg.SchedSP, LR: rg.SchedLR}, true
}

// signalContext finds the registers a signal interrupted on thread t (of m)
// while it ran a goroutine with stack [lo, hi). The kernel pushes the signal
// frame on the alternate signal stack, which the runtime sets to
// m.gsignal's stack; the frame's ucontext holds uc_stack (ss_sp, ss_flags,
// ss_size describing that stack), followed by the saved registers.
func (sc *stackScanner) signalContext(t *dump.Thread, m, lo, hi uint64) (stack.Start, bool) {
	p := sc.p
	gs, gsHi, err := p.rd.SignalStack(m)
	if err != nil || gsHi <= gs || gsHi-gs > 1<<24 {
		return stack.Start{}, false
	}
	from := max(uint64(t.SP), gs) &^ 7
	if from >= gsHi {
		return stack.Start{}, false
	}
	mem, err := p.proc.Slice(dump.Address(from), gsHi-from)
	if err != nil {
		return stack.Start{}, false
	}
	// Offsets from uc_stack of the saved SP and PC (and LR on arm64).
	uc := stack.UContextOf(sc.mod, p.arch)
	spOff, pcOff, lrOff := uc.SP-stack.UCStack, uc.PC-stack.UCStack, uint64(0)
	if uc.LR != 0 {
		lrOff = uc.LR - stack.UCStack
	}
	end := max(spOff, pcOff, lrOff) + 8
	size := gsHi - gs
	for off := uint64(0); off+end <= uint64(len(mem)); off += 8 {
		if leUint64(mem[off:]) != gs || leUint64(mem[off+16:]) != size {
			continue
		}
		sp, pc := leUint64(mem[off+spOff:]), leUint64(mem[off+pcOff:])
		if sp < lo || sp >= hi {
			continue // a signal that interrupted the signal handler itself
		}
		st := stack.Start{PC: pc, SP: sp, Async: true}
		if lrOff != 0 {
			st.LR = leUint64(mem[off+lrOff:])
		}
		return st, true
	}
	return stack.Start{}, false
}

func regValue(t *dump.Thread, names ...string) uint64 {
	for _, r := range t.Regs() {
		for _, n := range names {
			if r.Name == n {
				return r.Value
			}
		}
	}
	return 0
}
