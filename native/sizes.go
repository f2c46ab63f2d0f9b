package native

// Sizes in four bytes. The chunk table and the heap keep sizes as uint32:
// eight bytes each would be the largest part of the model after the
// addresses, and a chunk of 4 GiB or more is rare (a huge mmapped
// allocation, or a size a damaged core claims). Such a size is stored as
// bigSize and kept apart in a map: by the chunk's address in a chunk table
// (which is sorted, and filled by parts of a walk, after the size is
// added) and by object number in the heap.

// bigSize stands for a size kept apart. It is not a multiple of 8, as no
// chunk's or allocation's size is.
const bigSize = ^uint32(0)

// fitSize returns v as a size array stores it, and whether it must be
// kept apart.
func fitSize(v uint64) (uint32, bool) {
	if v >= uint64(bigSize) {
		return bigSize, true
	}
	return uint32(v), false
}

// sizeAt returns the size of chunk i.
func (t *chunkTable) sizeAt(i int) uint64 {
	if v := t.size[i]; v != bigSize {
		return uint64(v)
	}
	return t.big[t.addr[i]]
}

// size returns object i's usable size.
func (h *Heap) size(i int) uint64 {
	if v := h.sizes[i]; v != bigSize {
		return uint64(v)
	}
	return h.bigSizes[i]
}
