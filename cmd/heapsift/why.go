package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/heap"
	"github.com/heapsift/heapsift/retain"
	"github.com/spf13/pflag"
)

// `heapsift why CORE ADDR`: why one object is alive — a shortest path to
// it from a root, each pointer named by its field, and the objects that
// dominate it (freeing any one of them would free it).

// objectRefJSON names a heap object (JSON: docs/json.md).
type objectRefJSON struct {
	Addr     string `json:"addr"`
	Type     string `json:"type"`
	Size     uint64 `json:"size"`
	Retained uint64 `json:"retained"`
}

func newObjectRef(a *retain.Analysis, obj int) objectRefJSON {
	h := a.Heap()
	return objectRefJSON{Addr: hexAddr(h.Addr(obj)), Type: heap.ObjectTypeName(h, obj), Size: h.Size(obj), Retained: a.Retained(obj)}
}

// stepJSON is one pointer of a path: the field of the previous object (or
// of the root variable) and the object it points to.
type stepJSON struct {
	Field string `json:"field"`
	objectRefJSON
}

// whyReport is `heapsift why` (JSON: docs/json.md).
type whyReport struct {
	Addr       string          `json:"addr"`
	Object     objectRefJSON   `json:"object"`
	Offset     uint64          `json:"offset"`
	Field      string          `json:"field"`
	Reachable  bool            `json:"reachable"`
	Root       *rootJSON       `json:"root"`
	Path       []string        `json:"path"`
	PathText   string          `json:"path_text"`
	Steps      []stepJSON      `json:"steps"`
	Dominators []objectRefJSON `json:"dominators"`
	RootKinds  []rootKindJSON  `json:"root_kinds"`
	root       heap.Root
}

// rootKindJSON counts the roots of one kind that reach an object (and so
// its dominators).
type rootKindJSON struct {
	Kind    string `json:"kind"`
	Roots   int    `json:"roots"`
	Example string `json:"example"`
}

// rootKinds sums roots by kind, in the order of the kinds. Each kind's
// example is the root of the path shown when it is of that kind, else the
// first of the program's own roots (not runtime or library bookkeeping).
func rootKinds(roots []heap.Root, shown heap.Root) []rootKindJSON {
	slices.SortStableFunc(roots, func(a, b heap.Root) int { return cmp.Compare(a.Kind, b.Kind) })
	out := []rootKindJSON{}
	var exampleBookkeeping bool
	for _, r := range roots {
		n := len(out)
		if n == 0 || out[n-1].Kind != r.Kind.String() {
			out = append(out, rootKindJSON{Kind: r.Kind.String(), Roots: 1, Example: r.Label()})
			exampleBookkeeping = r.Bookkeeping
			continue
		}
		out[n-1].Roots++
		if exampleBookkeeping && !r.Bookkeeping {
			out[n-1].Example, exampleBookkeeping = r.Label(), false
		}
	}
	for i := range out {
		if out[i].Kind == shown.Kind.String() {
			out[i].Example = shown.Label()
		}
	}
	return out
}

// heldPath is a shortest path to an object, as words and as steps.
type heldPath struct {
	root  heap.Root
	words []string   // root name, fields, indices: ["main.p", "results", "[2]"]
	steps []stepJSON // one per object on the path, the last the object
}

// pathTo returns the shortest path from a root to obj; ok is false for
// unreachable objects.
func pathTo(a *retain.Analysis, obj int) (heldPath, bool) {
	root, hops, ok := a.PathTo(obj)
	if !ok {
		return heldPath{}, false
	}
	h := heldPath{root: root, words: append([]string{root.Label()}, root.Path.Words()...)}
	for i, hop := range hops {
		field := hop.Path.String()
		if i == 0 {
			field = root.Path.String()
		} else {
			h.words = append(h.words, hop.Path.Words()...)
		}
		h.steps = append(h.steps, stepJSON{Field: field, objectRefJSON: newObjectRef(a, hop.Object)})
	}
	return h, true
}

// text is the path in Go's notation: "main.p.results[2]".
func (h heldPath) text() string { return heap.WordsText(h.words) }

// newWhyReport explains why the object at addr is alive; notObject says
// what an address that is in no object is instead, for the error.
func newWhyReport(a *retain.Analysis, addr uint64, notObject func(uint64) string) (*whyReport, error) {
	hp := a.Heap()
	obj, off, ok := hp.ObjectAt(addr)
	if !ok {
		return nil, errors.New(notObject(addr))
	}
	r := &whyReport{
		Addr: hexAddr(addr), Object: newObjectRef(a, obj), Offset: off, Field: hp.PathAt(obj, off).String(),
		Path: []string{}, Steps: []stepJSON{}, Dominators: []objectRefJSON{}, RootKinds: []rootKindJSON{},
	}
	h, ok := pathTo(a, obj)
	if !ok {
		return r, nil
	}
	r.Reachable = true
	root := newRootJSON(h.root, true)
	r.Root, r.root, r.Path, r.Steps = &root, h.root, h.words, h.steps
	r.PathText = h.text()
	for _, d := range a.DominatorsOf(obj) {
		r.Dominators = append(r.Dominators, newObjectRef(a, d))
	}
	r.RootKinds = rootKinds(a.RootsReaching(obj), h.root)
	return r, nil
}

func (r *whyReport) writeText(w io.Writer) {
	o := r.Object
	at := o.Addr
	if r.Offset != 0 {
		at = fmt.Sprintf("%s+%d %s", o.Addr, r.Offset, r.Field)
	}
	fmt.Fprintf(w, "%s: %s, %s, retains %s\n", at, termSafe(o.Type), size(o.Size), size(o.Retained))
	if !r.Reachable {
		fmt.Fprintln(w, "\nNo root reaches it: it is garbage the collector had not freed yet.")
		return
	}
	section(w, fmt.Sprintf("Shortest path from a root (%d pointers)", len(r.Steps)))
	where := ""
	if r.root.Addr != 0 {
		where = "; the pointer is at " + r.Root.Addr
	}
	fmt.Fprintf(w, "%s (%s%s)\n", termSafe(r.root.Label()), r.Root.Kind, where)
	t := newTable("FIELD", "ADDRESS", "TYPE", ">SIZE", ">RETAINED")
	for i, s := range r.Steps {
		t.add(strings.Repeat(" ", min(i, 12))+"→ "+s.Field, s.Addr, s.Type, size(s.Size), size(s.Retained))
	}
	t.write(w)
	if len(r.RootKinds) > 0 {
		var kinds []string
		total := 0
		for _, k := range r.RootKinds {
			total += k.Roots
			kinds = append(kinds, fmt.Sprintf("%s %s (%s)", k.Kind, count(uint64(k.Roots)), termSafe(k.Example)))
		}
		noun := "roots"
		if total == 1 {
			noun = "root"
		}
		fmt.Fprintf(w, "\nHeld by %s %s: %s\n", count(uint64(total)), noun, strings.Join(kinds, ", "))
	}
	section(w, "Dominators (freeing any one of them frees it), outermost first")
	if len(r.Dominators) == 0 {
		fmt.Fprintln(w, "none: only the roots together hold it")
		return
	}
	t = newTable("ADDRESS", "TYPE", ">SIZE", ">RETAINED")
	for _, d := range r.Dominators {
		t.add(d.Addr, d.Type, size(d.Size), size(d.Retained))
	}
	t.write(w)
}

// notObject says what addr is, since it is in no heap object: a variable,
// a mapping that is not the heap, or no address of the process at all, and
// how to find the address of an object.
func (m *heapModel) notObject(addr uint64) string {
	const hint = "; heapsift objects --type TYPE lists objects' addresses, heapsift symbol CORE ADDR names any address"
	if d := m.describe(addr); d != fmt.Sprintf("%#x", addr) {
		return fmt.Sprintf("%#x is not in a heap object: it is %s%s", addr, strings.TrimPrefix(d, fmt.Sprintf("%#x: ", addr)), hint)
	}
	mp := m.proc.FindMapping(dump.Address(addr))
	if mp == nil {
		return fmt.Sprintf("%#x is not in a heap object: it is in no mapping of the core, so not an address of the process%s", addr, hint)
	}
	if mp.File != "" {
		return fmt.Sprintf("%#x is not in a heap object: it lies in the mapping of %s at %#x-%#x (%s), not in the heap%s",
			addr, termSafe(filepath.Base(mp.File)), uint64(mp.Start), uint64(mp.End), mp.Perm, hint)
	}
	name := mp.Name
	if name == "" {
		name = "anonymous memory"
	}
	return fmt.Sprintf("%#x is not in a heap object: it lies in %s at %#x-%#x (%s) but in no live or garbage object: free heap memory, a stack, or the runtime's or allocator's own data%s",
		addr, termSafe(name), uint64(mp.Start), uint64(mp.End), mp.Perm, hint)
}

func whyCommand() *command {
	return &command{
		name: "why", args: "CORE ADDR", minArgs: 2, maxArgs: 2,
		summary: "Go, Python and C/C++ (glibc malloc) cores: why the heap object at ADDR is alive — a path from a root and its dominators.\n" +
			"The path is a shortest one from a root (a global, a goroutine's variable, ...), each pointer\n" +
			"named by its field; the dominators are the objects freeing any one of which would free it.",
		example: "heapsift why core 0xc000123450\nheapsift why --json core 0xc000123450 | jq -r '.path | join(\" \")'\n" +
			"heapsift why python.core 0x7f608fbee540   # a tuple: __main__.Profiler → results → [0]",
		flags: func(fs *pflag.FlagSet, o *options) {
			addCoreFlags(fs, o)
			addScratchFlag(fs, o)
		},
		exec: func(o *options, args []string, e *env) error {
			v, err := parseAddress(args[1])
			if err != nil {
				return usagef("ADDR: %v", err)
			}
			return o.withHeap(args[0], e, func(m *heapModel) error {
				a, err := analyzeRetention(m.h, o.scratch, e, false)
				if err != nil {
					return err
				}
				defer a.Close()
				r, err := newWhyReport(a, v, m.notObject)
				if err != nil {
					return err
				}
				return o.emit(e, r)
			})
		},
	}
}
