package gocore

import (
	"slices"
	"testing"

	"github.com/heapsift/heapsift/dump"
)

// TestEdgesAndSweeps checks the object index against the spans'
// allocation bits; the edges Edges and EachLiveRefs give against a direct
// scan of every object; marking against a depth-first search; and marking
// and type propagation with their work stacks taking over after one sweep
// against the results of Open.
func TestEdgesAndSweeps(t *testing.T) {
	for _, b := range builds {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			prog, _ := openCore(t, "heap", b.build)
			checkObjectIndex(t, prog)
			checkEdges(t, prog)
			checkMark(t, prog)
			checkPropagationOrder(t, prog)
		})
	}
}

// checkObjectIndex checks that each allocated slot, found from the
// spans' allocation bits, is the object the index says, and back.
func checkObjectIndex(t *testing.T, p *Program) {
	h := &p.heap
	var obj uint32
	dense, sparse := 0, 0
	for si := range h.spans {
		s := &h.spans[si]
		if s.dense {
			dense++
		} else {
			sparse++
		}
		for slot := uint64(0); slot < uint64(s.nelems); slot++ {
			b := s.slotBit + slot
			if h.alloc[b/64].bits&(1<<(b%64)) == 0 {
				continue
			}
			a := s.base + dump.Address(slot*s.elemsize)
			if got := h.spanIndex(obj); got != uint32(si) {
				t.Fatalf("object %d: span %d, want %d", obj, got, si)
			}
			if got := h.slotOf(obj, s); got != slot {
				t.Fatalf("object %d: slot %d of span %d, want %d", obj, got, si, slot)
			}
			if got := h.addrOf(obj); got != a {
				t.Fatalf("object %d: address %#x, want %#x", obj, uint64(got), uint64(a))
			}
			if o, off, ok := h.findObject(a + 1); !ok || o != obj || off != 1 {
				t.Fatalf("findObject(%#x) = %d, %d, %v; want object %d", uint64(a+1), o, off, ok, obj)
			}
			obj++
		}
	}
	if int(obj) != p.NumObjects() {
		t.Errorf("%d allocated slots, %d objects", obj, p.NumObjects())
	}
	if dense == 0 || sparse == 0 {
		t.Errorf("%d spans with their allocated slots first, %d with holes: want both", dense, sparse)
	}
}

// scanEdges returns the edges of obj found by reading its pointer words,
// with offsets from the object's value (after any malloc header), as
// Edges gives them.
func scanEdges(p *Program, obj uint32) (targets, offsets []uint32) {
	start := p.dataStart(obj)
	p.forEachPointerWord(obj, func(off, val uint64) bool {
		if t, _, ok := p.heap.findObject(dump.Address(val)); ok {
			targets = append(targets, t)
			offsets = append(offsets, uint32(off-start))
		}
		return true
	})
	return targets, offsets
}

func checkEdges(t *testing.T, p *Program) {
	var n uint64
	for o := 0; o < p.NumObjects(); o++ {
		wantT, wantO := scanEdges(p, uint32(o))
		n += uint64(len(wantT))
		gotT, gotO := p.Edges(o)
		if !slices.Equal(gotT, wantT) || !slices.Equal(gotO, wantO) {
			t.Fatalf("object %d: edges %v at %v, scanning finds %v at %v", o, gotT, gotO, wantT, wantO)
		}
	}
	if n == 0 {
		t.Errorf("no edges")
	}
	next, live := 0, 0
	p.EachLiveRefs(func(obj int, targets, offsets []uint32) {
		for ; next < obj; next++ {
			if p.Live(next) && len(scanEdgesOf(p, next)) > 0 {
				t.Fatalf("EachLiveRefs skipped live object %d, which has edges", next)
			}
		}
		if !p.Live(obj) || next > obj {
			t.Fatalf("EachLiveRefs gave object %d (live %v) after %d", obj, p.Live(obj), next)
		}
		wantT, wantO := p.Edges(obj)
		if !slices.Equal(targets, wantT) || !slices.Equal(offsets, wantO) {
			t.Fatalf("EachLiveRefs: object %d: edges %v at %v, Edges %v at %v", obj, targets, offsets, wantT, wantO)
		}
		next = obj + 1
		live++
	})
	if live == 0 {
		t.Errorf("EachLiveRefs gave no object")
	}
}

func scanEdgesOf(p *Program, obj int) []uint32 {
	targets, _ := scanEdges(p, uint32(obj))
	return targets
}

func checkMark(t *testing.T, p *Program) {
	// A plain depth-first search from the roots.
	want := make([]uint64, len(p.live))
	var work []uint32
	grey := func(obj uint32) {
		if want[obj/64]&(1<<(obj%64)) == 0 {
			want[obj/64] |= 1 << (obj % 64)
			work = append(work, obj)
		}
	}
	for _, r := range p.roots {
		grey(uint32(r.Object))
	}
	for len(work) > 0 {
		obj := work[len(work)-1]
		work = work[:len(work)-1]
		targets, _ := scanEdges(p, obj)
		for _, t := range targets {
			grey(t)
		}
	}
	if !slices.Equal(p.live, want) {
		t.Errorf("marking differs from a depth-first search")
	}
	var err error
	if p.live, err = p.mark(p.roots, 1); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.live, want) {
		t.Errorf("marking with its work stack from the second sweep differs from a depth-first search")
	}
}

func checkPropagationOrder(t *testing.T, p *Program) {
	want := slices.Clone(p.objType)
	for o := range p.objType {
		if !p.isFixed(uint32(o)) {
			p.objType[o] = NoType
		}
	}
	p.propagateTypes(1)
	diff := 0
	for o := range want {
		if p.objType[o] != want[o] {
			if diff < 10 {
				t.Errorf("object %d at %#x: %s with the work stack from the second sweep, %s in sweeps",
					o, uint64(p.heap.addrOf(uint32(o))), p.TypeName(p.objType[o]), p.TypeName(want[o]))
			}
			diff++
		}
	}
	if diff > 0 {
		t.Errorf("%d objects typed differently", diff)
	}
}
