package dump

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// This file finds, from a live process's page tables, which pages of a
// private anonymous mapping hold data, so that the copy reads only those.
// A page the process never touched has no page table entry: it reads as
// zeros, and the kernel leaves it out of a core. Reading it anyway would
// cost a fault in the target (which then maps the shared zero page there),
// a copy of zeros and a comparison; in a Go heap about half the pages are
// such, interleaved with the others every few pages. The page tables are
// read with the PAGEMAP_SCAN ioctl (Linux 6.7), which returns the runs of
// pages present or swapped out and not the zero page, or else from
// /proc/PID/pagemap's present and swapped bits, eight bytes a page. When
// neither can be read, every page is copied, as before.
//
// Only private anonymous mappings are scanned: in a mapping of a file or of
// shared memory a page without an entry still has contents (in the file,
// or mapped by another process).

// scanHow is how page tables are read.
type scanHow int32

const (
	scanIoctl scanHow = iota // PAGEMAP_SCAN
	scanRead                 // /proc/PID/pagemap entries
	scanNone                 // no page tables: copy everything
)

// PAGEMAP_SCAN, from linux/fs.h.
const (
	pagemapScan   = 0xc0606610 // _IOWR('f', 16, struct pm_scan_arg)
	pageIsFile    = 1 << 2
	pageIsPresent = 1 << 3
	pageIsSwapped = 1 << 4
	pageIsPFNZero = 1 << 5
)

// pmScanArg is struct pm_scan_arg.
type pmScanArg struct {
	size, flags, start, end, walkEnd, vec, vecLen, maxPages       uint64
	categoryInverted, categoryMask, categoryAnyofMask, returnMask uint64
}

// pageRegion is struct page_region.
type pageRegion struct{ start, end, categories uint64 }

// pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst).
const (
	pmPresent = 1 << 63
	pmSwapped = 1 << 62
)

// span is a range of addresses, [from, to).
type span struct{ from, to uint64 }

// pageMap reads one process's page tables. It is shared by the copy's
// workers: neither way of reading uses the file's offset.
type pageMap struct {
	f   *os.File     // /proc/PID/pagemap, nil when it could not be opened
	how atomic.Int32 // a scanHow; falls back when the kernel refuses one
}

// openPageMap opens pid's page tables, to be read first as how says (a
// kernel that refuses makes it fall back), or returns a pageMap that
// reports every page as data when they cannot be read.
func openPageMap(pid int, how scanHow) *pageMap {
	pm := &pageMap{}
	pm.how.Store(int32(how))
	f, err := os.Open(fmt.Sprintf("/proc/%d/pagemap", pid))
	if err != nil {
		pm.how.Store(int32(scanNone))
		return pm
	}
	pm.f = f
	return pm
}

func (pm *pageMap) close() {
	if pm.f != nil {
		pm.f.Close()
	}
}

// scannable reports whether m's pages without an entry are zeros: a
// private anonymous mapping (the heap, a stack, a named one), not a
// kernel's special mapping.
func scannable(m *procMapping) bool {
	if m.Inode != 0 || m.Shared {
		return false
	}
	return m.Path == "" || m.Path == "[heap]" || strings.HasPrefix(m.Path, "[stack") || strings.HasPrefix(m.Path, "[anon:")
}

// pageScratch is one worker's buffers for reading page tables.
type pageScratch struct {
	regions []pageRegion
	entries []byte
}

// dataRuns appends to out the runs of [from, to), a page-aligned part of
// mapping m, that may hold data: all of it unless m is scannable and its
// page tables can be read.
func (pm *pageMap) dataRuns(m *procMapping, from, to uint64, ps *pageScratch, out []span) []span {
	if !scannable(m) {
		return append(out, span{from, to})
	}
	base := len(out)
	for {
		how := scanHow(pm.how.Load())
		var runs []span
		var err error
		switch how {
		case scanIoctl:
			runs, err = pm.scanIoctl(from, to, ps, out)
		case scanRead:
			runs, err = pm.scanEntries(from, to, ps, out)
		default:
			return append(out, span{from, to})
		}
		if err == nil {
			return runs
		}
		out = runs[:base]
		// This kernel cannot (an old one, or a restricted pagemap): try
		// the next way, for this range and the rest.
		pm.how.CompareAndSwap(int32(how), int32(how+1))
	}
}

// modified reports whether file mapping m holds anonymous pages (copies
// the process made of the file's pages, present or swapped out), and
// whether it could tell: only PAGEMAP_SCAN can, stopping at the first.
func (pm *pageMap) modified(m *procMapping) (modified, ok bool) {
	if scanHow(pm.how.Load()) != scanIoctl {
		return false, false
	}
	var r pageRegion
	arg := pmScanArg{
		size: uint64(unsafe.Sizeof(pmScanArg{})), start: uint64(m.Start), end: uint64(m.End),
		vec: uint64(uintptr(unsafe.Pointer(&r))), vecLen: 1, maxPages: 1,
		categoryInverted: pageIsFile, categoryMask: pageIsFile,
		categoryAnyofMask: pageIsPresent | pageIsSwapped, returnMask: pageIsPresent | pageIsSwapped,
	}
	n, _, errno := unix.Syscall(unix.SYS_IOCTL, pm.f.Fd(), pagemapScan, uintptr(unsafe.Pointer(&arg)))
	runtime.KeepAlive(&r)
	if errno != 0 {
		pm.how.CompareAndSwap(int32(scanIoctl), int32(scanRead))
		return false, false
	}
	return n > 0, true
}

// scanIoctl asks PAGEMAP_SCAN for the pages present or swapped out that
// are not the zero page.
func (pm *pageMap) scanIoctl(from, to uint64, ps *pageScratch, out []span) ([]span, error) {
	if ps.regions == nil {
		ps.regions = make([]pageRegion, 512)
	}
	for from < to {
		arg := pmScanArg{
			size: uint64(unsafe.Sizeof(pmScanArg{})), start: from, end: to,
			vec: uint64(uintptr(unsafe.Pointer(&ps.regions[0]))), vecLen: uint64(len(ps.regions)),
			categoryInverted: pageIsPFNZero, categoryMask: pageIsPFNZero,
			categoryAnyofMask: pageIsPresent | pageIsSwapped, returnMask: pageIsPresent | pageIsSwapped,
		}
		n, _, errno := unix.Syscall(unix.SYS_IOCTL, pm.f.Fd(), pagemapScan, uintptr(unsafe.Pointer(&arg)))
		runtime.KeepAlive(ps.regions)
		if errno != 0 {
			return out, errno
		}
		if n > uintptr(len(ps.regions)) || arg.walkEnd <= from || arg.walkEnd > to {
			return out, fmt.Errorf("PAGEMAP_SCAN: %d regions, stopped at %#x in [%#x, %#x)", n, arg.walkEnd, from, to)
		}
		for _, r := range ps.regions[:n] {
			if len(out) > 0 && out[len(out)-1].to == r.start {
				out[len(out)-1].to = r.end
			} else {
				out = append(out, span{r.start, r.end})
			}
		}
		from = arg.walkEnd
	}
	return out, nil
}

// scanEntries reads the pagemap entries of [from, to): a page is data
// when it is present or swapped out (a present zero page is copied and
// then found to be zeros).
func (pm *pageMap) scanEntries(from, to uint64, ps *pageScratch, out []span) ([]span, error) {
	const batch = 1024 // pages read at a time
	if ps.entries == nil {
		ps.entries = make([]byte, 8*batch)
	}
	for at := from; at < to; {
		n := min(batch, (to-at)/pageSize)
		b := ps.entries[:8*n]
		if _, err := pm.f.ReadAt(b, int64(at/pageSize*8)); err != nil {
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			return out, err
		}
		for i := uint64(0); i < n; i++ {
			if binary.LittleEndian.Uint64(b[8*i:])&(pmPresent|pmSwapped) == 0 {
				continue
			}
			page := at + i*pageSize
			if len(out) > 0 && out[len(out)-1].to == page {
				out[len(out)-1].to += pageSize
			} else {
				out = append(out, span{page, page + pageSize})
			}
		}
		at += n * pageSize
	}
	return out, nil
}
