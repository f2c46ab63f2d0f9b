package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/heapsift/heapsift/heap"
	"github.com/heapsift/heapsift/pycore"
	"github.com/spf13/pflag"
)

// What only a CPython core has: the interpreter's section of `heapsift
// info` and the overview, and each thread's Python stack (`heapsift
// stacks`).

// pyInfoReport is the "python" section of `heapsift info` (JSON:
// docs/json.md).
type pyInfoReport struct {
	Version string         `json:"version"`
	Library string         `json:"library"`
	Heap    pyHeapReport   `json:"heap"`
	Threads []pyThreadJSON `json:"threads"`
}

type pyHeapReport struct {
	Objects        int    `json:"objects"`
	Tracked        int    `json:"tracked"`
	LiveObjects    int    `json:"live_objects"`
	LiveBytes      uint64 `json:"live_bytes"`
	GarbageObjects int    `json:"garbage_objects"`
	GarbageBytes   uint64 `json:"garbage_bytes"`
}

// pyThreadJSON is one thread and its Python stack, innermost frame first
// (JSON: docs/json.md).
type pyThreadJSON struct {
	ID       string        `json:"id"`
	NativeID uint64        `json:"native_id"`
	Name     string        `json:"name"`
	Frames   []pyFrameJSON `json:"frames"`
}

type pyFrameJSON struct {
	Func   string        `json:"func"`
	File   string        `json:"file"`
	Line   int           `json:"line"`
	Locals []pyLocalJSON `json:"locals,omitempty"`
}

type pyLocalJSON struct {
	Name string `json:"name"`
	Addr string `json:"addr"`
	Type string `json:"type"`
	Repr string `json:"repr,omitempty"`
}

func newPyInfoReport(py *pycore.Heap) *pyInfoReport {
	t := py.Totals()
	r := &pyInfoReport{
		Version: py.Version(), Library: py.Library(),
		Heap: pyHeapReport{
			Objects: t.Objects, Tracked: t.Tracked, LiveObjects: t.Live, LiveBytes: t.LiveBytes,
			GarbageObjects: t.Garbage, GarbageBytes: t.Bytes - t.LiveBytes,
		},
		Threads: pyThreads(py, false),
	}
	return r
}

// pyThreads describes the interpreter's threads, with their locals or
// without.
func pyThreads(py *pycore.Heap, locals bool) []pyThreadJSON {
	out := []pyThreadJSON{}
	for _, th := range py.Threads() {
		tj := pyThreadJSON{ID: hexAddr(th.ID), NativeID: th.NativeID, Name: th.Name, Frames: []pyFrameJSON{}}
		for _, f := range th.Frames {
			fj := pyFrameJSON{Func: f.Func, File: f.File, Line: f.Line}
			for _, l := range f.Locals {
				if !locals {
					break
				}
				fj.Locals = append(fj.Locals, pyLocalJSON{Name: l.Name, Addr: hexAddr(l.Addr), Type: localType(py, l.Addr), Repr: l.Repr})
			}
			tj.Frames = append(tj.Frames, fj)
		}
		out = append(out, tj)
	}
	return out
}

// localType names the type of the object a local refers to; "" for an
// object outside the heap (None, a static type).
func localType(h heap.Heap, addr uint64) string {
	if obj, off, ok := h.ObjectAt(addr); ok && off == 0 {
		return heap.ObjectTypeName(h, obj)
	}
	return ""
}

// label names a thread as people know it: its name, or its ID.
func (t pyThreadJSON) label() string {
	s := "Thread " + t.ID
	if t.NativeID != 0 {
		s += fmt.Sprintf(" (native %d)", t.NativeID)
	}
	if t.Name != "" {
		s += fmt.Sprintf(" %q", t.Name)
	}
	return s
}

func (r *pyInfoReport) writeText(w io.Writer) {
	h := r.Heap
	fmt.Fprintf(w, "python      CPython %s (%s)\n", r.Version, r.Library)
	fmt.Fprintf(w, "heap        live %s in %s objects; garbage cycles %s in %s objects; %s tracked by the collector\n",
		size(h.LiveBytes), count(uint64(h.LiveObjects)), size(h.GarbageBytes), count(uint64(h.GarbageObjects)), count(uint64(h.Tracked)))
	for _, t := range r.Threads {
		where := "no Python frame"
		if len(t.Frames) > 0 {
			f := t.Frames[0]
			where = fmt.Sprintf("in %s (%s:%d)", f.Func, f.File, f.Line)
		}
		fmt.Fprintf(w, "thread      %s %s\n", t.label(), where)
	}
}

// writePyStacks prints each thread's Python stack, innermost frame
// first, like a traceback read upwards.
func writePyStacks(w io.Writer, threads []pyThreadJSON) {
	for i, t := range threads {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s (most recent call first):\n", t.label())
		for _, f := range t.Frames {
			fmt.Fprintf(w, "  %s (%s:%d)\n", f.Func, f.File, f.Line)
			for _, l := range f.Locals {
				v := l.Repr
				if v == "" {
					v = "<" + strings.TrimSpace(l.Type+" at "+l.Addr) + ">"
				}
				fmt.Fprintf(w, "      %s = %s\n", l.Name, v)
			}
		}
	}
}

func stacksCommand() *command {
	return &command{
		name: "stacks", args: "CORE", minArgs: 1, maxArgs: 1,
		summary: "Every thread's stack: on a Python core each thread's Python frames (function, file:line) with\n" +
			"their local variables (the value of ints, floats and short strs, the type of the rest), like\n" +
			"py-spy dump or pystack; on a Go core the goroutines (as heapsift goroutines).",
		example: "heapsift stacks python.core\nheapsift stacks --json python.core | jq '.threads[] | {name, top: .frames[0].func}'",
		flags: func(fs *pflag.FlagSet, o *options) {
			addCoreFlags(fs, o)
		},
		exec: func(o *options, args []string, e *env) error {
			return o.withHeap(args[0], e, func(m *heapModel) error {
				if m.goP != nil {
					return o.emit(e, newGoroutinesReport(m.goP.prog.Goroutines(), false, false))
				}
				if m.py == nil {
					return fmt.Errorf("%s: stacks reads Go and Python programs, and %s is neither (for its malloc heap, try heapsift retain or heapsift objects --leaked)",
						args[0], programOf(m.proc))
				}
				threads := pyThreads(m.py, true)
				if o.json {
					return emitJSON(e, map[string]any{"language": m.lang, "version": m.version(), "threads": threads})
				}
				writePyStacks(e.stdout, threads)
				return nil
			})
		},
	}
}
