package gocore

import (
	"syscall"
	"unsafe"
)

// hugePage is the size of a transparent huge page on amd64 and arm64
// (with 4 KiB base pages).
const hugePage = 2 << 20

// makeHuge returns a zeroed slice of n Ts. A large one is placed on whole
// 2 MiB pages that the kernel is asked to back with huge pages
// (MADV_HUGEPAGE, for the "madvise" setting of transparent huge pages):
// the model's dense arrays are read at random, and with 4 KiB pages most
// such reads would also miss the TLB, which on a virtual machine costs a
// walk of two levels of page tables. It is only a hint; errors are
// ignored.
func makeHuge[T any](n int) []T {
	var zero T
	size := uintptr(n) * unsafe.Sizeof(zero)
	if size < hugePage/2 || unsafe.Sizeof(zero) == 0 {
		return make([]T, n)
	}
	// Room to start on a huge page and end on one.
	elem := unsafe.Sizeof(zero)
	s := make([]T, n+int((2*hugePage+elem-1)/elem))
	start := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	end := start + uintptr(len(s))*elem
	lo, hi := (start+hugePage-1)&^(hugePage-1), end&^(hugePage-1)
	region := unsafe.Add(unsafe.Pointer(unsafe.SliceData(s)), lo-start)
	_ = syscall.Madvise(unsafe.Slice((*byte)(region), hi-lo), 14 /* MADV_HUGEPAGE */)
	skip := int((lo - start + elem - 1) / elem)
	return s[skip : skip+n : skip+n]
}
