package stack

import (
	"debug/dwarf"
	"fmt"

	"github.com/heapsift/heapsift/dump"
)

// UContextLayout gives the byte offsets, within the kernel's ucontext
// (runtime.ucontext), of the interrupted PC, SP and link register.
type UContextLayout struct {
	PC, SP, LR uint64
}

// defaultUContext is the Linux layout: on amd64 uc_mcontext is at 40 and
// holds rsp and rip as words 15 and 16; on arm64 it is at 176 and holds
// fault_address, regs[31], sp, pc.
func defaultUContext(a dump.Arch) UContextLayout {
	if a == dump.ArchARM64 {
		return UContextLayout{PC: 176 + 8 + 32*8, SP: 176 + 8 + 31*8, LR: 176 + 8 + 30*8}
	}
	return UContextLayout{PC: 40 + 16*8, SP: 40 + 15*8}
}

// UContextOf returns the ucontext layout of mod's signal frames, as its
// DWARF describes runtime.ucontext, or else Linux's for arch; mod may be
// nil.
func UContextOf(mod *Module, arch dump.Arch) UContextLayout {
	if mod != nil && mod.UContext != (UContextLayout{}) {
		return mod.UContext
	}
	return defaultUContext(arch)
}

// UCStack is the offset of uc_stack (ss_sp, ss_flags, ss_size: the signal
// stack the frame is on) in the ucontext, after uc_flags and uc_link.
const UCStack = 16

// ucontextOffset is where the kernel's rt_sigframe puts the ucontext
// relative to the signal handler's CFA: amd64 pushes only the restorer
// address, which the CFA is already past; arm64 puts a 128-byte siginfo
// first.
func ucontextOffset(a dump.Arch) uint64 {
	if a == dump.ArchARM64 {
		return 128
	}
	return 0
}

// SignalContext returns where a thread was interrupted by a signal when
// its stack, as unwound from its registers, ends in the Go signal handler
// runtime.sigtramp (a top frame): the registers the kernel saved in the
// signal frame. That is how a thread that died in a signal handler (as
// every GOTRACEBACK=crash core's crashing thread does) leads back to the
// goroutine or system stack it was running on; unwind that stack from the
// returned Start, with the bounds of whichever stack its SP is in. ok is
// false if the frames do not end in sigtramp.
func SignalContext(mem Memory, mod *Module, frames []Frame, arch dump.Arch) (start Start, ok bool, err error) {
	if len(frames) == 0 || frames[len(frames)-1].Func != "runtime.sigtramp" {
		return Start{}, false, nil
	}
	lay := UContextOf(mod, arch)
	uc := frames[len(frames)-1].FP + ucontextOffset(arch)
	read := func(off uint64) uint64 {
		v, e := mem.Uint64(dump.Address(uc + off))
		if e != nil && err == nil {
			err = fmt.Errorf("reading the signal context at %#x: %w", uc+off, e)
		}
		return v
	}
	start = Start{PC: read(lay.PC), SP: read(lay.SP), Async: true}
	if arch == dump.ArchARM64 {
		start.LR = read(lay.LR)
	}
	if err != nil {
		return Start{}, false, err
	}
	return start, true, nil
}

// uContextFromDWARF reads the layout from runtime.ucontext's uc_mcontext
// and runtime.sigcontext's rip/rsp (amd64) or pc/sp/regs (arm64).
func uContextFromDWARF(d *dwarf.Data, ents map[string]*dwarf.Entry) (UContextLayout, bool) {
	uc, err1 := structFields(d, ents, "runtime.ucontext")
	sc, err2 := structFields(d, ents, "runtime.sigcontext")
	if err1 != nil || err2 != nil {
		return UContextLayout{}, false
	}
	mc, ok := uc["uc_mcontext"]
	if !ok {
		return UContextLayout{}, false
	}
	if rip, ok := sc["rip"]; ok {
		if rsp, ok := sc["rsp"]; ok {
			return UContextLayout{PC: mc + rip, SP: mc + rsp}, true
		}
	}
	pc, ok1 := sc["pc"]
	sp, ok2 := sc["sp"]
	regs, ok3 := sc["regs"]
	if ok1 && ok2 && ok3 {
		return UContextLayout{PC: mc + pc, SP: mc + sp, LR: mc + regs + 30*8}, true
	}
	return UContextLayout{}, false
}
