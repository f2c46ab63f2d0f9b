package suspects

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/heapsift/heapsift/heap"
	"github.com/heapsift/heapsift/internal/fakeheap"
	"github.com/heapsift/heapsift/retain"
)

// leakyHeap is the seed's story by hand: a class (app.Profiler) whose
// attribute results is a list of n items of 100 bytes each, plus other
// small globals that hold little.
func leakyHeap(n int) (h *fakeheap.Heap, list int) {
	h = fakeheap.New()
	class := h.Add("type", 400)
	h.Global("app.Profiler", class)
	list = h.Add("list", uint64(56+8*n))
	h.Ref(class, list, heap.Attr("results"))
	for i := 0; i < n; i++ {
		item := h.Add("app.Item", 100)
		h.Ref(list, item, heap.Index(int64(i)))
	}
	for i := 0; i < 5; i++ {
		h.Global(fmt.Sprintf("app.small%d", i), h.Add("dict", 200))
	}
	return h, list
}

func analyze(t *testing.T, h heap.Heap) *retain.Analysis {
	t.Helper()
	a, err := retain.FromHeap(h, retain.HeapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestFindsTheAccumulationPoint: the list under the class attribute is
// the one suspect, its items the members, and the sentence says so.
func TestFindsTheAccumulationPoint(t *testing.T) {
	const n = 1000
	h, list := leakyHeap(n)
	got := Find(analyze(t, h), Options{})
	if len(got) != 1 {
		t.Fatalf("%d suspects, want 1: %+v", len(got), got)
	}
	s := got[0]
	if s.Accumulation != list || s.Members.Type != "app.Item" || s.Members.Count != n || s.Members.Bytes != 100*n {
		t.Errorf("accumulation %d (want the list %d), members %+v (want %d app.Item, %d bytes)", s.Accumulation, list, s.Members, n, 100*n)
	}
	if s.Root.Var != "app.Profiler" || !slices.Equal(s.Path, []string{"app.Profiler", "results"}) {
		t.Errorf("root %q, path %q; want app.Profiler → results", s.Root.Var, s.Path)
	}
	if !strings.Contains(s.Explanation, "`app.Profiler.results`") || !strings.Contains(s.Explanation, "1,000 `app.Item` accumulate there") {
		t.Errorf("explanation %q", s.Explanation)
	}
}

// TestNoSuspectInAFlatHeap: forty equal holders, none over 10%: no
// suspect rather than a false one.
func TestNoSuspectInAFlatHeap(t *testing.T) {
	h := fakeheap.New()
	for i := 0; i < 40; i++ {
		d := h.Add("dict", 1000)
		h.Global(fmt.Sprintf("app.holder%d", i), d)
		for j := 0; j < 10; j++ {
			h.Ref(d, h.Add("app.Item", 100), heap.Index(int64(j)))
		}
	}
	if got := Find(analyze(t, h), Options{}); len(got) != 0 {
		t.Errorf("%d suspects in a flat heap: %+v", len(got), got)
	}
}

// TestGrowthBetweenTwoHeaps: the same holder with n and 3n items grew by
// 2n members.
func TestGrowthBetweenTwoHeaps(t *testing.T) {
	older, _ := leakyHeap(500)
	newer, _ := leakyHeap(1500)
	ao, an := analyze(t, older), analyze(t, newer)
	candidates := Options{Threshold: CandidateThreshold}
	grown := Compare(Find(ao, candidates), Find(an, candidates), ao.ReachableBytes(), an.ReachableBytes(), DefaultThreshold, "OLD")
	if len(grown) == 0 {
		t.Fatal("no growth found")
	}
	g := grown[0]
	if !g.Found || g.More != 1000 || g.OldCount != 500 || !strings.Contains(g.Growth, "1,000 more `app.Item`") {
		t.Errorf("growth %+v: %q; want the holder found in OLD, 1,000 more app.Item", g.Suspect.Members, g.Growth)
	}
}
