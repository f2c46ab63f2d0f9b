package retain

import (
	"syscall"
	"unsafe"
)

// mapBytes maps size bytes of anonymous memory with huge pages advised,
// or returns nil if the kernel refuses.
func mapBytes(size int) []byte {
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil
	}
	_ = syscall.Madvise(b, madvHugePage) // a hint: ignored if refused
	return b
}

// madvHugePage is MADV_HUGEPAGE, which package syscall does not name.
const madvHugePage = 14

func unmapBytes(b []byte) { _ = syscall.Munmap(b) }

// bytesAsUint32s views mapped memory (page aligned, so aligned for any
// integer) as n uint32s.
func bytesAsUint32s(b []byte, n int) []uint32 {
	return unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

// bytesAsUint64s views mapped memory as n uint64s.
func bytesAsUint64s(b []byte, n int) []uint64 {
	return unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(b))), n)
}
