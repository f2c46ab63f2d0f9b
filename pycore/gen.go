package pycore

// Generators, coroutines and async generators of 3.11+ embed their
// _PyInterpreterFrame (gi_iframe) instead of pointing to a frame object:
// while the frame is not completed, it holds the code, the function, the
// locals dict, the frame object and the local variables. Once completed,
// the frame's pointers are stale and are not followed.

// genLayout is where a generator struct keeps its frame and its state.
type genLayout struct {
	Frame, State int64
}

// genStructs names the generator structs and their members' prefix.
var genStructs = []struct{ cstruct, prefix string }{
	{"PyGenObject", "gi"}, {"PyCoroObject", "cr"}, {"PyAsyncGenObject", "ag"},
}

// fillGens finds the embedded frames of the generator structs (3.11+).
func (f *filler) fillGens(l *Layout) {
	l.gens = map[string]genLayout{}
	if l.Frame.ILocalsPlus == absent {
		return
	}
	for _, g := range genStructs {
		fr := f.opt(g.cstruct, g.prefix+"_iframe")
		st, ok := f.ix.field(g.cstruct, g.prefix+"_frame_state")
		if fr == absent || !ok || st.Size != 1 {
			continue
		}
		l.gens[g.cstruct] = genLayout{Frame: fr, State: st.Offset}
	}
}

// frameExecuting is the frame state of a running generator (FRAME_EXECUTING
// in Include/internal/pycore_frame.h, 3.11-3.13): suspended and created
// ones are below it, completed and cleared ones above.
const frameExecuting = 0

// genFrameRefs emits what a 3.11+ generator's unfinished frame holds.
func (h *Heap) genFrameRefs(a uint64, gl genLayout, emit emitFunc) {
	state, err := h.mem.u8(a + uint64(gl.State))
	if err != nil || int8(state) > 0 { // FRAME_COMPLETED or FRAME_CLEARED
		return
	}
	fr := a + uint64(gl.Frame)
	fl := &h.l.Frame
	code, err := h.mem.u64(fr + uint64(fl.IExec))
	if err != nil || !h.isCode(code) {
		return
	}
	emit(code, mkLabel(labelField, int64(h.intern("gi_code"))))
	for _, m := range []struct {
		off  int64
		name string
	}{{fl.IFuncobj, "gi_frame.f_func"}, {fl.ILocals, "gi_frame.f_locals"}, {fl.IFrameObj, "gi_frame"}} {
		if m.off == absent {
			continue
		}
		if v, err := h.mem.u64(fr + uint64(m.off)); err == nil && v != 0 {
			emit(v, mkLabel(labelField, int64(h.intern(m.name))))
		}
	}
	if state == frameExecuting {
		// On a thread's frame chain: its locals and stack are that
		// thread's stack roots, not to be counted twice.
		return
	}
	names := h.localNames(code)
	words, err := h.mem.words(fr+uint64(fl.ILocalsPlus), int64(len(names)))
	if err != nil {
		return
	}
	for i, w := range words {
		if w != 0 {
			emit(w, mkLabel(labelLocal, int64(h.intern(names[i]))))
		}
	}
	_, stack := h.interpStack(fr, code, fr+uint64(fl.ILocalsPlus))
	for _, w := range stack {
		if w != 0 {
			emit(w, mkLabel(labelField, int64(h.intern("gi_frame.stack"))))
		}
	}
}
