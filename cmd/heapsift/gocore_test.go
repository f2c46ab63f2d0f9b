package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heapsift/heapsift/internal/coretest"
)

// leakyCore makes a core of the demo service after n requests.
func leakyCore(t *testing.T, n int) *coretest.Core {
	t.Helper()
	exe := coretest.BuildGo(t, coretest.Testdata(t, "leaky"), coretest.GoBuild{})
	return coretest.MakeCore(t, exe, []string{fmt.Sprintf("-requests=%d", n)}, nil)
}

func within(got, want uint64, frac float64) bool {
	return math.Abs(float64(got)-float64(want)) <= frac*float64(want)
}

// TestGoHistogram: on the demo service's core the live heap matches the
// runtime's MemStats, and the leaked Timing objects are all there, typed.
func TestGoHistogram(t *testing.T) {
	core := leakyCore(t, 20000)
	var r histogramReport
	runJSON(t, &r, "histogram", "--top", "0", core.Path)
	if !within(r.Live.Bytes, core.Int(t, "heap_alloc"), 0.005) || !within(r.Live.Objects, core.Int(t, "heap_objects"), 0.005) {
		t.Errorf("live %d objects / %d bytes; the program's MemStats say %d / %d",
			r.Live.Objects, r.Live.Bytes, core.Int(t, "heap_objects"), core.Int(t, "heap_alloc"))
	}
	if float64(r.TypedBytes) < 0.99*float64(r.Live.Bytes) {
		t.Errorf("only %d of %d live bytes typed", r.TypedBytes, r.Live.Bytes)
	}
	counts := map[string]uint64{}
	for _, ty := range r.Types {
		counts[ty.Type] = ty.Count
	}
	if got, want := counts["main.Timing"], core.Int(t, "timings"); got != want {
		t.Errorf("main.Timing: %d objects, the program kept %d", got, want)
	}
	if got, want := counts["main.Session"], core.Int(t, "sessions"); got != want {
		t.Errorf("main.Session: %d objects, the program kept %d", got, want)
	}

	// The overview of a Go core shows the Go heap and its largest types.
	code, out, errs := runCLI(t, core.Path)
	if code != 0 || !strings.Contains(out, "main.Timing") || !strings.Contains(out, "goroutines") {
		t.Errorf("overview: exit %d, stderr %q:\n%s", code, errs, out)
	}
}

// TestGoObjectsAndSymbol: objects lists the leaked timings, and symbol names
// a heap address by object, type and field.
func TestGoObjectsAndSymbol(t *testing.T) {
	core := leakyCore(t, 3000)
	var objs struct {
		Count   int          `json:"count"`
		Objects []objectJSON `json:"objects"`
	}
	runJSON(t, &objs, "objects", "--type", "main.Timing", "--limit", "0", core.Path)
	if uint64(objs.Count) != core.Int(t, "timings") || len(objs.Objects) != objs.Count {
		t.Fatalf("objects --type main.Timing: count %d, %d rows; the program kept %d", objs.Count, len(objs.Objects), core.Int(t, "timings"))
	}
	// The profiler's results slice has a heap backing array of pointers.
	arr := core.Hex(t, "results_array")
	var sym struct{ Symbols []symbolRow }
	runJSON(t, &sym, "symbol", core.Path, fmt.Sprintf("%#x", arr+16))
	if len(sym.Symbols) != 1 || sym.Symbols[0].Heap == nil {
		t.Fatalf("symbol %#x: %+v", arr+16, sym)
	}
	h := sym.Symbols[0].Heap
	if !strings.HasSuffix(h.Type, "]*main.Timing") || h.Offset != 16 || h.Object != hexAddr(arr) || h.Field != "[2]" || !h.Live {
		t.Errorf("symbol %#x: %+v, want element [2] of a []*main.Timing array at %#x", arr+16, h, arr)
	}
}

// TestGoGoroutines: the crashing goroutine is there with main.main on its
// stack, and every goroutine has frames with files and lines.
func TestGoGoroutines(t *testing.T) {
	core := leakyCore(t, 1000)
	var r struct{ Goroutines []goroutineJSON }
	runJSON(t, &r, "goroutines", core.Path)
	found := false
	for _, g := range r.Goroutines {
		if len(g.Frames) == 0 && g.Error == "" {
			t.Errorf("goroutine %d has no frames and no error", g.ID)
		}
		for _, f := range g.Frames {
			if f.Func == "main.main" && strings.HasSuffix(f.File, ".go") && f.Line > 0 {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("no goroutine runs main.main: %+v", r.Goroutines)
	}
}

// TestGoCommandsOnOtherCores: asking for the Go heap of a non-Go core, or
// with the wrong executable, is one clear error.
func TestGoCommandsOnOtherCores(t *testing.T) {
	exe := coretest.BuildCXX(t, coretest.Testdata(t, "cpp", "widgets.cpp"))
	cxx := coretest.MakeCore(t, exe, nil, nil)
	code, _, stderr := runCLI(t, "goroutines", cxx.Path)
	if code != 1 || !strings.Contains(stderr, "not a Go program") {
		t.Errorf("goroutines of a C++ core: exit %d, %q", code, stderr)
	}
	assertNoTrace(t, stderr)

	gocore := leakyCore(t, 500)
	other := coretest.BuildGo(t, coretest.Testdata(t, "bigheap"), coretest.GoBuild{})
	code, out, stderr := runCLI(t, "histogram", "--exe", other, gocore.Path)
	if code != 0 || !strings.Contains(stderr, "does not match the core") || !strings.Contains(stderr, "trying the path the core records") || !strings.Contains(out, "main.Timing") {
		t.Errorf("histogram with the wrong executable, the right one at the recorded path: exit %d, %q; want the fallback with a warning", code, stderr)
	}
	assertNoTrace(t, stderr)

	// The executable gone from the path the core records.
	dir := t.TempDir()
	exe = filepath.Join(dir, "leaky")
	data, err := os.ReadFile(coretest.BuildGo(t, coretest.Testdata(t, "leaky"), coretest.GoBuild{}))
	if err != nil || os.WriteFile(exe, data, 0o755) != nil {
		t.Fatalf("copying leaky: %v", err)
	}
	gone := coretest.MakeCore(t, exe, []string{"-requests=10"}, nil)
	os.Remove(exe)
	code, _, stderr = runCLI(t, "histogram", gone.Path)
	if code != 1 || !strings.Contains(stderr, exe) || !strings.Contains(stderr, "--exe") {
		t.Errorf("histogram without the executable: exit %d, %q; want the recorded path and how to pass the file", code, stderr)
	}
	code, _, stderr = runCLI(t, "histogram", "--exe", other, gone.Path)
	if code != 1 || !strings.Contains(stderr, "does not match") {
		t.Errorf("histogram with the wrong executable and none at the recorded path: exit %d, %q", code, stderr)
	}
	assertNoTrace(t, stderr)
}
