package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
	"github.com/heapsift/heapsift/internal/coretest"
)

// retainCore makes a core of testdata/retain (diamond, cycle, registry,
// a goroutine's local variable).
func retainCore(t *testing.T) *coretest.Core {
	t.Helper()
	exe := coretest.BuildGo(t, coretest.Testdata(t, "retain"), coretest.GoBuild{})
	return coretest.MakeCore(t, exe, []string{"-items=20", "-blobs=1000"}, nil)
}

// findGroup returns the group of type typ whose path is path.
func findGroup(r *retainReport, typ string, path ...string) *groupJSON {
	for i, g := range r.Groups {
		if g.Type == typ && slices.Equal(g.Path, path) {
			return &r.Groups[i]
		}
	}
	return nil
}

// TestRetainLeaky: on the demo service, every Timing the HTTP handler
// recorded (some of them for a real client over loopback) is one group,
// rooted at the package-level profiler with the field path to its results;
// the overview, the pprof profile and the dot graph show it too.
func TestRetainLeaky(t *testing.T) {
	core := leakyCore(t, 5000)
	if core.Int(t, "real_requests") == 0 {
		t.Fatalf("no request went over real HTTP: %s", core.Stderr)
	}
	timings := core.Int(t, "timings")
	var r retainReport
	runJSON(t, &r, "retain", "--top", "0", core.Path)
	g := findGroup(&r, "main.Timing", "main.defaultProfiler", "results", "[]")
	if g == nil {
		t.Fatalf("no main.Timing group at main.defaultProfiler results []: %+v", r.Groups[:min(len(r.Groups), 10)])
	}
	sz := core.Int(t, "sizeof_Timing")
	if uint64(g.Count) != timings || g.Bytes != timings*sz || g.Retained < g.Bytes {
		t.Errorf("main.Timing group: %d objects, %d bytes, retains %d; the program kept %d of %d bytes", g.Count, g.Bytes, g.Retained, timings, sz)
	}
	if g.Root.Kind != "global" || g.Root.Name != "main.defaultProfiler" || !slices.Equal(g.Root.Fields, []string{"results"}) {
		t.Errorf("main.Timing group root: %+v", g.Root)
	}
	var why whyReport
	runJSON(t, &why, "why", core.Path, g.Example)
	if len(why.Dominators) == 0 || why.Dominators[0].Addr != hexAddr(core.Hex(t, "results_array")) {
		t.Errorf("why %s: dominators %+v, want the results array %#x first", g.Example, why.Dominators, core.Hex(t, "results_array"))
	}

	code, out, errs := runCLI(t, core.Path)
	if code != 0 || !strings.Contains(out, "What holds the heap") || !strings.Contains(out, "main.defaultProfiler") {
		t.Errorf("overview: exit %d, stderr %q:\n%s", code, errs, out)
	}

	checkProfile(t, core, timings)

	code, out, errs = runCLI(t, "retain", "--format", "dot", "--type", "main.Timing", core.Path)
	if code != 0 || !strings.HasPrefix(out, "digraph retain {") || !strings.Contains(out, "main.defaultProfiler") || !strings.HasSuffix(out, "}\n") {
		t.Errorf("retain --format dot: exit %d, stderr %q:\n%s", code, errs, out)
	}
}

// TestRetainLeakyOldPIE: the same group on a core of the demo service built
// by Go 1.22 as a position-independent executable.
func TestRetainLeakyOldPIE(t *testing.T) {
	exe := coretest.BuildGo(t, coretest.Testdata(t, "leaky"), coretest.GoBuild{Toolchain: "go1.22.12", PIE: true})
	core := coretest.MakeCore(t, exe, []string{"-requests=2000"}, nil)
	var r retainReport
	runJSON(t, &r, "retain", "--type", "main.Timing", core.Path)
	g := findGroup(&r, "main.Timing", "main.defaultProfiler", "results", "[]")
	if g == nil || uint64(g.Count) != core.Int(t, "timings") {
		t.Errorf("main.Timing groups %+v; want one at main.defaultProfiler results [] with %d objects", r.Groups, core.Int(t, "timings"))
	}
}

// checkProfile writes the pprof profile and has go tool pprof read it.
func checkProfile(t *testing.T, core *coretest.Core, timings uint64) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "retain.pb.gz")
	code, _, errs := runCLI(t, "retain", "--format", "pprof", "-o", path, core.Path)
	if code != 0 {
		t.Fatalf("retain --format pprof: exit %d: %s", code, errs)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		t.Fatalf("the profile does not parse: %v", err)
	}
	var objects int64
	for _, s := range p.Sample {
		if s.Location[0].Line[0].Function.Name == "main.Timing" {
			objects += s.Value[0]
		}
	}
	if uint64(objects) != timings {
		t.Errorf("profile: %d main.Timing objects, the program kept %d", objects, timings)
	}
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(goTool, "tool", "pprof", "-top", "-sample_index=inuse_objects", path).CombinedOutput()
	if err != nil {
		t.Fatalf("go tool pprof -top: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "main.Timing") || !strings.Contains(string(out), "inuse_objects") {
		t.Errorf("go tool pprof -top shows no main.Timing:\n%s", out)
	}
}

// TestRetainDominators: dominators and retained sizes of a diamond and a
// cycle are exactly the program's hand-computed ones.
func TestRetainDominators(t *testing.T) {
	core := retainCore(t)
	nodes := map[string][]string{"diamond": {"top", "left", "right", "bottom", "leaf"}, "cycle": {"a", "b", "c", "d"}}
	for shape, names := range nodes {
		for _, name := range names {
			key := shape + "_" + name
			var r whyReport
			runJSON(t, &r, "why", core.Path, core.Value(t, key))
			if got, want := r.Object.Retained, core.Int(t, "retained_"+key); got != want {
				t.Errorf("%s: retains %d, want %d", key, got, want)
			}
			want := dominatorChain(t, core, key)
			var got []string
			for _, d := range r.Dominators {
				got = append(got, d.Addr)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: dominators %v, want %v", key, got, want)
			}
		}
	}

	var r dominatorsReport
	runJSON(t, &r, "dominators", "--top", "0", "--depth", "2", core.Path)
	var top *dominatorJSON
	for i := range r.Dominators {
		if r.Dominators[i].Addr == core.Value(t, "diamond_top") {
			top = &r.Dominators[i]
		}
	}
	if top == nil || top.Root.Name != "main.diamond" || top.Retained != core.Int(t, "retained_diamond_top") {
		t.Fatalf("dominators: diamond top %+v", top)
	}
	var children []string
	for _, d := range top.Dominated {
		children = append(children, d.Addr)
	}
	slices.Sort(children)
	want := []string{core.Value(t, "diamond_left"), core.Value(t, "diamond_right"), core.Value(t, "diamond_bottom")}
	slices.Sort(want)
	if !slices.Equal(children, want) {
		t.Errorf("dominated by the diamond's top: %v, want %v", children, want)
	}
}

// dominatorChain follows the program's idom_ truth from key up to the
// roots: the dominators outermost first.
func dominatorChain(t *testing.T, core *coretest.Core, key string) []string {
	t.Helper()
	shape, _, _ := strings.Cut(key, "_")
	keyOf := map[string]string{}
	for k, v := range core.Truth {
		if strings.HasPrefix(k, shape+"_") {
			keyOf[v] = k
		}
	}
	var chain []string
	for idom := core.Value(t, "idom_"+key); idom != "0x0"; idom = core.Value(t, "idom_"+keyOf[idom]) {
		chain = append([]string{idom}, chain...)
		if keyOf[idom] == "" || len(chain) > len(keyOf) {
			t.Fatalf("no truth names %s", idom)
		}
	}
	return chain
}

// TestRetainWhyAndLocal: why names the path to the registry's item and
// its dominator; the objects a goroutine keeps in a local variable are one
// group rooted at that goroutine, function and variable.
func TestRetainWhyAndLocal(t *testing.T) {
	core := retainCore(t)
	var why whyReport
	runJSON(t, &why, "why", core.Path, core.Value(t, "why_target"))
	if got, want := strings.Join(why.Path, " "), core.Value(t, "why_path"); got != want {
		t.Errorf("why: path %q, want %q", got, want)
	}
	if why.Root == nil || why.Root.Kind != "global" || len(why.Dominators) != 1 || why.Dominators[0].Addr != core.Value(t, "why_array") {
		t.Errorf("why: root %+v, dominators %+v, want the array %s", why.Root, why.Dominators, core.Value(t, "why_array"))
	}
	code, out, _ := runCLI(t, "why", core.Path, core.Value(t, "why_target"))
	if code != 0 || !strings.Contains(out, "main.registry") || !strings.Contains(out, fmt.Sprintf("[%s]", core.Value(t, "why_index"))) {
		t.Errorf("why (text): exit %d:\n%s", code, out)
	}

	var r retainReport
	runJSON(t, &r, "retain", "--type", "main.Blob", core.Path)
	if len(r.Groups) != 1 {
		t.Fatalf("retain --type main.Blob: %d groups: %+v", len(r.Groups), r.Groups)
	}
	g := r.Groups[0]
	n := core.Int(t, "local_count")
	if uint64(g.Count) != n || g.Bytes != n*core.Int(t, "local_blob_size") {
		t.Errorf("main.Blob group: %d objects, %d bytes; the goroutine keeps %d", g.Count, g.Bytes, n)
	}
	if g.Root.Kind != "stack" || g.Root.Func != core.Value(t, "local_func") || g.Root.Var != core.Value(t, "local_var") ||
		uint64(g.Root.Goroutine) != core.Int(t, "local_goroutine") || !slices.Equal(g.Path[1:], []string{"[]"}) {
		t.Errorf("main.Blob group: root %+v, path %q", g.Root, g.Path)
	}
	runJSON(t, &why, "why", core.Path, core.Value(t, "held_by_local"))
	if why.Root == nil || why.Root.Kind != "stack" || why.Root.Var != core.Value(t, "local_var") || uint64(why.Root.Goroutine) != core.Int(t, "local_goroutine") {
		t.Errorf("why %s: root %+v", core.Value(t, "held_by_local"), why.Root)
	}
}

// TestRetainBadInput: usage mistakes and addresses outside the heap are
// one clear message each.
func TestRetainBadInput(t *testing.T) {
	core := retainCore(t)
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"retain", "--format", "pprof", core.Path}, exitUsage, "-o"},
		{[]string{"retain", "--format", "svg", core.Path}, exitUsage, "--format"},
		{[]string{"retain", "--min-retained", "lots", core.Path}, exitUsage, "--min-retained"},
		{[]string{"retain", "--type", "main.Nothing", core.Path}, exitError, "main.Nothing"},
		{[]string{"why", core.Path, "0x10"}, exitError, "not in a heap object"},
		{[]string{"why", core.Path, "zzz"}, exitUsage, "ADDR"},
		{[]string{"dominators", "--depth", "0", core.Path}, exitUsage, "--depth"},
	} {
		code, _, stderr := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.msg) {
			t.Errorf("heapsift %s: exit %d, stderr %q; want exit %d mentioning %q", strings.Join(c.args, " "), code, stderr, c.code, c.msg)
		}
		assertNoTrace(t, stderr)
	}
}

// TestDiffGroups: diff --groups lists the retention group of the service's
// leaked orders, matched across the two cores by root and path, grown by
// exactly the orders the second run added.
func TestDiffGroups(t *testing.T) {
	exe := coretest.BuildGo(t, coretest.Testdata(t, "service"), coretest.GoBuild{})
	const n = 1500
	older := coretest.MakeCore(t, exe, []string{"-requests", fmt.Sprint(n)}, nil)
	newer := coretest.MakeCore(t, exe, []string{"-requests", fmt.Sprint(2 * n)}, nil)
	var r diffReport
	runJSON(t, &r, "diff", "--groups", older.Path, newer.Path)
	if r.Groups == nil || len(*r.Groups) == 0 {
		t.Fatalf("no groups in the comparison: %+v", r)
	}
	var order *groupDelta
	for i, g := range *r.Groups {
		if g.Type == "main.Order" && slices.Equal(g.Path, []string{"main.audit", "orders", "[]"}) {
			order = &(*r.Groups)[i]
		}
	}
	if order == nil {
		t.Fatalf("no main.Order group at main.audit orders []: %+v", *r.Groups)
	}
	if order.OldCount != older.Int(t, "orders") || order.NewCount != newer.Int(t, "orders") || order.DeltaCount != n {
		t.Errorf("main.Order group %d -> %d (%+d); the programs kept %d and %d", order.OldCount, order.NewCount, order.DeltaCount, older.Int(t, "orders"), newer.Int(t, "orders"))
	}
	code, out, errs := runCLI(t, "diff", "--groups", "--top", "3", older.Path, newer.Path)
	if code != 0 || !strings.Contains(out, "Retention groups that grew") || !strings.Contains(out, "main.Order ← main.audit.orders[]") {
		t.Errorf("diff --groups (text): exit %d, stderr %q:\n%s", code, errs, out)
	}
}
