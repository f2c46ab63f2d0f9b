package gocore

import (
	"fmt"
	"sort"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/gocore/rtread"
)

// Object describes one heap object.
type Object struct {
	Addr dump.Address
	Size uint64 // its size class's size, as runtime.MemStats counts it
	Type TypeID // NoType if unknown
	Live bool   // reachable from the roots
}

// NumObjects returns the number of allocated heap objects. Objects are
// numbered 0..NumObjects()-1 in address order.
func (p *Program) NumObjects() int { return p.heap.numObjects() }

// Object returns object i.
func (p *Program) Object(i int) Object {
	o := uint32(i)
	return Object{
		Addr: p.Addr(int(o)),
		Size: p.heap.spanOf(o).elemsize,
		Type: p.objType[o],
		Live: p.isLive(o),
	}
}

// Addr returns object i's address: where its value starts, as the program
// saw it. For an object with a malloc header (pointerful objects over 512
// bytes) that is 8 bytes into its allocation slot; Size still counts the
// whole slot, as MemStats does. Every offset the API gives is from Addr.
func (p *Program) Addr(i int) dump.Address {
	s := p.heap.spanOf(uint32(i))
	a := s.base + dump.Address(p.heap.slotOf(uint32(i), s)*s.elemsize)
	if s.header {
		a += dump.Address(p.heap.hp.MallocHeader)
	}
	return a
}

// Size returns object i's size in bytes (its size class's size).
func (p *Program) Size(i int) uint64 { return p.heap.size(uint32(i)) }

// Type returns object i's type, NoType if unknown.
func (p *Program) Type(i int) TypeID { return p.objType[i] }

// Live reports whether object i is reachable from the roots.
func (p *Program) Live(i int) bool { return p.isLive(uint32(i)) }

// NumTypes returns the number of entries in the type table; TypeIDs are
// 1..NumTypes()-1 (0 is NoType).
func (p *Program) NumTypes() int { return len(p.types.types) }

// TypeName returns the name of type t, e.g. "main.Session", "[64]uint8",
// "map.group[string]*main.Session"; "<untyped>" for NoType.
func (p *Program) TypeName(t TypeID) string {
	if int(t) >= len(p.types.types) {
		return fmt.Sprintf("<bad type %d>", t)
	}
	return rtread.DisplayName(p.types.types[t].name)
}

// ObjectAt returns the object holding address a and a's offset from the
// object's Addr. An address inside a malloc header belongs to no value.
func (p *Program) ObjectAt(a dump.Address) (obj int, offset uint64, ok bool) {
	o, off, ok := p.heap.findObject(a)
	if !ok {
		return 0, 0, false
	}
	start := p.dataStart(o)
	if off < start {
		return 0, 0, false
	}
	return int(o), off - start, true
}

// TypeStat is one line of the type histogram of live objects.
type TypeStat struct {
	Type  string // type name, or "<untyped N>" / "<untyped noscan N>" by size class
	Count uint64 // live objects
	Size  uint64 // size of each object (its size class), 0 if they differ
	Bytes uint64 // total size-class bytes, as MemStats.HeapAlloc counts them
	Typed bool   // false for the untyped groups
}

// Histogram returns live objects grouped by type (untyped objects by size
// class and scan/noscan), largest Bytes first.
func (p *Program) Histogram() []TypeStat {
	nt := len(p.types.types)
	count := make([]uint64, nt)
	bytes := make([]uint64, nt)
	size := make([]uint64, nt) // common object size, ^0 when they differ
	type untypedKey struct {
		size   uint64
		noscan bool
	}
	untyped := make(map[untypedKey]uint64)
	for si := range p.heap.spans {
		s := &p.heap.spans[si]
		var nu uint64
		for o := s.firstObj; o < s.firstObj+s.nobj; o++ {
			if !p.isLive(o) {
				continue
			}
			t := p.objType[o]
			if t == NoType {
				nu++
				continue
			}
			count[t]++
			bytes[t] += s.elemsize
			switch size[t] {
			case 0:
				size[t] = s.elemsize
			case s.elemsize:
			default:
				size[t] = ^uint64(0)
			}
		}
		if nu > 0 {
			untyped[untypedKey{s.elemsize, s.noscan}] += nu
		}
	}
	var out []TypeStat
	for t := 1; t < nt; t++ {
		if count[t] == 0 {
			continue
		}
		st := TypeStat{Type: rtread.DisplayName(p.types.types[t].name), Count: count[t], Bytes: bytes[t], Typed: true}
		if size[t] != ^uint64(0) {
			st.Size = size[t]
		}
		out = append(out, st)
	}
	for k, n := range untyped {
		name := fmt.Sprintf("<untyped %d>", k.size)
		if k.noscan {
			name = fmt.Sprintf("<untyped noscan %d>", k.size)
		}
		out = append(out, TypeStat{Type: name, Count: n, Size: k.size, Bytes: n * k.size})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Bytes != out[j].Bytes {
			return out[i].Bytes > out[j].Bytes
		}
		return out[i].Type < out[j].Type
	})
	return out
}

// Totals summarizes the heap.
type Totals struct {
	LiveObjects, LiveBytes       uint64 // reachable from the roots
	GarbageObjects, GarbageBytes uint64 // allocated but unreachable
	TypedBytes                   uint64 // live bytes of objects with a known type
	HeapInUse                    uint64 // bytes of in-use heap spans
	StackBytes                   uint64 // bytes of goroutine stacks in use
	Spans                        int    // in-use heap spans
	UnsweptSpans                 int    // spans the sweeper had not reached
	// MemStats is the runtime's own accounting read from the core
	// (heapStats plus the counts of spans cached in mcaches), the figures
	// runtime.ReadMemStats would have returned; valid if HaveMemStats.
	MemStats     MemStats
	HaveMemStats bool
}

// MemStats are the runtime's heap totals at the time of the core.
type MemStats struct {
	HeapAlloc   uint64 // bytes of allocated heap objects
	HeapObjects uint64 // allocated heap objects
}

// Totals returns the heap's totals.
func (p *Program) Totals() Totals {
	t := Totals{Spans: len(p.heap.spans), StackBytes: p.stackBytes, MemStats: p.truth, HaveMemStats: p.haveTruth}
	for si := range p.heap.spans {
		s := &p.heap.spans[si]
		t.HeapInUse += s.size(p.heap.hp.PageSize)
		if s.unswept {
			t.UnsweptSpans++
		}
		for o := s.firstObj; o < s.firstObj+s.nobj; o++ {
			if p.isLive(o) {
				t.LiveObjects++
				t.LiveBytes += s.elemsize
				if p.objType[o] != NoType {
					t.TypedBytes += s.elemsize
				}
			} else {
				t.GarbageObjects++
				t.GarbageBytes += s.elemsize
			}
		}
	}
	return t
}

// Roots returns the GC roots that point into the heap.
func (p *Program) Roots() []Root { return p.roots }

// Damage lists the runtime structures of the core that failed their own
// consistency checks in ways the results depend on (a goroutine list in
// memory the core does not hold, say): each is also a warning, and a caller
// should not present totals as complete while any is listed.
func (p *Program) Damage() []string { return p.damage }
