// Package offheap hands out large integer arrays that live outside the Go
// heap while a model is built: on Linux they are anonymous mappings,
// unmapped when freed, so that their memory goes back at once. Dead arrays
// on the Go heap wait for a garbage collection, whose pacing lets the heap
// grow to twice its live size first: hundreds of megabytes while a large
// core's model is built. Small arrays, other systems, and a mapping the
// kernel refuses come from the Go heap instead.
//
// Nothing handed out may be used after it is freed or after Release.
package offheap

import "unsafe"

// Int is the element types an Arena hands out.
type Int interface {
	~uint32 | ~int32 | ~uint64
}

// Arena hands out mapped arrays and keeps track of them to free them. An
// Arena is used by one goroutine at a time.
type Arena struct {
	mapped [][]byte
}

// minMapped is the smallest array worth a mapping of its own.
const minMapped = 1 << 20

// Make returns n zeroed elements, mapped when large enough. A mapping is
// populated at once, for an array that is written in full right away.
func Make[T Int](a *Arena, n int) []T {
	return makeArray[T](a, n, true)
}

// MakeLazy is Make for an array whose pages are better taken as they are
// first written: one filled from its start while other memory is freed.
func MakeLazy[T Int](a *Arena, n int) []T {
	return makeArray[T](a, n, false)
}

func makeArray[T Int](a *Arena, n int, populate bool) []T {
	size := n * int(unsafe.Sizeof(T(0)))
	if size >= minMapped {
		if b := mapBytes(size, populate); b != nil {
			a.mapped = append(a.mapped, b)
			return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n)
		}
	}
	return make([]T, n)
}

// Free unmaps s if a mapped it; a Go heap array is left to the collector.
// s must not be used afterwards.
func Free[T Int](a *Arena, s []T) {
	if cap(s) == 0 {
		return
	}
	p := unsafe.Pointer(unsafe.SliceData(s))
	for i, b := range a.mapped {
		if p == unsafe.Pointer(unsafe.SliceData(b)) {
			unmapBytes(b)
			a.mapped = append(a.mapped[:i], a.mapped[i+1:]...)
			return
		}
	}
}

// Release unmaps every array still mapped.
func (a *Arena) Release() {
	for _, b := range a.mapped {
		unmapBytes(b)
	}
	a.mapped = nil
}
