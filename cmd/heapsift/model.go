package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/heap"
	"github.com/heapsift/heapsift/native"
	"github.com/heapsift/heapsift/pycore"
	"github.com/heapsift/heapsift/warn"
)

// The heap commands (histogram, objects, retain, why, dominators, diff,
// stacks) work on any language heapsift models. heapModel is an opened
// core with the model of its program's language; the commands see it as a
// heap.Heap, and reach the language's own model only for what only that
// language has (Go's MemStats and goroutines, Python's threads).

// heapModel is an opened core and its heap model.
type heapModel struct {
	proc *dump.Process
	lang string // "go", "python" or "native"
	h    heap.Heap
	goP  *goProgram   // for Go
	py   *pycore.Heap // for Python
	nat  *native.Heap // for glibc malloc heaps
}

func (m *heapModel) Close() { m.proc.Close() }

// version is the language's version as the core says it ("go1.26.8",
// "3.11").
func (m *heapModel) version() string {
	if m.goP != nil {
		return m.goP.prog.Version()
	}
	if m.py != nil {
		return m.py.Version()
	}
	if m.nat != nil {
		return m.nat.Allocator().Version
	}
	return ""
}

// errNoModel says that a core's program is in no language heapsift
// models; the words histogram still reads it.
var errNoModel = errors.New("not a Go program or a CPython process")

// buildHeapModel builds the heap model of p's program: Go when the
// executable is a Go program, CPython when libpython or a CPython
// interpreter is mapped, and else glibc's malloc heap (native). A core
// of none of these is errNoModel.
func buildHeapModel(p *dump.Process, e *env) (*heapModel, error) {
	if exe := p.Executable(); exe != nil && exe.Mismatch {
		return nil, fmt.Errorf("executable does not match the core: the build ID in the core (%s) differs from the file's (%s); pass the executable that produced the core", exe.BuildID, exe.FileBuildID)
	}
	if isGoCore(p) {
		prog, err := buildGoModel(p, e)
		if err != nil {
			return nil, err
		}
		g := &goProgram{proc: p, prog: prog}
		return &heapModel{proc: p, lang: "go", h: g.heap(), goP: g}, nil
	}
	sym, err := newSymbolizer(p, e)
	if err != nil {
		return nil, err
	}
	stop := startProgress(e, "reading the Python heap")
	py, warnings, err := pycore.Open(p, sym)
	stop()
	warnAll(e, warnings)
	switch {
	case errors.Is(err, pycore.ErrNotPython):
		if exe := p.Executable(); exe != nil && exe.FileData() == nil {
			return nil, fmt.Errorf("%s: %w: the executable is not at the path the core records (%s), so heapsift cannot tell its language; pass it with --exe PATH, or --sysroot DIR / --lib-dir DIR (heapsift words reads the core without it)", programOf(p), errNoModel, exe.Path)
		}
		return buildNativeModel(p, sym, e)
	case err != nil:
		return nil, fmt.Errorf("reading the Python heap: %w", err)
	}
	return &heapModel{proc: p, lang: "python", h: py, py: py}, nil
}

// programOf names the core's executable for messages.
func programOf(p *dump.Process) string {
	if exe := p.Executable(); exe != nil && exe.Path != "" {
		return filepath.Base(exe.Path)
	}
	return "the core's program"
}

// openHeap opens the core at path and builds its heap model.
func (o *options) openHeap(path string, e *env) (*heapModel, error) {
	p, err := o.openDump(path, e)
	if err != nil {
		return nil, err
	}
	m, err := buildHeapModel(p, e)
	if err != nil {
		if o.exe != "" && p.Executable() == nil {
			err = fmt.Errorf("%w: it lists no mapped files (NT_FILE), so --exe %s cannot be placed in its memory", err, o.exe)
		}
		p.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// withHeap opens the core at path, runs fn on its heap model and closes
// it.
func (o *options) withHeap(path string, e *env, fn func(m *heapModel) error) error {
	m, err := o.openHeap(path, e)
	if err != nil {
		return err
	}
	defer m.Close()
	if err := fn(m); err != nil {
		return err
	}
	return m.damage(path)
}

// damage is the failure to report after a command's output when the
// model found the core damaged (nil for no model, or an intact one).
func (m *heapModel) damage(path string) error {
	if m == nil || m.goP == nil {
		return nil
	}
	return damageError(path, m.goP.prog)
}

// maybeHeap builds the heap model when the core's language is one
// heapsift models, or returns nil; failures to build one become a
// warning, since the caller still has the generic view.
func maybeHeap(p *dump.Process, e *env) *heapModel {
	m, err := buildHeapModel(p, e)
	switch {
	case errors.Is(err, errNoModel):
		return nil
	case err != nil:
		warnAll(e, []warn.Warning{warn.New("heapsift", "cannot model the heap: %v", err)})
		return nil
	}
	return m
}

// goOnly returns m's Go program, or an error naming the command as one
// for Go cores.
func (m *heapModel) goOnly(command string) (*goProgram, error) {
	if m.goP == nil {
		return nil, fmt.Errorf("%s is for Go cores, and %s is not a Go program but a %s process (heapsift stacks shows its threads)", command, programOf(m.proc), m.lang)
	}
	return m.goP, nil
}

// describe names an address for a message: the Go model's description
// (globals, malloc headers), or the address alone.
func (m *heapModel) describe(addr uint64) string {
	if m.goP != nil {
		return m.goP.prog.Describe(dump.Address(addr))
	}
	if obj, off, ok := m.h.ObjectAt(addr); ok {
		s := fmt.Sprintf("%#x: %s+%d", addr, heap.ObjectTypeName(m.h, obj), off)
		if p := m.h.PathAt(obj, off); len(p) > 0 {
			s += " " + p.String()
		}
		return s
	}
	return fmt.Sprintf("%#x", addr)
}
