package pycore

// Instances of classes: their __slots__, their __dict__ (found by
// tp_dictoffset before 3.11, in the pre-header as a managed dict from
// 3.11), and their values kept without a dict object (3.11, 3.12: values
// in the pre-header; 3.13: inline values after the object). An owner's
// dict that nothing else refers to is folded into the owner: its entries
// become the owner's attributes, so paths read ".results", not
// ".__dict__['results']".

// ownDict returns the dict an instance, class or module keeps its
// attributes in, if it has one.
func (h *Heap) ownDict(a uint64, ti *typeInfo) (uint64, bool) {
	var d uint64
	var err error
	switch {
	case ti.kind == kindType:
		d, err = h.mem.u64(a + uint64(h.l.Type.Dict))
	case ti.kind == kindModule:
		d, err = h.mem.u64(a + uint64(h.l.Module.Dict))
	case ti.heapType:
		d, _ = h.instanceStorage(a, ti)
	}
	return d, err == nil && d != 0
}

// instanceStorage returns an instance's dict, or the values it keeps
// without one (with the keys naming them), or neither.
func (h *Heap) instanceStorage(a uint64, ti *typeInfo) (dict, values uint64) {
	// The pre-header's words before the object are CPython's ABI, not
	// members of a struct DWARF describes: 3.11's managed dict at -3
	// words and its values at -4 (_PyObject_ManagedDictPointer,
	// _PyObject_ValuesPointer); 3.12's dict-or-values and 3.13's
	// managed dict pointer at -3 (MANAGED_DICT_OFFSET).
	const word = 8
	if ti.flags&flagManagedDict != 0 && h.l.Minor >= 11 {
		v, err := h.mem.u64(a - 3*word)
		if err != nil {
			return 0, 0
		}
		switch {
		case h.l.Minor == 11:
			if v != 0 {
				return v, 0
			}
			vals, err := h.mem.u64(a - 4*word)
			if err != nil || vals == 0 {
				return 0, 0
			}
			return 0, vals + uint64(h.l.Dict.ValuesArray)
		case h.l.Minor == 12:
			if v&1 != 0 {
				return 0, v + 1 + uint64(h.l.Dict.ValuesArray)
			}
			return v, 0
		default:
			if v != 0 {
				return v, 0
			}
			if ti.flags&flagInlineValues == 0 {
				return 0, 0
			}
			vals := a + uint64(ti.basicsize)
			if h.l.Dict.ValuesValid == absent {
				return 0, 0
			}
			valid, err := h.mem.u8(vals + uint64(h.l.Dict.ValuesValid))
			if err != nil || valid == 0 {
				return 0, 0
			}
			return 0, vals + uint64(h.l.Dict.ValuesArray)
		}
	}
	off := ti.dictoffset
	if off == 0 || ti.flags&flagManagedDict != 0 {
		return 0, 0
	}
	if off < 0 {
		n, err := h.mem.i64(a + uint64(h.l.ObSize))
		if err != nil || ti.kind == kindInt && h.l.Long.Tag != absent {
			return 0, 0
		}
		if n < 0 {
			n = -n
		}
		size := (ti.basicsize + n*ti.itemsize + 7) &^ 7
		off += size
	}
	d, err := h.mem.u64(a + uint64(off))
	if err != nil {
		return 0, 0
	}
	return d, 0
}

// instanceRefs emits an instance's slots and attributes.
func (h *Heap) instanceRefs(a uint64, ti *typeInfo, fold bool, emit emitFunc) {
	for _, s := range ti.slots {
		if v, err := h.mem.u64(a + uint64(s.off)); err == nil && v != 0 {
			emit(v, mkLabel(labelAttr, int64(s.name)))
		}
	}
	if ti.kind == kindType || ti.kind == kindModule {
		return // their dict is their own member: see ownDictRefs
	}
	dict, values := h.instanceStorage(a, ti)
	switch {
	case dict != 0:
		h.dictOrAttrs(dict, fold, emit)
	case values != 0 && ti.cachedKeys != 0:
		k, err := h.readKeys(ti.cachedKeys)
		if err != nil {
			h.warns.Addf("pycore", "instance at %#x: %v", a, err)
			return
		}
		labels := h.sharedKeyLabels(ti, k)
		h.entriesOf(k, values, func(e dictEntry) bool {
			emit(e.value, labels[e.index])
			return true
		})
	}
}

// sharedKeyLabels returns the labels of the attributes named by a class's
// shared keys k, by entry index, read once per class and kept while the
// keys hold as many entries.
func (h *Heap) sharedKeyLabels(ti *typeInfo, k keysInfo) []uint32 {
	if int64(len(ti.keyLabels)) == k.nentries {
		return ti.keyLabels
	}
	labels := make([]uint32, k.nentries)
	for i := range labels {
		labels[i] = mkLabel(labelValue, int64(i))
	}
	// readKeys checked that the entries are mapped.
	if raw, err := h.mem.bytes(k.entries, k.nentries*k.entrySize); err == nil {
		for i := range labels {
			if key := le64(raw[int64(i)*k.entrySize+k.keyOff:]); key != 0 {
				labels[i] = h.attrLabel(dictEntry{index: i, key: key})
			}
		}
	}
	ti.keyLabels = labels
	return labels
}

// ownDictRefs emits a class's or module's dict.
func (h *Heap) ownDictRefs(a uint64, ti *typeInfo, fold bool, emit emitFunc) {
	if d, ok := h.ownDict(a, ti); ok {
		h.dictOrAttrs(d, fold, emit)
	}
}

// dictOrAttrs emits an owner's dict, and when the dict is folded, its
// entries as the owner's attributes.
func (h *Heap) dictOrAttrs(d uint64, fold bool, emit emitFunc) {
	if !fold {
		emit(d, mkLabel(labelOwnDict, 0))
		return
	}
	emit(d, mkLabel(labelField, int64(h.intern("__dict__"))))
	j, ok := h.Find(d)
	if !ok || !h.folded.Has(j) {
		return
	}
	di, err := h.readDict(d)
	if err != nil {
		return
	}
	h.entriesOf(di.keys, di.values, func(e dictEntry) bool {
		l := h.attrLabel(e)
		if !di.split {
			key := mkLabel(labelKey, int64(e.index))
			if labelKind(l) == labelAttr {
				key = mkLabel(labelAttrKy, labelIndex(l))
			}
			emit(e.key, key)
		}
		emit(e.value, l)
		return true
	})
}

// attrLabel labels a folded dict entry's value: an attribute when its key
// is a str, else the dict value by entry index.
func (h *Heap) attrLabel(e dictEntry) uint32 {
	if name, ok := h.readStr(e.key, 200); ok {
		return mkLabel(labelAttr, int64(h.intern(name)))
	}
	return mkLabel(labelValue, int64(e.index))
}
