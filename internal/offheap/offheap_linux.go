package offheap

import "syscall"

// mapBytes maps size bytes of zeroed anonymous memory, or returns nil if
// the kernel refuses. Huge pages are not asked for (retain's scratch
// does): these arrays are touched once, mostly in order, while the model
// is built, and on a machine whose memory is fragmented the kernel's
// compaction to make a huge page at each first touch cost more system time
// than the TLB misses it saved (measured on the CPython bench core).
func mapBytes(size int) []byte {
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil
	}
	return b
}

func unmapBytes(b []byte) { _ = syscall.Munmap(b) }
