package pycore

import (
	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/heap"
	"github.com/heapsift/heapsift/warn"

	"github.com/heapsift/heapsift/internal/bitset"
)

// Heap is the CPython object graph of one core. It implements heap.Heap.
type Heap struct {
	p       *dump.Process
	mem     memory
	l       *Layout
	ix      *dwarfIndex // libpython's DWARF the layout came from
	version string      // "3.11"
	lib     string      // libpython's path
	warns   warn.List

	// Addresses of static objects in libpython.
	typeType, strType, dictTypeAddr uint64
	runtime                         uint64   // _PyRuntime, 0 before 3.7
	subtypeDealloc                  uint64   // tp_dealloc of Python classes, 0 if unknown
	interps                         []uint64 // interpreters, the main one first

	types     types
	typeNames heap.TypeNames
	names     []string // interned attribute and field names
	nameIDs   map[string]uint32

	// Objects, numbered by address; their addresses are in the index.
	// What the model keeps per object: 4 bytes of size, 4 of type, 3 bits
	// (tracked, live, folded) and the index's bitmaps (1/64 and 1/128 of
	// the heap's bytes), about 10 bytes an object.
	n       int
	sizes   []uint32   // sys.getsizeof, bigSize when it does not fit
	tidx    []uint32   // each object's type, an index into types.all
	index   *addrIndex // object numbers by address, and their addresses
	tracked bitset.Set // found in the collector's lists
	live    bitset.Set
	folded  bitset.Set // dicts whose entries their owner holds
	// refsStop is the first object whose references are left out (more
	// than a graph can number); n when none is. References are computed
	// again from the core when asked for (refsource.go): keeping them
	// would cost 4 bytes an object and 8 a reference.
	refsStop int

	roots     []heap.Root
	rootAddrs []pendingRoot
	threads   []Thread
	totals    Totals
	codeNames map[uint64][]string // a code object's local names, see localNames
}

// Totals counts what the collector's view of the heap holds.
type Totals struct {
	Objects, Tracked, Live, Garbage int
	// Bytes sums sys.getsizeof over all objects; LiveBytes over live ones.
	Bytes, LiveBytes uint64
}

var _ heap.Heap = (*Heap)(nil)

// Language returns "python".
func (h *Heap) Language() string { return "python" }

// Version returns the interpreter's version, "3.11".
func (h *Heap) Version() string { return h.version }

// Layout returns the layout pycore read the core with.
func (h *Heap) Layout() *Layout { return h.l }

// Totals returns object counts and sizes.
func (h *Heap) Totals() Totals { return h.totals }

// Threads returns the interpreter's threads and their Python stacks.
func (h *Heap) Threads() []Thread { return h.threads }

// NumObjects returns the number of objects, live and garbage.
func (h *Heap) NumObjects() int { return h.n }

// Addr returns the object's address (its PyObject header): O(log n).
func (h *Heap) Addr(obj int) uint64 { return h.index.addr(obj) }

// Size returns sys.getsizeof of the object.
func (h *Heap) Size(obj int) uint64 {
	if s := h.sizes[obj]; s != bigSize {
		return uint64(s)
	}
	return h.getsizeof(h.Addr(obj), h.ti(obj))
}

// Live reports whether CPython's collector would keep the object.
func (h *Heap) Live(obj int) bool { return h.live.Has(obj) }

// Tracked reports whether the object is in the collector's lists.
func (h *Heap) Tracked(obj int) bool { return h.tracked.Has(obj) }

// Type returns the object's type.
func (h *Heap) Type(obj int) heap.TypeID { return h.ti(obj).id }

// ti returns what pycore knows of the object's type.
func (h *Heap) ti(obj int) *typeInfo { return h.types.all[h.tidx[obj]] }

// NumTypes returns the number of type IDs.
func (h *Heap) NumTypes() int { return h.typeNames.Len() }

// TypeName returns a type's display name: "tuple", "__main__.Profiler".
func (h *Heap) TypeName(t heap.TypeID) string {
	return h.typeNames.Name(t)
}

// TypeFamily implements heap.Heap: Python types have no length in their
// names, so a type is its own family.
func (h *Heap) TypeFamily(t heap.TypeID) string { return h.TypeName(t) }

// Roots returns the references into the heap from outside it.
func (h *Heap) Roots() []heap.Root { return h.roots }

// ObjectAt returns the object holding addr: its PyObject header and what
// follows, its size less the GC header and pre-header before it.
func (h *Heap) ObjectAt(addr uint64) (int, uint64, bool) {
	if h.index == nil || h.n == 0 {
		return 0, 0, false
	}
	if addr|7 == ^uint64(0) {
		return 0, 0, false
	}
	i := h.index.below(addr | 7 + 1) // the objects at or below addr's word
	if i == 0 {
		return 0, 0, false
	}
	o := i - 1
	extent := int64(h.Size(o)) - h.preHeader(h.ti(o))
	if off := addr - h.Addr(o); int64(off) < max(extent, 16) {
		return o, off, true
	}
	return 0, 0, false
}

// Find returns the number of the object at address a.
func (h *Heap) Find(a uint64) (int, bool) {
	if h.index == nil {
		return 0, false
	}
	return h.index.find(a)
}

// Library returns the path of the file holding the interpreter, as the
// core names it: libpython, or a statically linked executable.
func (h *Heap) Library() string { return h.lib }
