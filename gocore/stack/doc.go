// Package stack unwinds the goroutine stacks of a dead Go process (Go
// 1.22–1.26, linux/amd64; arm64 by the same rules, untested on a real
// core) and tells which stack words the garbage collector would treat as
// pointers, and which local variables they belong to.
//
// Data flows one way:
//
//	Module ──► Table ──► Unwind ──► []Frame ──► ReachableStackObjects
//	  ▲          (pclntab: funcs,     (PC, SP, FP, VarP, ArgP,
//	  │           pcsp, pcfile,        Func, File, Line,
//	  │           pcln, pcdata,        PtrSlots, StackObjects,
//	  │           funcdata)            Conservative)
//	  │                                    │
//	ModuleFromDWARF                 Vars.ForPC(Frame.CallPC) ──► VarAt(vars, Frame.FP, slot)
//	(runtime.firstmoduledata         (DWARF locals and parameters,
//	 read by field name)              offsets from the CFA)
//
// A Module mirrors the runtime's moduledata: where the pclntab is, the
// text range, gofunc (the base of funcdata offsets) and rodata (the base
// of stack object pointer masks). The heap model (package gocore) fills it
// from the DWARF fields of runtime.firstmoduledata, or calls
// ModuleFromDWARF, which does that by field name. The module's Table
// parses the pclntab (magic 0xfffffff1, Go 1.20–1.26): a binary search of
// the function table finds the function holding a PC; pc-value tables give
// the SP delta, file, line and stack map index at any PC.
//
// Unwind starts from a goroutine's saved context (g.sched, or
// g.syscallpc/sp) or a thread's registers and follows the runtime's own
// unwinder (traceback.go): each frame's size comes from the pcsp table, not
// from frame pointers; the caller's PC is the word below the frame top on
// amd64 or the saved LR on arm64. Each frame also lists the calls inlined
// at its PC (Frame.Logical, from FUNCDATA_InlTree), as a traceback prints
// them. It stops at functions marked TOPFRAME (goexit, mstart, rt0_go,
// sigtramp), and returns the frames so far with an error wrapping
// ErrStackEnd when the stack stops making sense, or ErrSPWrite at a
// function that switches stacks (the normal end of a g0 stack). A thread
// that died in a signal handler unwinds to runtime.sigtramp; SignalContext
// then gives the interrupted registers, to unwind the goroutine or system
// stack the signal arrived on. For each frame Unwind applies the stack
// maps as scanframeworker does: the locals bitmap at PCDATA_StackMapIndex
// (taken at ContinPC−1), the arguments bitmap, the stack objects with
// their pointer masks, and conservative ranges for asyncPreempt and
// debugCallV2 frames and the frame each interrupted. Stack objects are
// scanned by the GC only if a pointer reaches them; ReachableStackObjects
// works that out for one goroutine given the extra roots the heap model
// knows (defer and panic records, g.sched.ctxt).
//
// Vars maps a frame's stack slots to named variables using the DWARF
// location of each DW_TAG_variable and DW_TAG_formal_parameter: the Go
// compiler uses the CFA as frame base, so a variable's address is
// Frame.FP plus an offset, often given by a location list that depends on
// the PC.
//
// Package stack does not know about goroutines (g structs), threads or the
// heap; the caller finds stacks and their bounds and decides what the
// pointers point at.
package stack
