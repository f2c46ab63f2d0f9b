package pycore

import (
	"errors"
	"fmt"
	"sort"

	"github.com/heapsift/heapsift/heap"
)

// kind is the C layout an object has, from the nearest static type among
// its type and its bases.
type kind uint8

const (
	kindOther     kind = iota // unknown C layout: scanned conservatively
	kindPlain                 // object: no references but its type's parts
	kindScalar                // no references at all (float, complex, bool, ...)
	kindTuple                 // tuple
	kindList                  // list
	kindDict                  // dict
	kindSet                   // set, frozenset
	kindStr                   // str
	kindBytes                 // bytes
	kindInt                   // int, bool
	kindType                  // type
	kindModule                // module
	kindCell                  // cell
	kindGeneric               // references are its C struct's object members
	kindDeque                 // collections.deque
	kindWeakref               // weak references: only their callback is held
	kindByteArray             // bytearray: no references, a buffer of ob_alloc bytes
)

// staticKinds maps built-in type names to their layouts.
var staticKinds = map[string]kind{
	"object": kindPlain, "tuple": kindTuple, "list": kindList, "dict": kindDict,
	"set": kindSet, "frozenset": kindSet, "str": kindStr, "bytes": kindBytes,
	"int": kindInt, "bool": kindInt, "float": kindScalar, "complex": kindScalar,
	"type": kindType, "module": kindModule, "cell": kindCell,
	"bytearray": kindByteArray, "range": kindGeneric, "NoneType": kindScalar,
}

// genericKind is a built-in type whose references are the object-pointer
// members of its C struct.
type genericKind struct{ tpName, cstruct string }

var genericKinds = []genericKind{
	{"function", "PyFunctionObject"}, {"method", "PyMethodObject"},
	{"code", "PyCodeObject"}, {"frame", "PyFrameObject"},
	{"generator", "PyGenObject"}, {"coroutine", "PyCoroObject"},
	{"async_generator", "PyAsyncGenObject"}, {"property", "propertyobject"},
	{"staticmethod", "staticmethod"}, {"classmethod", "classmethod"},
	{"builtin_function_or_method", "PyCFunctionObject"},
	{"member_descriptor", "PyMemberDescrObject"},
	{"getset_descriptor", "PyGetSetDescrObject"},
	{"method_descriptor", "PyMethodDescrObject"},
	{"classmethod_descriptor", "PyMethodDescrObject"},
	{"wrapper_descriptor", "PyWrapperDescrObject"},
	{"mappingproxy", "mappingproxyobject"}, {"BaseException", "PyBaseExceptionObject"},
	{"slice", "PySliceObject"}, {"super", "superobject"}, {"range", "rangeobject"},
	{"traceback", "PyTracebackObject"},
}

// weakrefTypes name the weak reference types (3.12 renamed them): their
// referent is no reference, only their callback is.
var weakrefTypes = map[string]bool{
	"weakref": true, "weakproxy": true, "weakcallableproxy": true,
	"weakref.ReferenceType": true, "weakref.ProxyType": true, "weakref.CallableProxyType": true,
}

// Type flags (Include/object.h).
const (
	flagInlineValues = 1 << 2
	flagManagedWeak  = 1 << 3
	flagManagedDict  = 1 << 4
	flagHeapType     = 1 << 9
	flagHaveGC       = 1 << 14
)

// PyMemberDef types of object members (Include/structmember.h).
const (
	memberObject   = 6
	memberObjectEx = 16
)

// typeInfo is what pycore knows of one type object.
type typeInfo struct {
	addr                            uint64
	id                              heap.TypeID
	name                            string
	kind                            kind
	cstruct                         string // for kindGeneric
	flags                           uint64
	basicsize, itemsize, dictoffset int64
	heapType                        bool
	scanSize                        int64 // the basic size of its nearest static type
	// extFrom is where the members a C type adds to a known base begin
	// (collections.defaultdict's default_factory after dict's): they are
	// scanned conservatively up to scanSize. 0 when there are none.
	extFrom int64
	odict   bool // collections.OrderedDict or a subclass: sized as one
	// members are the object members of its C struct (kindGeneric,
	// kindModule), with their labels; gen is the embedded frame of a
	// 3.11+ generator struct, nil for others. Both are resolved once per
	// type rather than looked up by struct name for each object.
	members    []memberRef
	gen        *genLayout
	slots      []slot   // object members of heap types
	cachedKeys uint64   // ht_cached_keys (3.11+)
	keyLabels  []uint32 // attribute labels of cachedKeys' entries
	rooted     bool     // a static type whose references are roots
	seq        uint32   // its index in types.all
}

// leaf reports whether objects of the type can hold no references.
func (ti *typeInfo) leaf() bool {
	if ti.heapType || ti.extFrom > 0 {
		return false
	}
	switch ti.kind {
	case kindPlain, kindScalar, kindStr, kindBytes, kindInt, kindByteArray:
		return true
	}
	return false
}

// slot is an object member of an instance (a __slots__ entry).
type slot struct {
	off  int64
	name uint32 // interned attribute name
}

// types caches type objects by address in a sorted slice.
type types struct {
	addrs []uint64
	infos []*typeInfo
	all   []*typeInfo // in the order met: typeInfo.seq indexes it
}

func (ts *types) find(a uint64) *typeInfo {
	lo, hi := 0, len(ts.addrs)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if ts.addrs[mid] < a {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < len(ts.addrs) && ts.addrs[lo] == a {
		return ts.infos[lo]
	}
	return nil
}

func (ts *types) insert(ti *typeInfo) {
	i := sort.Search(len(ts.addrs), func(i int) bool { return ts.addrs[i] >= ti.addr })
	ts.addrs = append(ts.addrs, 0)
	ts.infos = append(ts.infos, nil)
	copy(ts.addrs[i+1:], ts.addrs[i:])
	copy(ts.infos[i+1:], ts.infos[i:])
	ts.addrs[i], ts.infos[i] = ti.addr, ti
	ti.seq = uint32(len(ts.all))
	ts.all = append(ts.all, ti)
}

// errNoType says that an address holds no type object.
var errNoType = errors.New("no type object there")

// maxTypeDepth bounds the chains of metatypes and bases followed to read
// a type, so that a damaged core's cycles end.
const maxTypeDepth = 64

// typeOf returns the type at address a, reading and checking it the first
// time: a type's type must be `type` or a metaclass whose type is.
func (h *Heap) typeOf(a uint64) (*typeInfo, error) {
	return h.typeOfDepth(a, 0)
}

func (h *Heap) typeOfDepth(a uint64, depth int) (*typeInfo, error) {
	if ti := h.types.find(a); ti != nil {
		return ti, nil
	}
	// Most words offered are no type: say so without formatting.
	if depth > maxTypeDepth || a == 0 || a&7 != 0 {
		return nil, errNoType
	}
	meta, err := h.mem.u64(a + uint64(h.l.ObType))
	if err != nil || meta == 0 {
		return nil, errNoType
	}
	if meta != h.typeType && h.types.find(meta) == nil {
		// An uncached metaclass must itself be an instance of type (or
		// of a metaclass already known).
		mm, err := h.mem.u64(meta + uint64(h.l.ObType))
		if err != nil || mm != h.typeType && h.types.find(mm) == nil {
			return nil, errNoType
		}
		if _, err := h.typeOfDepth(meta, depth+1); err != nil {
			return nil, errNoType
		}
	}
	ti, err := h.readType(a, depth)
	if err != nil {
		return nil, err
	}
	h.resolveMembers(ti)
	h.types.insert(ti)
	return ti, nil
}

// readType reads a type object's name, sizes, flags and layout kind.
func (h *Heap) readType(a uint64, depth int) (*typeInfo, error) {
	l := &h.l.Type
	ti := &typeInfo{addr: a}
	var err error
	read := func(off int64) int64 {
		if err != nil {
			return 0
		}
		var v int64
		v, err = h.mem.i64(a + uint64(off))
		return v
	}
	ti.flags = uint64(read(l.Flags))
	ti.basicsize = read(l.Basicsize)
	ti.itemsize = read(l.Itemsize)
	ti.dictoffset = read(l.Dictoffset)
	base := uint64(read(l.Base))
	if err != nil {
		return nil, fmt.Errorf("reading type at %#x: %w", a, err)
	}
	if ti.basicsize < 16 || ti.basicsize > 1<<20 || ti.itemsize < 0 || ti.itemsize > 1<<16 {
		return nil, fmt.Errorf("type at %#x: implausible sizes %d+%d", a, ti.basicsize, ti.itemsize)
	}
	ti.heapType = ti.flags&flagHeapType != 0
	ti.name, err = h.typeName(a, ti.heapType)
	if err != nil {
		return nil, err
	}
	ti.id = h.typeNames.ID(ti.name)
	if !ti.heapType || h.cHeapType(a) {
		// A static type, or one a C extension made at run time
		// (PyType_FromSpec): its layout is its C struct's, known by name,
		// inherited from a known base, or scanned.
		ti.kind, ti.cstruct = h.staticKind(ti.name)
		ti.scanSize = ti.basicsize
		if ti.kind == kindOther && base != 0 {
			h.inheritLayout(ti, base, depth)
		}
		return ti, nil
	}
	ti.kind, ti.cstruct, ti.scanSize = kindPlain, "", 16
	if base != 0 {
		if bt, err := h.typeOfDepth(base, depth+1); err == nil {
			ti.kind, ti.cstruct, ti.scanSize = bt.kind, bt.cstruct, bt.scanSize
			ti.extFrom, ti.odict = bt.extFrom, bt.odict
			ti.slots = append(ti.slots, bt.slots...)
		}
	}
	ti.slots = append(ti.slots, h.readSlots(a)...)
	if h.l.Type.HtCachedKeys != absent {
		ti.cachedKeys, _ = h.mem.u64(a + uint64(h.l.Type.HtCachedKeys))
	}
	return ti, nil
}

// inheritLayout gives a C type unknown by name the layout of its base
// when the base's is known (collections.OrderedDict and defaultdict are
// dicts, OSError a BaseException), the members it adds scanned
// conservatively.
func (h *Heap) inheritLayout(ti *typeInfo, base uint64, depth int) {
	bt, err := h.typeOfDepth(base, depth+1)
	if err != nil || bt.kind == kindOther || bt.kind == kindPlain || bt.heapType || bt.basicsize > ti.basicsize {
		return
	}
	ti.kind, ti.cstruct, ti.odict = bt.kind, bt.cstruct, bt.odict || ti.name == "collections.OrderedDict"
	ti.extFrom = bt.extFrom
	if ti.extFrom == 0 && bt.basicsize < ti.basicsize {
		ti.extFrom = bt.basicsize
	}
}

// staticKind returns the layout of a static (C) type by its name.
func (h *Heap) staticKind(name string) (kind, string) {
	if k, ok := staticKinds[name]; ok && k != kindGeneric {
		return k, ""
	}
	if name == "collections.deque" && h.l.Deque.Present {
		return kindDeque, ""
	}
	if weakrefTypes[name] {
		return kindWeakref, ""
	}
	for _, g := range genericKinds {
		if g.tpName != name {
			continue
		}
		if _, ok := h.l.structRefs[g.cstruct]; ok {
			return kindGeneric, g.cstruct
		}
	}
	return kindOther, ""
}

// typeName reads a type's display name: tp_name for static types,
// module.qualname for classes.
func (h *Heap) typeName(a uint64, heapType bool) (string, error) {
	p, err := h.mem.u64(a + uint64(h.l.Type.Name))
	if err != nil {
		return "", fmt.Errorf("reading tp_name of type %#x: %w", a, err)
	}
	name, err := h.mem.cstring(p, 256)
	if err != nil || name == "" {
		return "", fmt.Errorf("reading tp_name of type %#x at %#x: %v", a, p, err)
	}
	if !heapType {
		return name, nil
	}
	q, err := h.mem.u64(a + uint64(h.l.Type.HtQualname))
	if err == nil {
		if s, ok := h.readStr(q, 256); ok {
			name = s
		}
	}
	if mod, ok := h.classModule(a); ok && mod != "builtins" {
		name = mod + "." + name
	}
	return name, nil
}

// classModule returns a class's __module__ from its tp_dict.
func (h *Heap) classModule(a uint64) (string, bool) {
	d, err := h.mem.u64(a + uint64(h.l.Type.Dict))
	if err != nil || d == 0 {
		return "", false
	}
	mod := ""
	h.dictEntries(d, func(e dictEntry) bool {
		if k, ok := h.readStr(e.key, 64); ok && k == "__module__" {
			mod, _ = h.readStr(e.value, 256)
			return false
		}
		return true
	})
	return mod, mod != ""
}

// readSlots reads a heap type's own object members: its __slots__.
func (h *Heap) readSlots(a uint64) []slot {
	ml := &h.l.Member
	meta, err := h.mem.u64(a + uint64(h.l.ObType))
	if err != nil {
		return nil
	}
	metaSize, err := h.mem.i64(meta + uint64(h.l.Type.Basicsize))
	if err != nil || metaSize <= 0 {
		return nil
	}
	// A heap type's members follow it: PyHeapType_GET_MEMBERS.
	members, err := h.mem.u64(a + uint64(h.l.Type.Members))
	if err != nil || members != a+uint64(metaSize) {
		return nil
	}
	var out []slot
	for i := uint64(0); i < 1024; i++ {
		m := members + i*uint64(ml.Size)
		namep, err := h.mem.u64(m + uint64(ml.Name))
		if err != nil || namep == 0 {
			break
		}
		typ, err1 := h.mem.u32(m + uint64(ml.Type))
		off, err2 := h.mem.i64(m + uint64(ml.Offset))
		name, err3 := h.mem.cstring(namep, 256)
		if err1 != nil || err2 != nil || err3 != nil {
			break
		}
		if (typ == memberObject || typ == memberObjectEx) && name != "__weakref__" && name != "__dict__" && off > 0 {
			out = append(out, slot{off: off, name: h.intern(name)})
		}
	}
	return out
}

// intern returns the number of an attribute or field name.
func (h *Heap) intern(name string) uint32 {
	if id, ok := h.nameIDs[name]; ok {
		return id
	}
	id := uint32(len(h.names))
	h.names = append(h.names, name)
	h.nameIDs[name] = id
	return id
}

// cHeapType reports whether the heap type at a was made by C code rather
// than by a class statement: its instances are not freed by
// subtype_dealloc.
func (h *Heap) cHeapType(a uint64) bool {
	if h.subtypeDealloc == 0 {
		return false
	}
	d, err := h.mem.u64(a + uint64(h.l.Type.Dealloc))
	return err == nil && d != h.subtypeDealloc
}
