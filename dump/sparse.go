package dump

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// This file holds the temporary file behind every image that is not a file
// on disk already: a decompressed core, standard input, a live process's
// memory. It is created in the temporary directory and unlinked at once, so
// that it never outlives heapsift however heapsift ends (Ctrl-C, SIGKILL):
// the kernel frees it when the last descriptor or mapping goes. Runs of zero
// pages are not written, so they stay holes and take no space. The finished
// file is mmapped read-only like any core.

// pageSize is the granularity of holes in the temporary file.
const pageSize = 4096

// sparseFile is a temporary file written at offsets, zero pages skipped.
type sparseFile struct {
	f    *os.File
	dir  string
	zero []byte // one page of zeros, to compare against

	mu   sync.Mutex // WriteAt may be called concurrently
	size int64      // the highest offset written (or declared) so far
	// data counts the bytes actually written (not holes), in this file
	// and its siblings, to say how much a full disk took.
	data *atomic.Int64
}

// newSparseFile creates an unlinked temporary file in dir ("" means
// $TMPDIR).
func newSparseFile(dir string) (*sparseFile, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	f, err := createUnlinked(dir)
	if err != nil {
		return nil, err
	}
	return &sparseFile{f: f, dir: dir, zero: make([]byte, pageSize), data: new(atomic.Int64)}, nil
}

// createUnlinked creates a file in dir that has no name: with O_TMPFILE
// it never has one, so that no file is left behind even if heapsift is
// killed (SIGKILL) while making it. Where the file system cannot, the file
// is created with a name and unlinked at once.
func createUnlinked(dir string) (*os.File, error) {
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err == nil {
		return os.NewFile(uintptr(fd), filepath.Join(dir, "(unnamed heapsift file)")), nil
	}
	f, err := os.CreateTemp(dir, "heapsift-*.core")
	if err != nil {
		return nil, fmt.Errorf("creating a temporary file: %w", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("unlinking temporary file %s: %w", f.Name(), err)
	}
	return f, nil
}

// sibling creates another temporary file in s's directory, counted with s.
func (s *sparseFile) sibling() (*sparseFile, error) {
	t, err := newSparseFile(s.dir)
	if err != nil {
		return nil, err
	}
	t.data = s.data
	return t, nil
}

// WriteAt writes b at off, leaving page-aligned runs of zeros as holes.
func (s *sparseFile) WriteAt(b []byte, off int64) (int, error) {
	s.mu.Lock()
	s.size = max(s.size, off+int64(len(b)))
	s.mu.Unlock()
	i := 0
	for i < len(b) {
		// Skip zero pages (measured from off, which callers keep aligned).
		for i+pageSize <= len(b) && bytes.Equal(b[i:i+pageSize], s.zero) {
			i += pageSize
		}
		j := i
		for j < len(b) && (j+pageSize > len(b) || !bytes.Equal(b[j:j+pageSize], s.zero)) {
			j = min(j+pageSize, len(b))
		}
		if j > i {
			if _, err := s.f.WriteAt(b[i:j], off+int64(i)); err != nil {
				return i, s.spaceError(err)
			}
			s.data.Add(int64(j - i))
		}
		i = j
	}
	return len(b), nil
}

// spaceError explains a failed write, saying how much space was needed
// when the file system is full.
func (s *sparseFile) spaceError(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		var st syscall.Statfs_t
		free := "?"
		if syscall.Statfs(s.dir, &st) == nil {
			free = fmt.Sprintf("%d", uint64(st.Bavail)*uint64(st.Bsize))
		}
		return fmt.Errorf("the temporary directory %s is full after %d bytes of data (%s bytes free); set TMPDIR to a file system with more space: %w",
			s.dir, s.data.Load(), free, err)
	}
	return fmt.Errorf("writing the temporary file in %s: %w", s.dir, err)
}

// finish sets the file's length to size (or to the highest offset written
// when size is negative), maps it read-only and closes the descriptor. An
// empty file maps to nil. The mapping keeps the unlinked file alive until
// it is unmapped.
func (s *sparseFile) finish(size int64) ([]byte, error) {
	defer s.f.Close()
	if size < 0 {
		size = s.size
	}
	if err := s.f.Truncate(size); err != nil {
		return nil, s.spaceError(err)
	}
	if size == 0 {
		return nil, nil
	}
	if int64(int(size)) != size {
		return nil, fmt.Errorf("%d bytes is too large to map", size)
	}
	data, err := syscall.Mmap(int(s.f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mapping the temporary file: %w", err)
	}
	return data, nil
}

// piece is a part of an image, [off, off+n), that a sibling file holds at
// the same offsets.
type piece struct {
	part   int // in the list of siblings
	off, n uint64
}

// finishWith finishes s as finish does, then maps each piece of the
// image from the sibling that holds it, over s's mapping, and closes the
// siblings: the image is one mapping of several files, the whole of which
// one munmap releases. The pieces are page-aligned.
func (s *sparseFile) finishWith(size int64, parts []*sparseFile, pieces []piece) (data []byte, byPart [][][]byte, err error) {
	data, err = s.finish(size)
	defer func() {
		for _, p := range parts {
			p.discard()
		}
	}()
	if err != nil || len(pieces) == 0 {
		return data, nil, err
	}
	pieces = mergePieces(pieces)
	// A file's mapping past its end would fault: each sibling is as long
	// as the last piece it holds.
	ends := make([]uint64, len(parts))
	for _, p := range pieces {
		if p.off+p.n > uint64(len(data)) || p.off%pageSize != 0 || p.n%pageSize != 0 {
			syscall.Munmap(data)
			return nil, nil, fmt.Errorf("internal error: piece [%#x, %#x) of a %#x-byte image", p.off, p.off+p.n, len(data))
		}
		ends[p.part] = max(ends[p.part], p.off+p.n)
	}
	for i, p := range parts {
		if ends[i] > 0 {
			if err := p.f.Truncate(int64(ends[i])); err != nil {
				syscall.Munmap(data)
				return nil, nil, p.spaceError(err)
			}
		}
	}
	byPart = make([][][]byte, len(parts))
	for _, p := range pieces {
		byPart[p.part] = append(byPart[p.part], data[p.off:p.off+p.n])
		_, err := unix.MmapPtr(int(parts[p.part].f.Fd()), int64(p.off), unsafe.Pointer(&data[p.off]), uintptr(p.n),
			unix.PROT_READ, unix.MAP_SHARED|unix.MAP_FIXED)
		if err != nil {
			syscall.Munmap(data)
			return nil, nil, fmt.Errorf("mapping the temporary file: %w", err)
		}
	}
	return data, byPart, nil
}

// mergePieces sorts pieces by offset and joins those that follow one
// another in the same file, so that there are as few mappings as can be.
func mergePieces(pieces []piece) []piece {
	slices.SortFunc(pieces, func(a, b piece) int { return cmp.Compare(a.off, b.off) })
	out := pieces[:0]
	for _, p := range pieces {
		if k := len(out) - 1; k >= 0 && out[k].part == p.part && out[k].off+out[k].n == p.off {
			out[k].n += p.n
			continue
		}
		out = append(out, p)
	}
	return out
}

// discard drops the file without mapping it.
func (s *sparseFile) discard() { s.f.Close() }

// sparseWriter writes a stream into a sparseFile in large aligned blocks.
// The writes run in a goroutine of their own, so that producing the next
// block (decompressing it) and writing the last one overlap.
type sparseWriter struct {
	s      *sparseFile
	buf    []byte
	off    int64
	free   chan []byte
	full   chan block
	done   chan error
	failed atomic.Bool
}

// block is one buffer to write at off.
type block struct {
	b   []byte
	off int64
}

// writerBlocks is how many blocks of writerBlockSize are in flight.
const (
	writerBlocks    = 3
	writerBlockSize = 4 << 20
)

func newSparseWriter(s *sparseFile) *sparseWriter {
	w := &sparseWriter{s: s, free: make(chan []byte, writerBlocks), full: make(chan block, writerBlocks), done: make(chan error, 1)}
	for i := 0; i < writerBlocks; i++ {
		w.free <- make([]byte, 0, writerBlockSize)
	}
	w.buf = <-w.free
	go w.writeLoop()
	return w
}

func (w *sparseWriter) writeLoop() {
	var err error
	for b := range w.full {
		if err == nil {
			if _, e := w.s.WriteAt(b.b, b.off); e != nil {
				err = &writeError{e}
				w.failed.Store(true)
			}
		}
		w.free <- b.b[:0]
	}
	w.done <- err
}

// ReadFrom copies r to the file until EOF, reading straight into the
// blocks. It stops early when a write has failed (Close says why).
func (w *sparseWriter) ReadFrom(r io.Reader) (int64, error) {
	var n int64
	for !w.failed.Load() {
		if len(w.buf) == cap(w.buf) {
			w.send()
		}
		k, err := r.Read(w.buf[len(w.buf):cap(w.buf)])
		w.buf = w.buf[:len(w.buf)+k]
		n += int64(k)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (w *sparseWriter) send() {
	w.full <- block{w.buf, w.off}
	w.off += int64(len(w.buf))
	w.buf = <-w.free
}

// Close writes what is buffered, waits for every write and returns the
// first write error.
func (w *sparseWriter) Close() error {
	if len(w.buf) > 0 {
		w.send()
	}
	close(w.full)
	return <-w.done
}

// writeError marks a failure to write the temporary file, as opposed to
// one reading the input.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }
