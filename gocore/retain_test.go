package gocore

import (
	"slices"
	"strconv"
	"testing"

	"github.com/heapsift/heapsift/dump"
	model "github.com/heapsift/heapsift/heap"
	"github.com/heapsift/heapsift/internal/coretest"
	"github.com/heapsift/heapsift/retain"
)

func TestPointerPath(t *testing.T) {
	for _, c := range []struct {
		in   model.Path
		want string
	}{
		{model.Path{model.Field("results"), model.Field("array")}, ".results"},
		{model.Path{model.Index(3), model.Field("Name"), model.Field("str")}, "[3].Name"},
		{model.Path{model.Field("slots"), model.Index(12), model.Field("elem")}, ".slots[12].elem"},
		{nil, "*"},
		{model.Path{model.Field("array")}, "*"},
		{model.Path{{Kind: model.StepOffset, Index: 16}}, "+16"},
	} {
		if got := pointerPath(c.in).String(); got != c.want {
			t.Errorf("pointerPath(%q) = %q, want %q", c.in.String(), got, c.want)
		}
	}
}

// TestRetainOnModel runs retain's analysis on the core of testdata/retain and checks
// the diamond's and the cycle's dominators and retained sizes against the
// program's hand-computed ones, and the group of the objects a goroutine
// keeps in a local variable.
func TestRetainOnModel(t *testing.T) {
	prog, core := openProgram(t, coretest.Testdata(t, "retain"), coretest.GoBuild{}, []string{"-blobs=300"})
	a, err := retain.FromHeap(prog.Model(), retain.HeapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	object := func(key string) int {
		obj, off, ok := prog.ObjectAt(dump.Address(core.Hex(t, key)))
		if !ok || off != 0 {
			t.Fatalf("%s %#x is not an object", key, core.Hex(t, key))
		}
		return obj
	}
	for _, key := range []string{"diamond_top", "diamond_left", "diamond_right", "diamond_bottom", "diamond_leaf", "cycle_a", "cycle_b", "cycle_c", "cycle_d"} {
		obj := object(key)
		if got, want := a.Retained(obj), core.Int(t, "retained_"+key); got != want {
			t.Errorf("%s retains %d, want %d", key, got, want)
		}
		doms := a.DominatorsOf(obj)
		idom := "0x0"
		if len(doms) > 0 {
			idom = "0x" + strconv.FormatUint(uint64(prog.Addr(doms[len(doms)-1])), 16)
		}
		if want := core.Value(t, "idom_"+key); idom != want {
			t.Errorf("%s: immediate dominator %s, want %s", key, idom, want)
		}
	}
	var blobs *retain.Group
	for i, g := range a.Groups() {
		if a.TypeName(g.Type) == "main.Blob" {
			if blobs != nil {
				t.Fatalf("two main.Blob groups")
			}
			blobs = &a.Groups()[i]
		}
	}
	if blobs == nil || uint64(blobs.Count) != core.Int(t, "local_count") {
		t.Fatalf("main.Blob group: %+v, want %d objects", blobs, core.Int(t, "local_count"))
	}
	root := a.GroupRoot(*blobs)
	if root.Kind != model.RootStack || root.Func != "main.holder" || root.Var != "keep" ||
		root.Thread != int64(core.Int(t, "local_goroutine")) || !slices.Equal(a.GroupPath(*blobs)[1:], []string{"[]"}) {
		t.Errorf("main.Blob group: root %+v, path %q", root, a.GroupPath(*blobs))
	}
}

func TestBookkeepingVar(t *testing.T) {
	for name, want := range map[string]bool{
		"sync.oldPools":            true,
		"sync.allPools":            true,
		"runtime.allp":             true,
		"runtime/pprof.profiles":   true,
		"internal/poll.something":  true,
		"unique.uniqueMaps":        true,
		"main.defaultProfiler":     false,
		"net/http.DefaultClient":   false,
		"example.com/sync.x":       false,
		"github.com/a/runtime.y":   false,
		"global 0xa1b3e8":          false,
		"main..stmp_3+8":           false,
		"syncthing.registry.items": false,
	} {
		if got := bookkeepingVar(name); got != want {
			t.Errorf("bookkeepingVar(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestGoPaths checks on the heap program's core that retain's groups read
// like Go: the program's map values at main.table[…] and keys at
// main.table{key}, whatever the map's internal objects, interface values
// in main.shapes without the runtime's data word, and channel buffers as
// one element step.
func TestGoPaths(t *testing.T) {
	prog, c := openCore(t, "heap", coretest.GoBuild{})
	a, err := retain.FromHeap(prog.Model(), retain.HeapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"main.MVal":   {"main.table", "[…]"},
		"main.MKey":   {"main.table", "{key}"},
		"main.Square": {"main.shapes", "[]"},
		"main.Circle": {"main.shapes", "[]"},
	}
	counts := map[string]uint64{}
	for _, g := range a.Groups() {
		name := a.TypeName(g.Type)
		if w, ok := want[name]; ok && slices.Equal(a.GroupPath(g), w) {
			counts[name] += uint64(g.Count)
		}
		if name == "main.Msg" && slices.Equal(a.GroupPath(g), []string{"main.ptrMsgs", "[]"}) {
			counts[name] += uint64(g.Count)
		}
	}
	for name, w := range want {
		if got := counts[name]; got != c.Int(t, "count."+name) {
			t.Errorf("%d %s in the group %q, the program made %d", got, name, w, c.Int(t, "count."+name))
		}
	}
	if got := counts["main.Msg"]; got != c.Int(t, "count.main.Msg") {
		t.Errorf("%d main.Msg in the group main.ptrMsgs[], the program sent %d", got, c.Int(t, "count.main.Msg"))
	}
}

func TestShortenShapes(t *testing.T) {
	for in, want := range map[string]string{
		"main.F[go.shape.struct { A int; B []string }].func1": "main.F[...].func1",
		"main.Node[int]":                       "main.Node[int]",
		"main.G[go.shape.int,go.shape.string]": "main.G[...]",
		"main.H[main.T[go.shape.int]]":         "main.H[...]",
	} {
		if got := shortenShapes(in); got != want {
			t.Errorf("shortenShapes(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRuntimeGoroutineRootsAreBookkeeping: on a core of the retain test
// program, every stack root of a goroutine the runtime counts as its own
// is bookkeeping, and no other stack root is.
func TestRuntimeGoroutineRootsAreBookkeeping(t *testing.T) {
	prog, _ := openProgram(t, coretest.Testdata(t, "retain"), coretest.GoBuild{}, []string{"-blobs=10"})
	system := map[int64]bool{}
	for _, g := range prog.Goroutines() {
		system[g.ID] = g.System
	}
	stacks, marked := 0, 0
	for _, r := range prog.Model().Roots() {
		if r.Kind != model.RootStack {
			continue
		}
		stacks++
		if r.Bookkeeping {
			marked++
		}
		if r.Bookkeeping != system[r.Thread] {
			t.Errorf("stack root of goroutine %d (%s): bookkeeping %v, the runtime's own %v", r.Thread, r.Func, r.Bookkeeping, system[r.Thread])
		}
	}
	if stacks == 0 || marked == stacks {
		t.Errorf("%d stack roots, %d of them bookkeeping: the test needs the program's own too", stacks, marked)
	}
}
