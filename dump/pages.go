package dump

import (
	"os"
	"syscall"
	"unsafe"
)

// Giving back pages of the mapped core. A core of a million tiny notes or
// NT_FILE entries is read once, front to back; the pages already read
// would stay in heapsift's resident set (a mapped file's pages count in
// it) although nothing reads them again, making such a core cost its
// whole size. The passes over them hand the pages behind them back to
// the kernel (MADV_DONTNEED: the file's pages stay in the page cache, and
// a later read of them faults them in again, unchanged, since the core is
// mapped shared and read-only).

// dropChunk is how far a pass reads before giving pages back.
const dropChunk = 1 << 18

// pageDropper gives back the pages of one mapped core; the zero value
// (a core held in ordinary memory, as tests build them) does nothing.
type pageDropper struct {
	data []byte // the mapped core, nil when it is not mapped
}

// drop gives back the whole pages inside b, a part of the mapped core.
func (d pageDropper) drop(b []byte) {
	if r := d.pageRange(b); len(r) > 0 {
		syscall.Madvise(r, syscall.MADV_DONTNEED) // advice only: an error changes nothing
	}
}

// pageRange returns the whole pages inside b, a part of the mapped core,
// or nil.
func (d pageDropper) pageRange(b []byte) []byte {
	if len(d.data) == 0 || len(b) == 0 {
		return nil
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(d.data)))
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	if start < base || start-base > uintptr(len(d.data)) || uintptr(len(b)) > uintptr(len(d.data))-(start-base) {
		return nil // not part of the mapped core
	}
	page := uintptr(os.Getpagesize())
	from := (start - base + page - 1) &^ (page - 1)
	to := (start - base + uintptr(len(b))) &^ (page - 1)
	if to <= from {
		return nil
	}
	return d.data[from:to]
}

// smallPages asks that b, a part of the mapped core read once front to
// back, be mapped in small pages: the kernel may map a file's large
// folios whole (2 MiB at a time), so that a pass giving back what it has
// read would still hold megabytes. Only ranges of at least a few
// megabytes are worth it, which also bounds how many the kernel must
// keep apart.
func (d pageDropper) smallPages(b []byte) {
	if len(b) < 4<<20 {
		return
	}
	if r := d.pageRange(b); len(r) > 0 {
		syscall.Madvise(r, syscall.MADV_NOHUGEPAGE) // advice only
	}
}

// behind drops the pages of b that a pass has gone past, from *done to
// at, once that is a chunk's worth: call it with the pass's offset in b
// as it goes. (The last chunk stays: a small core's notes are all read
// again soon.)
func (d pageDropper) behind(b []byte, done *int, at int) {
	if at-*done >= dropChunk && at <= len(b) {
		d.drop(b[*done:at])
		*done = at
	}
}
