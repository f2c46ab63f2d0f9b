package gocore

// Model shows a Program through the language-neutral heap interface
// (package heap) that retain, compare and the renderers work on. Its type
// IDs are gocore's, followed by one ID per size class and scan kind of
// untyped objects, so that "<untyped noscan 48>" is a type like any other
// and every command accepts the names the histogram prints. A reference's
// label is the byte offset of its pointer word, as gocore's edges carry it.

import (
	"fmt"
	"strings"

	"github.com/heapsift/heapsift/dump"
	model "github.com/heapsift/heapsift/heap"
)

// Model is a Program as a heap.Heap.
type Model struct {
	p *Program
	// untyped[i] is the size class and scan kind of TypeID
	// len(p.types.types)+i; spanUntyped[s] the ID standing for span s's
	// untyped objects.
	untyped     []untypedClass
	spanUntyped []model.TypeID
}

type untypedClass struct {
	size   uint64
	noscan bool
}

var _ model.Heap = (*Model)(nil)

// Model returns the Program as a heap.Heap.
func (p *Program) Model() *Model {
	m := &Model{p: p, spanUntyped: make([]model.TypeID, len(p.heap.spans))}
	ids := map[untypedClass]model.TypeID{}
	for si := range p.heap.spans {
		s := &p.heap.spans[si]
		k := untypedClass{s.elemsize, s.noscan}
		id, ok := ids[k]
		if !ok {
			id = model.TypeID(len(p.types.types) + len(m.untyped))
			ids[k] = id
			m.untyped = append(m.untyped, k)
		}
		m.spanUntyped[si] = id
	}
	return m
}

// Program returns the Go model behind the interface.
func (m *Model) Program() *Program { return m.p }

// Language implements heap.Heap.
func (m *Model) Language() string { return "go" }

// NumObjects implements heap.Heap.
func (m *Model) NumObjects() int { return m.p.NumObjects() }

// Addr implements heap.Heap.
func (m *Model) Addr(obj int) uint64 { return uint64(m.p.Addr(obj)) }

// Size implements heap.Heap: the size class's size, as MemStats counts.
func (m *Model) Size(obj int) uint64 { return m.p.Size(obj) }

// Live implements heap.Heap.
func (m *Model) Live(obj int) bool { return m.p.Live(obj) }

// Type implements heap.Heap; untyped objects get their size class's ID.
func (m *Model) Type(obj int) model.TypeID {
	if t := m.p.objType[obj]; t != NoType {
		return model.TypeID(t)
	}
	return m.spanUntyped[m.p.heap.spanIndex(uint32(obj))]
}

// NumTypes implements heap.Heap.
func (m *Model) NumTypes() int { return len(m.p.types.types) + len(m.untyped) }

// TypeName implements heap.Heap: gocore's names, "<untyped 48>" or
// "<untyped noscan 48>" for the untyped size classes.
func (m *Model) TypeName(t model.TypeID) string {
	n := model.TypeID(len(m.p.types.types))
	if t < n {
		return m.p.TypeName(TypeID(t))
	}
	if i := int(t - n); i < len(m.untyped) {
		return untypedName(m.untyped[i].size, m.untyped[i].noscan)
	}
	return fmt.Sprintf("<bad type %d>", t)
}

// untypedName names the untyped objects of one size class.
func untypedName(size uint64, noscan bool) string {
	if noscan {
		return fmt.Sprintf("<untyped noscan %d>", size)
	}
	return fmt.Sprintf("<untyped %d>", size)
}

// TypeFamily implements heap.Heap: arrays of any length are one family,
// "[]T", since a slice's backing array is sized by its capacity.
func (m *Model) TypeFamily(t model.TypeID) string {
	if int(t) < len(m.p.types.types) {
		if g := &m.p.types.types[t]; g.count != 0 {
			return "[]" + m.p.TypeName(g.elem)
		}
	}
	return m.TypeName(t)
}

// Refs implements heap.Heap: the labels are the pointer words' offsets.
func (m *Model) Refs(obj int) (targets, labels []uint32) { return m.p.Edges(obj) }

// EachLiveRefs calls fn with the references of every live object that has
// any, in object order (Program.EachLiveRefs): for a caller that visits
// them all, cheaper than Refs object by object. The slices are reused
// from call to call.
func (m *Model) EachLiveRefs(fn func(obj int, targets, labels []uint32)) { m.p.EachLiveRefs(fn) }

// RefPath implements heap.Heap: the field path of the pointer word, with
// the data pointer of a slice or string standing for the slice or string
// itself (".results", not ".results.array"), "*" for a pointer that is the
// whole value and "?" in an object of unknown type, rewritten as Go
// (goPath): map values "[…]", interface data ".(T)", the runtime's map
// and channel internals as internal steps.
func (m *Model) RefPath(obj int, off uint32) model.Path {
	if obj < 0 || obj >= len(m.p.objType) || m.p.objType[obj] == NoType {
		return model.Path{{Kind: model.StepUnknown}}
	}
	return m.p.goPath(obj, uint64(off), pointerPath(m.p.FieldSteps(obj, uint64(off))))
}

// pointerPath turns the field path of a pointer word into the path of
// what it points to.
func pointerPath(p model.Path) model.Path {
	if n := len(p); n > 0 && p[n-1].Kind == model.StepField && (p[n-1].Name == "array" || p[n-1].Name == "str") {
		p = p[:n-1]
	}
	if len(p) == 0 {
		return model.Path{{Kind: model.StepDeref}}
	}
	return p
}

// RefClass implements heap.Heap: the offset within one element for an
// array type, the offset otherwise; one class for the untyped.
func (m *Model) RefClass(t model.TypeID, off uint32) uint32 {
	if t == model.TypeID(NoType) || int(t) >= len(m.p.types.types) {
		return 0
	}
	if g := &m.p.types.types[t]; g.count != 0 && g.size != 0 {
		return uint32(uint64(off) % g.size)
	}
	return off
}

// Roots implements heap.Heap.
//
// The stack roots of the runtime's own goroutines (GC workers, the
// finalizer goroutine when idle) are bookkeeping: searched after the
// program's, as their traceback hides them.
func (m *Model) Roots() []model.Root {
	system := map[int64]bool{}
	for _, g := range m.p.Goroutines() {
		if g.System {
			system[g.ID] = true
		}
	}
	roots := m.p.Roots()
	out := make([]model.Root, 0, len(roots))
	for _, r := range roots {
		if r.Object < 0 || r.Object >= m.p.NumObjects() {
			continue
		}
		mr := modelRoot(r)
		if r.Kind == RootStack && system[r.Goroutine] {
			mr.Bookkeeping = true
		}
		out = append(out, mr)
	}
	return out
}

// modelRoot converts a gocore root.
func modelRoot(r Root) model.Root {
	mr := model.Root{Object: uint32(r.Object), Name: shortenShapes(r.Name), Var: r.Var, Func: shortenShapes(r.Func), Addr: uint64(r.Addr)}
	switch r.Kind {
	case RootGlobal:
		mr.Kind = model.RootGlobal
		if path := pointerPath(r.Path); path[0].Kind != model.StepDeref {
			mr.Path = path
		}
		if mr.Var == "" {
			mr.Var = r.Name
		}
		mr.Bookkeeping = bookkeepingVar(mr.Var)
	case RootStack:
		mr.Kind = model.RootStack
		mr.Thread, mr.ThreadLabel = r.Goroutine, "goroutine"
	case RootFinalizer:
		mr.Kind = model.RootFinalizer
	default:
		mr.Kind = model.RootRuntime
	}
	return mr
}

// bookkeepingVar reports whether a package-level variable belongs to the
// runtime's or the standard library's caches and registries (sync.Pool's
// oldPools, timers, unique handles), not to the program's state: an
// object they reach that the program also reaches is shown under the
// program.
func bookkeepingVar(name string) bool {
	slash := strings.LastIndexByte(name, '/') + 1
	dot := strings.IndexByte(name[slash:], '.')
	if dot < 0 {
		return false
	}
	pkg := name[:slash+dot]
	for _, b := range []string{"runtime", "sync", "weak", "unique", "expvar", "internal/", "runtime/", "sync/"} {
		if pkg == b || strings.HasSuffix(b, "/") && strings.HasPrefix(pkg, b) {
			return true
		}
	}
	return false
}

// ObjectAt implements heap.Heap.
func (m *Model) ObjectAt(addr uint64) (int, uint64, bool) { return m.p.ObjectAt(dump.Address(addr)) }

// PathAt implements heap.Heap.
func (m *Model) PathAt(obj int, off uint64) model.Path { return m.p.FieldSteps(obj, off) }

// Untyped implements heap.UntypedReporter: the IDs past gocore's own
// types stand for untyped objects, and so does NoType.
func (m *Model) Untyped(t model.TypeID) bool {
	return t == model.TypeID(NoType) || int(t) >= len(m.p.types.types)
}

// ObjectTypeName names object i's type as every command prints it: its
// type's name, or its size class's untyped name.
func (p *Program) ObjectTypeName(i int) string {
	if t := p.objType[i]; t != NoType {
		return p.TypeName(t)
	}
	s := p.heap.spanOf(uint32(i))
	return untypedName(s.elemsize, s.noscan)
}
