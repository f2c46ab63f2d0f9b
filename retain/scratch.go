package retain

// scratch hands out the large integer arrays that one computation uses
// and drops, such as the dominator passes' working arrays. Where the
// system allows (Linux), they are mapped outside the Go heap and unmapped
// by release: the memory goes back at once instead of waiting for a
// garbage collection, whose pacing would otherwise let the heap grow to
// twice its live size with hundreds of megabytes of dead arrays. Mapped
// arrays are also given huge pages, which make random access over
// hundreds of megabytes miss the TLB far less (on a virtual machine a TLB
// miss walks two levels of page tables). Elsewhere, and if mapping fails,
// the arrays come from the Go heap.
//
// Nothing handed out may be used after release.
type scratch struct {
	mapped [][]byte
}

// uint32s returns n zeroed uint32s.
func (s *scratch) uint32s(n int) []uint32 {
	if b := s.mapBytes(n * 4); b != nil {
		return bytesAsUint32s(b, n)
	}
	return make([]uint32, n)
}

// uint64s returns n zeroed uint64s.
func (s *scratch) uint64s(n int) []uint64 {
	if b := s.mapBytes(n * 8); b != nil {
		return bytesAsUint64s(b, n)
	}
	return make([]uint64, n)
}

// release unmaps everything handed out.
func (s *scratch) release() {
	for _, b := range s.mapped {
		unmapBytes(b)
	}
	s.mapped = nil
}

// mapBytes maps size zeroed bytes, or returns nil for small sizes and on
// systems or errors that leave it to the Go heap.
func (s *scratch) mapBytes(size int) []byte {
	if size < minMappedSize {
		return nil
	}
	b := mapBytes(size)
	if b != nil {
		s.mapped = append(s.mapped, b)
	}
	return b
}

// minMappedSize is the smallest array worth a mapping of its own.
const minMappedSize = 4 << 20
