package offheap

import "syscall"

// madvHugePage is MADV_HUGEPAGE, which package syscall does not name.
const madvHugePage = 14

// mapBytes maps size bytes of zeroed anonymous memory with huge pages
// advised, or returns nil if the kernel refuses.
func mapBytes(size int) []byte {
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil
	}
	_ = syscall.Madvise(b, madvHugePage) // a hint: ignored if refused
	return b
}

func unmapBytes(b []byte) { _ = syscall.Munmap(b) }
