package pycore

import "runtime/debug"

// Types and sizes. Once the objects are numbered, one pass over them in
// address order reads each one's type and size, the part of the model
// kept per object. It needs nothing from the references, so it runs
// beside the making of the graph (edges.go), on another core if there is
// one; the refcounts are read afterwards, when the references are counted
// (liveSeeds).

// typeCache caches type lookups by the type's address, direct-mapped.
type typeCache [64]*typeInfo

// slot returns the cache's slot for the type at t.
func (c *typeCache) slot(t uint64) **typeInfo { return &c[(t>>4)&63] }

// sizer reads the objects' types and sizes beside the build's other
// passes: a copy of the Heap whose reads go through a coreView of its own
// (a coreView remembers its lookups, so it is not shared between
// goroutines). Meanwhile the fields it reads are not written, and it
// writes only the tidx and sizes arrays, which nothing else touches.
type sizer struct {
	h     Heap
	types typeCache
}

// newSizer allocates the types and sizes and returns their sizer.
func (h *Heap) newSizer() *sizer {
	h.tidx = make([]uint32, h.n)
	h.sizes = make([]uint32, h.n)
	s := &sizer{h: *h}
	v := newCoreView(h.p)
	s.h.mem = memory{p: v, v: v}
	return s
}

// sizing is a sizer's pass running in its own goroutine.
type sizing chan sizeResult

type sizeResult struct {
	bad      int
	panicked any // what the pass panicked with, to panic with again in wait
}

// start runs sizeObjects in a goroutine of its own. A fault reading the
// core panics there as it would in the caller's goroutine (if the caller
// asked for that with debug.SetPanicOnFault), and so does wait, so that
// the caller recovers it as it would any other.
func (s *sizer) start() sizing {
	fault := debug.SetPanicOnFault(false)
	debug.SetPanicOnFault(fault)
	done := make(sizing, 1)
	go func() {
		debug.SetPanicOnFault(fault)
		defer func() {
			if r := recover(); r != nil {
				done <- sizeResult{panicked: r}
			}
		}()
		done <- sizeResult{bad: s.sizeObjects()}
	}()
	return done
}

// wait returns what sizeObjects returned, once it has.
func (c sizing) wait() int {
	r := <-c
	if r.panicked != nil {
		panic(r.panicked)
	}
	return r.bad
}

// sizeObjects fills every object's type and size, and returns how many
// objects had no type it knew.
func (s *sizer) sizeObjects() (bad int) {
	h := &s.h
	h.index.each(func(i int, a uint64) {
		ti := s.typeOf(h.mem.u64(a + uint64(h.l.ObType)))
		if ti == nil {
			bad++ // cannot happen: the same bytes gave a type before
			ti = h.types.all[0]
		}
		h.tidx[i] = ti.seq
		h.sizes[i] = uint32(min(h.getsizeof(a, ti), bigSize))
	})
	return bad
}

// typeOf returns the type at t if it was read before, or nil: it reads
// none, so that the types stay as the object search left them (it read
// every object's type) while the other goroutine may look them up.
func (s *sizer) typeOf(t uint64, err error) *typeInfo {
	if err != nil {
		return nil
	}
	slot := s.types.slot(t)
	if ti := *slot; ti != nil && ti.addr == t {
		return ti
	}
	ti := s.h.types.find(t)
	if ti != nil {
		*slot = ti
	}
	return ti
}
