package stack

import (
	"errors"
	"fmt"

	"github.com/heapsift/heapsift/dump"
)

// Start is where an unwind begins: a goroutine's saved context
// (g.syscallpc/syscallsp when syscallsp ≠ 0, else g.sched.pc/sp/lr) or a
// thread's registers.
type Start struct {
	PC, SP uint64
	// LR is the link register (arm64): g.sched.lr or the thread's x30.
	// Ignored on amd64.
	LR uint64
	// Syscall says PC and SP are g.syscallpc and g.syscallsp. The
	// innermost frame may then be a function that writes SP after saving
	// them (runtime unwinder.initAt), which is allowed.
	Syscall bool
	// Async says execution stopped at an arbitrary instruction (a running
	// thread's registers) rather than at a call or safe point, so the
	// innermost frame's stack maps need not be valid there: that frame is
	// reported as conservative. Pointers held only in registers are the
	// caller's business.
	Async bool
}

// Frame is one physical stack frame, innermost first. Addresses follow the
// runtime's stkframe: SP ≤ VarP < FP, with the locals just below VarP and
// the incoming arguments from ArgP up.
type Frame struct {
	Func  string // the function running in this frame (the outermost one if calls were inlined)
	Entry uint64 // its entry PC
	File  string // source position of CallPC, which may be in an inlined function
	Line  int
	// Logical lists the calls inlined at CallPC, innermost first, then
	// Func itself: what a traceback prints for this frame.
	Logical []LogicalFrame

	PC       uint64 // where execution continues: the return address, except in the innermost frame
	CallPC   uint64 // the PC to symbolize: PC-1 after a call, else PC (runtime unwinder.symPC)
	ContinPC uint64 // the PC whose liveness applies; 0 if the frame will never run again
	LR       uint64 // the caller's PC (the next frame's PC); 0 in the outermost frame

	SP   uint64 // stack pointer in this frame
	FP   uint64 // the caller's SP: the canonical frame address (DWARF CFA)
	VarP uint64 // top of the locals
	ArgP uint64 // start of the incoming arguments

	Kind FrameKind

	// PtrSlots are the addresses of the stack words the runtime's stack
	// maps say hold live pointers at ContinPC (locals and arguments).
	PtrSlots []uint64
	// StackObjects are the frame's addressable locals with pointers in
	// them. The GC scans one only if a live pointer points into it (from
	// PtrSlots, a conservative range or another reached stack object of
	// the same goroutine; see ReachableStackObjects).
	StackObjects []StackObject
	// Conservative are [lo, hi) ranges of stack words any of which may be
	// a pointer: frames the runtime scans conservatively (asyncPreempt,
	// debugCallV2 and the frame each interrupted), the innermost frame of
	// an Async start, and frames whose stack maps could not be read.
	Conservative [][2]uint64
	// Warning says why this frame's pointer maps are incomplete or were
	// replaced by a conservative range, or is "".
	Warning string
}

// StackObject is an addressable local variable that holds pointers
// (FUNCDATA_StackObjects). Bit i of PtrMask (byte i/8, bit i%8) is set if
// word i of the object, within its first PtrBytes bytes, is a pointer.
type StackObject struct {
	Addr, Size uint64
	PtrBytes   uint64
	PtrMask    []byte
}

// FrameKind names the frames the runtime treats specially.
type FrameKind uint8

// Frame kinds.
const (
	KindNormal       FrameKind = iota
	KindAsyncPreempt           // runtime.asyncPreempt: injected by a preemption signal
	KindDebugCall              // runtime.debugCallV2: injected by a debugger
	KindSigPanic               // runtime.sigpanic: injected by a fault
	KindTop                    // a function that ends the stack (goexit, mstart, rt0_go)
)

var kindNames = [...]string{"normal", "asyncPreempt", "debugCall", "sigpanic", "top"}

func (k FrameKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("FrameKind(%d)", uint8(k))
}

// injected reports whether frames of this kind were pushed by a signal
// handler, so that the frame below stopped at an arbitrary instruction
// (runtime isInjectedCall).
func (k FrameKind) injected() bool {
	return k == KindAsyncPreempt || k == KindDebugCall || k == KindSigPanic
}

func kindOf(f *Func) FrameKind {
	switch f.Name {
	case "runtime.asyncPreempt":
		return KindAsyncPreempt
	case "runtime.debugCallV2":
		return KindDebugCall
	case "runtime.sigpanic":
		return KindSigPanic
	}
	if f.Flag&FuncFlagTopFrame != 0 {
		return KindTop
	}
	return KindNormal
}

// archInfo holds what unwinding needs to know about an architecture
// (runtime internal/goarch, internal/runtime/sys).
type archInfo struct {
	usesLR       bool   // the return address is in a register, not pushed by CALL
	minFrameSize uint64 // the LR save slot at the bottom of every frame
	stackAlign   uint64
}

func archInfoFor(a dump.Arch) (archInfo, error) {
	switch a {
	case dump.ArchAMD64:
		return archInfo{usesLR: false, minFrameSize: 0, stackAlign: 8}, nil
	case dump.ArchARM64:
		return archInfo{usesLR: true, minFrameSize: 8, stackAlign: 16}, nil
	}
	return archInfo{}, fmt.Errorf("unwinding %q stacks is not supported", a)
}

// ErrStackEnd is wrapped by the error Unwind returns when the stack stops
// making sense before a top frame: a PC outside every function, SP outside
// the stack, an unreadable word, a function that rewrites SP.
var ErrStackEnd = errors.New("stack unwinding stopped early")

// ErrSPWrite is wrapped by the error Unwind returns when a frame other than
// the innermost belongs to a function that rewrites SP (runtime.mcall,
// systemstack, morestack...). On a goroutine stack that means the stack is
// inconsistent; on a g0 stack it is the normal end, where the system stack
// was entered from a goroutine. It also wraps ErrStackEnd.
var ErrSPWrite = fmt.Errorf("%w: a function that rewrites SP ends the walk", ErrStackEnd)

// unwinder carries the state of one Unwind call.
type unwinder struct {
	mem    Memory
	tab    *Table
	mod    *Module
	arch   archInfo
	lo, hi uint64

	// conservative says the next frame outward must be scanned
	// conservatively (runtime stackScanState.conservative).
	conservative bool
}

// Unwind walks the stack [stackLo, stackHi) from start, innermost frame
// first, sizing each frame with the pcsp table as the runtime's unwinder
// does (traceback.go), and computes each frame's live pointer slots, stack
// objects and conservative ranges as the garbage collector would scan them
// (mgcmark.go scanframeworker, stkframe.go getStackMap).
//
// It stops without error at a top frame (goexit, mstart, rt0_go). When the
// stack stops making sense it returns the frames so far with an error
// wrapping ErrStackEnd; a missing stack map only sets that frame's Warning.
func Unwind(mem Memory, mod *Module, start Start, stackLo, stackHi uint64, arch dump.Arch) ([]Frame, error) {
	ai, err := archInfoFor(arch)
	if err != nil {
		return nil, err
	}
	tab, err := mod.Table(mem)
	if err != nil {
		return nil, err
	}
	u := &unwinder{mem: mem, tab: tab, mod: mod, arch: ai, lo: stackLo, hi: stackHi}
	return u.run(start)
}

func (u *unwinder) fail(frames []Frame, format string, args ...any) ([]Frame, error) {
	return frames, fmt.Errorf("%w: %s", ErrStackEnd, fmt.Sprintf(format, args...))
}

// run is the unwinding loop (runtime unwinder initAt, resolveInternal and
// next).
func (u *unwinder) run(start Start) ([]Frame, error) {
	pc, sp, lr := start.PC, start.SP, start.LR
	if !u.arch.usesLR {
		lr = 0
	}
	if pc == 0 { // a call through a nil func value: start in the caller
		w, err := u.word(sp)
		if err != nil {
			return u.fail(nil, "reading the return PC at SP %#x: %v", sp, err)
		}
		pc, lr = w, 0
		if !u.arch.usesLR {
			sp += 8
		}
	}
	var frames []Frame
	callee := KindNormal
	maxFrames := (u.hi-u.lo)/8 + 2
	for innermost := true; ; innermost = false {
		if uint64(len(frames)) >= maxFrames {
			return u.fail(frames, "more frames than the stack has words")
		}
		if sp < u.lo || sp > u.hi {
			return u.fail(frames, "SP %#x outside the stack [%#x,%#x)", sp, u.lo, u.hi)
		}
		f, ok := u.tab.FuncForPC(pc)
		if !ok {
			return u.fail(frames, "PC %#x (SP %#x) is in no Go function", pc, sp)
		}
		fr, spWrite, err := u.frame(&f, pc, sp, lr, innermost, start, callee)
		if err != nil {
			return u.fail(frames, "%s at PC %#x SP %#x: %v", f.Name, pc, sp, err)
		}
		u.pointerMaps(&fr, &f, innermost && start.Async)
		frames = append(frames, fr)
		if spWrite {
			return frames, fmt.Errorf("%w: %s at PC %#x SP %#x", ErrSPWrite, f.Name, pc, sp)
		}
		if fr.LR == 0 {
			if fr.Kind != KindTop {
				return u.fail(frames, "%s at SP %#x returns to PC 0 but does not end a stack", fr.Func, sp)
			}
			return frames, nil
		}
		if fr.LR == pc && fr.FP == sp {
			return u.fail(frames, "stuck at PC %#x SP %#x", pc, sp)
		}
		// Step to the caller.
		callee = fr.Kind
		pc, sp, lr = fr.LR, fr.FP, 0
		if u.arch.usesLR && callee.injected() {
			// The signal handler saved LR on the stack before faking the
			// call, in a frame of its own.
			x, err := u.word(sp)
			if err != nil {
				return u.fail(frames, "reading the saved LR at %#x: %v", sp, err)
			}
			sp += alignUp(u.arch.minFrameSize, u.arch.stackAlign)
			if g, ok := u.tab.FuncForPC(pc); !ok {
				pc = x
			} else if d, ok := u.tab.SPDelta(&g, pc); ok && d == 0 {
				lr = x
			}
		}
	}
}

// frame lays out the frame of f at pc and sp and finds its return address.
// spWrite says f rewrites SP, so the frame has no known caller (LR is 0).
func (u *unwinder) frame(f *Func, pc, sp, lr uint64, innermost bool, start Start, callee FrameKind) (fr Frame, spWrite bool, err error) {
	if f.PCSP == 0 {
		return Frame{}, false, errors.New("the function has no pcsp table")
	}
	delta, ok := u.tab.SPDelta(f, pc)
	if !ok || delta < 0 || delta&7 != 0 {
		return Frame{}, false, fmt.Errorf("no usable SP delta (%d) at this PC", delta)
	}
	fr = Frame{Func: f.Name, Entry: f.Entry, PC: pc, SP: sp, Kind: kindOf(f)}
	fr.FP = sp + uint64(delta)
	if !u.arch.usesLR {
		fr.FP += 8 // the CALL pushed the return address
	}
	if fr.FP > u.hi {
		return Frame{}, false, fmt.Errorf("frame top %#x beyond the stack top %#x", fr.FP, u.hi)
	}

	flag := f.Flag
	if f.Name == "runtime.cgocallback" || innermost && start.Syscall {
		flag &^= FuncFlagSPWrite
	}
	switch {
	case flag&FuncFlagTopFrame != 0:
		lr = 0
	case flag&FuncFlagSPWrite != 0 && !innermost:
		lr, spWrite = 0, true
	case u.arch.usesLR:
		if innermost && sp < fr.FP || lr == 0 {
			w, err := u.word(sp)
			if err != nil {
				return Frame{}, false, fmt.Errorf("reading the saved LR: %w", err)
			}
			lr = w
		}
	default:
		w, err := u.word(fr.FP - 8)
		if err != nil {
			return Frame{}, false, fmt.Errorf("reading the return address: %w", err)
		}
		lr = w
	}
	fr.LR = lr

	fr.VarP = fr.FP
	if !u.arch.usesLR {
		fr.VarP -= 8
	}
	if fr.VarP > sp { // the saved frame pointer
		fr.VarP -= 8
	}
	fr.ArgP = fr.FP + u.arch.minFrameSize

	fr.ContinPC = pc
	if callee == KindSigPanic {
		if f.DeferReturn != 0 {
			fr.ContinPC = f.Entry + uint64(f.DeferReturn) + 1
		} else {
			fr.ContinPC = 0
		}
	}
	fr.CallPC = pc
	if !callee.injected() && pc > f.Entry {
		fr.CallPC = pc - 1
	}
	fr.Logical = u.logicalFrames(&fr, f)
	fr.File, fr.Line = fr.Logical[0].File, fr.Logical[0].Line
	return fr, spWrite, nil
}

// word reads the stack word at a, which must lie inside the stack.
func (u *unwinder) word(a uint64) (uint64, error) {
	if a < u.lo || a+8 > u.hi {
		return 0, fmt.Errorf("address %#x outside the stack [%#x,%#x)", a, u.lo, u.hi)
	}
	return u.mem.Uint64(dump.Address(a))
}

func alignUp(n, a uint64) uint64 { return (n + a - 1) &^ (a - 1) }
