package gocore

import (
	"slices"
	"testing"

	"github.com/heapsift/heapsift/dump"
)

// TestEdgesAndSweeps checks the pointer graph against a direct scan of
// every object, built with chunks small enough that both workers fill
// many; marking against a depth-first search that does not use the graph;
// and marking and type propagation with their work stacks taking over
// after one sweep against the results of Open.
func TestEdgesAndSweeps(t *testing.T) {
	for _, b := range builds {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			prog, _ := openCore(t, "heap", b.build)
			checkEdges(t, prog)
			checkMark(t, prog)
			checkPropagationOrder(t, prog)
		})
	}
}

// scanEdges returns the edges of obj found without the graph, with offsets
// from the object's value (after any malloc header), as Edges gives them.
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
	small, err := p.buildEdges(3)
	if err != nil {
		t.Fatal(err)
	}
	if len(small.chunks) < 100 {
		t.Errorf("%d chunks of 8 objects, want many", len(small.chunks))
	}
	var n uint64
	for o := 0; o < p.NumObjects(); o++ {
		wantT, wantO := scanEdges(p, uint32(o))
		n += uint64(len(wantT))
		gotT, gotO := p.Edges(o)
		smallT, smallO := small.of(uint32(o))
		if !slices.Equal(gotT, wantT) || !slices.Equal(gotO, wantO) ||
			!slices.Equal(smallT, wantT) || !slices.Equal(smallO, wantO) {
			t.Fatalf("object %d: edges %v at %v (in chunks of 8: %v at %v), scanning finds %v at %v",
				o, gotT, gotO, smallT, smallO, wantT, wantO)
		}
	}
	if p.NumEdges() != n || small.count != n {
		t.Errorf("NumEdges %d (in chunks of 8: %d), want %d", p.NumEdges(), small.count, n)
	}
	if n == 0 {
		t.Errorf("no edges")
	}
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
	p.live = mark(&p.edges, p.roots, len(p.heap.addr), 1)
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
					o, uint64(p.heap.addr[o]), p.TypeName(p.objType[o]), p.TypeName(want[o]))
			}
			diff++
		}
	}
	if diff > 0 {
		t.Errorf("%d objects typed differently", diff)
	}
}
