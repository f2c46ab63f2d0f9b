package dump

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// This file copies a live process's memory into the image, while the
// process is stopped: a few workers take jobs (a few chunks of the
// mappings) in turn, find in each chunk the pages that hold data
// (live_pages.go), read them from the process with one process_vm_readv
// and write them, zero pages left out, into a scratch file of their own.
// One file per worker, since a file's buffered writes take its inode's
// lock: workers writing one file take turns, spinning while they wait.
// The image is then mapped as the file of headers with the range of each
// job mapped over it from its worker's file, at the same offsets
// (sparseFile.finishWith), so that above this package it is one mapped
// core.

// chunk is a piece of one mapping to copy.
type chunk struct {
	seg      loadSeg
	from, to uint64 // offsets in the mapping
}

// copyChunk is the most one worker copies at a time.
const copyChunk = 4 << 20

// maxIovecs is the most iovecs process_vm_readv takes (IOV_MAX).
const maxIovecs = 1024

// liveCopy is what copyMemory made: the workers' files and which pieces
// of the image each holds.
type liveCopy struct {
	parts  []*sparseFile
	pieces []piece
	read   uint64 // bytes read from the process (or tried)
	lost   uint64 // of those, bytes that could not be read, not counting the kernel's special mappings
}

// discard drops the workers' files.
func (lc *liveCopy) discard() {
	for _, p := range lc.parts {
		p.discard()
	}
}

// copyWorker is one worker's file and buffers.
type copyWorker struct {
	pid  int
	part int
	f    *sparseFile
	// allocate says to allocate the blocks a chunk's runs span before
	// writing them (see allocateFirst).
	allocate bool
	buf      []byte
	pages    pageScratch
	runs     []span
	local    []unix.Iovec
	remote   []unix.RemoteIovec
}

// copyMemory copies every segment's bytes from the process into files
// beside sf, the pages of each that pm says may hold data, in jobs spread
// over a few workers (process_vm_readv needs no ptrace stop from the
// calling thread, so any thread may read). On an error the files are
// dropped.
func copyMemory(ctx context.Context, pid int, segs []loadSeg, sf *sparseFile, pm *pageMap) (*liveCopy, error) {
	lc := &liveCopy{}
	workers := min(runtime.NumCPU(), 4)
	var size uint64
	for _, s := range segs {
		size += s.filesz
	}
	allocate := allocateFirst(sf.dir, size)
	for w := 0; w < workers; w++ {
		f, err := sf.sibling()
		if err != nil {
			lc.discard()
			return nil, err
		}
		lc.parts = append(lc.parts, f)
	}
	jobs := make(chan copyJob)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(cw *copyWorker) {
			defer wg.Done()
			for j := range jobs {
				var read, lost uint64
				var err error
				for _, c := range j.chunks {
					r, l, cerr := cw.copy(ctx, c, pm)
					read += r
					if !c.seg.m.special() {
						lost += l
					}
					if err = cerr; err != nil {
						break
					}
				}
				mu.Lock()
				lc.read += read
				lc.lost += lost
				if read > 0 {
					lc.pieces = append(lc.pieces, piece{part: cw.part, off: j.from, n: j.to - j.from})
				}
				if err != nil && first == nil {
					first = err
					cancel()
				}
				mu.Unlock()
			}
		}(&copyWorker{pid: pid, part: w, f: lc.parts[w], allocate: allocate, buf: make([]byte, copyChunk)})
	}
feed:
	for _, j := range copyJobs(segs, jobSpan(size)) {
		select {
		case jobs <- j:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = fmt.Errorf("reading pid %d: %w", pid, context.Cause(ctx))
	}
	if first != nil {
		lc.discard()
		return nil, first
	}
	return lc, nil
}

// copyJob is what one worker copies at a time: chunks of one or more
// mappings, which lie in [from, to) of the image. That range of the image
// is then mapped from the worker's file, so that there is one mapping
// per job however many mappings the process has.
type copyJob struct {
	chunks   []chunk
	from, to uint64
}

// maxJobs bounds the jobs, and so the mappings of the image: a process
// may have tens of thousands of mappings, and heapsift no more than
// vm.max_map_count (65530 by default) of its own.
const maxJobs = 4096

// jobSpan is how much of the image one job spans at most: 16 MiB, enough
// for the workers to take turns evenly, or more for an image of over
// maxJobs times that.
func jobSpan(size uint64) uint64 {
	return alignPage(max(16<<20, size/maxJobs))
}

// copyJobs cuts the segments into chunks of at most copyChunk bytes and
// groups them, in image order, into jobs spanning at most span bytes.
func copyJobs(segs []loadSeg, span uint64) []copyJob {
	var jobs []copyJob
	for _, s := range segs {
		for from := uint64(0); from < s.filesz; from += copyChunk {
			c := chunk{s, from, min(from+copyChunk, s.filesz)}
			at, end := s.off+c.from, s.off+c.to
			if k := len(jobs) - 1; k >= 0 && end-jobs[k].from <= span {
				jobs[k].chunks = append(jobs[k].chunks, c)
				jobs[k].to = end
				continue
			}
			jobs = append(jobs, copyJob{chunks: []chunk{c}, from: at, to: end})
		}
	}
	return jobs
}

// allocateFirst reports whether the workers should allocate the blocks
// each chunk's runs span in one call (fallocate) before writing them to a
// file in dir: ext4 and XFS then skip reserving and recording a delayed
// allocation block by block, which costs more than the copy itself (on
// the bench's bigheap the copy takes 0.55 s instead of 0.65 s). The gaps
// between runs are allocated too, so only where there is room for twice
// size, and only on those file systems: on tmpfs it would take memory.
func allocateFirst(dir string, size uint64) bool {
	var st unix.Statfs_t
	if unix.Statfs(dir, &st) != nil {
		return false
	}
	switch st.Type {
	case unix.EXT4_SUPER_MAGIC, unix.XFS_SUPER_MAGIC:
		return st.Bavail*uint64(st.Bsize) >= 2*size
	}
	return false
}

// copy copies the pages of chunk c that hold data into the worker's file,
// returning how many bytes it read and how many of those it could not.
func (w *copyWorker) copy(ctx context.Context, c chunk, pm *pageMap) (read, lost uint64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, fmt.Errorf("reading pid %d: %w", w.pid, err)
	}
	start := uint64(c.seg.m.Start)
	w.runs = pm.dataRuns(c.seg.m, start+c.from, start+c.to, &w.pages, w.runs[:0])
	if w.allocate && len(w.runs) > 0 {
		from, to := c.seg.off+w.runs[0].from-start, c.seg.off+w.runs[len(w.runs)-1].to-start
		unix.Fallocate(int(w.f.f.Fd()), 0, int64(from), int64(to-from)) // advice: on an error the writes allocate
	}
	// Read the runs into buf, one after the other, as many at a time as
	// one call takes; a partial read ends at a page that cannot be read,
	// and the run holding it is copied page by page.
	at := 0 // runs[:at] are copied
	for at < len(w.runs) {
		batch := w.runs[at:min(at+maxIovecs, len(w.runs))]
		n, _ := w.readRuns(batch) // an error is met again below
		used, done := uint64(0), 0
		for _, r := range batch {
			size := r.to - r.from
			if used+size > n {
				break
			}
			if _, err := w.f.WriteAt(w.buf[used:used+size], int64(c.seg.off+r.from-start)); err != nil {
				return read, lost, err
			}
			read += size
			used += size
			done++
		}
		at += done
		if done < len(batch) {
			r := w.runs[at]
			l, err := w.copySpan(r, c.seg.off+r.from-start)
			read += r.to - r.from
			lost += l
			if err != nil {
				return read, lost, err
			}
			at++
		}
	}
	return read, lost, nil
}

// readRuns reads runs, which fit in buf, into buf one after another and
// returns how many bytes it read.
func (w *copyWorker) readRuns(runs []span) (uint64, error) {
	w.remote = w.remote[:0]
	total := 0
	for _, r := range runs {
		w.remote = append(w.remote, unix.RemoteIovec{Base: uintptr(r.from), Len: int(r.to - r.from)})
		total += int(r.to - r.from)
	}
	w.local = append(w.local[:0], unix.Iovec{Base: &w.buf[0]})
	w.local[0].SetLen(total)
	for {
		n, err := unix.ProcessVMReadv(w.pid, w.local, w.remote, 0)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		return uint64(max(n, 0)), err
	}
}

// copySpan copies r, at image offset off, page by page past pages that
// cannot be read, returning how many bytes it could not read.
func (w *copyWorker) copySpan(r span, off uint64) (lost uint64, err error) {
	for done := uint64(0); done < r.to-r.from; {
		want := min(uint64(len(w.buf)), r.to-r.from-done)
		n, err := readRemote(w.pid, w.buf[:want], r.from+done)
		if n > 0 {
			if _, werr := w.f.WriteAt(w.buf[:n], int64(off+done)); werr != nil {
				return lost, werr
			}
			done += uint64(n)
			continue
		}
		switch {
		case errors.Is(err, syscall.EPERM):
			return lost, fmt.Errorf("reading pid %d's memory: %w", w.pid, permissionHint(w.pid, err))
		case errors.Is(err, syscall.ESRCH):
			return lost, fmt.Errorf("pid %d exited while it was read", w.pid)
		}
		// An unreadable page (EFAULT, EIO): skip it.
		skip := min(pageSize-(r.from+done)%pageSize, r.to-r.from-done)
		lost += skip
		done += skip
	}
	return lost, nil
}

// readRemote reads the process's memory at addr with process_vm_readv,
// which needs no ptrace stop and no file descriptor.
func readRemote(pid int, b []byte, addr uint64) (int, error) {
	local := []unix.Iovec{{Base: &b[0]}}
	local[0].SetLen(len(b))
	remote := []unix.RemoteIovec{{Base: uintptr(addr), Len: len(b)}}
	for {
		n, err := unix.ProcessVMReadv(pid, local, remote, 0)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		return n, err
	}
}
