package gocore

// Goroutines: runtime.allgs lists every g. For each one that is not dead
// we read its status, wait reason and stack bounds, unwind its stack with
// package gocore/stack from its saved context (g.syscallpc/sp in a system
// call, else g.sched), or from its thread's registers when it was running,
// and turn the live pointer slots of each frame into stack roots.

import (
	"fmt"
	"strings"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/gocore/stack"
)

// Goroutine is one goroutine of the program.
type Goroutine struct {
	ID         int64
	Status     string // "running", "runnable", "waiting", "syscall", ...
	WaitReason string // for waiting goroutines, e.g. "chan receive"
	StackLo    dump.Address
	StackHi    dump.Address
	Frames     []Frame
	// Error says why the stack could not be unwound completely, or is "".
	Error string
}

// Frame is one frame of a goroutine's stack, innermost first.
type Frame struct {
	Func string
	File string
	Line int
	PC   uint64
	SP   uint64
}

// Goroutines returns the program's goroutines (dead ones excluded).
func (p *Program) Goroutines() []Goroutine { return p.goroutines }

// gLayout holds the g fields goroutine enumeration needs.
type gLayout struct {
	status, goid, waitreason                fieldLoc
	stackLo, stackHi                        fieldLoc
	schedSP, schedPC, schedLR, schedCtxt    fieldLoc
	syscallSP, syscallPC, m, deferp, panicp fieldLoc
	size                                    int64
}

func (p *Program) gLayout() (gLayout, error) {
	var l gLayout
	var firstErr error
	get := func(optional bool, path ...string) fieldLoc {
		f, err := p.locate("runtime.g", optional, path...)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return f
	}
	l.status = get(false, "atomicstatus")
	l.goid = get(false, "goid")
	l.waitreason = get(false, "waitreason")
	l.stackLo = get(false, "stack", "lo")
	l.stackHi = get(false, "stack", "hi")
	l.schedSP = get(false, "sched", "sp")
	l.schedPC = get(false, "sched", "pc")
	l.schedLR = get(false, "sched", "lr")
	l.schedCtxt = get(false, "sched", "ctxt")
	l.syscallSP = get(false, "syscallsp")
	l.syscallPC = get(false, "syscallpc")
	l.m = get(false, "m")
	l.deferp = get(false, "_defer")
	l.panicp = get(false, "_panic")
	if t, err := p.dw.typeNamed("runtime.g"); err == nil {
		l.size = t.Size()
	}
	return l, firstErr
}

// statusNames maps g status values to names, from the runtime's _G
// constants.
func (p *Program) statusNames() map[uint64]string {
	names := make(map[uint64]string)
	for name, v := range p.dw.consts {
		s, ok := strings.CutPrefix(name, "runtime._G")
		if !ok || s == "" || s[0] < 'a' || s[0] > 'z' || strings.HasPrefix(s, "scan") || v < 0 || v >= 0x1000 {
			continue
		}
		names[uint64(v)] = s
	}
	return names
}

// waitReasons returns runtime.waitReasonStrings.
func (p *Program) waitReasons() []string {
	v := p.Global("runtime.waitReasonStrings")
	var out []string
	for i := int64(0); i < 256; i++ {
		e := v.Index(i)
		if e.err != nil {
			break
		}
		s, _ := e.ReadString(128)
		out = append(out, s)
	}
	return out
}

// readGoroutines enumerates goroutines, unwinds their stacks and records
// stack roots.
func (p *Program) readGoroutines() {
	l, err := p.gLayout()
	if err != nil {
		p.warnf("goroutines: %v", err)
		return
	}
	allgs := p.Global("runtime.allgs")
	n, err := allgs.SliceLen()
	if err != nil {
		p.warnf("goroutines: %v", err)
		return
	}
	dead, _ := p.dw.constant("runtime._Gdead")
	deadExtra, hasDeadExtra := p.dw.constant("runtime._Gdeadextra")
	waiting, _ := p.dw.constant("runtime._Gwaiting")
	names := p.statusNames()
	reasons := p.waitReasons()
	sc := p.newStackScanner()
	for i := int64(0); i < n; i++ {
		ga, err := allgs.SliceIndex(i).Ptr()
		if err != nil || ga == 0 {
			continue
		}
		b, err := p.proc.Slice(ga, uint64(l.size))
		if err != nil {
			p.warnf("reading g at %#x: %v", uint64(ga), err)
			continue
		}
		status := l.status.read(b) &^ 0x1000
		if int64(status) == dead || hasDeadExtra && int64(status) == deadExtra {
			continue
		}
		g := Goroutine{
			ID:      int64(l.goid.read(b)),
			Status:  names[status],
			StackLo: dump.Address(l.stackLo.read(b)),
			StackHi: dump.Address(l.stackHi.read(b)),
		}
		if g.Status == "" {
			g.Status = fmt.Sprintf("status %d", status)
		}
		if int64(status) == waiting {
			if wr := l.waitreason.read(b); wr < uint64(len(reasons)) {
				g.WaitReason = reasons[wr]
			}
		}
		p.stackBytes += uint64(g.StackHi - g.StackLo)
		sc.scan(&g, ga, b, &l)
		p.goroutines = append(p.goroutines, g)
	}
}

// threadOfM returns the thread of the runtime.m at address m.
func (p *Program) threadOfM(m uint64) *dump.Thread {
	if m == 0 {
		return nil
	}
	procid, err := Value{r: &p.reader, Addr: dump.Address(m), path: "m"}.Cast("runtime.m").Field("procid").Uint()
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
func (p *Program) startOf(g *Goroutine, b []byte, l *gLayout) (stack.Start, bool) {
	if g.Status == "running" {
		m := l.m.read(b)
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
		return p.signalContext(t, m, lo, hi)
	}
	if sp := l.syscallSP.read(b); sp != 0 {
		return stack.Start{PC: l.syscallPC.read(b), SP: sp, Syscall: true}, true
	}
	return stack.Start{PC: l.schedPC.read(b), SP: l.schedSP.read(b), LR: l.schedLR.read(b)}, true
}

// signalContext finds the registers a signal interrupted on thread t (of m)
// while it ran a goroutine with stack [lo, hi). The kernel pushes the signal
// frame on the alternate signal stack, which the runtime sets to
// m.gsignal's stack; the frame's ucontext holds uc_stack (ss_sp, ss_flags,
// ss_size describing that stack), followed by the saved registers.
func (p *Program) signalContext(t *dump.Thread, m, lo, hi uint64) (stack.Start, bool) {
	gs, err := Value{r: &p.reader, Addr: dump.Address(m)}.Cast("runtime.m").Field("gsignal").Deref().Field("stack").Field("lo").Uint()
	if err != nil {
		return stack.Start{}, false
	}
	gsHi, err := Value{r: &p.reader, Addr: dump.Address(m)}.Cast("runtime.m").Field("gsignal").Deref().Field("stack").Field("hi").Uint()
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
	// Offsets from uc_stack of the saved SP and PC (and LR): the amd64
	// sigcontext follows uc_stack directly (rsp is its 16th word); on
	// arm64 uc_sigmask and padding come first.
	spOff, pcOff, lrOff := uint64(24+15*8), uint64(24+16*8), uint64(0)
	if p.arch == dump.ArchARM64 {
		const mc = 176 - 16 // mcontext from uc_stack
		spOff, pcOff, lrOff = mc+256, mc+264, mc+8+30*8
	}
	size := gsHi - gs
	for off := uint64(0); off+pcOff+8 <= uint64(len(mem)); off += 8 {
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
	for _, r := range t.Regs {
		for _, n := range names {
			if r.Name == n {
				return r.Value
			}
		}
	}
	return 0
}
