package pycore

// Sizes as sys.getsizeof reports them: the type's __sizeof__ plus the
// pre-header CPython adds (the GC header of collected types; from 3.11 two
// more words for a managed dict, from 3.12 for managed weak references).

// bigSize stands in the sizes array for a size of 4 GiB or more, which
// Size computes again from the object.
const bigSize = 1<<32 - 1

// sumTotals counts the objects and sums their sizes, after liveness.
func (h *Heap) sumTotals() {
	t := &h.totals
	t.Objects = h.n
	for i := 0; i < h.n; i++ {
		s := h.Size(i)
		t.Bytes += s
		if h.tracked.Has(i) {
			t.Tracked++
		}
		if h.live.Has(i) {
			t.Live++
			t.LiveBytes += s
		} else {
			t.Garbage++
		}
	}
}

// getsizeof returns sys.getsizeof of the object at a.
func (h *Heap) getsizeof(a uint64, ti *typeInfo) uint64 {
	size := h.sizeofBody(a, ti) + h.preHeader(ti)
	if size < 16 {
		size = 16
	}
	return uint64(size)
}

// preHeader is what sys.getsizeof adds to __sizeof__.
func (h *Heap) preHeader(ti *typeInfo) int64 {
	var n int64
	if ti.flags&flagHaveGC != 0 {
		n += h.l.GCHeadSize
	}
	switch {
	case h.l.Minor == 11 && ti.flags&flagManagedDict != 0:
		n += 16
	case h.l.Minor >= 12 && ti.flags&(flagManagedDict|flagManagedWeak) != 0:
		n += 16
	}
	return n
}

// sizeofBody returns the object's __sizeof__.
func (h *Heap) sizeofBody(a uint64, ti *typeInfo) int64 {
	base := ti.basicsize
	switch ti.kind {
	case kindList:
		alloc, err := h.mem.i64(a + uint64(h.l.List.Allocated))
		if err != nil || alloc < 0 || alloc > 1<<40 {
			return base
		}
		return base + 8*alloc
	case kindDict:
		if ti.odict {
			return h.odictSize(a, base)
		}
		return h.dictSize(a, base)
	case kindByteArray:
		return h.byteArraySize(a, base)
	case kindGeneric:
		if s, ok := h.genericSize(a, ti); ok {
			return s
		}
	case kindSet:
		s := &h.l.Set
		mask, err1 := h.mem.i64(a + uint64(s.Mask))
		table, err2 := h.mem.u64(a + uint64(s.Table))
		if err1 != nil || err2 != nil || table == a+uint64(s.SmallTable) || mask < 0 || mask > 1<<40 {
			return base
		}
		return base + (mask+1)*s.EntrySize
	case kindType:
		return h.typeSize(a)
	case kindDeque:
		d := &h.l.Deque
		n, err1 := h.mem.i64(a + uint64(h.l.ObSize))
		left, err2 := h.mem.i64(a + uint64(d.LeftIndex))
		if err1 != nil || err2 != nil || n < 0 || left < 0 || n > 1<<40 {
			return base
		}
		return base + (left+n+d.BlockLen)/d.BlockLen*d.BlockSize
	case kindStr:
		if !ti.heapType {
			return h.strSize(a, base)
		}
	case kindInt:
		if !ti.heapType {
			return h.intSize(a)
		}
	}
	size := base
	if ti.itemsize > 0 && (ti.kind != kindGeneric || h.l.varStructs[ti.cstruct]) {
		n, err := h.mem.i64(a + uint64(h.l.ObSize))
		if err == nil {
			if n < 0 {
				n = -n
			}
			// Bound what the core claims by what is mapped.
			size += min(n, int64(h.mem.mapped(a))/ti.itemsize) * ti.itemsize
		}
	}
	return size
}

// genericSize is the __sizeof__ of the C structs whose size their code
// object decides; false for the others.
func (h *Heap) genericSize(a uint64, ti *typeInfo) (int64, bool) {
	switch ti.cstruct {
	case "PyCodeObject":
		return h.codeSize(a, ti), true
	case "PyFrameObject":
		return h.frameSize(a, ti)
	}
	if ti.gen != nil {
		return h.genSize(a, *ti.gen)
	}
	return 0, false
}

// typeSize is type.__sizeof__ of the class at a: a PyHeapTypeObject and
// the keys its instances share.
func (h *Heap) typeSize(a uint64) int64 {
	t := &h.l.Type
	size := t.HeapTypeSize
	if t.HtCachedKeys == absent {
		return size
	}
	if keys, err := h.mem.u64(a + uint64(t.HtCachedKeys)); err == nil && keys != 0 {
		if k, err := h.readKeys(keys); err == nil {
			size += k.bytesIncludingBody
		}
	}
	return size
}
