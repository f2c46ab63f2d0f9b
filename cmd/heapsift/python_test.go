package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/heapsift/heapsift/internal/coretest"
)

// The seed's story on every CPython heapsift reads: a profiler appends a
// tuple (str, float, float) per call to a class-level list. heapsift must
// name the holder, __main__.Profiler → results, with the exact counts the
// script made.

// TestPythonSeedLeak runs the seed's script under each pyenv version and
// checks retain, histogram, the overview, stacks and why against the
// script's own truth.
func TestPythonSeedLeak(t *testing.T) {
	const n = 5000
	for _, version := range coretest.PyenvVersions {
		t.Run(version, func(t *testing.T) {
			python := coretest.PyenvPython(t, version)
			core := coretest.MakeCore(t, python, []string{coretest.Testdata(t, "python", "profiler.py"), strconv.Itoa(n)}, nil)
			checkSeedRetain(t, core, n)
			checkSeedHistogram(t, core, n)
			checkSeedStacks(t, core)
			code, out, errs := runCLI(t, core.Path)
			assertNoTrace(t, errs)
			if code != 0 || !strings.Contains(out, "__main__.Profiler (global)") || !strings.Contains(out, "python      CPython 3.") {
				t.Errorf("overview: exit %d, no Python section or no __main__.Profiler holder:\n%s", code, out)
			}
		})
	}
}

// checkSeedRetain: the tuples, and the strs and floats in them, are three
// exact groups under __main__.Profiler → results → [].
func checkSeedRetain(t *testing.T, core *coretest.Core, n uint64) {
	t.Helper()
	var r retainReport
	runJSON(t, &r, "retain", "--top", "0", core.Path)
	if r.Language != "python" || !strings.HasPrefix(core.Value(t, "python_version"), r.Version+".") {
		t.Errorf("retain: language %q version %q, the script ran %s", r.Language, r.Version, core.Value(t, "python_version"))
	}
	holder := []string{"__main__.Profiler", "results", "[]"}
	for _, want := range []struct {
		typ   string
		path  []string
		count uint64
	}{
		{"tuple", holder, n},
		{"str", append(slices.Clone(holder), "[]"), n},
		{"float", append(slices.Clone(holder), "[]"), 2 * n},
	} {
		g := findGroup(&r, want.typ, want.path...)
		if g == nil || uint64(g.Count) != want.count {
			t.Errorf("no group of %d %s at %q: %+v", want.count, want.typ, want.path, g)
			continue
		}
		if g.Root.Kind != "global" || g.Root.Name != "__main__.Profiler" {
			t.Errorf("%s group's root: %+v", want.typ, g.Root)
		}
	}
	var why whyReport
	runJSON(t, &why, "why", core.Path, core.Value(t, "first_tuple"))
	if !slices.Equal(why.Path, []string{"__main__.Profiler", "results", "[0]"}) {
		t.Errorf("why first tuple: path %q, want __main__.Profiler results [0]", why.Path)
	}
	if len(why.Dominators) == 0 || why.Dominators[0].Addr != core.Value(t, "results_list") {
		t.Errorf("why first tuple: dominators %+v, want the results list %s first", why.Dominators, core.Value(t, "results_list"))
	}
	// Every module global reaches the tuple through its module; the one
	// named is the holder.
	if len(why.RootKinds) == 0 || why.RootKinds[0].Kind != "global" || why.RootKinds[0].Example != "__main__.Profiler" {
		t.Errorf("why first tuple: root kinds %+v, want global first with the example __main__.Profiler", why.RootKinds)
	}
}

// checkSeedHistogram: at least the script's tuples, floats and strs, and
// objects --type agrees with the histogram.
func checkSeedHistogram(t *testing.T, core *coretest.Core, n uint64) {
	t.Helper()
	var h histogramReport
	runJSON(t, &h, "histogram", "--top", "0", core.Path)
	counts := map[string]uint64{}
	for _, row := range h.Types {
		counts[row.Type] = row.Count
	}
	if counts["tuple"] < n || counts["float"] < 2*n || counts["str"] < n || counts["__main__.Profiler"] != 1 {
		t.Errorf("histogram: tuple %d, float %d, str %d, __main__.Profiler %d; the script made %d, %d, %d, 1",
			counts["tuple"], counts["float"], counts["str"], counts["__main__.Profiler"], n, 2*n, n)
	}
	var objs objectsReport
	runJSON(t, &objs, "objects", "--type", "__main__.Profiler", core.Path)
	if objs.Count != 1 {
		t.Errorf("objects --type __main__.Profiler: %d objects, want 1", objs.Count)
	}
}

// checkSeedStacks: the main thread's innermost frame is the script's main.
func checkSeedStacks(t *testing.T, core *coretest.Core) {
	t.Helper()
	var s struct {
		Language string         `json:"language"`
		Threads  []pyThreadJSON `json:"threads"`
	}
	runJSON(t, &s, "stacks", core.Path)
	if s.Language != "python" || len(s.Threads) != 1 || len(s.Threads[0].Frames) < 2 {
		t.Fatalf("stacks: %+v, want one thread in main", s)
	}
	top := s.Threads[0].Frames[0]
	if top.Func != "main" || !strings.HasSuffix(top.File, "profiler.py") || top.Line <= 0 {
		t.Errorf("innermost frame %+v, want main in profiler.py", top)
	}
	var n string
	for _, l := range top.Locals {
		if l.Name == "n" {
			n = l.Repr
		}
	}
	if n != core.Value(t, "tuples") {
		t.Errorf("main's local n = %q, want %s", n, core.Value(t, "tuples"))
	}
}

// TestPythonDiffGroups: N and 2N calls in two processes; the types and the
// holder group grow by exactly N, and a type limit fails the check.
func TestPythonDiffGroups(t *testing.T) {
	python, _ := coretest.FindSharedPython(t)
	script := coretest.Testdata(t, "python", "profiler.py")
	const n = 10000
	older := coretest.MakeCore(t, python, []string{script, strconv.Itoa(n)}, nil)
	newer := coretest.MakeCore(t, python, []string{script, strconv.Itoa(2 * n)}, nil)
	r, code, _ := diffRun(t, "--groups", "--top", "0", older.Path, newer.Path)
	if code != 0 || r.Compare != "types" || r.New.Language != "python" {
		t.Fatalf("exit %d, compare %q, language %q; want types of Python", code, r.Compare, r.New.Language)
	}
	tuples := findType(t, r, "tuple")
	if tuples.DeltaCount != n {
		t.Errorf("tuple grew by %d, want %d", tuples.DeltaCount, n)
	}
	found := false
	for _, g := range *r.Groups {
		if g.Type == "tuple" && slices.Equal(g.Path, []string{"__main__.Profiler", "results", "[]"}) {
			found = true
			if g.DeltaCount != n || g.OldCount != n {
				t.Errorf("tuple group %+v, want %d → %d", g.countDelta, n, 2*n)
			}
		}
	}
	if !found {
		t.Errorf("no tuple group at __main__.Profiler results [] among %+v", *r.Groups)
	}
	_, code, errs := diffRun(t, "--fail-on-growth", fmt.Sprintf("type:tuple=%d", n/2), older.Path, newer.Path)
	if code != exitGrowth || !strings.Contains(errs, "tuple grew by") {
		t.Errorf("type:tuple limit: exit %d, stderr %q", code, errs)
	}
}
