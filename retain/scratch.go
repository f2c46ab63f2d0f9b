package retain

import (
	"fmt"
	"os"
	"unsafe"
)

// scratch hands out the large integer arrays of the analysis: the graph's
// rows, the dominators' working arrays and results, the paths. Where the
// system allows (Linux), they are mapped outside the Go heap and unmapped
// by release: the memory goes back at once instead of waiting for a
// garbage collection, whose pacing would otherwise let the heap grow to
// twice its live size with hundreds of megabytes of dead arrays. Mapped
// arrays are also given huge pages, which make random access over
// hundreds of megabytes miss the TLB far less (on a virtual machine a TLB
// miss walks two levels of page tables). Elsewhere, and if mapping fails,
// the arrays come from the Go heap.
//
// With a directory (Scratch), each mapped array is a file there instead,
// created, unlinked at once and mapped shared: its pages are the page
// cache's, which the kernel writes out and drops under memory pressure,
// so a graph larger than memory is analysed, slower, instead of killed.
// No file outlives its mapping, or the process, whatever happens.
//
// Nothing handed out may be used after release. A nil *scratch hands out
// arrays from the Go heap (for the exported functions, whose results the
// caller keeps).
type scratch struct {
	dir    string // "" for anonymous mappings
	mapped [][]byte
	// failed holds the first failure to map a file in dir, shared with
	// the scratches sub made; the array was then taken from memory.
	failed *error
}

// newScratch returns a scratch mapping anonymous memory (dir "") or files
// in dir, which it checks can hold a file.
func newScratch(dir string) (*scratch, error) {
	s := &scratch{dir: dir, failed: new(error)}
	if dir == "" {
		return s, nil
	}
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("scratch directory: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("scratch directory %s is not a directory", dir)
	}
	b, err := mapFile(dir, minMappedSize)
	if err != nil {
		return nil, fmt.Errorf("scratch directory %s: %w", dir, err)
	}
	unmapBytes(b)
	return s, nil
}

// sub returns a scratch for temporaries, mapping where s does.
func (s *scratch) sub() *scratch {
	if s == nil {
		return &scratch{failed: new(error)}
	}
	return &scratch{dir: s.dir, failed: s.failed}
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
	if s == nil {
		return
	}
	for _, b := range s.mapped {
		unmapBytes(b)
	}
	s.mapped = nil
}

// err returns the first failure to map a file in the scratch directory,
// if any: the arrays concerned came from memory.
func (s *scratch) err() error {
	if s == nil || s.failed == nil {
		return nil
	}
	return *s.failed
}

// free unmaps one array handed out, if it was mapped; a Go heap array is
// left to the collector. The array must not be used afterwards.
func (s *scratch) free(a []uint32) {
	if s == nil || cap(a) == 0 {
		return
	}
	p := unsafe.Pointer(unsafe.SliceData(a))
	for i, b := range s.mapped {
		if p == unsafe.Pointer(unsafe.SliceData(b)) {
			unmapBytes(b)
			s.mapped = append(s.mapped[:i], s.mapped[i+1:]...)
			return
		}
	}
}

// mapBytes maps size zeroed bytes, or returns nil for small sizes and on
// systems or errors that leave it to the Go heap.
func (s *scratch) mapBytes(size int) []byte {
	if s == nil || size < minMappedSize && (s.dir == "" || size < minFileSize) {
		return nil
	}
	var b []byte
	if s.dir != "" {
		var err error
		if b, err = mapFile(s.dir, size); err != nil && *s.failed == nil {
			*s.failed = err
		}
	} else {
		b = mapBytes(size)
	}
	if b != nil {
		s.mapped = append(s.mapped, b)
	}
	return b
}

// minMappedSize is the smallest array worth an anonymous mapping of its
// own, minFileSize the smallest put in a file of the scratch directory
// (one page: a small heap's arrays go there too, as a large one's do).
const (
	minMappedSize = 4 << 20
	minFileSize   = 4 << 10
)
