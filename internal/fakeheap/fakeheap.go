// Package fakeheap is a heap.Heap built by hand, for testing the
// language-neutral layers (retain, suspects, compare) on graphs whose
// every number is known, without a core.
package fakeheap

import "github.com/heapsift/heapsift/heap"

// Heap is a heap.Heap of objects added one by one. Object i is at address
// Base + i*Stride; a reference's label is its index among its object's
// references, named by the Step given when it was added.
type Heap struct {
	types   []string
	typeIDs map[string]heap.TypeID
	objs    []object
	roots   []heap.Root
}

type object struct {
	typ     heap.TypeID
	size    uint64
	garbage bool
	targets []uint32
	steps   []heap.Step
}

// Base and Stride place the objects in memory.
const (
	Base   = 0x10000
	Stride = 0x1000
)

var _ heap.Heap = (*Heap)(nil)

// New returns an empty heap.
func New() *Heap { return &Heap{typeIDs: map[string]heap.TypeID{}} }

// Add adds an object of type typ and size size and returns its number.
func (h *Heap) Add(typ string, size uint64) int {
	id, ok := h.typeIDs[typ]
	if !ok {
		id = heap.TypeID(len(h.types))
		h.typeIDs[typ] = id
		h.types = append(h.types, typ)
	}
	h.objs = append(h.objs, object{typ: id, size: size})
	return len(h.objs) - 1
}

// Garbage marks object obj as garbage (not Live).
func (h *Heap) Garbage(obj int) { h.objs[obj].garbage = true }

// Ref adds a reference from object from to object to, named step.
func (h *Heap) Ref(from, to int, step heap.Step) {
	o := &h.objs[from]
	o.targets = append(o.targets, uint32(to))
	o.steps = append(o.steps, step)
}

// Global adds a module-level variable name holding object obj.
func (h *Heap) Global(name string, obj int) {
	h.roots = append(h.roots, heap.Root{Kind: heap.RootGlobal, Var: name, Object: uint32(obj)})
}

// Local adds a local variable of function fn in thread thread holding
// object obj.
func (h *Heap) Local(thread int64, fn, name string, obj int) {
	h.roots = append(h.roots, heap.Root{Kind: heap.RootStack, Thread: thread, ThreadLabel: "thread", Func: fn, Var: name, Object: uint32(obj)})
}

// Language implements heap.Heap.
func (h *Heap) Language() string { return "fake" }

// NumObjects implements heap.Heap.
func (h *Heap) NumObjects() int { return len(h.objs) }

// Addr implements heap.Heap.
func (h *Heap) Addr(obj int) uint64 { return Base + uint64(obj)*Stride }

// Size implements heap.Heap.
func (h *Heap) Size(obj int) uint64 { return h.objs[obj].size }

// Live implements heap.Heap.
func (h *Heap) Live(obj int) bool { return !h.objs[obj].garbage }

// Type implements heap.Heap.
func (h *Heap) Type(obj int) heap.TypeID { return h.objs[obj].typ }

// NumTypes implements heap.Heap.
func (h *Heap) NumTypes() int { return len(h.types) }

// TypeName implements heap.Heap.
func (h *Heap) TypeName(t heap.TypeID) string { return h.types[t] }

// TypeFamily implements heap.Heap.
func (h *Heap) TypeFamily(t heap.TypeID) string { return h.types[t] }

// Refs implements heap.Heap: labels are reference indices.
func (h *Heap) Refs(obj int) (targets, labels []uint32) {
	o := &h.objs[obj]
	labels = make([]uint32, len(o.targets))
	for i := range labels {
		labels[i] = uint32(i)
	}
	return o.targets, labels
}

// RefPath implements heap.Heap.
func (h *Heap) RefPath(obj int, label uint32) heap.Path {
	return heap.Path{h.objs[obj].steps[label]}
}

// RefClass implements heap.Heap: every reference is a class of its own,
// which is correct (a class only saves naming work) and enough for the
// small graphs of tests.
func (h *Heap) RefClass(t heap.TypeID, label uint32) uint32 { return label }

// Roots implements heap.Heap.
func (h *Heap) Roots() []heap.Root { return h.roots }

// ObjectAt implements heap.Heap.
func (h *Heap) ObjectAt(addr uint64) (int, uint64, bool) {
	if addr < Base {
		return 0, 0, false
	}
	i := int((addr - Base) / Stride)
	if i >= len(h.objs) || (addr-Base)%Stride >= h.objs[i].size {
		return 0, 0, false
	}
	return i, (addr - Base) % Stride, true
}

// PathAt implements heap.Heap: the fake knows no layouts.
func (h *Heap) PathAt(obj int, off uint64) heap.Path { return nil }
