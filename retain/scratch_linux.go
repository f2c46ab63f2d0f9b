package retain

import (
	"errors"
	"fmt"
	"os"
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

// mapFile maps size zeroed bytes of a new file in dir, shared, so that the
// kernel may write its pages out and drop them. The file is unlinked as
// soon as it is made and its blocks reserved up front, so that a full
// disk is an error here rather than a fault when a page is first written.
func mapFile(dir string, size int) ([]byte, error) {
	f, err := os.CreateTemp(dir, "heapsift-scratch-*")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := os.Remove(f.Name()); err != nil {
		return nil, err
	}
	if err := syscall.Fallocate(int(f.Fd()), 0, 0, int64(size)); err != nil {
		if !errors.Is(err, syscall.EOPNOTSUPP) {
			return nil, fmt.Errorf("reserving %d MiB: %w", size>>20, err)
		}
		if err := f.Truncate(int64(size)); err != nil {
			return nil, err
		}
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mapping %d MiB: %w", size>>20, err)
	}
	return b, nil
}

// inMemoryFS reports whether dir is on a file system kept in memory
// (tmpfs, ramfs): without swap, its pages cannot be written out, so
// scratch files there take as much memory as the arrays themselves.
func inMemoryFS(dir string) bool {
	const tmpfsMagic, ramfsMagic = 0x01021994, 0x858458f6
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return false
	}
	return st.Type == tmpfsMagic || st.Type == ramfsMagic
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
