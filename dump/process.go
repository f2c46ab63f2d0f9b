package dump

import (
	"errors"
	"fmt"
	"github.com/heapsift/heapsift/warn"
	"os"
	"sort"
	"sync"
	"syscall"
	"unsafe"

	"github.com/dustin/go-humanize"
	"golang.org/x/sys/unix"
)

// Options control how a dump is opened.
type Options struct {
	// Raw treats the file as a flat memory image starting at Base.
	Raw  bool
	Base Address
	// Exe is the executable the core came from, when it is not at the path
	// the core records.
	Exe string
	// Sysroot is prefixed to every file path the core records.
	Sysroot string
	// LibDirs are searched, in order, for mapped files by base name.
	LibDirs []string
	// NoFiles keeps heapsift from reading mapped files from disk.
	NoFiles bool
	// InputOptions: standard input and the temporary directory.
	InputOptions
}

// Process is the memory image of a dead process.
type Process struct {
	// Path is the dump file; Kind is "core" or "raw".
	Path string
	Kind string
	Arch Arch
	// FileSize is the size of the dump file in bytes.
	FileSize int64
	// Source says where the image came from (file, compressed, live process).
	Source Source

	Threads []*Thread
	Info    *ProcessInfo // nil when the core has no NT_PRPSINFO
	Signal  *SignalInfo  // nil when the core has no NT_SIGINFO
	Auxv    []AuxEntry

	mappings []*Mapping // sorted by Start, disjoint
	modules  []*Module
	warnings []warn.Warning
	data     []byte      // the mmapped dump
	mmaps    [][]byte    // everything to unmap on Close
	pages    pageDropper // gives back pages of data a pass is done with
	// split lists the parts of data that other files hold, by file (see
	// sparseFile.finishWith): Close lets go of each file's in parallel,
	// since unmapping the last of a temporary file's pages frees them all.
	split [][][]byte
}

// Open opens a dump file read-only. The file is mmapped, not read; Close
// releases it. A compressed core, "-" (opts.Stdin) or a pipe is first
// copied into a temporary file (see InputOptions).
func Open(path string, opts Options) (*Process, error) {
	data, src, notes, err := openImage(path, opts)
	if err != nil {
		return nil, err
	}
	return fromImage(path, data, src, notes, opts)
}

// fromImage decodes a dump mapped from a file (a core, or the temporary
// file a live process or a compressed core was copied into), which the
// Process then owns: src says where it came from, notes are warnings the
// copy raised.
func fromImage(path string, data []byte, src Source, notes []string, opts Options) (*Process, error) {
	p, err := newMappedProcess(path, data, opts)
	p.Source = src
	p.prependNotes(notes)
	if data != nil {
		p.mmaps = append(p.mmaps, data)
	}
	if err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// newMappedProcess decodes a dump that data maps from a file: the pages
// of it a pass is done with can be given back.
func newMappedProcess(path string, data []byte, opts Options) (*Process, error) {
	return decodeProcess(&Process{Path: path, FileSize: int64(len(data)), data: data, pages: pageDropper{data}}, opts)
}

// newProcess decodes a dump held in data. It never returns a nil Process,
// so that the caller can release what it mapped.
func newProcess(path string, data []byte, opts Options) (*Process, error) {
	return decodeProcess(&Process{Path: path, FileSize: int64(len(data)), data: data}, opts)
}

// decodeProcess decodes the dump in p.data into p.
func decodeProcess(p *Process, opts Options) (*Process, error) {
	path, data := p.Path, p.data
	if opts.Raw {
		p.openRaw(opts.Base)
		return p, nil
	}
	if len(data) == 0 {
		return p, fmt.Errorf("%s: empty file, not a core", path)
	}
	if err := p.openCore(opts); err != nil {
		return p, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// mmapFile maps a whole file read-only. An empty file maps to nil. A file
// that is not regular (a FIFO, a socket, a device, a directory) is refused
// before it is opened, since opening a FIFO blocks until a writer comes.
func mmapFile(path string) ([]byte, int64, error) {
	pre, err := os.Stat(path)
	if err != nil {
		return nil, 0, err
	}
	if !pre.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("%s %s; heapsift reads regular files only", path, DescribeFileMode(pre.Mode()))
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	if !st.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("%s %s; heapsift reads regular files only", path, DescribeFileMode(st.Mode()))
	}
	size := st.Size()
	if size == 0 {
		return nil, 0, nil
	}
	if int64(int(size)) != size {
		return nil, 0, fmt.Errorf("%s: %d bytes is too large to map", path, size)
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, 0, fmt.Errorf("mapping %s: %w", path, err)
	}
	return data, size, nil
}

// Close unmaps everything the process mapped. The process must not be used
// afterwards.
func (p *Process) Close() error {
	var errs []error
	// Each file's pieces are replaced, not unmapped, so that nothing else
	// is mapped in the holes before the whole is unmapped below.
	var wg sync.WaitGroup
	for _, pieces := range p.split {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, b := range pieces {
				unix.MmapPtr(-1, 0, unsafe.Pointer(unsafe.SliceData(b)), uintptr(len(b)), unix.PROT_NONE,
					unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_FIXED|unix.MAP_NORESERVE) // on an error, the munmap below frees it
			}
		}()
	}
	wg.Wait()
	p.split = nil
	for _, m := range p.mmaps {
		if err := syscall.Munmap(m); err != nil {
			errs = append(errs, err)
		}
	}
	p.mmaps = nil
	return errors.Join(errs...)
}

func (p *Process) openRaw(base Address) {
	p.Kind = "raw"
	p.Arch = ArchAMD64
	if len(p.data) == 0 {
		return
	}
	p.mappings = []*Mapping{{
		Start: base, End: base + Address(len(p.data)), Perm: PermRead | PermWrite,
		CoreOffset: 0, core: p.data, fileFrom: uint64(len(p.data)),
	}}
}

// Mappings returns the mappings in address order.
func (p *Process) Mappings() []*Mapping { return p.mappings }

// Modules returns the files mapped into the process, the executable first.
func (p *Process) Modules() []*Module { return p.modules }

// Executable returns the main executable's module, or nil when the core
// does not say which file it is.
func (p *Process) Executable() *Module {
	for _, m := range p.modules {
		if m.Main {
			return m
		}
	}
	return nil
}

// Warnings returns what was wrong with the dump but did not stop it being
// read: truncation, mismatched files, malformed notes.
func (p *Process) Warnings() []warn.Warning { return p.warnings }

func (p *Process) warnf(format string, args ...any) {
	p.warnings = append(p.warnings, warn.New(p.Path, format, args...))
}

// Aux returns the value of an auxiliary vector entry.
func (p *Process) Aux(key uint64) (uint64, bool) {
	for _, a := range p.Auxv {
		if a.Key == key {
			return a.Value, true
		}
	}
	return 0, false
}

// Totals sums the mappings' sizes: all mapped bytes, bytes held in the
// dump, bytes read from mapped files, and the bytes that cannot be read by
// why (Gaps: reserved, left out, of a file that is not ELF, missing);
// Truncated is what truncation took, which Missing includes.
type Totals struct {
	Mapped, InCore, FromFiles, Truncated uint64
	Gaps
}

// Totals adds up the mappings.
func (p *Process) Totals() Totals {
	var t Totals
	for _, m := range p.mappings {
		t.Mapped += m.Size()
		t.InCore += uint64(len(m.core))
		t.FromFiles += m.FromFile()
		g := m.Gaps()
		t.Reserved += g.Reserved
		t.LeftOut += g.LeftOut
		t.NotELF += g.NotELF
		t.Missing += g.Missing
		t.Truncated += m.Truncated
	}
	return t
}

// FindMapping returns the mapping containing a, or nil.
func (p *Process) FindMapping(a Address) *Mapping {
	ms := p.mappings
	i := sort.Search(len(ms), func(i int) bool { return ms[i].End > a })
	if i < len(ms) && ms[i].Start <= a {
		return ms[i]
	}
	return nil
}

// sortMappings orders the mappings and checks that they do not overlap.
func (p *Process) sortMappings() {
	sort.Slice(p.mappings, func(i, j int) bool { return p.mappings[i].Start < p.mappings[j].Start })
	out := p.mappings[:0]
	overlaps := warnLimiter{what: "overlapping segments ignored"}
	for _, m := range p.mappings {
		if n := len(out); n > 0 && m.Start < out[n-1].End {
			overlaps.warnf(p, "segment %s overlaps %s; ignoring it", m, out[n-1])
			continue
		}
		out = append(out, m)
	}
	overlaps.flush(p)
	clear(p.mappings[len(out):])
	p.mappings = out
}

// truncationWarning says once how much of the core is missing.
func (p *Process) truncationWarning(want uint64) {
	t := p.Totals()
	if t.Truncated == 0 {
		return
	}
	p.warnf("core is truncated: the file is %s but its segments need %s; %s of memory is missing (analysing what is there)",
		humanize.IBytes(uint64(p.FileSize)), humanize.IBytes(want), humanize.IBytes(t.Truncated))
}

// FileData returns the whole dump file's bytes (mmapped, read-only): headers
// and notes as well as memory.
func (p *Process) FileData() []byte { return p.data }
