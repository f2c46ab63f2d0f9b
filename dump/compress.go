package dump

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/heapsift/heapsift/warn"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
)

// This file reads images that cannot be mmapped as they are: compressed
// cores (zstd as systemd-coredump and apport store them, lz4, xz, gzip),
// recognised by their content, and cores arriving on standard input or a
// pipe. Each is copied once into a sparse temporary file (see sparse.go),
// decompressing on the way, and that file is mmapped like any core.

// InputOptions say where images that are not files on disk come from and
// where their temporary copies go.
type InputOptions struct {
	// Stdin is read when the path is "-".
	Stdin io.Reader
	// TempDir holds the temporary copy; "" means $TMPDIR (or /tmp).
	TempDir string
}

// Source says where a Process's image came from.
type Source struct {
	// Kind is "core" (a file mmapped as it is), "raw", "compressed" (a
	// compressed file or stream, decompressed into a temporary file),
	// "stdin" (a stream copied into a temporary file) or "pid" (a live
	// process's memory copied into a temporary file).
	Kind string
	// Format is the compression: "zstd", "lz4", "xz" or "gzip".
	Format string
	// Copied is the number of bytes decompressed, or read from the process.
	Copied int64
	// PID, Paused and NoPause describe a live process: how long it was
	// stopped for the read, and whether it was read without stopping.
	PID     int
	Paused  time.Duration
	NoPause bool
}

// compression is one compressed format heapsift reads.
type compression struct {
	name  string
	magic []byte
	open  func(r io.Reader) (io.Reader, func(), error)
}

// compressions lists the formats by their magic numbers.
func compressions() []compression {
	plain := func(f func(io.Reader) (io.Reader, error)) func(io.Reader) (io.Reader, func(), error) {
		return func(r io.Reader) (io.Reader, func(), error) {
			d, err := f(r)
			return d, func() {}, err
		}
	}
	return []compression{
		{"zstd", []byte{0x28, 0xb5, 0x2f, 0xfd}, func(r io.Reader) (io.Reader, func(), error) { return openZstd(r) }},
		{"lz4", []byte{0x04, 0x22, 0x4d, 0x18}, plain(func(r io.Reader) (io.Reader, error) { return lz4.NewReader(r), nil })},
		{"lz4", []byte{0x02, 0x21, 0x4c, 0x18}, plain(func(r io.Reader) (io.Reader, error) { return lz4.NewReader(r), nil })},
		{"xz", []byte{0xfd, '7', 'z', 'X', 'Z', 0}, plain(func(r io.Reader) (io.Reader, error) { return xz.NewReader(r) })},
		{"gzip", []byte{0x1f, 0x8b}, plain(func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) })},
	}
}

// openZstd opens a zstd stream. The frame checksum is not verified:
// hashing doubles the decoding time, and damage still shows as a decoding
// error (and a cut-short stream always does).
func openZstd(r io.Reader, opts ...zstd.DOption) (io.Reader, func(), error) {
	d, err := zstd.NewReader(r, append([]zstd.DOption{zstd.WithDecoderMaxMemory(1 << 40), zstd.IgnoreChecksum(true)}, opts...)...)
	if err != nil {
		return nil, nil, err
	}
	return d, d.Close, nil
}

// detectCompression returns the format whose magic number starts head.
func detectCompression(head []byte) *compression {
	for _, c := range compressions() {
		if bytes.HasPrefix(head, c.magic) {
			return &c
		}
	}
	return nil
}

// openImage returns the bytes of the image at path, mmapped: the file
// itself when it is a plain file, otherwise a temporary copy of the
// decompressed or streamed data. Its notes are warnings about the copy (a
// compressed stream that ends early).
func openImage(path string, opts Options) (data []byte, src Source, notes []string, err error) {
	if path == "-" {
		if opts.Stdin == nil {
			return nil, src, nil, fmt.Errorf("-: no standard input to read")
		}
		return copyStream(opts.Stdin, opts)
	}
	pre, err := os.Stat(path)
	if err != nil {
		return nil, src, nil, err
	}
	switch mode := pre.Mode(); {
	case mode.IsDir():
		return nil, src, nil, fmt.Errorf("%s is a directory, not a core file", path)
	case mode&os.ModeNamedPipe != 0:
		return openPipe(path, opts)
	case !mode.IsRegular():
		// Devices and sockets never end (/dev/zero) or never answer.
		return nil, src, nil, fmt.Errorf("%s %s; heapsift reads regular files, pipes and standard input ('-')", path, DescribeFileMode(mode))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, src, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, src, nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, src, nil, fmt.Errorf("%s %s; heapsift reads regular files, pipes and standard input ('-')", path, DescribeFileMode(st.Mode()))
	}
	head := make([]byte, 8)
	n, _ := io.ReadFull(f, head)
	if c := detectCompression(head[:n]); c != nil {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, src, nil, err
		}
		return decompress(bufio.NewReaderSize(f, 1<<20), c, opts)
	}
	data, _, err = mmapFile(path)
	src.Kind = "core"
	if opts.Raw {
		src.Kind = "raw"
	}
	return data, src, nil, err
}

// copyStream copies a stream, decompressing it if it is compressed.
func copyStream(r io.Reader, opts Options) ([]byte, Source, []string, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	head, _ := br.Peek(8)
	if c := detectCompression(head); c != nil {
		data, src, notes, err := decompress(br, c, opts)
		src.Kind = "compressed"
		return data, src, notes, err
	}
	s, err := newSparseFile(opts.TempDir)
	if err != nil {
		return nil, Source{}, nil, err
	}
	w := newSparseWriter(s)
	n, err := w.ReadFrom(br)
	if cerr := w.Close(); cerr != nil {
		err = cerr
	}
	if err != nil {
		s.discard()
		return nil, Source{}, nil, fmt.Errorf("reading the core from the stream: %w", err)
	}
	data, err := s.finish(n)
	return data, Source{Kind: "stdin", Copied: n}, nil, err
}

// decompress decodes r into a temporary file. A stream that breaks off
// after some data is a note and partial data, not an error.
func decompress(r io.Reader, c *compression, opts Options) ([]byte, Source, []string, error) {
	src := Source{Kind: "compressed", Format: c.name}
	d, closeDec, err := c.open(r)
	if err != nil {
		return nil, src, nil, fmt.Errorf("reading %s data: %w", c.name, err)
	}
	defer closeDec()
	s, err := newSparseFile(opts.TempDir)
	if err != nil {
		return nil, src, nil, err
	}
	w := newSparseWriter(s)
	// Reading (rather than letting the decoder write its output with
	// WriteTo) brings every block decoded before any damage to the file.
	n, err := w.ReadFrom(d)
	if cerr := w.Close(); cerr != nil {
		err = cerr
	}
	var notes []string
	var werr *writeError
	switch {
	case err == nil:
	case errors.As(err, &werr):
		s.discard()
		return nil, src, nil, werr.err
	case n == 0:
		s.discard()
		return nil, src, nil, fmt.Errorf("decompressing %s data: %w", c.name, err)
	default:
		notes = append(notes, fmt.Sprintf("the %s data is damaged or cut short after %s of core (%v); analysing what is there",
			c.name, humanize.IBytes(uint64(n)), err))
	}
	src.Copied = n
	data, err := s.finish(n)
	return data, src, notes, err
}

// prependNotes puts warnings about how the image was obtained before those
// about its content, since they explain them (a cut-short stream, a
// truncated core).
func (p *Process) prependNotes(notes []string) {
	ws := make([]warn.Warning, 0, len(notes)+len(p.warnings))
	for _, n := range notes {
		ws = append(ws, warn.New(p.Path, "%s", n))
	}
	p.warnings = append(ws, p.warnings...)
}

// openPipe reads a pipe given by name: <(zstd -dc core.zst), or a FIFO
// some process writes to. It is opened without blocking, since opening a
// FIFO nobody writes to would wait forever; one that has no writer reads
// as at its end at once and is refused.
func openPipe(path string, opts Options) ([]byte, Source, []string, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, Source{}, nil, err
	}
	defer f.Close()
	// Fd puts the descriptor back in blocking mode: the first read then
	// waits for a writer's data, or ends at once when there is no writer.
	fd := int(f.Fd())
	var one [1]byte
	n, err := syscall.Read(fd, one[:])
	switch {
	case err != nil:
		return nil, Source{}, nil, fmt.Errorf("reading %s: %w", path, err)
	case n == 0:
		return nil, Source{}, nil, fmt.Errorf("%s is a FIFO with no writer; pipe the core to 'heapsift -' instead", path)
	}
	return copyStream(io.MultiReader(bytes.NewReader(one[:n]), f), opts)
}
