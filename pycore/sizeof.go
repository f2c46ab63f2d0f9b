package pycore

// The __sizeof__ methods of the built-in types whose size is not their
// type's basic size plus ob_size items: bytearray's buffer, OrderedDict's
// nodes, a code object's extras, and the frames of 3.11+ frame objects and
// generators, whose size comes from their code object.

// sizeLayout is what those __sizeof__ methods read. Members the build
// lacks are absent, and the size falls back to the generic one.
type sizeLayout struct {
	// ByteArrayAlloc is PyByteArrayObject.ob_alloc, the buffer's size.
	ByteArrayAlloc int64
	// PyODictObject's od_fast_nodes_size and od_first, and
	// sizeof(_ODictNode): an OrderedDict adds a fast-nodes array of
	// pointers and, when not empty, one node per item.
	ODictFastNodes, ODictFirst, ODictNodeSize int64
	// CodeExtra is PyCodeObject.co_extra, a _PyCodeObjectExtra of
	// CodeExtraSize bytes holding CodeExtraCount (ce_size) more words
	// than one.
	CodeExtra, CodeExtraSize, CodeExtraCount int64
	// CodeCell2arg is 3.6-3.10's co_cell2arg, one Py_ssize_t per cell
	// variable when any cell is an argument.
	CodeCell2arg int64
	// 3.8-3.10's opcache: co_opcache, co_opcache_size and
	// sizeof(_PyOpcache); its map has a byte per code unit of co_code.
	CodeOpcache, CodeOpcacheSize, OpcacheEntrySize int64
	// FrameData is where a 3.11+ PyFrameObject's own
	// _PyInterpreterFrame begins (_f_frame_data).
	FrameData int64
}

func (f *filler) fillSizes(l *Layout) {
	s := &l.Sizes
	s.ByteArrayAlloc = f.req("PyByteArrayObject", "ob_alloc")
	s.ODictFastNodes = f.opt("PyODictObject", "od_fast_nodes_size")
	s.ODictFirst = f.opt("PyODictObject", "od_first")
	s.ODictNodeSize = f.optSize("_ODictNode")
	s.CodeExtra = f.opt("PyCodeObject", "co_extra")
	s.CodeExtraSize = f.optSize("_PyCodeObjectExtra")
	s.CodeExtraCount = f.opt("_PyCodeObjectExtra", "ce_size")
	s.CodeCell2arg = f.opt("PyCodeObject", "co_cell2arg")
	s.CodeOpcache = f.opt("PyCodeObject", "co_opcache")
	s.CodeOpcacheSize = f.opt("PyCodeObject", "co_opcache_size")
	s.OpcacheEntrySize = f.optSize("_PyOpcache")
	s.FrameData = f.opt("PyFrameObject", "_f_frame_data")
}

// byteArraySize is bytearray.__sizeof__: the basic size and the buffer.
func (h *Heap) byteArraySize(a uint64, basicsize int64) int64 {
	alloc, err := h.mem.i64(a + uint64(h.l.Sizes.ByteArrayAlloc))
	if err != nil || alloc < 0 || alloc > 1<<40 {
		return basicsize
	}
	return basicsize + alloc
}

// odictSize is OrderedDict.__sizeof__: the dict's size, the fast-nodes
// array and a node per item.
func (h *Heap) odictSize(a uint64, basicsize int64) int64 {
	s := &h.l.Sizes
	size := h.dictSize(a, basicsize)
	if s.ODictFastNodes == absent || s.ODictFirst == absent || s.ODictNodeSize == absent {
		return size
	}
	fast, err1 := h.mem.i64(a + uint64(s.ODictFastNodes))
	first, err2 := h.mem.u64(a + uint64(s.ODictFirst))
	used, err3 := h.mem.i64(a + uint64(h.l.Dict.Used))
	if err1 != nil || err2 != nil || err3 != nil || fast < 0 || fast > 1<<40 || used < 0 || used > 1<<40 {
		return size
	}
	size += 8 * fast
	if first != 0 {
		size += s.ODictNodeSize * used
	}
	return size
}

// codeSize is code.__sizeof__: from 3.11 the object rounded up to a word
// (_PyObject_VAR_SIZE), before that its basic size, plus the extras.
func (h *Heap) codeSize(a uint64, ti *typeInfo) int64 {
	s := &h.l.Sizes
	size := ti.basicsize
	if h.l.Minor >= 11 {
		n, err := h.mem.i64(a + uint64(h.l.ObSize))
		if err == nil && n > 0 && n < 1<<32 {
			size = (size + n*ti.itemsize + 7) &^ 7
		}
	}
	if s.CodeExtra != absent && s.CodeExtraSize != absent && s.CodeExtraCount != absent {
		if x, err := h.mem.u64(a + uint64(s.CodeExtra)); err == nil && x != 0 {
			if n, err := h.mem.i64(x + uint64(s.CodeExtraCount)); err == nil && n >= 0 && n < 1<<20 {
				size += s.CodeExtraSize + (n-1)*8
			}
		}
	}
	if s.CodeCell2arg != absent && h.l.Code.Cellvars != absent {
		if c2a, err := h.mem.u64(a + uint64(s.CodeCell2arg)); err == nil && c2a != 0 {
			size += 8 * h.tupleLen(a+uint64(h.l.Code.Cellvars))
		}
	}
	if s.CodeOpcache != absent && s.CodeOpcacheSize != absent && s.OpcacheEntrySize != absent && h.l.Code.Code != absent {
		if oc, err := h.mem.u64(a + uint64(s.CodeOpcache)); err == nil && oc != 0 {
			n, err := h.mem.u8(a + uint64(s.CodeOpcacheSize))
			// The map has a byte per 2-byte code unit of co_code.
			code := h.byteLen(a + uint64(h.l.Code.Code))
			if err == nil {
				size += code/2 + int64(n)*s.OpcacheEntrySize
			}
		}
	}
	return size
}

// tupleLen returns the length of the tuple the word at p points to, or 0.
func (h *Heap) tupleLen(p uint64) int64 {
	t, err := h.mem.u64(p)
	if err != nil || t == 0 {
		return 0
	}
	n, err := h.mem.i64(t + uint64(h.l.ObSize))
	if err != nil || n < 0 || n > 1<<20 {
		return 0
	}
	return n
}

// byteLen returns the length of the bytes object the word at p points
// to, or 0.
func (h *Heap) byteLen(p uint64) int64 {
	b, err := h.mem.u64(p)
	if err != nil || b == 0 {
		return 0
	}
	n, err := h.mem.i64(b + uint64(h.l.ObSize))
	if err != nil || n < 0 || n > 1<<40 {
		return 0
	}
	return n
}

// frameSlots returns the local and stack slots of a frame of code
// (co_nlocalsplus + co_stacksize, 3.11+; co_nlocals + cells + free
// variables + co_stacksize before).
func (h *Heap) frameSlots(code uint64) (int64, bool) {
	c := &h.l.Code
	stack, err := h.mem.u32(code + uint64(c.Stacksize))
	if err != nil || int32(stack) < 0 {
		return 0, false
	}
	n := int64(int32(stack))
	if c.Nlocalsplus != absent {
		locals, err := h.mem.u32(code + uint64(c.Nlocalsplus))
		if err != nil || int32(locals) < 0 {
			return 0, false
		}
		return n + int64(int32(locals)), true
	}
	locals, err := h.mem.u32(code + uint64(c.Nlocals))
	if err != nil || int32(locals) < 0 || c.Cellvars == absent || c.Freevars == absent {
		return 0, false
	}
	return n + int64(int32(locals)) + h.tupleLen(code+uint64(c.Cellvars)) + h.tupleLen(code+uint64(c.Freevars)), true
}

// frameSize is frame.__sizeof__. A 3.6-3.10 frame object holds its slots,
// one of them already in the struct; a 3.11+ one its _PyInterpreterFrame
// up to the slots, and the slots.
func (h *Heap) frameSize(a uint64, ti *typeInfo) (int64, bool) {
	fl := &h.l.Frame
	if fl.Code != absent && fl.LocalsPlus != absent {
		code, err := h.mem.u64(a + uint64(fl.Code))
		if err != nil || !h.knownCode(code) {
			return 0, false
		}
		n, ok := h.frameSlots(code)
		return ti.basicsize + 8*(n-1), ok
	}
	if fl.FFrame == absent || h.l.Sizes.FrameData == absent || fl.IExec == absent {
		return 0, false
	}
	f, err := h.mem.u64(a + uint64(fl.FFrame))
	if err != nil {
		return 0, false
	}
	code, err := h.mem.u64(f + uint64(fl.IExec))
	if err != nil || !h.knownCode(code) {
		return 0, false
	}
	n, ok := h.frameSlots(code)
	return h.l.Sizes.FrameData + fl.ILocalsPlus + 8*n, ok
}

// genSize is the __sizeof__ of a 3.11+ generator, coroutine or async
// generator: the struct up to its frame's slots, and the slots its code
// needs, whatever the frame's state.
func (h *Heap) genSize(a uint64, gl genLayout) (int64, bool) {
	fl := &h.l.Frame
	code, err := h.mem.u64(a + uint64(gl.Frame) + uint64(fl.IExec))
	if err != nil || !h.knownCode(code) {
		return 0, false
	}
	n, ok := h.frameSlots(code)
	return gl.Frame + fl.ILocalsPlus + 8*n, ok
}

// knownCode reports whether a is a code object, reading no type it has not
// read before: sizes are computed in a goroutine of their own while
// another reads the types table (see sizer.start).
func (h *Heap) knownCode(a uint64) bool {
	t, err := h.mem.u64(a + uint64(h.l.ObType))
	if err != nil {
		return false
	}
	ti := h.types.find(t)
	return ti != nil && ti.name == "code"
}
