package main

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/heapsift/heapsift/internal/coretest"
)

// Leak suspects on cores whose programs print the truth: the accumulation
// point is the leaking slice's backing array (Go) or the leaking list
// (Python), with the exact number of members; a heap with no dominant
// holder has no suspect.

// suspectPython is the pyenv version the suspects and report tests run
// on (TestPythonSeedLeak covers every version).
const suspectPython = "3.12.1"

// TestSuspectsGo: on the demo service the one suspect is
// main.defaultProfiler.results with every Timing the program kept, said
// in one sentence; the overview starts with it; two cores rank it by
// growth.
func TestSuspectsGo(t *testing.T) {
	older, newer := leakyCore(t, 20000), leakyCore(t, 50000)
	var r suspectsReport
	runJSON(t, &r, "suspects", newer.Path)
	if len(r.Suspects) == 0 {
		t.Fatalf("no suspect: %+v", r)
	}
	s := r.Suspects[0]
	timings := int(newer.Int(t, "timings"))
	if s.Kind != "object" || s.Accumulation == nil || s.Accumulation.Addr != hexAddr(newer.Hex(t, "results_array")) ||
		s.Members.Type != "main.Timing" || s.Members.Count != timings || s.Expr != "main.defaultProfiler.results" {
		t.Errorf("suspect %+v (accumulation %+v); want the results array %#x with %d main.Timing", s, s.Accumulation, newer.Hex(t, "results_array"), timings)
	}
	if !slices.Equal(s.Path, []string{"main.defaultProfiler", "results"}) || s.Root.Kind != "global" || s.Share < 0.5 || s.Share > 1 {
		t.Errorf("suspect path %q root %+v share %v", s.Path, s.Root, s.Share)
	}
	want := "`main.defaultProfiler.results` (a `[]*main.Timing` of 50,000 elements) retains "
	if !strings.HasPrefix(s.Explanation, want) || !strings.HasSuffix(s.Explanation, ": 50,000 `main.Timing` accumulate there.") {
		t.Errorf("explanation %q", s.Explanation)
	}
	code, out, errs := runCLI(t, newer.Path)
	if i := strings.Index(out, "Top leak suspect"); code != 0 || i < 0 || i > strings.Index(out, "Largest types") || !strings.Contains(out, s.Explanation) {
		t.Errorf("overview: exit %d, stderr %q, no top suspect before the types:\n%s", code, errs, out)
	}

	var g suspectsReport
	runJSON(t, &g, "suspects", older.Path, newer.Path)
	if len(g.Suspects) == 0 || g.Suspects[0].SuspectGrowth == nil {
		t.Fatalf("suspects OLD NEW: %+v", g)
	}
	top := g.Suspects[0]
	more := timings - int(older.Int(t, "timings"))
	if top.Expr != "main.defaultProfiler.results" || !top.FoundInOld || top.MoreMembers != more || top.Grew <= 0 ||
		!strings.Contains(top.Growth, "30,000 more `main.Timing`") {
		t.Errorf("growth %+v; want main.defaultProfiler.results with %d more main.Timing", *top.SuspectGrowth, more)
	}
}

// TestSuspectsPython: the seed's script's leak is Profiler.results with
// exactly its N tuples; a heap of forty equal holders has no suspect.
func TestSuspectsPython(t *testing.T) {
	const n = 4000
	python := coretest.PyenvPython(t, suspectPython)
	core := coretest.MakeCore(t, python, []string{coretest.Testdata(t, "python", "profiler.py"), strconv.Itoa(n)}, nil)
	var r suspectsReport
	runJSON(t, &r, "suspects", core.Path)
	if len(r.Suspects) != 1 || r.Language != "python" {
		t.Fatalf("%s: %d suspects, want 1: %+v", r.Language, len(r.Suspects), r.Suspects)
	}
	s := r.Suspects[0]
	if s.Accumulation == nil || s.Accumulation.Addr != core.Value(t, "results_list") || s.Accumulation.Type != "list" ||
		s.Members.Type != "tuple" || s.Members.Count != n || s.Expr != "__main__.Profiler.results" {
		t.Errorf("suspect %+v (accumulation %+v); want the list %s with %d tuples", s, s.Accumulation, core.Value(t, "results_list"), n)
	}
	if !strings.Contains(s.Explanation, "4,000 `tuple` accumulate there") {
		t.Errorf("explanation %q", s.Explanation)
	}

	flat := coretest.MakeCore(t, python, []string{coretest.Testdata(t, "python", "flat.py")}, nil)
	var none suspectsReport
	runJSON(t, &none, "suspects", flat.Path)
	if len(none.Suspects) != 0 {
		t.Errorf("a heap of %s equal holders has suspects: %+v", flat.Value(t, "holders"), none.Suspects)
	}
	code, out, _ := runCLI(t, "suspects", flat.Path)
	if code != 0 || !strings.Contains(out, "none: no object or group retains that much") {
		t.Errorf("suspects of a flat heap: exit %d:\n%s", code, out)
	}
}
