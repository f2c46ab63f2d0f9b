package pycore

import (
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/heapsift/heapsift/heap"
)

// Roots: module globals from sys.modules (one root a global, named
// "module.name"), every thread's frames' locals, and the interpreter's own
// state (sys.modules, builtins, sys's dict, thread dicts). Roots are
// collected as addresses before the objects are known, and resolved to
// object numbers once they are.

// pendingRoot is a root by the address it refers to.
type pendingRoot struct {
	root heap.Root
	addr uint64
	// counted says the reference is counted in the object's refcount and
	// is no object's: a frame's local, the interpreter's own pointers.
	counted bool
}

// collectRoots gathers the roots of the main interpreter.
func (h *Heap) collectRoots() {
	s := &h.l.State
	interp := h.interps[0]
	for _, r := range []struct {
		off  int64
		name string
	}{{s.InterpModules, "sys.modules"}, {s.InterpBuiltins, "builtins"}, {s.InterpSysdict, "sys.__dict__"}} {
		if v, err := h.mem.u64(interp + uint64(r.off)); err == nil && v != 0 {
			h.rootAddrs = append(h.rootAddrs, pendingRoot{
				root: heap.Root{Kind: heap.RootRuntime, Name: r.name, Addr: interp + uint64(r.off)},
				addr: v, counted: true,
			})
		}
	}
	h.stateRoots("PyInterpreterState", interp, "interpreter ", s.InterpModules, s.InterpBuiltins, s.InterpSysdict)
	h.staticStateRoots()
	h.moduleGlobals()
	h.readThreads()
	h.threadNames()
	for ti := range h.threads {
		h.stackRoots(ti)
		th := &h.threads[ti]
		name := "thread " + strconv.FormatUint(th.ID, 10) + " state "
		if th.dict != 0 {
			h.rootAddrs = append(h.rootAddrs, pendingRoot{
				root:    heap.Root{Kind: heap.RootRuntime, Name: name + "dict"},
				addr:    th.dict,
				counted: true,
			})
		}
		h.stateRoots("PyThreadState", th.state, name, s.ThreadDict)
	}
	if n := len(h.interps) - 1; n > 0 {
		h.warns.Addf("pycore", "the process has %d subinterpreters; only the main interpreter's heap is read", n)
	}
}

// moduleDefRoot adds the copy of a C module's dict that its static
// definition keeps (m_base.m_copy, for single-phase initialization) as a
// runtime root.
func (h *Heap) moduleDefRoot(name string, mod uint64) {
	ml := &h.l.Module
	if ml.Def == absent || ml.DefCopy == absent {
		return
	}
	def, err := h.mem.u64(mod + uint64(ml.Def))
	if err != nil || def == 0 || h.mem.heapAddr(def) {
		return // a definition in the heap is no static's
	}
	if c, err := h.mem.u64(def + uint64(ml.DefCopy)); err == nil && c != 0 && h.mem.heapAddr(c) {
		h.rootAddrs = append(h.rootAddrs, pendingRoot{
			root:    heap.Root{Kind: heap.RootRuntime, Name: "module " + name + " definition's m_copy", Addr: def + uint64(ml.DefCopy)},
			addr:    c,
			counted: true,
		})
	}
}

// stateStructs are the interpreter's C state structs whose object members
// are roots: what the interpreter and each thread hold (codec registries,
// the ast module's types, warnings filters, a thread's exception and
// context).
var stateStructs = []string{"PyInterpreterState", "PyThreadState"}

// ownedStateFields leaves out the state members that hold no counted
// reference to a live object: free lists and the slice cache (dead
// objects kept for reuse), objects being deleted (trash), borrowed caches
// (callable_cache, a thread's trace_info, the JIT's executor lists), and
// the embedded initial thread state, read as a thread.
func ownedStateFields(refs []namedOffset) []namedOffset {
	var out []namedOffset
	for _, r := range refs {
		n := strings.ToLower(r.name)
		switch {
		case strings.Contains(n, "free"), strings.Contains(n, "trash"), strings.Contains(n, "delete_later"),
			strings.Contains(n, "slice_cache"), strings.HasPrefix(n, "callable_cache."),
			strings.HasPrefix(n, "trace_info."), strings.Contains(n, "executor"), n == "optimizer",
			strings.HasPrefix(n, "_initial_thread."):
			continue
		}
		out = append(out, r)
	}
	return out
}

// stateRoots adds the object members of the C state struct at a as
// runtime roots named prefix+member, but those at the offsets in skip
// (already roots of their own).
func (h *Heap) stateRoots(cstruct string, a uint64, prefix string, skip ...int64) {
	if a == 0 {
		return
	}
	for _, f := range h.l.structRefs[cstruct] {
		if slices.Contains(skip, f.off) {
			continue
		}
		if v, err := h.mem.u64(a + uint64(f.off)); err == nil && v != 0 && h.mem.heapAddr(v) {
			h.rootAddrs = append(h.rootAddrs, pendingRoot{
				root:    heap.Root{Kind: heap.RootRuntime, Name: prefix + f.name, Addr: a + uint64(f.off)},
				addr:    v,
				counted: true,
			})
		}
	}
}

// moduleGlobals adds a root for each global of each module in
// sys.modules.
func (h *Heap) moduleGlobals() {
	modules, err := h.mem.u64(h.interps[0] + uint64(h.l.State.InterpModules))
	if err != nil || modules == 0 {
		h.warns.Addf("pycore", "cannot read sys.modules: %v", err)
		return
	}
	type mod struct {
		name string
		addr uint64
	}
	var mods []mod
	err = h.dictEntries(modules, func(e dictEntry) bool {
		if name, ok := h.readStr(e.key, 256); ok {
			mods = append(mods, mod{name, e.value})
		}
		return true
	})
	if err != nil {
		h.warns.Addf("pycore", "reading sys.modules: %v", err)
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].name < mods[j].name })
	for _, m := range mods {
		if !h.isModule(m.addr) {
			continue
		}
		h.moduleDefRoot(m.name, m.addr)
		d, err := h.mem.u64(m.addr + uint64(h.l.Module.Dict))
		if err != nil || d == 0 {
			continue
		}
		h.dictEntries(d, func(e dictEntry) bool {
			name, ok := h.readStr(e.key, 256)
			if !ok || name == "__builtins__" {
				return true
			}
			h.rootAddrs = append(h.rootAddrs, pendingRoot{
				root: heap.Root{Kind: heap.RootGlobal, Var: m.name + "." + name},
				addr: e.value,
			})
			return true
		})
	}
}

// isModule reports whether a is a module object.
func (h *Heap) isModule(a uint64) bool {
	t, err := h.mem.u64(a + uint64(h.l.ObType))
	if err != nil {
		return false
	}
	ti, err := h.typeOf(t)
	return err == nil && ti.kind == kindModule
}

// stackRoots adds a root for each local of thread ti's frames.
func (h *Heap) stackRoots(ti int) {
	t := &h.threads[ti]
	for _, fr := range t.Frames {
		for _, loc := range fr.Locals {
			h.rootAddrs = append(h.rootAddrs, pendingRoot{
				root: heap.Root{
					Kind: heap.RootStack, Var: loc.Name, Func: fr.Func, File: fr.File, Line: fr.Line,
					Thread: int64(t.ID), ThreadName: t.Name, ThreadLabel: "thread", Addr: loc.Slot,
				},
				addr:    loc.Addr,
				counted: h.l.Minor >= 11, // before 3.11 the frame object holds them
			})
		}
		for _, v := range fr.Stack {
			h.rootAddrs = append(h.rootAddrs, pendingRoot{
				root: heap.Root{
					Kind: heap.RootStack, Name: evalStackName, Func: fr.Func, File: fr.File, Line: fr.Line,
					Thread: int64(t.ID), ThreadName: t.Name, ThreadLabel: "thread", Addr: v.Slot,
				},
				addr:    v.Addr,
				counted: true,
			})
		}
	}
}

// threadNames names the threads from threading._active, a dict from
// thread ident to Thread object whose _name is the name.
func (h *Heap) threadNames() {
	var active uint64
	for _, r := range h.rootAddrs {
		if r.root.Kind == heap.RootGlobal && r.root.Var == "threading._active" {
			active = r.addr
		}
	}
	if active == 0 {
		return
	}
	h.dictEntries(active, func(e dictEntry) bool {
		ident, ok := h.intValueAny(e.key)
		if !ok {
			return true
		}
		for i := range h.threads {
			if h.threads[i].ID == ident {
				h.threads[i].Name = h.threadObjectName(e.value)
			}
		}
		return true
	})
}

// intValueAny reads an int of up to 64 bits.
func (h *Heap) intValueAny(a uint64) (uint64, bool) {
	n, neg, err := h.intDigits(a)
	if err != nil || neg || n > 3 {
		return 0, false
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		d, err := h.mem.u32(a + uint64(h.l.Long.Digit) + uint64(4*i))
		if err != nil {
			return 0, false
		}
		v = v<<30 | uint64(d)
	}
	return v, true
}

// threadObjectName reads a threading.Thread's _name attribute.
func (h *Heap) threadObjectName(obj uint64) string {
	t, err := h.mem.u64(obj + uint64(h.l.ObType))
	if err != nil {
		return ""
	}
	ti, err := h.typeOf(t)
	if err != nil || !ti.heapType {
		return ""
	}
	name := ""
	visit := func(e dictEntry) bool {
		if k, ok := h.readStr(e.key, 64); ok && k == "_name" {
			name, _ = h.readStr(e.value, 256)
			return false
		}
		return true
	}
	dict, values := h.instanceStorage(obj, ti)
	switch {
	case dict != 0:
		h.dictEntries(dict, visit)
	case values != 0 && ti.cachedKeys != 0:
		if k, err := h.readKeys(ti.cachedKeys); err == nil {
			h.entriesOf(k, values, visit)
		}
	}
	return name
}

// resolveRoots turns pending roots into roots of known objects.
func (h *Heap) resolveRoots() {
	for _, r := range h.rootAddrs {
		if j, ok := h.Find(r.addr); ok {
			r.root.Object = uint32(j)
			h.roots = append(h.roots, r.root)
		}
	}
}

// staticTypeRoots adds the references of the static types met (types
// defined in C, outside the heap) to their dict, MRO, bases and
// subclasses, which they hold counted. The static subclasses of each are
// met too, though no object may have them as its type: their dicts are
// otherwise held by nothing the model sees.
func (h *Heap) staticTypeRoots() {
	t := &h.l.Type
	// h.types.all grows as subclasses are met.
	for i := 0; i < len(h.types.all); i++ {
		ti := h.types.all[i]
		if ti.heapType || ti.rooted {
			continue
		}
		ti.rooted = true
		h.meetSubclasses(ti.addr)
		for _, f := range []struct {
			off  int64
			name string
		}{{t.Dict, "__dict__"}, {t.Mro, "__mro__"}, {t.Bases, "__bases__"}, {t.Subclasses, "__subclasses__"}} {
			if f.off == absent {
				continue
			}
			v, err := h.mem.u64(ti.addr + uint64(f.off))
			if err != nil || v == 0 || !h.mem.heapAddr(v) {
				continue
			}
			h.rootAddrs = append(h.rootAddrs, pendingRoot{
				root:    heap.Root{Kind: heap.RootRuntime, Name: ti.name + "." + f.name, Addr: ti.addr + uint64(f.off)},
				addr:    v,
				counted: true,
			})
		}
	}
}

// meetSubclasses reads the subclasses of the type at a: 3.6-3.11 keep
// them in tp_subclasses, a dict of weak references to each (3.12+ keep
// static builtin types' in the interpreter; see staticStateRoots).
func (h *Heap) meetSubclasses(a uint64) {
	off := h.l.Type.Subclasses
	if off == absent || h.l.Weakref.Object == absent {
		return
	}
	d, err := h.mem.u64(a + uint64(off))
	if err != nil || d == 0 || !h.mem.heapAddr(d) {
		return
	}
	h.dictEntries(d, func(e dictEntry) bool {
		if sub, err := h.mem.u64(e.value + uint64(h.l.Weakref.Object)); err == nil && sub != 0 {
			h.typeOf(sub) // an error leaves it unmet
		}
		return true
	})
}

// staticStateRoots adds the dicts and subclass lists the interpreter keeps
// for static builtin types (3.12+).
func (h *Heap) staticStateRoots() {
	s := &h.l.State
	if s.StaticTypes == absent {
		return
	}
	interp := h.interps[0]
	n, err := h.mem.i64(interp + uint64(s.StaticTypesCount))
	if err != nil || n < 0 {
		return
	}
	n = min(n, s.StaticTypeMax)
	for i := int64(0); i < n; i++ {
		e := interp + uint64(s.StaticTypes+i*s.StaticTypeSize)
		for _, f := range []struct {
			off  int64
			name string
		}{{s.StaticTypeDict, "__dict__"}, {s.StaticTypeSubclasses, "__subclasses__"}} {
			if v, err := h.mem.u64(e + uint64(f.off)); err == nil && v != 0 {
				h.rootAddrs = append(h.rootAddrs, pendingRoot{
					root:    heap.Root{Kind: heap.RootRuntime, Name: "static type " + h.staticTypeName(e) + "." + f.name, Addr: e + uint64(f.off)},
					addr:    v,
					counted: true,
				})
			}
		}
	}
}

// staticTypeName names the type of a static type state, whose first
// member points to it.
func (h *Heap) staticTypeName(state uint64) string {
	t, err := h.mem.u64(state)
	if err != nil {
		return "?"
	}
	if ti, err := h.typeOf(t); err == nil {
		return ti.name
	}
	return "?"
}
