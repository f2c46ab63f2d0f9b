package dump

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/dustin/go-humanize"
)

// This file opens a live process as a Process: its threads are stopped
// (live_ptrace.go), its mappings and memory copied into unlinked sparse
// temporary files laid out as an ELF core (live_core.go; the pages that hold
// data, by a few workers each writing a file of its own: live_copy.go,
// live_pages.go), the threads let go, and the files mmapped as one image
// and read like any core. Copying once while the
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
	return li.open(ctx, pid, opts, live)
}

// open copies the process into a temporary image and opens that.
func (li *liveImage) open(ctx context.Context, pid int, opts Options, live LiveOptions) (*Process, error) {
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
		if li.copied != nil {
			li.copied.discard()
		}
		return nil, err
	}
	data, byPart, err := sf.finishWith(-1, li.copied.parts, li.copied.pieces)
	if err != nil {
		return nil, err
	}
	p, err := fromImage(fmt.Sprintf("pid %d", pid), data, src, notes, opts)
	if err == nil {
		p.split = byPart
	}
	return p, err
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
	pm := openPageMap(pid, li.scan)
	defer pm.close()
	if li.maps, err = readMappings(pid, pm); err != nil {
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
	lc, err := copyMemory(ctx, pid, segs, sf, pm)
	if err != nil {
		return nil, err
	}
	li.copied = lc
	src.Copied = int64(lc.read - lc.lost)
	var notes []string
	if lc.lost > 0 {
		notes = append(notes, fmt.Sprintf("%s of pid %d's memory could not be read (left as zeros, as the kernel does in a core)", humanize.IBytes(lc.lost), pid))
	}
	return notes, nil
}
