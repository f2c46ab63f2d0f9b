package pycore

// References out of an object, by its layout, as its type's tp_traverse
// would visit them (plus the strong references tp_traverse leaves out
// because they cannot form cycles, such as a class's name). Each carries a
// label: a label kind in the top bits and an index or interned name below.

// Label kinds.
const (
	labelClass  = iota // the object's class (heap types only): "__class__"
	labelItem          // list or tuple element i: "[i]"
	labelKey           // key of dict entry i
	labelValue         // value of dict entry i: "[key]"
	labelAttr          // an attribute by interned name, folded from a dict or a slot
	labelAttrKy        // the key string of a folded attribute
	labelField         // a C member by interned name
	labelElem          // a set member: "{}"
	labelOffset        // a word found by conservative scan at byte offset i
	labelLocal         // a local variable of a generator's frame, by interned name
	// labelOwnDict is an owner's own dict, which the build may fold into
	// the owner: given only by the object search's reading (fold false),
	// which decides that; otherwise it is the field "__dict__".
	labelOwnDict
)

const (
	labelShift   = 27
	labelPayload = 1<<labelShift - 1
)

func mkLabel(kind int, payload int64) uint32 {
	if payload < 0 || payload > labelPayload {
		payload = labelPayload
	}
	return uint32(kind)<<labelShift | uint32(payload)
}

func labelKind(l uint32) int    { return int(l >> labelShift) }
func labelIndex(l uint32) int64 { return int64(l & labelPayload) }
func exactLabel(l uint32) bool  { return labelKind(l) != labelOffset }

// emitFunc receives one reference: the target's address and its label.
type emitFunc func(target uint64, label uint32)

// refs calls emit for each reference out of the object at a. With fold,
// an instance's, class's or module's own dict that is folded is read as
// the owner's attributes; without, the dict is labelled labelOwnDict.
func (h *Heap) refs(a uint64, ti *typeInfo, fold bool, emit emitFunc) {
	if ti.heapType {
		if t, err := h.mem.u64(a + uint64(h.l.ObType)); err == nil {
			emit(t, mkLabel(labelClass, 0))
		}
	}
	switch ti.kind {
	case kindTuple:
		h.itemRefs(a, a+uint64(h.l.Tuple.Item), emit)
	case kindList:
		if items, err := h.mem.u64(a + uint64(h.l.List.Item)); err == nil {
			h.itemRefs(a, items, emit)
		}
	case kindDict:
		h.dictRefs(a, emit)
	case kindSet:
		h.setRefs(a, emit)
	case kindType:
		h.typeRefs(a, emit)
	case kindModule:
		h.memberRefs(a, ti, emit)
	case kindCell:
		if v, err := h.mem.u64(a + uint64(h.l.Cell.Ref)); err == nil {
			emit(v, mkLabel(labelField, int64(h.intern("cell_contents"))))
		}
	case kindGeneric:
		h.memberRefs(a, ti, emit)
		if ti.cstruct == "PyFrameObject" {
			h.frameObjectRefs(a, emit)
		}
		if ti.gen != nil {
			h.genFrameRefs(a, *ti.gen, emit)
		}
	case kindDeque:
		h.dequeRefs(a, emit)
	case kindWeakref:
		if cb, err := h.mem.u64(a + uint64(h.l.Weakref.Callback)); err == nil && cb != 0 {
			emit(cb, mkLabel(labelField, int64(h.intern("__callback__"))))
		}
	case kindOther:
		h.scanRefs(a, ti, h.l.ObjectSize, emit)
	}
	if ti.extFrom > 0 {
		h.scanRefs(a, ti, ti.extFrom, emit)
	}
	if ti.heapType {
		h.instanceRefs(a, ti, fold, emit)
	}
	if ti.kind == kindType || ti.kind == kindModule {
		h.ownDictRefs(a, ti, fold, emit)
	}
}

// itemRefs emits the ob_size elements of a list or tuple at items.
func (h *Heap) itemRefs(obj, items uint64, emit emitFunc) {
	n, err := h.mem.i64(obj + uint64(h.l.ObSize))
	if err != nil || n <= 0 || items == 0 {
		return
	}
	if max := int64(h.mem.mapped(items) / 8); n > max {
		h.warns.Addf("pycore", "a sequence at %#x claims %d items, more than mapped memory holds", obj, n)
		n = max
	}
	words, err := h.mem.wordBytes(items, n)
	if err != nil {
		return
	}
	for i := int64(0); i < n; i++ {
		emit(le64(words[8*i:]), mkLabel(labelItem, i))
	}
}

// dictRefs emits a dict's keys and values; a split table's keys belong
// to the shared keys object, not to the dict.
func (h *Heap) dictRefs(a uint64, emit emitFunc) {
	di, err := h.readDict(a)
	if err != nil {
		h.warns.Addf("pycore", "%v", err)
		return
	}
	h.entriesOf(di.keys, di.values, func(e dictEntry) bool {
		if !di.split {
			emit(e.key, mkLabel(labelKey, int64(e.index)))
		}
		emit(e.value, mkLabel(labelValue, int64(e.index)))
		return true
	})
}

// setRefs emits a set's members.
func (h *Heap) setRefs(a uint64, emit emitFunc) {
	s := &h.l.Set
	mask, err1 := h.mem.i64(a + uint64(s.Mask))
	table, err2 := h.mem.u64(a + uint64(s.Table))
	if err1 != nil || err2 != nil || mask < 0 || table == 0 {
		return
	}
	n := mask + 1
	if n <= 0 || uint64(n) > h.mem.mapped(table)/uint64(s.EntrySize) {
		h.warns.Addf("pycore", "set at %#x: table of %d entries runs past mapped memory", a, n)
		return
	}
	raw, err := h.mem.bytes(table, n*s.EntrySize)
	if err != nil {
		return
	}
	for i := int64(0); i < n; i++ {
		if k := le64(raw[i*s.EntrySize+s.EntryKey:]); k != 0 {
			emit(k, mkLabel(labelElem, 0))
		}
	}
}

// typeRefs emits a class's references but its dict's contents.
func (h *Heap) typeRefs(a uint64, emit emitFunc) {
	t := &h.l.Type
	for _, f := range []struct {
		off  int64
		name string
	}{
		{t.Base, "__base__"}, {t.Mro, "__mro__"}, {t.Bases, "__bases__"}, {t.Cache, "tp_cache"},
		{t.HtName, "__name__"}, {t.HtQualname, "__qualname__"}, {t.HtSlots, "__slots__"},
		{t.HtModule, "ht_module"}, {t.Subclasses, "__subclasses__"},
	} {
		if f.off == absent {
			continue
		}
		if v, err := h.mem.u64(a + uint64(f.off)); err == nil && v != 0 {
			emit(v, mkLabel(labelField, int64(h.intern(f.name))))
		}
	}
}

// memberRef is an object member of a C struct and its label.
type memberRef struct {
	off   int64
	label uint32
}

// resolveMembers finds, once for a type, the object members its objects'
// references are read from (a module's but its dict: see ownDictRefs) and
// the embedded frame of a generator struct.
func (h *Heap) resolveMembers(ti *typeInfo) {
	cstruct := ti.cstruct
	if ti.kind == kindModule {
		cstruct = "PyModuleObject"
	}
	for _, f := range h.l.structRefs[cstruct] {
		if ti.kind == kindModule && f.off == h.l.Module.Dict {
			continue
		}
		ti.members = append(ti.members, memberRef{off: f.off, label: mkLabel(labelField, int64(h.intern(f.name)))})
	}
	if gl, ok := h.l.gens[cstruct]; ok {
		ti.gen = &gl
	}
}

// memberRefs emits the object members of an object's C struct.
func (h *Heap) memberRefs(a uint64, ti *typeInfo, emit emitFunc) {
	for _, m := range ti.members {
		if v, err := h.mem.u64(a + uint64(m.off)); err == nil && v != 0 {
			emit(v, m.label)
		}
	}
}

// scanRefs emits the words of an object that may be references, from
// byte from up to its C type's basic size: all of an object of unknown
// layout, or what a C type adds to its known base.
func (h *Heap) scanRefs(a uint64, ti *typeInfo, from int64, emit emitFunc) {
	size := ti.scanSize
	if size <= from {
		return
	}
	// An instance dict is known exactly: a static type's here
	// (types.SimpleNamespace), a heap type's by instanceRefs.
	dictOff := int64(absent)
	if ti.dictoffset >= from && ti.dictoffset+8 <= size {
		dictOff = ti.dictoffset
		if d, err := h.mem.u64(a + uint64(dictOff)); err == nil && d != 0 && !ti.heapType {
			emit(d, mkLabel(labelField, int64(h.intern("__dict__"))))
		}
	}
	n := (size - from) / 8
	words, err := h.mem.wordBytes(a+uint64(from), n)
	if err != nil {
		return
	}
	for i := int64(0); i < n; i++ {
		w := le64(words[8*i:])
		if off := from + 8*i; off != dictOff && h.mem.heapAddr(w) {
			emit(w, mkLabel(labelOffset, off))
		}
	}
}

// frameObjectRefs emits a 3.6-3.10 frame's local variables.
func (h *Heap) frameObjectRefs(a uint64, emit emitFunc) {
	if h.l.Frame.LocalsPlus == absent || h.l.Frame.Code == absent {
		return
	}
	code, err := h.mem.u64(a + uint64(h.l.Frame.Code))
	if err != nil {
		return
	}
	names := h.localNames(code)
	words, err := h.mem.words(a+uint64(h.l.Frame.LocalsPlus), int64(len(names)))
	if err != nil {
		return
	}
	for i, w := range words {
		if w != 0 {
			emit(w, mkLabel(labelAttr, int64(h.intern(names[i]))))
		}
	}
	for _, w := range h.frameObjectStack(a, code) {
		if w != 0 {
			emit(w, mkLabel(labelField, int64(h.intern("f_valuestack"))))
		}
	}
}

// dequeRefs emits a deque's items, from leftblock[leftindex] through its
// blocks' right links, ob_size of them.
func (h *Heap) dequeRefs(a uint64, emit emitFunc) {
	d := &h.l.Deque
	n, err1 := h.mem.i64(a + uint64(h.l.ObSize))
	b, err2 := h.mem.u64(a + uint64(d.LeftBlock))
	idx, err3 := h.mem.i64(a + uint64(d.LeftIndex))
	if err1 != nil || err2 != nil || err3 != nil || n <= 0 || idx < 0 || idx >= d.BlockLen {
		return
	}
	// Each item is a word the core holds: a larger count, or blocks
	// linked in a loop, must not make the walk longer than the core.
	if limit := int64(h.p.FileSize / 8); n > limit {
		h.warns.Addf("pycore", "deque at %#x claims %d items, more than the core could hold", a, n)
		n = limit
	}
	for i := int64(0); i < n && b != 0; {
		k := min(d.BlockLen-idx, n-i)
		items, err := h.mem.words(b+uint64(d.BlockData+8*idx), k)
		if err != nil {
			h.warns.Addf("pycore", "deque at %#x: reading block %#x: %v", a, b, err)
			return
		}
		for _, it := range items {
			emit(it, mkLabel(labelItem, i))
			i++
		}
		idx = 0
		if b, err = h.mem.u64(b + uint64(d.BlockRight)); err != nil {
			return
		}
	}
}
