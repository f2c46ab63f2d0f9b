package pycore

import (
	"debug/dwarf"
	"fmt"
	"strings"
)

// absent marks a member the interpreter's version does not have.
const absent = -1

// Layout is where CPython keeps what pycore reads: struct sizes and member
// offsets by name, for one interpreter build. It is filled from
// libpython's DWARF, or for a build without, taken from the table
// generated from reference builds' DWARF (layouts_gen.go), completed on
// 3.13+ by the core's _Py_DebugOffsets. Members a version lacks are
// absent (-1).
type Layout struct {
	Minor int // 3.Minor

	// PyObject, PyVarObject, PyGC_Head; ObjectSize is sizeof(PyObject),
	// where an object's own members begin.
	ObRefcnt, ObType, ObSize, ObjectSize int64
	GCHeadSize, GCNext                   int64

	Type   typeLayout
	Member memberLayout
	Tuple  struct{ Item int64 }
	List   struct{ Item, Allocated int64 }
	Dict   dictLayout
	Set    setLayout
	Str    strLayout
	Long   struct{ Digit, Tag int64 }
	Bytes  struct{ Sval int64 }
	Float  struct{ Val int64 }
	// Module is PyModuleObject's dict and definition (md_def), and where
	// a PyModuleDef keeps its copy of a single-phase module's dict
	// (m_base.m_copy).
	Module struct{ Dict, Def, DefCopy int64 }
	Cell   struct{ Ref int64 }
	// Weakref is PyWeakReference's callback, its one strong reference,
	// and its referent.
	Weakref struct{ Callback, Object int64 }
	Deque   dequeLayout
	Code    codeLayout
	Frame   frameLayout
	State   stateLayout
	Sizes   sizeLayout

	// structRefs are the object-pointer members of C structs by struct
	// name, for the objects whose references are their members.
	structRefs map[string][]namedOffset
	// varStructs are the structs of structRefs that start with a
	// PyVarObject, whose ob_size counts their items.
	varStructs map[string]bool
	// gens are the generator structs with an embedded frame (3.11+).
	gens map[string]genLayout
	// debugOffsets are the offsets in _PyRuntime of the members of
	// _Py_DebugOffsets, by path ("thread_state.next"), for 3.13+.
	debugOffsets map[string]int64
}

type typeLayout struct {
	Name, Basicsize, Itemsize, Flags, Dictoffset int64
	Base, Dict, Mro, Bases, Members, Cache       int64
	Subclasses, Dealloc                          int64
	HtName, HtQualname, HtSlots, HtModule        int64
	HtCachedKeys, HeapTypeSize                   int64
}

type memberLayout struct{ Size, Name, Type, Offset int64 }

type dictLayout struct {
	Size, Used, Keys, Values int64
	// Keys objects: 3.6-3.10 have DkSize, 3.11+ DkLog2Size,
	// DkLog2IndexBytes and DkKind.
	KeysSize, DkRefcnt, DkSize, DkLog2Size, DkLog2IndexBytes, DkKind int64
	DkUsable, DkNentries, DkIndices                                  int64
	EntrySize, EntryKey, EntryValue                                  int64
	UEntrySize, UEntryKey, UEntryValue                               int64
	// ValuesArray is the offset of the values array in the split values
	// (0 before 3.13, after the header in 3.13); ValuesValid is the
	// offset of 3.13's valid flag of inline values (absent before).
	ValuesArray, ValuesValid int64
}

type setLayout struct {
	Size, Fill, Used, Mask, Table, SmallTable int64
	EntrySize, EntryKey                       int64
}

type strLayout struct {
	Length, State                  int64
	ASCIISize, CompactSize         int64
	KindBit, CompactBit, ASCIIBit  int64 // bit positions within state
	UTF8Length, UTF8, WStr, WStrLn int64
}

// dequeLayout is collections.deque's: a doubly linked list of blocks of
// BlockLen items; Present is false when libpython lacks it.
type dequeLayout struct {
	Present                                    bool
	LeftBlock, RightBlock, LeftIndex, RightIdx int64
	BlockData, BlockRight, BlockLen, BlockSize int64
}

type codeLayout struct {
	Varnames, Cellvars, Freevars, LocalsPlusNames int64
	Nlocalsplus, Nlocals, Name, Qualname          int64
	Filename, Firstlineno, Lnotab, Linetable      int64
	Code, CodeAdaptive                            int64
	Stacksize                                     int64
}

type frameLayout struct {
	// PyFrameObject.
	Back, Code, Lasti, Lineno, LocalsPlus, FFrame int64
	// Its value stack (3.6-3.10): f_valuestack, and its depth as
	// f_stacktop (3.6-3.9) or f_stackdepth (3.10).
	ValueStack, Stacktop, StackDepth int64
	// _PyInterpreterFrame (3.11+).
	IExec, IPrevious, IInstr, ILocalsPlus, IOwner int64
	IFuncobj, ILocals, IFrameObj                  int64
	// IStacktop is the saved top of the evaluation stack, counted in
	// localsplus slots.
	IStacktop int64
}

type stateLayout struct {
	// _PyRuntime.
	RuntimeInterpHead, RuntimeGC int64
	// PyInterpreterState.
	InterpNext, InterpThreads, InterpModules, InterpSysdict int64
	InterpBuiltins, InterpGC                                int64
	// PyThreadState.
	ThreadNext, ThreadFrame, ThreadCFrame, ThreadCurrentFrame int64
	ThreadID, ThreadNativeID, ThreadDict                      int64
	ThreadInterp                                              int64
	CFrameCurrent                                             int64
	// _gc_runtime_state.
	GCGenerations, GCGenerationSize, GCPermanent int64
	// The interpreter's states of static builtin types (3.12+), which
	// hold their dicts and subclasses: an array of StaticTypes entries of
	// StaticTypeSize bytes, of which the word at StaticTypesCount says
	// how many are in use.
	StaticTypes, StaticTypesCount, StaticTypeSize int64
	StaticTypeMax                                 int64
	StaticTypeDict, StaticTypeSubclasses          int64
}

// filler fills a Layout from the DWARF index, collecting what is missing.
type filler struct {
	ix      *dwarfIndex
	missing []string
}

// req returns a member's offset, noting it missing if the DWARF lacks it.
func (f *filler) req(st, path string) int64 {
	if m, ok := f.ix.field(st, path); ok {
		return m.Offset
	}
	f.missing = append(f.missing, st+"."+path)
	return absent
}

// opt returns the offset of the first of paths the struct has, or absent.
func (f *filler) opt(st string, paths ...string) int64 {
	for _, p := range paths {
		if m, ok := f.ix.field(st, p); ok {
			return m.Offset
		}
	}
	return absent
}

// sizeof returns a type's size, noting it missing if unknown.
func (f *filler) sizeof(name string) int64 {
	if n, ok := f.ix.size(name); ok {
		return n
	}
	f.missing = append(f.missing, "sizeof("+name+")")
	return absent
}

// optSize returns the size of the first of names the DWARF has, or absent.
func (f *filler) optSize(names ...string) int64 {
	for _, n := range names {
		if s, ok := f.ix.size(n); ok {
			return s
		}
	}
	return absent
}

// layoutFromDWARF fills a Layout for CPython 3.minor from libpython's
// DWARF. It fails, naming what is missing, when the DWARF lacks members
// every supported version has.
func layoutFromDWARF(ix *dwarfIndex, minor int) (*Layout, error) {
	f := &filler{ix: ix}
	l := &Layout{Minor: minor}
	l.ObRefcnt = f.req("PyObject", "ob_refcnt")
	l.ObType = f.req("PyObject", "ob_type")
	l.ObSize = f.req("PyVarObject", "ob_size")
	l.ObjectSize = f.sizeof("PyObject")
	l.GCHeadSize = f.sizeof("PyGC_Head")
	l.GCNext = f.opt("PyGC_Head", "_gc_next", "gc.gc_next")
	f.fillType(l)
	f.fillContainers(l)
	f.fillScalars(l)
	f.fillCode(l)
	f.fillDeque(l)
	f.fillGens(l)
	f.fillFrame(l)
	f.fillSizes(l)
	f.fillState(l)
	f.fillDebugOffsets(l)
	if l.GCNext == absent {
		f.missing = append(f.missing, "PyGC_Head.gc_next")
	}
	if len(f.missing) > 0 {
		return nil, fmt.Errorf("libpython's DWARF lacks %s", strings.Join(f.missing, ", "))
	}
	l.structRefs = map[string][]namedOffset{}
	l.varStructs = map[string]bool{}
	for _, k := range genericKinds {
		if refs, ok := ix.objectFields(k.cstruct); ok {
			l.structRefs[k.cstruct] = refs
		}
		if m, ok := ix.field(k.cstruct, "ob_base"); ok && m.Offset == 0 {
			if td, ok := m.Type.(*dwarf.TypedefType); ok && td.Name == "PyVarObject" {
				l.varStructs[k.cstruct] = true
			}
		}
	}
	for _, st := range stateStructs {
		if refs, ok := ix.objectFields(st); ok {
			l.structRefs[st] = ownedStateFields(refs)
		}
	}
	return l, nil
}

func (f *filler) fillType(l *Layout) {
	t := &l.Type
	t.Name = f.req("PyTypeObject", "tp_name")
	t.Basicsize = f.req("PyTypeObject", "tp_basicsize")
	t.Itemsize = f.req("PyTypeObject", "tp_itemsize")
	t.Flags = f.req("PyTypeObject", "tp_flags")
	t.Dictoffset = f.req("PyTypeObject", "tp_dictoffset")
	t.Base = f.req("PyTypeObject", "tp_base")
	t.Dict = f.req("PyTypeObject", "tp_dict")
	t.Mro = f.req("PyTypeObject", "tp_mro")
	t.Bases = f.req("PyTypeObject", "tp_bases")
	t.Members = f.req("PyTypeObject", "tp_members")
	t.Cache = f.opt("PyTypeObject", "tp_cache")
	t.Subclasses = f.opt("PyTypeObject", "tp_subclasses")
	t.Dealloc = f.req("PyTypeObject", "tp_dealloc")
	t.HtName = f.req("PyHeapTypeObject", "ht_name")
	t.HtQualname = f.req("PyHeapTypeObject", "ht_qualname")
	t.HtSlots = f.req("PyHeapTypeObject", "ht_slots")
	t.HtModule = f.opt("PyHeapTypeObject", "ht_module")
	t.HtCachedKeys = f.opt("PyHeapTypeObject", "ht_cached_keys")
	t.HeapTypeSize = f.sizeof("PyHeapTypeObject")
	m := &l.Member
	m.Size = f.sizeof("PyMemberDef")
	m.Name = f.req("PyMemberDef", "name")
	m.Type = f.req("PyMemberDef", "type")
	m.Offset = f.req("PyMemberDef", "offset")
}

func (f *filler) fillContainers(l *Layout) {
	l.Tuple.Item = f.req("PyTupleObject", "ob_item")
	l.List.Item = f.req("PyListObject", "ob_item")
	l.List.Allocated = f.req("PyListObject", "allocated")
	d := &l.Dict
	d.Size = f.sizeof("PyDictObject")
	d.Used = f.req("PyDictObject", "ma_used")
	d.Keys = f.req("PyDictObject", "ma_keys")
	d.Values = f.req("PyDictObject", "ma_values")
	d.KeysSize = f.sizeof("PyDictKeysObject")
	d.DkRefcnt = f.req("PyDictKeysObject", "dk_refcnt")
	d.DkSize = f.opt("PyDictKeysObject", "dk_size")
	d.DkLog2Size = f.opt("PyDictKeysObject", "dk_log2_size")
	d.DkLog2IndexBytes = f.opt("PyDictKeysObject", "dk_log2_index_bytes")
	d.DkKind = f.opt("PyDictKeysObject", "dk_kind")
	d.DkUsable = f.req("PyDictKeysObject", "dk_usable")
	d.DkNentries = f.req("PyDictKeysObject", "dk_nentries")
	d.DkIndices = f.req("PyDictKeysObject", "dk_indices")
	d.EntrySize = f.sizeof("PyDictKeyEntry")
	d.EntryKey = f.req("PyDictKeyEntry", "me_key")
	d.EntryValue = f.req("PyDictKeyEntry", "me_value")
	d.UEntrySize = f.optSize("PyDictUnicodeEntry")
	d.UEntryKey = f.opt("PyDictUnicodeEntry", "me_key")
	d.UEntryValue = f.opt("PyDictUnicodeEntry", "me_value")
	d.ValuesArray = 0
	if off := f.opt("struct _dictvalues", "values"); off != absent {
		d.ValuesArray = off
	}
	d.ValuesValid = f.opt("struct _dictvalues", "valid")
	if d.DkSize == absent && (d.DkLog2Size == absent || d.DkKind == absent || d.UEntrySize == absent) {
		f.missing = append(f.missing, "PyDictKeysObject.dk_size or dk_log2_size")
	}
	s := &l.Set
	s.Size = f.sizeof("PySetObject")
	s.Fill = f.req("PySetObject", "fill")
	s.Used = f.req("PySetObject", "used")
	s.Mask = f.req("PySetObject", "mask")
	s.Table = f.req("PySetObject", "table")
	s.SmallTable = f.req("PySetObject", "smalltable")
	s.EntrySize = f.sizeof("setentry")
	s.EntryKey = f.req("setentry", "key")
}

func (f *filler) fillScalars(l *Layout) {
	s := &l.Str
	s.Length = f.req("PyASCIIObject", "length")
	s.State = f.req("PyASCIIObject", "state")
	s.ASCIISize = f.sizeof("PyASCIIObject")
	s.CompactSize = f.sizeof("PyCompactUnicodeObject")
	s.KindBit, s.CompactBit, s.ASCIIBit = absent, absent, absent
	for _, b := range []struct {
		name string
		dst  *int64
	}{{"kind", &s.KindBit}, {"compact", &s.CompactBit}, {"ascii", &s.ASCIIBit}} {
		if m, ok := f.ix.field("PyASCIIObject", "state."+b.name); ok && m.BitSize > 0 {
			*b.dst = 8*(m.Offset-s.State) + m.BitOffset
		} else {
			f.missing = append(f.missing, "PyASCIIObject.state."+b.name)
		}
	}
	s.UTF8Length = f.req("PyCompactUnicodeObject", "utf8_length")
	s.UTF8 = f.req("PyCompactUnicodeObject", "utf8")
	s.WStr = f.opt("PyASCIIObject", "wstr")
	s.WStrLn = f.opt("PyCompactUnicodeObject", "wstr_length")
	l.Long.Digit = f.opt("PyLongObject", "ob_digit", "long_value.ob_digit")
	l.Long.Tag = f.opt("PyLongObject", "long_value.lv_tag")
	if l.Long.Digit == absent {
		f.missing = append(f.missing, "PyLongObject.ob_digit")
	}
	l.Bytes.Sval = f.req("PyBytesObject", "ob_sval")
	l.Float.Val = f.req("PyFloatObject", "ob_fval")
	l.Module.Dict = f.req("PyModuleObject", "md_dict")
	l.Module.Def = f.opt("PyModuleObject", "md_def")
	l.Module.DefCopy = f.opt("PyModuleDef", "m_base.m_copy")
	l.Cell.Ref = f.req("PyCellObject", "ob_ref")
	l.Weakref.Callback = f.req("PyWeakReference", "wr_callback")
	l.Weakref.Object = f.req("PyWeakReference", "wr_object")
}

func (f *filler) fillCode(l *Layout) {
	c := &l.Code
	c.Varnames = f.opt("PyCodeObject", "co_varnames")
	c.Cellvars = f.opt("PyCodeObject", "co_cellvars")
	c.Freevars = f.opt("PyCodeObject", "co_freevars")
	c.LocalsPlusNames = f.opt("PyCodeObject", "co_localsplusnames")
	c.Nlocalsplus = f.opt("PyCodeObject", "co_nlocalsplus")
	c.Nlocals = f.req("PyCodeObject", "co_nlocals")
	c.Name = f.req("PyCodeObject", "co_name")
	c.Qualname = f.opt("PyCodeObject", "co_qualname")
	c.Filename = f.req("PyCodeObject", "co_filename")
	c.Firstlineno = f.req("PyCodeObject", "co_firstlineno")
	c.Lnotab = f.opt("PyCodeObject", "co_lnotab")
	c.Linetable = f.opt("PyCodeObject", "co_linetable")
	c.Code = f.opt("PyCodeObject", "co_code")
	c.CodeAdaptive = f.opt("PyCodeObject", "co_code_adaptive")
	c.Stacksize = f.req("PyCodeObject", "co_stacksize")
	if c.Varnames == absent && c.LocalsPlusNames == absent {
		f.missing = append(f.missing, "PyCodeObject.co_varnames or co_localsplusnames")
	}
}

func (f *filler) fillFrame(l *Layout) {
	fr := &l.Frame
	fr.Back = f.req("PyFrameObject", "f_back")
	fr.Code = f.opt("PyFrameObject", "f_code")
	fr.Lasti = f.opt("PyFrameObject", "f_lasti")
	fr.Lineno = f.opt("PyFrameObject", "f_lineno")
	fr.LocalsPlus = f.opt("PyFrameObject", "f_localsplus")
	fr.FFrame = f.opt("PyFrameObject", "f_frame")
	fr.ValueStack = f.opt("PyFrameObject", "f_valuestack")
	fr.Stacktop = f.opt("PyFrameObject", "f_stacktop")
	fr.StackDepth = f.opt("PyFrameObject", "f_stackdepth")
	const ifr = "struct _PyInterpreterFrame"
	fr.IExec = f.opt(ifr, "f_code", "f_executable")
	fr.IPrevious = f.opt(ifr, "previous")
	fr.IInstr = f.opt(ifr, "prev_instr", "instr_ptr")
	fr.ILocalsPlus = f.opt(ifr, "localsplus")
	fr.IOwner = f.opt(ifr, "owner")
	fr.IFuncobj = f.opt(ifr, "f_funcobj", "f_func")
	fr.ILocals = f.opt(ifr, "f_locals")
	fr.IFrameObj = f.opt(ifr, "frame_obj")
	fr.IStacktop = f.opt(ifr, "stacktop")
	if fr.Code == absent && fr.IExec == absent {
		f.missing = append(f.missing, "PyFrameObject.f_code or _PyInterpreterFrame.f_code")
	}
}

func (f *filler) fillState(l *Layout) {
	s := &l.State
	s.RuntimeInterpHead = f.opt("_PyRuntimeState", "interpreters.head")
	s.RuntimeGC = f.opt("_PyRuntimeState", "gc")
	const is, ts = "PyInterpreterState", "PyThreadState"
	s.InterpNext = f.req(is, "next")
	s.InterpThreads = f.opt(is, "tstate_head", "threads.head")
	s.InterpModules = f.opt(is, "modules", "imports.modules")
	s.InterpSysdict = f.req(is, "sysdict")
	s.InterpBuiltins = f.req(is, "builtins")
	s.InterpGC = f.opt(is, "gc")
	s.ThreadNext = f.req(ts, "next")
	s.ThreadInterp = f.req(ts, "interp")
	s.ThreadFrame = f.opt(ts, "frame")
	s.ThreadCFrame = f.opt(ts, "cframe")
	s.ThreadCurrentFrame = f.opt(ts, "current_frame")
	s.ThreadID = f.req(ts, "thread_id")
	s.ThreadNativeID = f.opt(ts, "native_thread_id")
	s.ThreadDict = f.req(ts, "dict")
	s.CFrameCurrent = f.opt("_PyCFrame", "current_frame")
	if s.CFrameCurrent == absent {
		s.CFrameCurrent = f.opt("CFrame", "current_frame")
	}
	s.GCGenerations = f.opt("struct _gc_runtime_state", "generations")
	s.GCGenerationSize = f.optSize("struct gc_generation")
	s.GCPermanent = f.opt("struct _gc_runtime_state", "permanent_generation")
	f.fillStaticTypes(s)
	if s.InterpThreads == absent || s.InterpModules == absent {
		f.missing = append(f.missing, "PyInterpreterState thread list or modules")
	}
	if s.GCGenerationSize == absent {
		f.missing = append(f.missing, "sizeof(struct gc_generation)")
	}
}

// fillStaticTypes finds the interpreter's array of static builtin type
// states (3.12: types.builtins; 3.13: types.builtins.initialized).
func (f *filler) fillStaticTypes(s *stateLayout) {
	s.StaticTypes, s.StaticTypesCount = absent, absent
	const is = "PyInterpreterState"
	for _, c := range []struct{ array, count string }{
		{"types.builtins.initialized", "types.builtins.num_initialized"},
		{"types.builtins", "types.num_builtins_initialized"},
	} {
		arr, ok1 := f.ix.field(is, c.array)
		cnt, ok2 := f.ix.field(is, c.count)
		if !ok1 || !ok2 {
			continue
		}
		at, ok := strip(arr.Type).(*dwarf.ArrayType)
		if !ok || at.Count <= 0 {
			continue
		}
		elem := member{Type: at.Type, Size: at.Type.Size()}
		d, ok1 := findMember(elem, "tp_dict")
		sub, ok2 := findMember(elem, "tp_subclasses")
		if !ok1 || !ok2 {
			continue
		}
		s.StaticTypes, s.StaticTypesCount, s.StaticTypeSize = arr.Offset, cnt.Offset, elem.Size
		s.StaticTypeMax, s.StaticTypeDict, s.StaticTypeSubclasses = at.Count, d.Offset, sub.Offset
		return
	}
}

// fillDeque finds collections.deque's layout, if libpython has it built
// in. Its block type is reached through the deque's leftblock member, as
// the name "block" is common.
func (f *filler) fillDeque(l *Layout) {
	d := &l.Deque
	lb, ok := f.ix.field("dequeobject", "leftblock")
	if !ok {
		return
	}
	pt, ok := strip(lb.Type).(*dwarf.PtrType)
	if !ok {
		return
	}
	blk := member{Type: pt.Type, Size: pt.Type.Size()}
	data, ok1 := findMember(blk, "data")
	right, ok2 := findMember(blk, "rightlink")
	if !ok1 || !ok2 {
		return
	}
	at, ok := strip(data.Type).(*dwarf.ArrayType)
	if !ok || at.Count <= 0 {
		return
	}
	d.LeftBlock = lb.Offset
	d.RightBlock = f.opt("dequeobject", "rightblock")
	d.LeftIndex = f.opt("dequeobject", "leftindex")
	d.RightIdx = f.opt("dequeobject", "rightindex")
	d.BlockData, d.BlockRight, d.BlockLen, d.BlockSize = data.Offset, right.Offset, at.Count, blk.Size
	d.Present = d.RightBlock != absent && d.LeftIndex != absent && d.RightIdx != absent
}
