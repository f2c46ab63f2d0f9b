package native

import (
	"fmt"
	"sort"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/heap"

	"github.com/heapsift/heapsift/internal/bitset"
)

// Roots: every aligned word of the modules' writable data and bss, of
// each thread's stack from its stack pointer up, of its registers and of
// its static TLS, that points into an allocation in use. Each allocation
// keeps the first root found for it (globals first), which is all that
// liveness, retention and paths need.

// tlsWindowSize is how much of a thread's static TLS below its thread
// pointer is scanned, for threads whose TLS is outside their stack.
const tlsWindowSize = 64 << 10

// findRoots fills h.roots.
func (h *Heap) findRoots(o *opener) {
	rooted := bitset.New(len(h.addrs))
	add := func(r heap.Root) {
		if !rooted.Has(int(r.Object)) {
			rooted.Add(int(r.Object))
			h.roots = append(h.roots, r)
		}
	}
	scanned := map[*dump.Mapping]bool{} // a handful of mappings, not addresses
	for _, mod := range o.p.Modules() {
		for _, m := range h.dataMappings(mod) {
			scanned[m] = true
			h.scanWords(m, uint64(m.Start), uint64(m.End), func(a uint64, obj int) {
				if !h.inArena(a) {
					add(h.globalRoot(mod, a, obj))
				}
			})
		}
	}
	for _, th := range o.p.Threads {
		if m := o.p.FindMapping(th.SP); m != nil && !scanned[m] {
			scanned[m] = true
			h.scanWords(m, uint64(th.SP)&^7, uint64(m.End), func(a uint64, obj int) {
				add(heap.Root{Kind: heap.RootStack, Object: uint32(obj), Thread: int64(th.TID), ThreadLabel: "thread", Name: "stack", Addr: a})
			})
		}
		for _, reg := range th.Regs() {
			if obj, _, ok := h.ObjectAt(reg.Value); ok {
				add(heap.Root{Kind: heap.RootStack, Object: uint32(obj), Thread: int64(th.TID), ThreadLabel: "thread", Var: reg.Name})
			}
		}
	}
	for _, w := range tlsWindows(o.p, scanned) {
		h.scanWords(w.m, w.from, w.to, func(a uint64, obj int) {
			add(heap.Root{Kind: heap.RootStack, Object: uint32(obj), Thread: int64(w.tid), ThreadLabel: "thread", Var: "TLS", Addr: a})
		})
	}
}

// tlsWindow is a stretch of static TLS to scan for roots, and the thread
// it is (first) that of.
type tlsWindow struct {
	m        *dump.Mapping
	from, to uint64
	tid      int
}

// tlsWindows returns the static TLS of every thread whose thread pointer
// lies outside the mappings already scanned, in address order, each word
// once: threads may share a block, or a core may claim 100,000 threads
// with one thread pointer, and each scanned alone would cost its window
// again.
func tlsWindows(p *dump.Process, scanned map[*dump.Mapping]bool) []tlsWindow {
	var ws []tlsWindow
	for _, th := range p.Threads {
		tp := uint64(th.TLS)
		if m := p.FindMapping(th.TLS); m != nil && !scanned[m] && tp > tlsWindowSize {
			ws = append(ws, tlsWindow{m, max(uint64(m.Start), tp-tlsWindowSize), min(uint64(m.End), tp+pageSize), th.TID})
		}
	}
	sort.SliceStable(ws, func(i, j int) bool { return ws[i].from < ws[j].from })
	out := ws[:0]
	var end uint64 // words below end are scanned
	for _, w := range ws {
		w.from = max(w.from, end)
		if w.from < w.to {
			out = append(out, w)
			end = w.to
		}
	}
	return out
}

// inArena reports whether a lies in main_arena, whose bins and top point
// at free chunks' headers: stale pointers, not references.
func (h *Heap) inArena(a uint64) bool {
	return h.mainArena != 0 && a >= h.mainArena && a < h.mainArena+h.arenaSize
}

// dataMappings returns a module's writable mappings, and the anonymous
// writable mapping right after it (the rest of its .bss).
func (h *Heap) dataMappings(mod *dump.Module) []*dump.Mapping {
	var out []*dump.Mapping
	for _, m := range mod.Mappings {
		if m.Perm&dump.PermWrite != 0 {
			out = append(out, m)
		}
	}
	if m := h.p.FindMapping(mod.End); m != nil && m.Start == mod.End && m.File == "" && m.Name == "" && m.Perm&dump.PermWrite != 0 && m.Size() <= 256<<20 {
		out = append(out, m)
	}
	return out
}

// scanWords calls fn for every aligned word of m in [from, to) that
// points into an allocation.
func (h *Heap) scanWords(m *dump.Mapping, from, to uint64, fn func(addr uint64, obj int)) {
	data := m.CoreData()
	start := uint64(m.Start)
	if from < start {
		from = start
	}
	for a := from; a+8 <= to && a-start+8 <= uint64(len(data)); a += 8 {
		v := le64(data[a-start:])
		if v < h.index.lo || v >= h.index.hi {
			continue
		}
		if obj, ok := h.find(v); ok {
			fn(a, obj)
		}
	}
}

// globalRoot names a data word by its symbol: Var is the variable, and
// the word's offset in it the path.
func (h *Heap) globalRoot(mod *dump.Module, a uint64, obj int) heap.Root {
	r := heap.Root{Kind: heap.RootGlobal, Object: uint32(obj), Addr: a}
	if h.sym != nil {
		if n, ok := h.sym.Symbol(a); ok && n.Kind != "" {
			r.Var = n.Symbol
			if n.Offset != 0 {
				r.Path = heap.Path{heap.Index(int64(n.Offset / 8))}
			}
			return r
		}
	}
	r.Var = fmt.Sprintf("%s data", baseName(mod.Path))
	return r
}
