package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/heapsift/heapsift/internal/coretest"
)

// diffRun runs heapsift diff with --json and decodes the report whatever
// the exit code, which it returns with stderr.
// diffJSON is the diff report with the warnings every JSON document has.
type diffJSON struct {
	diffReport
	Warnings []string `json:"warnings"`
}

func diffRun(t *testing.T, args ...string) (*diffJSON, int, string) {
	t.Helper()
	code, out, errs := runCLI(t, append([]string{"diff", "--json"}, args...)...)
	assertNoTrace(t, errs)
	if code != 0 && code != exitGrowth {
		t.Fatalf("heapsift diff %s: exit %d: %s", strings.Join(args, " "), code, errs)
	}
	var r diffJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("heapsift diff %s: bad JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
	return &r, code, errs
}

func findType(t *testing.T, r *diffJSON, name string) typeDelta {
	t.Helper()
	if r.Types == nil {
		t.Fatalf("no types in the report (compare %q)", r.Compare)
	}
	for _, row := range *r.Types {
		if row.Type == name {
			return row
		}
	}
	t.Fatalf("type %s is not in the report", name)
	return typeDelta{}
}

// findSymbol returns the one row of symbol sym in a module whose base name
// starts with module.
func findSymbol(t *testing.T, r *diffJSON, sym, module string) wordDelta {
	t.Helper()
	if r.Words == nil {
		t.Fatalf("no words in the report (compare %q)", r.Compare)
	}
	var found []wordDelta
	for _, row := range *r.Words {
		if row.Symbol == sym && row.Offset != nil && *row.Offset == 0 && strings.HasPrefix(row.Module, module) {
			found = append(found, row)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d rows for %s in %s*, want 1: %+v", len(found), sym, module, found)
	}
	return found[0]
}

func near(got int64, want uint64, tolerance float64) bool {
	return float64(got) >= float64(want)*(1-tolerance) && float64(got) <= float64(want)*(1+tolerance)
}

// TestDiffGoService: the service dumped after N and 2N requests. The live
// main.Order objects differ by exactly what the program says it retained;
// the fixed set of customers does not change; growth limits fail on the
// leak and pass on a run that does not leak.
func TestDiffGoService(t *testing.T) {
	exe := coretest.BuildGo(t, coretest.Testdata(t, "service"), coretest.GoBuild{})
	const n = 2000
	run := func(requests int, leak bool) *coretest.Core {
		return coretest.MakeCore(t, exe, []string{"-requests", strconv.Itoa(requests), "-leak=" + strconv.FormatBool(leak)}, nil)
	}
	oldLeak, newLeak := run(n, true), run(2*n, true)

	t.Run("types", func(t *testing.T) {
		r, code, _ := diffRun(t, "--top", "0", oldLeak.Path, newLeak.Path)
		if code != 0 || r.Compare != "types" {
			t.Fatalf("exit %d, compare %q; want 0 and types", code, r.Compare)
		}
		order := findType(t, r, "main.Order")
		oldOrders, newOrders := oldLeak.Int(t, "orders"), newLeak.Int(t, "orders")
		if order.OldCount != oldOrders || order.NewCount != newOrders || order.DeltaCount != int64(newOrders-oldOrders) || order.DeltaCount != n {
			t.Errorf("main.Order %d -> %d (%+d); the programs retained %d and %d", order.OldCount, order.NewCount, order.DeltaCount, oldOrders, newOrders)
		}
		if sz := newLeak.Int(t, "sizeof_Order"); order.NewBytes < order.NewCount*sz || order.DeltaBytes < int64(n*sz) {
			t.Errorf("main.Order bytes %d (%+d), less than %d objects of %d bytes", order.NewBytes, order.DeltaBytes, order.NewCount, sz)
		}
		if order.Ratio == nil || *order.Ratio != 2 || order.New || order.Gone {
			t.Errorf("main.Order change %+v, want ratio 2", order.change)
		}
		if first := (*r.Types)[0]; first.Type != "main.Order" {
			t.Errorf("first row %s, want main.Order (the largest byte growth)", first.Type)
		}
		customer := findType(t, r, "main.Customer")
		if want := newLeak.Int(t, "customers"); customer.OldCount != want || customer.NewCount != want || customer.DeltaBytes != 0 {
			t.Errorf("main.Customer %+v %+v, want %d both times", customer.countDelta, customer.bytesDelta, want)
		}
		if r.New.GoVersion != newLeak.Value(t, "go_version") || r.Rows != len(*r.Types) {
			t.Errorf("go_version %q (program: %q), rows %d of %d", r.New.GoVersion, newLeak.Value(t, "go_version"), r.Rows, len(*r.Types))
		}
		if r.Total.DeltaBytes < int64(n*newLeak.Int(t, "sizeof_Order")) || len(r.Warnings) != 0 {
			t.Errorf("total %+v, warnings %q", r.Total, r.Warnings)
		}
	})

	t.Run("text", func(t *testing.T) {
		code, out, errs := runCLI(t, "diff", "--top", "5", oldLeak.Path, newLeak.Path)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		want := []string{count(oldLeak.Int(t, "orders")), count(newLeak.Int(t, "orders")), "+" + count(n)}
		found := false
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			found = found || len(f) > 3 && f[len(f)-1] == "main.Order" && slices.Equal(f[:3], want)
		}
		if !found || strings.Count(out, "\n") > 12 {
			t.Errorf("text lacks a main.Order row starting %q, or shows more than 5 rows:\n%s", want, out)
		}
	})

	t.Run("fail-on-leak", func(t *testing.T) {
		r, code, errs := diffRun(t, "--fail-on-growth", "type:main.Order=100", "--fail-on-growth", "64KiB", "--fail-on-growth", "1GiB",
			oldLeak.Path, newLeak.Path)
		if code != exitGrowth || !strings.Contains(errs, fmt.Sprintf("main.Order grew by %s objects", count(n))) {
			t.Errorf("exit %d, stderr %q; want 3 and main.Order's growth", code, errs)
		}
		if len(r.Checks) != 3 || !r.Checks[0].Exceeded || !r.Checks[1].Exceeded || r.Checks[2].Exceeded {
			t.Errorf("checks %+v; want the first two exceeded", r.Checks)
		}
		if g := r.Checks[0].Growth; g == nil || *g != n {
			t.Errorf("type:main.Order growth %v, want %d", g, n)
		}
	})

	t.Run("pass-when-steady", func(t *testing.T) {
		oldSteady, newSteady := run(n, false), run(2*n, false)
		if oldSteady.Int(t, "orders") != 0 {
			t.Fatalf("the steady run retained %d orders", oldSteady.Int(t, "orders"))
		}
		r, code, errs := diffRun(t, "--top", "0", "--fail-on-growth", "type:main.Order=10", "--fail-on-growth", "64KiB", "--fail-on-growth", "each=100",
			oldSteady.Path, newSteady.Path)
		if code != 0 {
			t.Errorf("exit %d on a steady service: %s", code, errs)
		}
		for _, c := range r.Checks {
			if c.Exceeded {
				t.Errorf("check %s exceeded: %s", c.Limit, c.Detail)
			}
		}
		if c := findType(t, r, "main.Customer"); c.DeltaCount != 0 {
			t.Errorf("main.Customer changed by %d", c.DeltaCount)
		}
	})

	t.Run("different-go-versions", func(t *testing.T) {
		oldExe := coretest.BuildGo(t, coretest.Testdata(t, "service"), coretest.GoBuild{Toolchain: "go1.22.12"})
		old := coretest.MakeCore(t, oldExe, []string{"-requests", strconv.Itoa(n)}, nil)
		r, code, errs := diffRun(t, "--top", "0", old.Path, newLeak.Path)
		if code != 0 || r.Compare != "types" || !strings.Contains(errs, "different executables") {
			t.Fatalf("exit %d, compare %q, stderr %q; want types with a warning", code, r.Compare, errs)
		}
		if order := findType(t, r, "main.Order"); order.OldCount != old.Int(t, "orders") || order.NewCount != newLeak.Int(t, "orders") {
			t.Errorf("main.Order %d -> %d; the programs retained %d and %d", order.OldCount, order.NewCount, old.Int(t, "orders"), newLeak.Int(t, "orders"))
		}
		if r.Old.GoVersion != old.Value(t, "go_version") {
			t.Errorf("OLD go_version %q, the program says %q", r.Old.GoVersion, old.Value(t, "go_version"))
		}
	})

	t.Run("exe-fallback", func(t *testing.T) { diffExeFallback(t, exe, n, newLeak) })
	t.Run("unreliable", func(t *testing.T) { diffUnreliable(t, exe, n, newLeak) })
	t.Run("words", func(t *testing.T) {
		r, code, _ := diffRun(t, "--words", "--top", "5", oldLeak.Path, newLeak.Path)
		if code != 0 || r.Compare != "words" || r.Words == nil || r.Rows < 10 {
			t.Fatalf("--words: exit %d, compare %q, %d rows", code, r.Compare, r.Rows)
		}
		// --top applies to each section: the named words and the others.
		named := 0
		for _, w := range *r.Words {
			if w.Symbol != "" {
				named++
			}
		}
		if named != 5 || len(*r.Words)-named != 5 {
			t.Errorf("--words --top 5: %d named and %d other rows, want 5 of each", named, len(*r.Words)-named)
		}
		// A type limit makes no sense on a word comparison.
		if code, _, _ := runCLI(t, "diff", "--words", "--fail-on-growth", "type:main.Order=1", oldLeak.Path, newLeak.Path); code != exitUsage {
			t.Errorf("type: limit with --words: exit %d, want %d", code, exitUsage)
		}
	})
}

// forkDriver runs the seed's profiler N times, forks a child that aborts
// at once into then/core (the process as it was), profiles N more calls and
// aborts: two cores of one address space at two times.
const forkDriver = `
import os, sys
sys.path.insert(0, sys.argv[1])
import profiler
n = int(sys.argv[2])
p = profiler.Profiler()
def calls(start):
    for i in range(start, start + n):
        p.profile(f"downstream-{i}", profiler.downstream_call, i)
calls(0)
os.mkdir("then")
child = os.fork()
if child == 0:
    os.chdir("then")
    os.abort()
os.waitpid(child, 0)
calls(n)
print(f"truth tuple_type {id(tuple):#x}")
print(f"truth float_type {id(float):#x}")
print(f"truth then_core {os.path.abspath('then/core')}")
sys.stdout.flush()
os.abort()
`

// checkTuples checks the PyTuple_Type row of a comparison: grown by n
// within 2%, counts equal to an independent count of each core, and the
// type object's address in each run as its only value.
func checkTuples(t *testing.T, r *diffJSON, n uint64, oldCore, newCore string, oldAddr, newAddr uint64) {
	t.Helper()
	row := findSymbol(t, r, "PyTuple_Type", "libpython")
	if !near(row.DeltaCount, n, 0.02) {
		t.Errorf("PyTuple_Type grew by %d, want %d ± 2%%", row.DeltaCount, n)
	}
	oldTruth := naiveCoreCounts(t, oldCore, oldAddr)[oldAddr]
	newTruth := naiveCoreCounts(t, newCore, newAddr)[newAddr]
	if row.OldCount != oldTruth || row.NewCount != newTruth {
		t.Errorf("PyTuple_Type %d -> %d; independent counts of the cores say %d -> %d", row.OldCount, row.NewCount, oldTruth, newTruth)
	}
	if !slices.Equal(row.OldValues, []string{hexWord(oldAddr)}) || !slices.Equal(row.NewValues, []string{hexWord(newAddr)}) {
		t.Errorf("PyTuple_Type values %v -> %v, want [%s] -> [%s]", row.OldValues, row.NewValues, hexWord(oldAddr), hexWord(newAddr))
	}
}

// TestDiffPython: the seed's script run with N and 2N calls, in two runs
// (libpython at different addresses) and in one process at two times.
func TestDiffPython(t *testing.T) {
	python, _ := coretest.FindSharedPython(t)
	script := coretest.Testdata(t, "python", "profiler.py")
	const n = 20000
	oldRun := coretest.MakeCore(t, python, []string{script, strconv.Itoa(n)}, nil)
	newRun := coretest.MakeCore(t, python, []string{script, strconv.Itoa(2 * n)}, nil)

	t.Run("two-runs", func(t *testing.T) {
		oldAddr, newAddr := oldRun.Hex(t, "tuple_type"), newRun.Hex(t, "tuple_type")
		if oldAddr == newAddr {
			t.Logf("PyTuple_Type at %#x in both runs: address randomization seems off", oldAddr)
		}
		r, code, _ := diffRun(t, "--words", "--top", "0", oldRun.Path, newRun.Path)
		if code != 0 || r.Compare != "words" {
			t.Fatalf("exit %d, compare %q", code, r.Compare)
		}
		checkTuples(t, r, n, oldRun.Path, newRun.Path, oldAddr, newAddr)
		if f := findSymbol(t, r, "PyFloat_Type", "libpython"); !near(f.DeltaCount, 2*n, 0.02) {
			t.Errorf("PyFloat_Type grew by %d, want %d ± 2%%", f.DeltaCount, 2*n)
		}
		rows := *r.Words
		for i := 1; i < len(rows); i++ {
			if rows[i].DeltaCount > rows[i-1].DeltaCount {
				t.Fatalf("rows not sorted by delta_count: %d after %d", rows[i].DeltaCount, rows[i-1].DeltaCount)
			}
		}
	})

	t.Run("symbols-only", func(t *testing.T) {
		r, _, _ := diffRun(t, "--words", "--symbols-only", "--top", "0", oldRun.Path, newRun.Path)
		for _, w := range *r.Words {
			if w.Kind != "symbol" {
				t.Fatalf("--symbols-only listed a %s: %+v", w.Kind, w)
			}
		}
		checkTuples(t, r, n, oldRun.Path, newRun.Path, oldRun.Hex(t, "tuple_type"), newRun.Hex(t, "tuple_type"))
	})

	t.Run("fail-on-growth", func(t *testing.T) {
		r, code, errs := diffRun(t, "--words", "--fail-on-growth", fmt.Sprintf("word:PyTuple_Type=%d", n/2), oldRun.Path, newRun.Path)
		if code != exitGrowth || !strings.Contains(errs, "PyTuple_Type grew by") || len(r.Checks) != 1 || !r.Checks[0].Exceeded {
			t.Errorf("exit %d, checks %+v, stderr %q; want 3", code, r.Checks, errs)
		}
		if code, _, errs := runCLI(t, "diff", "--words", "--fail-on-growth", fmt.Sprintf("word:PyTuple_Type=%d", 2*n), "--fail-on-growth", "each=1000000",
			oldRun.Path, newRun.Path); code != 0 {
			t.Errorf("limits above the growth: exit %d: %s", code, errs)
		}
		if code, _, _ := runCLI(t, "diff", "--words", "--fail-on-growth", "type:tuple=1", oldRun.Path, newRun.Path); code != exitUsage {
			t.Errorf("type: limit on a word comparison: exit %d, want %d", code, exitUsage)
		}
	})

	t.Run("same-process", func(t *testing.T) {
		c := coretest.MakeCore(t, python, []string{"-c", forkDriver, filepath.Dir(script), strconv.Itoa(n)}, nil)
		then := c.Value(t, "then_core")
		if _, err := os.Stat(then); err != nil {
			t.Fatalf("the forked child left no core: %v", err)
		}
		r, code, _ := diffRun(t, "--words", "--pointers", "--top", "0", then, c.Path)
		if code != 0 || r.LeftOutOld != nil {
			t.Fatalf("exit %d, left out %v with --pointers", code, r.LeftOutOld)
		}
		addr := c.Hex(t, "tuple_type")
		checkTuples(t, r, n, then, c.Path, addr, addr)
	})

	t.Run("different-executables", func(t *testing.T) {
		exe := coretest.BuildGo(t, coretest.Testdata(t, "service"), coretest.GoBuild{})
		goCore := coretest.MakeCore(t, exe, []string{"-requests", "10"}, nil)
		r, code, errs := diffRun(t, goCore.Path, newRun.Path)
		if code != 0 || r.Compare != "words" || !strings.Contains(errs, "different executables") || !strings.Contains(errs, "OLD is a Go program and NEW a Python one") {
			t.Errorf("exit %d, compare %q, stderr %q; want words with two warnings", code, r.Compare, errs)
		}
		if len(r.Warnings) < 2 {
			t.Errorf("warnings %q, want the two on stderr", r.Warnings)
		}
	})
}

func TestDiffUsage(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"diff", "one"}, {"diff", "a", "b", "c"}, {"diff", "--fail-on-growth", "lots", "a", "b"}} {
		code, _, errs := runCLI(t, args...)
		if code != exitUsage {
			t.Errorf("heapsift %q: exit %d, want %d (%s)", args, code, exitUsage, errs)
		}
	}
	code, _, errs := runCLI(t, "diff", empty, empty)
	if lines := strings.Split(strings.TrimSpace(errs), "\n"); code != exitError || len(lines) != 1 || !strings.HasPrefix(lines[0], "heapsift: OLD: ") {
		t.Errorf("diff of empty files: exit %d, stderr %q; want 1 and one line about OLD", code, errs)
	}
	assertNoTrace(t, errs)
}

// diffExeFallback: --exe naming NEW's executable leaves OLD, built by
// another toolchain, to fall back to its own, so that types are compared;
// --old-exe and --new-exe name each side's.
func diffExeFallback(t *testing.T, exe string, n int, newLeak *coretest.Core) {
	oldExe := coretest.BuildGo(t, coretest.Testdata(t, "service"), coretest.GoBuild{Toolchain: "go1.22.12"})
	old := coretest.MakeCore(t, oldExe, []string{"-requests", strconv.Itoa(n)}, nil)
	// --exe names NEW's executable: OLD falls back to its own.
	r, code, errs := diffRun(t, "--exe", exe, old.Path, newLeak.Path)
	if code != 0 || r.Compare != "types" || !r.Reliable || !strings.Contains(errs, "does not match the core") {
		t.Fatalf("diff --exe NEW's: exit %d, compare %q, reliable %v, stderr %q; want types with the fallback's warning", code, r.Compare, r.Reliable, errs)
	}
	if order := findType(t, r, "main.Order"); order.OldCount != old.Int(t, "orders") || order.NewCount != newLeak.Int(t, "orders") {
		t.Errorf("main.Order %d -> %d; the programs retained %d and %d", order.OldCount, order.NewCount, old.Int(t, "orders"), newLeak.Int(t, "orders"))
	}
	_, code, errs = diffRun(t, "--old-exe", oldExe, "--new-exe", exe, old.Path, newLeak.Path)
	if code != 0 || strings.Contains(errs, "does not match") {
		t.Errorf("diff --old-exe --new-exe: exit %d, stderr %q; want no mismatch", code, errs)
	}
}

// diffUnreliable: with OLD's executable gone, its names cannot be resolved
// while NEW's can, so the diff is not reliable and --fail-on-growth exits
// 1 whatever the growth.
func diffUnreliable(t *testing.T, exe string, n int, newLeak *coretest.Core) {
	// OLD's executable is gone: its names cannot be resolved, NEW's can.
	gone := filepath.Join(t.TempDir(), filepath.Base(exe))
	data, err := os.ReadFile(exe)
	if err != nil || os.WriteFile(gone, data, 0o755) != nil {
		t.Fatalf("copying %s: %v", exe, err)
	}
	old := coretest.MakeCore(t, gone, []string{"-requests", strconv.Itoa(n)}, nil)
	os.Remove(gone)
	code, out, errs := runCLI(t, "diff", "--json", "--fail-on-growth", "1GiB", old.Path, newLeak.Path)
	var r diffJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, out)
	}
	if code != exitError || r.Reliable || !strings.Contains(r.ReliableReason, "OLD") || !strings.Contains(errs, "not reliable") {
		t.Errorf("diff with OLD's names unresolved: exit %d, reliable %v (%q), stderr %q; want exit 1 and reliable false", code, r.Reliable, r.ReliableReason, errs)
	}
	code, out, _ = runCLI(t, "diff", old.Path, newLeak.Path)
	if code != 0 || !strings.Contains(out, "NOT RELIABLE") {
		t.Errorf("diff text: exit %d, no NOT RELIABLE line:\n%s", code, out)
	}
}
