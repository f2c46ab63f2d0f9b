package offheap

import "syscall"

// mapBytes maps size bytes of zeroed anonymous memory, or returns nil if
// the kernel refuses. With populate, all its pages are faulted in by the
// one call (MAP_POPULATE), instead of a trap at each page's first touch.
// Huge pages are not asked for (retain's scratch does): on a machine whose
// memory is fragmented, the kernel's compaction to make them cost more
// system time than the TLB misses they saved (measured on the CPython
// bench core).
func mapBytes(size int, populate bool) []byte {
	flags := syscall.MAP_ANON | syscall.MAP_PRIVATE
	if populate {
		flags |= syscall.MAP_POPULATE
	}
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, flags)
	if err != nil {
		return nil
	}
	return b
}

func unmapBytes(b []byte) { _ = syscall.Munmap(b) }
