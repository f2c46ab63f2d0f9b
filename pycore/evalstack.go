package pycore

// Values on a frame's evaluation stack: the temporaries of an expression
// being evaluated, such as a call's function and the arguments evaluated
// so far, or a for loop's iterator. They hold references as locals do.
// The stack's depth is recorded only while the frame is not running:
// 3.11+ saves stacktop (in localsplus slots) when the frame calls a
// Python function or yields, and sets it to -1 when it resumes; 3.6-3.9
// keep f_stacktop, NULL while the frame runs, and 3.10 f_stackdepth. A
// depth outside 1..co_stacksize is not trusted, so a running frame, or a
// damaged one, shows no stack values.

// evalStackName names a root on a thread frame's evaluation stack.
const evalStackName = "eval stack"

// stackValues reads the depth values of code's frame whose stack starts
// at base.
func (h *Heap) stackValues(code, base uint64, depth int64) []uint64 {
	if depth <= 0 || h.l.Code.Stacksize == absent {
		return nil
	}
	size, err := h.mem.u32(code + uint64(h.l.Code.Stacksize))
	if err != nil || depth > int64(int32(size)) {
		return nil
	}
	vals, err := h.mem.words(base, depth)
	if err != nil {
		return nil
	}
	return vals
}

// interpStack returns where a 3.11+ interpreter frame's evaluation stack
// starts and its values, given the frame's localsplus and code.
func (h *Heap) interpStack(f, code, localsplus uint64) (uint64, []uint64) {
	if h.l.Frame.IStacktop == absent {
		return 0, nil
	}
	top, err := h.mem.u32(f + uint64(h.l.Frame.IStacktop))
	if err != nil {
		return 0, nil
	}
	// The stack starts after co_nlocalsplus slots; without that count
	// (or with one the names do not match) no value is trusted.
	if h.l.Code.Nlocalsplus == absent {
		return 0, nil
	}
	n, err := h.mem.u32(code + uint64(h.l.Code.Nlocalsplus))
	nlocals := int64(int32(n))
	if err != nil || nlocals < 0 || nlocals != int64(len(h.localNames(code))) {
		return 0, nil
	}
	base := localsplus + uint64(8*nlocals)
	return base, h.stackValues(code, base, int64(int32(top))-nlocals)
}

// frameObjectStack returns a 3.6-3.10 frame object's stack values.
func (h *Heap) frameObjectStack(f, code uint64) []uint64 {
	fl := &h.l.Frame
	if fl.ValueStack == absent {
		return nil
	}
	base, err := h.mem.u64(f + uint64(fl.ValueStack))
	if err != nil || base == 0 {
		return nil
	}
	var depth int64
	switch {
	case fl.Stacktop != absent:
		top, err := h.mem.u64(f + uint64(fl.Stacktop))
		if err != nil || top < base || (top-base)%8 != 0 {
			return nil
		}
		depth = int64((top - base) / 8)
	case fl.StackDepth != absent:
		d, err := h.mem.u32(f + uint64(fl.StackDepth))
		if err != nil {
			return nil
		}
		depth = int64(int32(d))
	}
	return h.stackValues(code, base, depth)
}
