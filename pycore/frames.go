package pycore

import (
	"math"
	"strconv"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/warn"
)

// Threads and their Python stacks. Before 3.11 a thread state points to
// its innermost PyFrameObject and frames link by f_back; from 3.11 it
// points (through its CFrame in 3.11 and 3.12) to a _PyInterpreterFrame
// and frames link by previous, their locals in localsplus.

// Thread is one Python thread of the interpreter.
type Thread struct {
	// ID is threading.get_ident() of the thread; NativeID its kernel
	// thread id (from the thread state from 3.11, else from the core's
	// thread whose thread pointer is ID on amd64; 0 if unknown).
	ID, NativeID uint64
	// Name is the threading.Thread's name, when it is known.
	Name string
	// Frames are its Python frames, innermost first.
	Frames []Frame
	dict   uint64 // the thread state's dict
	state  uint64 // the PyThreadState
}

// Frame is one Python frame.
type Frame struct {
	Func string // the code's qualified name (3.11+) or name
	File string
	Line int // the line executing, or the function's first line
	// Locals are its local variables (cells and free variables too)
	// that have a value.
	Locals []Local
	// Stack are the values on its evaluation stack (Name ""), known
	// for a 3.11+ frame that called a Python function.
	Stack []Local
	addr  uint64 // the frame (PyFrameObject or _PyInterpreterFrame)
}

// Local is a local variable of a frame.
type Local struct {
	Name string
	Addr uint64 // the object it refers to
	Slot uint64 // where the frame keeps it
	// Repr is the value's repr for an int, a float or a short str.
	Repr string
}

// maxFrames bounds the frames of all threads together, whatever the core
// claims: a damaged frame link can lead through thousands of words that
// each look like a frame.
const maxFrames = 20000

// readThreads reads the threads of the main interpreter.
func (h *Heap) readThreads() {
	s := &h.l.State
	seen := map[uint64]bool{} // thread states and frames: a damaged list may loop
	budget := maxFrames
	ts, err := h.mem.u64(h.interps[0] + uint64(s.InterpThreads))
	for n := 0; err == nil && ts != 0 && n < maxThreads && !seen[ts]; n++ {
		seen[ts] = true
		h.threads = append(h.threads, h.readThread(ts, seen, &budget))
		ts, err = h.mem.u64(ts + uint64(s.ThreadNext))
	}
	if err != nil {
		h.warns.Add(warn.At("pycore", ts, "reading the thread list: %v", err))
	}
	if budget <= 0 {
		h.warns.Add(warn.New("pycore", "the threads' stacks hold over %d frames (a deep recursion, or damaged frame links): the stacks are cut there", maxFrames))
	}
}

// maxThreads bounds the thread list, whatever the core claims.
const maxThreads = 4096

// readThread reads one thread state and its frames, innermost first,
// taking each from budget.
func (h *Heap) readThread(ts uint64, seen map[uint64]bool, budget *int) Thread {
	s := &h.l.State
	var t Thread
	t.ID, _ = h.mem.u64(ts + uint64(s.ThreadID))
	if s.ThreadNativeID != absent {
		t.NativeID, _ = h.mem.u64(ts + uint64(s.ThreadNativeID))
	}
	if t.NativeID == 0 {
		t.NativeID = h.nativeID(t.ID)
	}
	t.dict, _ = h.mem.u64(ts + uint64(s.ThreadDict))
	t.state = ts
	var f uint64
	var err error
	next := int64(h.l.Frame.IPrevious)
	if s.ThreadFrame != absent {
		f, err = h.mem.u64(ts + uint64(s.ThreadFrame))
		next = h.l.Frame.Back
	} else {
		f, err = h.currentFrame(ts)
	}
	for ; err == nil && f != 0 && *budget > 0 && !seen[f]; *budget-- {
		seen[f] = true
		if s.ThreadFrame != absent {
			t.Frames = append(t.Frames, h.readFrameObject(f))
		} else if fr, ok := h.readInterpFrame(f); ok {
			t.Frames = append(t.Frames, fr)
		}
		f, err = h.mem.u64(f + uint64(next))
	}
	if err != nil {
		h.warns.Add(warn.At("pycore", f, "thread %d: reading its frames: %v", t.ID, err))
	}
	return t
}

// nativeID finds the kernel thread whose thread pointer is pthread_self()
// of ident, as on amd64 with glibc; 0 if none is.
func (h *Heap) nativeID(ident uint64) uint64 {
	if h.p.Arch != dump.ArchAMD64 {
		return 0
	}
	for _, th := range h.p.Threads {
		if uint64(th.TLS) == ident {
			return uint64(th.TID)
		}
	}
	return 0
}

// currentFrame returns a 3.11+ thread's innermost interpreter frame.
func (h *Heap) currentFrame(ts uint64) (uint64, error) {
	s := &h.l.State
	if s.ThreadCurrentFrame != absent {
		return h.mem.u64(ts + uint64(s.ThreadCurrentFrame))
	}
	if s.ThreadCFrame == absent || s.CFrameCurrent == absent {
		return 0, nil
	}
	cf, err := h.mem.u64(ts + uint64(s.ThreadCFrame))
	if err != nil || cf == 0 {
		return 0, err
	}
	return h.mem.u64(cf + uint64(s.CFrameCurrent))
}

// readFrameObject reads a 3.6-3.10 frame.
func (h *Heap) readFrameObject(f uint64) Frame {
	fr := Frame{addr: f}
	code, err := h.mem.u64(f + uint64(h.l.Frame.Code))
	if err != nil || !h.isCode(code) {
		return fr
	}
	h.describeCode(code, &fr)
	if h.l.Frame.Lasti != absent {
		if lasti, err := h.mem.u32(f + uint64(h.l.Frame.Lasti)); err == nil {
			off := int64(int32(lasti))
			if h.l.Minor == 10 {
				off *= 2 // 3.10 counts instructions, not bytes
			}
			if line, ok := h.lineOf(code, off); ok {
				fr.Line = line
			}
		}
	}
	h.readLocals(&fr, code, f+uint64(h.l.Frame.LocalsPlus))
	return fr
}

// Frame owners (3.12+, Include/internal/pycore_frame.h): a C stack shim
// frame has no Python code.
const frameOwnedByCStack = 3

// readInterpFrame reads a 3.11+ interpreter frame; false for shim frames
// and frames whose code is not a code object.
func (h *Heap) readInterpFrame(f uint64) (Frame, bool) {
	fl := &h.l.Frame
	fr := Frame{addr: f}
	if fl.IOwner != absent && h.l.Minor >= 12 {
		if owner, err := h.mem.u8(f + uint64(fl.IOwner)); err != nil || owner == frameOwnedByCStack {
			return fr, false
		}
	}
	code, err := h.mem.u64(f + uint64(fl.IExec))
	if err != nil || !h.isCode(code) {
		return fr, false
	}
	h.describeCode(code, &fr)
	if instr, err := h.mem.u64(f + uint64(fl.IInstr)); err == nil && h.l.Code.CodeAdaptive != absent {
		off := int64(instr) - int64(code+uint64(h.l.Code.CodeAdaptive))
		if line, ok := h.lineOf(code, off); ok {
			fr.Line = line
		}
	}
	h.readLocals(&fr, code, f+uint64(fl.ILocalsPlus))
	base, vals := h.interpStack(f, code, f+uint64(fl.ILocalsPlus))
	for i, v := range vals {
		if v != 0 {
			fr.Stack = append(fr.Stack, Local{Addr: v, Slot: base + uint64(8*i)})
		}
	}
	return fr, true
}

// isCode reports whether a is a code object.
func (h *Heap) isCode(a uint64) bool {
	t, err := h.mem.u64(a + uint64(h.l.ObType))
	if err != nil {
		return false
	}
	ti, err := h.typeOf(t)
	return err == nil && ti.name == "code"
}

// describeCode fills a frame's function, file and first line.
func (h *Heap) describeCode(code uint64, fr *Frame) {
	c := &h.l.Code
	nameOff := c.Name
	if c.Qualname != absent {
		nameOff = c.Qualname
	}
	if p, err := h.mem.u64(code + uint64(nameOff)); err == nil {
		fr.Func, _ = h.readStr(p, 256)
	}
	if p, err := h.mem.u64(code + uint64(c.Filename)); err == nil {
		fr.File, _ = h.readStr(p, 1024)
	}
	if first, err := h.mem.u32(code + uint64(c.Firstlineno)); err == nil {
		fr.Line = int(int32(first))
	}
}

// readLocals reads a frame's local variables from its localsplus array.
func (h *Heap) readLocals(fr *Frame, code, localsplus uint64) {
	names := h.localNames(code)
	words, err := h.mem.words(localsplus, int64(len(names)))
	if err != nil {
		return
	}
	for i, w := range words {
		if w == 0 {
			continue
		}
		fr.Locals = append(fr.Locals, Local{Name: names[i], Addr: w, Slot: localsplus + uint64(8*i), Repr: h.simpleRepr(w)})
	}
}

// localNames returns the names of a code object's localsplus slots, read
// once per code object: every frame and generator of a function shares
// them.
func (h *Heap) localNames(code uint64) []string {
	if names, ok := h.codeNames[code]; ok {
		return names
	}
	c := &h.l.Code
	var names []string
	if c.LocalsPlusNames != absent {
		names = h.strTuple(code + uint64(c.LocalsPlusNames))
	} else {
		for _, off := range []int64{c.Varnames, c.Cellvars, c.Freevars} {
			if off != absent {
				names = append(names, h.strTuple(code+uint64(off))...)
			}
		}
	}
	if len(names) > maxLocals {
		names = names[:maxLocals]
	}
	if h.codeNames == nil {
		h.codeNames = map[uint64][]string{}
	}
	h.codeNames[code] = names
	return names
}

// maxLocals bounds a code object's local variables (CPython's compiler
// allows far fewer than this).
const maxLocals = 1 << 16

// strTuple reads the tuple of strs pointed to from at.
func (h *Heap) strTuple(at uint64) []string {
	t, err := h.mem.u64(at)
	if err != nil || t == 0 {
		return nil
	}
	n, err := h.mem.i64(t + uint64(h.l.ObSize))
	if err != nil || n < 0 || n > maxLocals {
		return nil
	}
	items, err := h.mem.words(t+uint64(h.l.Tuple.Item), n)
	if err != nil {
		return nil
	}
	out := make([]string, len(items))
	for i, it := range items {
		out[i], _ = h.readStr(it, 256)
	}
	return out
}

// simpleRepr returns the repr of an int, float or short str at a, or "".
func (h *Heap) simpleRepr(a uint64) string {
	t, err := h.mem.u64(a + uint64(h.l.ObType))
	if err != nil {
		return ""
	}
	ti, err := h.typeOf(t)
	if err != nil || ti.heapType {
		return ""
	}
	switch ti.name {
	case "int":
		if v, ok := h.intValue(a); ok {
			return strconv.FormatInt(v, 10)
		}
	case "float":
		if bits, err := h.mem.u64(a + uint64(h.l.Float.Val)); err == nil {
			return strconv.FormatFloat(math.Float64frombits(bits), 'g', -1, 64)
		}
	case "str":
		if st, ok := h.readStrState(a); ok && st.length <= 80 {
			if s, ok := h.readStr(a, 80); ok {
				return pyRepr(s)
			}
		}
	}
	return ""
}
