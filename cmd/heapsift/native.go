package main

import (
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/heapsift/heapsift/compare"
	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/native"
	"github.com/heapsift/heapsift/symbolize"
)

// What only a native (glibc malloc) core has: the malloc section of
// `heapsift info` and the overview — allocations in use and free, the
// largest classes, and the leaked allocations — and `objects --leaked`.

// buildNativeModel opens the glibc malloc heap of a core that is neither
// Go nor CPython.
func buildNativeModel(p *dump.Process, sym *symbolize.Symbolizer, e *env) (*heapModel, error) {
	stop := startProgress(e, "reading the malloc heap")
	h, warnings, err := native.Open(p, sym, native.Options{})
	stop()
	warnAll(e, warnings)
	switch {
	case errors.Is(err, native.ErrNoHeap):
		return nil, fmt.Errorf("%s: %w and no glibc malloc heap (heapsift words reads any core)", programOf(p), errNoModel)
	case err != nil:
		return nil, fmt.Errorf("reading the malloc heap: %w", err)
	}
	return &heapModel{proc: p, lang: "native", h: h, nat: h}, nil
}

// nativeInfoReport is the "native" section of `heapsift info` and the
// overview (JSON: docs/json.md).
type nativeInfoReport struct {
	Language    string           `json:"language"`
	Allocator   nativeAllocJSON  `json:"allocator"`
	Live        countBytes       `json:"live"`
	Free        nativeFreeJSON   `json:"free"`
	Leaked      nativeLeakJSON   `json:"leaked"`
	Types       []nativeTypeJSON `json:"types"`
	LeakedTypes []nativeTypeJSON `json:"leaked_types"`
}

type nativeAllocJSON struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	LayoutFrom  string `json:"layout_from"`
	MainArena   string `json:"main_arena_from"`
	Arenas      int    `json:"arenas"`
	Heaps       int    `json:"heaps"`
	Mmapped     int    `json:"mmapped"`
	SafeLinking bool   `json:"safe_linking"`
}

type nativeFreeJSON struct {
	Chunks uint64 `json:"chunks"`
	Bytes  uint64 `json:"bytes"`
	Top    uint64 `json:"top_bytes"`
}

type nativeLeakJSON struct {
	Objects uint64 `json:"objects"`
	Bytes   uint64 `json:"bytes"`
	Roots   uint64 `json:"roots"`
}

// nativeTypeJSON is one class: all its allocations (leaked included),
// and how many of them are leaked and leak roots.
type nativeTypeJSON struct {
	Type        string `json:"type"`
	Count       uint64 `json:"count"`
	Bytes       uint64 `json:"bytes"`
	Leaked      uint64 `json:"leaked"`
	LeakedBytes uint64 `json:"leaked_bytes"`
	LeakRoots   uint64 `json:"leak_roots"`
}

// nativeTopTypes is how many classes the section lists.
const nativeTopTypes = 10

func newNativeInfoReport(h *native.Heap) *nativeInfoReport {
	a, s := h.Allocator(), h.Stats()
	r := &nativeInfoReport{
		Language: "native",
		Allocator: nativeAllocJSON{Name: a.Name, Version: a.Version, LayoutFrom: a.LayoutFrom, MainArena: a.MainArenaFrom,
			Arenas: a.Arenas, Heaps: a.Heaps, Mmapped: a.Mmapped, SafeLinking: a.SafeLinking},
		Live:   countBytes{s.LiveObjects, s.LiveBytes},
		Free:   nativeFreeJSON{s.FreeChunks, s.FreeBytes, s.TopBytes},
		Leaked: nativeLeakJSON{s.Leaked, s.LeakedBytes, s.LeakRoots},
	}
	types := nativeTypes(h)
	sort.SliceStable(types, func(i, j int) bool { return types[i].Bytes > types[j].Bytes })
	r.Types = types[:min(len(types), nativeTopTypes)]
	leaked := make([]nativeTypeJSON, 0, len(types))
	for _, t := range types {
		if t.Leaked > 0 {
			leaked = append(leaked, t)
		}
	}
	sort.SliceStable(leaked, func(i, j int) bool { return leaked[i].LeakedBytes > leaked[j].LeakedBytes })
	r.LeakedTypes = leaked[:min(len(leaked), nativeTopTypes)]
	return r
}

// nativeTypes is every class's allocations, by name.
func nativeTypes(h *native.Heap) []nativeTypeJSON {
	classes := h.Classes()
	out := make([]nativeTypeJSON, len(classes))
	for i, c := range classes {
		out[i] = nativeTypeJSON{Type: c.Name, Count: c.Count, Bytes: c.Bytes, Leaked: c.Leaked, LeakedBytes: c.LeakedBytes, LeakRoots: c.LeakRoots}
	}
	return out
}

func (r *nativeInfoReport) writeText(w io.Writer) {
	a := r.Allocator
	fmt.Fprintf(w, "malloc      glibc %s (layout from %s), %d arenas, %d arena heaps, %d mmapped chunks\n",
		orUnknown(a.Version), a.LayoutFrom, a.Arenas, a.Heaps, a.Mmapped)
	fmt.Fprintf(w, "heap        in use %s in %s allocations; free %s in %s chunks (and %s at the top)\n",
		size(r.Live.Bytes+r.Leaked.Bytes), count(r.Live.Objects+r.Leaked.Objects), size(r.Free.Bytes), count(r.Free.Chunks), size(r.Free.Top))
	fmt.Fprintf(w, "leaked      %s in %s allocations that no root reaches, %s of them leak roots (heads of leaked structures)\n",
		size(r.Leaked.Bytes), count(r.Leaked.Objects), count(r.Leaked.Roots))
	if len(r.LeakedTypes) == 0 {
		return
	}
	section(w, "Leaked allocations by class (heapsift objects --leaked --type T lists them)")
	t := newTable(">LEAKED", ">BYTES", ">ROOTS", ">OF ALL", "TYPE")
	for _, c := range r.LeakedTypes {
		t.add(count(c.Leaked), size(c.LeakedBytes), count(c.LeakRoots), count(c.Count), c.Type)
	}
	t.write(w)
}

func orUnknown(s string) string {
	if s == "" {
		return "(version unknown)"
	}
	return s
}

// nativeTallies is a native heap's classes as compare's input: every
// allocation in use, leaked ones included, since a leak is what grows.
func nativeTallies(h *native.Heap) []compare.Tally {
	types := nativeTypes(h)
	out := make([]compare.Tally, 0, len(types))
	for _, t := range types {
		out = append(out, compare.Tally{Name: t.Type, Count: t.Count, Bytes: t.Bytes})
	}
	return out
}
