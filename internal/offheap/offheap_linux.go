package offheap

import "syscall"

// mapBytes maps size bytes of zeroed anonymous memory, or returns nil if
// the kernel refuses. The arrays handed out are written in full, so the
// mapping is populated at once (MAP_POPULATE): one call faults all its
// pages in instead of a trap at each page's first touch. Huge pages are
// not asked for (retain's scratch does): on a machine whose memory is
// fragmented, the kernel's compaction to make them cost more system time
// than the TLB misses they saved (measured on the CPython bench core).
func mapBytes(size int) []byte {
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE|syscall.MAP_POPULATE)
	if err != nil {
		return nil
	}
	return b
}

func unmapBytes(b []byte) { _ = syscall.Munmap(b) }
