package dump

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
)

// hostArch is the architecture OpenPID reads live processes as.
func hostArch(t *testing.T) Arch {
	switch runtime.GOARCH {
	case "amd64":
		return ArchAMD64
	case "arm64":
		return ArchARM64
	}
	t.Skipf("no live processes on %s", runtime.GOARCH)
	return ""
}

// presentPages returns, for each of n pages from addr in process pid,
// whether it has a page table entry (present or swapped out).
func presentPages(t *testing.T, pid int, addr Address, n int) []bool {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/pagemap", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 8*n)
	if _, err := f.ReadAt(b, int64(addr)/pageSize*8); err != nil {
		t.Fatal(err)
	}
	out := make([]bool, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint64(b[8*i:])&(pmPresent|pmSwapped) != 0
	}
	return out
}

// TestDataRuns: each way of reading page tables finds the helper's sparse
// pages as it should. PAGEMAP_SCAN leaves out the pages never touched and
// those the kernel maps its zero page at; pagemap's entries leave out only
// the first; with no page tables everything is data.
func TestDataRuns(t *testing.T) {
	h := startHelperProc(t, "plain")
	m := &procMapping{Start: h.pages, End: h.pages + sparsePages*pageSize}
	from, to := uint64(m.Start), uint64(m.End)
	for _, c := range []struct {
		name string
		how  scanHow
		keep func(page int) bool
	}{
		{"PAGEMAP_SCAN", scanIoctl, func(i int) bool { return i%3 == 0 }},
		{"pagemap", scanRead, func(i int) bool { return i%3 != 2 }},
		{"none", scanNone, func(int) bool { return true }},
	} {
		t.Run(c.name, func(t *testing.T) {
			pm := openPageMap(h.pid, c.how)
			defer pm.close()
			runs := pm.dataRuns(m, from, to, &pageScratch{}, nil)
			if got := scanHow(pm.how.Load()); got != c.how {
				t.Skipf("this kernel fell back from %d to %d", c.how, got)
			}
			var want []span
			for i := 0; i < sparsePages; i++ {
				page := from + uint64(i)*pageSize
				switch {
				case !c.keep(i):
				case len(want) > 0 && want[len(want)-1].to == page:
					want[len(want)-1].to += pageSize
				default:
					want = append(want, span{page, page + pageSize})
				}
			}
			if fmt.Sprint(runs) != fmt.Sprint(want) {
				t.Errorf("runs %x, want %x", runs, want)
			}
			// A file mapping is all data: its pages without an entry are
			// in the file.
			fm := *m
			fm.Inode, fm.Path = 7, "/some/file"
			if runs := pm.dataRuns(&fm, from, to, &pageScratch{}, nil); len(runs) != 1 || runs[0] != (span{from, to}) {
				t.Errorf("file mapping: runs %x", runs)
			}
		})
	}
}

// TestOpenPIDSparsePages: whichever way page tables are read, the image
// holds the pages the helper wrote and zeros for the others, and the
// pages it never touched are not read (they stay without a page table
// entry, where reading them would have the kernel map its zero page).
func TestOpenPIDSparsePages(t *testing.T) {
	h := startHelperProc(t, "plain")
	arch := hostArch(t)
	for _, c := range []struct {
		name string
		how  scanHow
	}{{"PAGEMAP_SCAN", scanIoctl}, {"pagemap", scanRead}, {"none", scanNone}} { // none last: it faults pages in
		t.Run(c.name, func(t *testing.T) {
			tmp := t.TempDir()
			li := &liveImage{arch: arch, scan: c.how}
			p, err := li.open(context.Background(), h.pid, Options{InputOptions: InputOptions{TempDir: tmp}}, LiveOptions{})
			if err != nil {
				t.Fatal(err)
			}
			assertRunning(t, h.pid)
			got, err := p.Slice(h.pages, sparsePages*pageSize)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]byte, sparsePages*pageSize)
			for i := 0; i < sparsePages; i += 3 {
				want[i*pageSize], want[(i+1)*pageSize-1] = byte(i+1), byte(i+1)
			}
			for i := 0; i < sparsePages; i++ {
				if g, w := got[i*pageSize:(i+1)*pageSize], want[i*pageSize:(i+1)*pageSize]; string(g) != string(w) {
					t.Errorf("page %d: starts %x, ends %x; want %x, %x", i, g[0], g[pageSize-1], w[0], w[pageSize-1])
				}
			}
			if pat, err := p.Slice(h.pattern, 8<<20); err != nil || string(pat) != string(helperPattern()) {
				t.Errorf("the pattern at %v does not read back (err %v)", h.pattern, err)
			}
			if ws := p.Warnings(); len(ws) != 0 {
				t.Errorf("warnings: %v", ws)
			}
			p.Close()
			if left := tempFilesLeft(t, tmp); len(left) != 0 {
				t.Errorf("temporary files left: %q", left)
			}
			if c.how == scanNone {
				return
			}
			for i, present := range presentPages(t, h.pid, h.pages, sparsePages) {
				if i%3 == 2 && present {
					t.Errorf("page %d, never touched by the process, was faulted in by the read", i)
				}
			}
		})
	}
}

// TestOpenPIDUnreadablePages: pages that cannot be read (a private
// mapping of a file past its end) are left as zeros and counted in a
// warning, and the pages around them are read.
func TestOpenPIDUnreadablePages(t *testing.T) {
	h := startHelperProc(t, "past-eof")
	p, err := OpenPID(context.Background(), h.pid, Options{InputOptions: InputOptions{TempDir: t.TempDir()}}, LiveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var m *Mapping
	for _, mm := range p.Mappings() {
		if mm.End-mm.Start == pastEOFPages*pageSize && strings.Contains(mm.File, "heapsift-eof-") {
			m = mm
		}
	}
	if m == nil {
		t.Fatal("the helper's mapping of a file past its end is not among the mappings")
	}
	b, err := p.Slice(m.Start, pastEOFPages*pageSize)
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != 0xee || b[pageSize-1] != 0xee || strings.Trim(string(b[pageSize:]), "\x00") != "" {
		t.Errorf("the file's page reads %x...%x, the rest is not all zeros", b[0], b[pageSize-1])
	}
	want := fmt.Sprintf("12 KiB of pid %d's memory could not be read", h.pid)
	if ws := p.Warnings(); len(ws) != 1 || !strings.Contains(ws[0].Message, want) {
		t.Errorf("warnings %v, want one saying %q", ws, want)
	}
	if got, err := p.Slice(h.pattern, 8<<20); err != nil || string(got) != string(helperPattern()) {
		t.Errorf("the pattern does not read back (err %v)", err)
	}
}

// TestCopyJobs: the jobs cover every byte of every segment once, in image
// order, in chunks of at most copyChunk within one mapping, each job
// spanning at most its span; and however many mappings a process has, the
// jobs (and so the image's mappings) stay few.
func TestCopyJobs(t *testing.T) {
	li := &liveImage{arch: ArchAMD64}
	start := Address(0x10000000)
	for i, size := range []uint64{5 * pageSize, 0, 9 << 20, pageSize, 20 << 20, 3 * pageSize} {
		li.maps = append(li.maps, procMapping{Start: start, End: start + Address(size), Perm: PermRead})
		if i == 1 { // no access: nothing to copy
			li.maps[i].End = start + pageSize
			li.maps[i].Perm = 0
		}
		start = li.maps[i].End + pageSize
	}
	_, segs, _ := li.layout()
	jobs := copyJobs(segs, 16<<20)
	covered := map[*procMapping]uint64{}
	last := uint64(0)
	for _, j := range jobs {
		if j.to-j.from > 16<<20 || j.from < last || j.from%pageSize != 0 {
			t.Errorf("job [%#x, %#x) after %#x", j.from, j.to, last)
		}
		last = j.to
		for _, c := range j.chunks {
			if c.to-c.from > copyChunk || c.from != covered[c.seg.m] || c.seg.off+c.from < j.from || c.seg.off+c.to > j.to {
				t.Errorf("chunk [%#x, %#x) of mapping %#x in job [%#x, %#x)", c.from, c.to, c.seg.m.Start, j.from, j.to)
			}
			covered[c.seg.m] = c.to
		}
	}
	for _, s := range segs {
		if covered[s.m] != s.filesz {
			t.Errorf("mapping %#x: %#x of %#x bytes in jobs", s.m.Start, covered[s.m], s.filesz)
		}
	}
	if len(jobs) != 3 {
		t.Errorf("%d jobs, want 3 (5 pages, 9 MiB, a page and 4 MiB; 16 MiB; 3 pages)", len(jobs))
	}

	// 100,000 one-page mappings (file mappings of which a core keeps the
	// first page, say): a few jobs, not one per mapping.
	li.maps = li.maps[:0]
	for i := 0; i < 100000; i++ {
		a := Address(0x10000000 + 2*i*pageSize)
		li.maps = append(li.maps, procMapping{Start: a, End: a + pageSize, Perm: PermRead})
	}
	_, segs, size := li.layout()
	if jobs := copyJobs(segs, jobSpan(size)); len(jobs) > maxJobs || len(jobs) > 30 {
		t.Errorf("%d jobs for 100,000 one-page mappings", len(jobs))
	}
	if got := jobSpan(64 << 30); got != 16<<20 {
		t.Errorf("job span for 64 GiB: %#x", got)
	}
	if got := jobSpan(1 << 40); got*maxJobs < 1<<40 {
		t.Errorf("job span for 1 TiB: %#x, over %d jobs", got, maxJobs)
	}
}

// TestOpenPIDModifiedFileMappings: a private file mapping the process
// wrote to is copied whole, with what it wrote; of one it only read, only
// the first page is; whether the page tables say which is which (PAGEMAP_SCAN)
// or smaps does.
func TestOpenPIDModifiedFileMappings(t *testing.T) {
	h := startHelperProc(t, "cow")
	arch := hostArch(t)
	for _, c := range []struct {
		name string
		how  scanHow
	}{{"PAGEMAP_SCAN", scanIoctl}, {"smaps", scanRead}} {
		t.Run(c.name, func(t *testing.T) {
			pm := openPageMap(h.pid, c.how)
			maps, err := readMappings(h.pid, pm)
			pm.close()
			if err != nil {
				t.Fatal(err)
			}
			modified := map[Address]bool{}
			for _, m := range maps {
				modified[m.Start] = m.Modified
			}
			if a, b := modified[h.cow[0]], modified[h.cow[1]]; !a || b {
				t.Errorf("modified: written mapping %v, read one %v; want true, false", a, b)
			}
			li := &liveImage{arch: arch, scan: c.how}
			p, err := li.open(context.Background(), h.pid, Options{InputOptions: InputOptions{TempDir: t.TempDir()}}, LiveOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if b, err := p.Slice(h.cow[0]+pageSize, pageSize); err != nil || b[0] != 0xbb || b[pageSize-1] != 0xbb {
				t.Errorf("the written mapping's second page: err %v, want 0xbb bytes", err)
			}
			// Of the other, only the first page (as a core holds it), then
			// the file's bytes if the file is read, or none.
			if b, err := p.Slice(h.cow[1], pageSize); err != nil || b[0] != 0xaa {
				t.Errorf("the read mapping's first page: err %v, want 0xaa bytes", err)
			}
			if b, err := p.Slice(h.cow[1]+pageSize, pageSize); err == nil && b[0] != 0xaa {
				t.Errorf("the read mapping's second page reads %x", b[0])
			}
		})
	}
}
