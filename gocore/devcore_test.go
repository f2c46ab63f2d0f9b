package gocore

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/heapsift/heapsift/dump"
)

// TestDevCore opens the core named by $GOCORE_CORE (with the executable
// $GOCORE_EXE), logs how long that took and how much memory it used, its
// histogram, goroutines and, unless $GOCORE_QUIET is set, what points to
// some untyped objects. It is a development aid and skips without
// $GOCORE_CORE.
func TestDevCore(t *testing.T) {
	path := os.Getenv("GOCORE_CORE")
	if path == "" {
		t.Skip("GOCORE_CORE not set")
	}
	p, err := dump.Open(path, dump.Options{Exe: os.Getenv("GOCORE_EXE")})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	start := time.Now()
	prog, warns, err := Open(p)
	t.Logf("Open took %v", time.Since(start))
	for _, w := range warns {
		t.Logf("warning: %s", w)
	}
	if err != nil {
		t.Fatal(err)
	}
	logMemory(t)
	hs := time.Now()
	h := prog.Histogram()
	t.Logf("Histogram took %v (%d rows)", time.Since(hs), len(h))
	logProgram(t, prog)
	if os.Getenv("GOCORE_QUIET") == "" {
		logUntyped(t, prog, 40)
	}
}

// logMemory logs the test process's memory use.
func logMemory(t *testing.T) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(st), "\n") {
		if strings.HasPrefix(l, "VmHWM") || strings.HasPrefix(l, "RssAnon") || strings.HasPrefix(l, "RssFile") {
			t.Logf("%s", l)
		}
	}
	t.Logf("Go heap: HeapSys %d MB, Sys %d MB, HeapInuse %d MB", ms.HeapSys>>20, ms.Sys>>20, ms.HeapInuse>>20)
}

func logProgram(t *testing.T, prog *Program) {
	tot := prog.Totals()
	t.Logf("version %s, %d objects, totals %+v", prog.Version(), prog.NumObjects(), tot)
	for i, st := range prog.Histogram() {
		if i >= 60 {
			break
		}
		t.Logf("%10d %10d %s", st.Count, st.Bytes, st.Type)
	}
	for _, g := range prog.Goroutines() {
		t.Logf("goroutine %d %s %q frames=%d err=%q", g.ID, g.Status, g.WaitReason, len(g.Frames), g.Error)
	}
}

// logUntyped shows, for some untyped live objects, what points to them.
func logUntyped(t *testing.T, prog *Program, max int) {
	want := map[int]bool{}
	for i := 0; i < prog.NumObjects() && len(want) < max; i++ {
		if prog.Live(i) && prog.Type(i) == NoType && !(prog.Size(i) == 16 && prog.heap.spans[prog.heap.spanOf[i]].noscan) {
			want[i] = true
		}
	}
	found := map[int]string{}
	for i := 0; i < prog.NumObjects(); i++ {
		prog.ForEachPointer(i, func(off uint64, tgt int) bool {
			if want[tgt] && found[tgt] == "" {
				found[tgt] = prog.Describe(prog.Addr(i) + dump.Address(off))
			}
			return true
		})
	}
	for _, r := range prog.Roots() {
		if want[r.Object] && found[r.Object] == "" {
			found[r.Object] = fmt.Sprintf("root %v %s %s %s", r.Kind, r.Name, r.Func, r.Var)
		}
	}
	n := 0
	for o := range want {
		t.Logf("untyped %#x size %d <- %s", uint64(prog.Addr(o)), prog.Size(o), found[o])
		if n < 8 {
			t.Logf("   chain %q", chainOf(prog, o))
		}
		n++
	}
}

// chainOf follows first referrers of obj up to a typed object or a root.
func chainOf(prog *Program, obj int) []string {
	ref := map[int][2]int{} // target -> (src, off)
	for i := 0; i < prog.NumObjects(); i++ {
		prog.ForEachPointer(i, func(off uint64, tgt int) bool {
			if _, ok := ref[tgt]; !ok && tgt != i {
				ref[tgt] = [2]int{i, int(off)}
			}
			return true
		})
	}
	var out []string
	seen := map[int]bool{}
	for len(out) < 20 && !seen[obj] {
		seen[obj] = true
		r, ok := ref[obj]
		if !ok {
			for _, rt := range prog.Roots() {
				if rt.Object == obj {
					out = append(out, fmt.Sprintf("root %v %s %s %s", rt.Kind, rt.Name, rt.Func, rt.Var))
					return out
				}
			}
			out = append(out, "no referrer")
			return out
		}
		out = append(out, prog.Describe(prog.Addr(r[0])+dump.Address(r[1])))
		if prog.Type(r[0]) != NoType {
			return out
		}
		obj = r[0]
	}
	return out
}
