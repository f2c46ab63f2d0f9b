package dump

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/dustin/go-humanize"
	"golang.org/x/sys/unix"
)

// This file opens a live process as a Process: its threads are stopped
// (live_ptrace.go), its mappings and memory copied into an unlinked sparse
// temporary file laid out as an ELF core (live_core.go), the threads let go,
// and the file mmapped and read like any core. Copying once while the
// process is stopped, rather than reading it on demand, keeps the pause
// short and bounded, gives a consistent image, and lets every reader above
// this package use zero-copy slices of mmapped memory exactly as on a core.
// The process is only ever read, never written.

// LiveOptions control how a live process is read.
type LiveOptions struct {
	// NoPause reads the memory without stopping the process: it is not
	// interrupted at all, but what is read may be inconsistent, and no
	// thread registers are known.
	NoPause bool
}

// OpenPID reads the live process pid. Unless live.NoPause is set, the
// process is stopped while its memory is copied and resumed before OpenPID
// returns, whether it succeeds, fails or ctx is cancelled; p.Source.Paused
// says for how long.
func OpenPID(ctx context.Context, pid int, opts Options, live LiveOptions) (*Process, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("no process with pid %d", pid)
	}
	if pid == os.Getpid() {
		return nil, fmt.Errorf("pid %d is heapsift itself", pid)
	}
	li := &liveImage{}
	switch runtime.GOARCH {
	case "amd64":
		li.arch = ArchAMD64
	case "arm64":
		li.arch = ArchARM64
	default:
		return nil, fmt.Errorf("reading live processes is supported on amd64 and arm64, not %s", runtime.GOARCH)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
		return nil, procError(pid, err)
	}
	sf, err := newSparseFile(opts.TempDir)
	if err != nil {
		return nil, err
	}
	src := Source{Kind: "pid", PID: pid, NoPause: live.NoPause}
	var notes []string
	if live.NoPause {
		notes, err = li.snapshot(ctx, pid, sf, &src)
		notes = append(notes, fmt.Sprintf("pid %d was read without pausing it (--no-pause): its memory changed during the read, so objects and counts may be inconsistent, and thread registers are unknown", pid))
	} else {
		notes, err = li.pausedSnapshot(ctx, pid, sf, &src)
	}
	if err != nil {
		sf.discard()
		return nil, err
	}
	data, err := sf.finish(-1)
	if err != nil {
		return nil, err
	}
	return fromImage(fmt.Sprintf("pid %d", pid), data, src, notes, opts)
}

// pausedSnapshot stops the process, copies it and lets it go on, on one
// OS thread as ptrace demands. The process is resumed on every path out.
func (li *liveImage) pausedSnapshot(ctx context.Context, pid int, sf *sparseFile, src *Source) (notes []string, err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	s := &stopper{pid: pid}
	start := time.Now()
	defer func() {
		derr := s.detachAll()
		src.Paused = time.Since(start)
		if err == nil && derr != nil {
			err = derr
		}
	}()
	if err := s.stopAll(); err != nil {
		return nil, err
	}
	s.readRegs(li.arch)
	li.threads = s.threads
	if err := li.checkRegs(); err != nil {
		return nil, fmt.Errorf("pid %d: %w", pid, err)
	}
	return li.snapshot(ctx, pid, sf, src)
}

// snapshot reads the process's identity and mappings and copies its
// memory into sf.
func (li *liveImage) snapshot(ctx context.Context, pid int, sf *sparseFile, src *Source) ([]string, error) {
	var err error
	if li.info, err = readProcInfo(pid); err != nil {
		return nil, err
	}
	if li.maps, err = readSmaps(pid); err != nil {
		return nil, err
	}
	if li.auxv, err = os.ReadFile(fmt.Sprintf("/proc/%d/auxv", pid)); err != nil {
		return nil, procError(pid, err)
	}
	head, segs, size := li.layout()
	if _, err := sf.WriteAt(head, 0); err != nil {
		return nil, err
	}
	sf.size = int64(size)
	lost, err := copyMemory(ctx, pid, segs, sf)
	if err != nil {
		return nil, err
	}
	for _, s := range segs {
		src.Copied += int64(s.filesz)
	}
	src.Copied -= int64(lost)
	var notes []string
	if lost > 0 {
		notes = append(notes, fmt.Sprintf("%s of pid %d's memory could not be read (left as zeros, as the kernel does in a core)", humanize.IBytes(lost), pid))
	}
	return notes, nil
}

// chunk is a piece of one mapping to copy.
type chunk struct {
	seg      loadSeg
	from, to uint64 // offsets in the mapping
}

// copyChunk is the most one worker copies at a time.
const copyChunk = 4 << 20

// copyMemory copies every segment's bytes from the process into the image,
// in chunks spread over a few workers (process_vm_readv needs no ptrace
// stop from the calling thread, so any thread may read). It returns how
// many bytes could not be read, not counting the kernel's special
// mappings.
func copyMemory(ctx context.Context, pid int, segs []loadSeg, sf *sparseFile) (uint64, error) {
	jobs := make(chan chunk)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		lost  uint64
		first error
	)
	for w := 0; w < min(runtime.NumCPU(), 4); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, copyChunk)
			for c := range jobs {
				l, err := copyRange(ctx, pid, c, sf, buf)
				mu.Lock()
				if !c.seg.m.special() {
					lost += l
				}
				if err != nil && first == nil {
					first = err
					cancel()
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, s := range segs {
		for from := uint64(0); from < s.filesz; from += copyChunk {
			select {
			case jobs <- chunk{s, from, min(from+copyChunk, s.filesz)}:
			case <-ctx.Done():
				break feed
			}
		}
	}
	close(jobs)
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = fmt.Errorf("reading pid %d: %w", pid, context.Cause(ctx))
	}
	return lost, first
}

// copyRange copies one chunk of a mapping from the process into the image,
// returning how many bytes could not be read.
func copyRange(ctx context.Context, pid int, c chunk, sf *sparseFile, buf []byte) (lost uint64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("reading pid %d: %w", pid, err)
	}
	start := uint64(c.seg.m.Start)
	for done := c.from; done < c.to; {
		want := min(uint64(len(buf)), c.to-done)
		n, err := readRemote(pid, buf[:want], start+done)
		if n > 0 {
			if _, werr := sf.WriteAt(buf[:n], int64(c.seg.off+done)); werr != nil {
				return lost, werr
			}
			done += uint64(n)
			continue
		}
		switch {
		case errors.Is(err, syscall.EPERM):
			return lost, fmt.Errorf("reading pid %d's memory: %w", pid, permissionHint(pid, err))
		case errors.Is(err, syscall.ESRCH):
			return lost, fmt.Errorf("pid %d exited while it was read", pid)
		}
		// An unreadable page (EFAULT, EIO): skip it.
		skip := min(pageSize-(start+done)%pageSize, c.to-done)
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
