// Package heap is the language-neutral object graph that every language
// model (gocore for Go, pycore for CPython, native for malloc heaps) gives
// the algorithms above it: retain (dominators, paths, groups), compare
// (diffs) and the renderers. Nothing here knows a language.
//
// A Heap numbers its objects densely, 0..NumObjects()-1, and answers
// questions about an object by its number: address, size, type, and its
// references out. A reference carries an opaque label that only the model
// interprets (gocore: the byte offset of the pointer word; pycore: the
// slot or index), so that building the graph makes no string per edge;
// names are asked for only for what is shown, as a structured Path.
package heap

// TypeID is a model's interned type: one ID, one display name. Every
// object has one; objects whose type the model cannot tell get IDs of
// their own that name what is known ("<untyped 48>").
type TypeID uint32

// Heap is a language model's object graph.
type Heap interface {
	// Language names the model: "go", "python", "native".
	Language() string

	// NumObjects returns the number of objects, live and garbage.
	NumObjects() int
	// Addr returns object obj's address, where its value starts as the
	// program saw it.
	Addr(obj int) uint64
	// Size returns object obj's size in bytes, as the language's own
	// accounting counts it (Go: the size class; Python: sys.getsizeof).
	Size(obj int) uint64
	// Live reports whether obj is reachable from the roots; the rest is
	// garbage the language's collector would free.
	Live(obj int) bool
	// Type returns obj's type.
	Type(obj int) TypeID

	// NumTypes returns the number of TypeIDs: 0..NumTypes()-1.
	NumTypes() int
	// TypeName returns a type's one display name, the name every command
	// prints and accepts ("main.Session", "<untyped noscan 48>",
	// "__main__.Profiler", "tuple").
	TypeName(t TypeID) string
	// TypeFamily names the type for grouping references: types that
	// differ only in a length (Go arrays, "[]*main.Timing" for every
	// [N]*main.Timing) are one family. Usually TypeName.
	TypeFamily(t TypeID) string

	// Refs returns obj's references to other objects: their numbers and
	// the model's labels for them, in parallel slices the caller must not
	// modify.
	Refs(obj int) (targets, labels []uint32)
	// RefPath names the reference labelled label out of obj, exactly
	// (".results", "[7]", ".slots[3].elem").
	RefPath(obj int, label uint32) Path
	// RefClass maps the label of a reference out of an object of type t
	// to its class: references of one class out of objects of one type
	// name the same Path once collapsed (every element of a []*T backing
	// array: one class). It depends on the type and the label alone, so
	// that the caller can name each class once instead of each reference
	// without touching the object.
	RefClass(t TypeID, label uint32) uint32

	// Roots returns the references from outside the heap into it.
	Roots() []Root

	// ObjectAt returns the object holding address addr and addr's offset
	// from the object's Addr.
	ObjectAt(addr uint64) (obj int, offset uint64, ok bool)
	// PathAt names offset off within object obj (the field, element or
	// slot there), or an empty Path if the model cannot tell.
	PathAt(obj int, off uint64) Path
}

// TypeByName returns the TypeID whose display name is name.
func TypeByName(h Heap, name string) (TypeID, bool) {
	for t := 0; t < h.NumTypes(); t++ {
		if h.TypeName(TypeID(t)) == name {
			return TypeID(t), true
		}
	}
	return 0, false
}

// ObjectTypeName returns the display name of obj's type.
func ObjectTypeName(h Heap, obj int) string { return h.TypeName(h.Type(obj)) }
