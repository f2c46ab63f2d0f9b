package dump

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
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
	data int64      // bytes actually written (not holes)
}

// newSparseFile creates an unlinked temporary file in dir ("" means
// $TMPDIR).
func newSparseFile(dir string) (*sparseFile, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	f, err := os.CreateTemp(dir, "heapsift-*.core")
	if err != nil {
		return nil, fmt.Errorf("creating a temporary file: %w", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("unlinking temporary file %s: %w", f.Name(), err)
	}
	return &sparseFile{f: f, dir: dir, zero: make([]byte, pageSize)}, nil
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
			s.mu.Lock()
			s.data += int64(j - i)
			s.mu.Unlock()
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
			s.dir, s.data, free, err)
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
