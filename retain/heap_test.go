package retain

import (
	"slices"
	"strconv"
	"testing"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/gocore"
	"github.com/heapsift/heapsift/internal/coretest"
)

func TestFieldPathHelpers(t *testing.T) {
	for _, c := range []struct{ in, collapsed, exact string }{
		{".results.array", ".results", ".results"},
		{"[3].Name.str", "[].Name", "[3].Name"},
		{".slots[12].elem", ".slots[].elem", ".slots[12].elem"},
		{"", "*", "*"},
		{".array", "*", "*"},
		{"+16", "+16", "+16"},
		{".m[x]", ".m[x]", ".m[x]"},
	} {
		if got := displayField(c.in, true); got != c.collapsed {
			t.Errorf("displayField(%q, true) = %q, want %q", c.in, got, c.collapsed)
		}
		if got := displayField(c.in, false); got != c.exact {
			t.Errorf("displayField(%q, false) = %q, want %q", c.in, got, c.exact)
		}
	}
	for in, want := range map[string][]string{
		".slots[].elem": {"slots", "[]", "elem"},
		"[3].Name":      {"[3]", "Name"},
		".results":      {"results"},
		".*":            {"*"},
		"":              nil,
	} {
		if got := SplitFieldPath(in); !slices.Equal(got, want) {
			t.Errorf("SplitFieldPath(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string][2]string{
		"main.cache.items":           {"main.cache", ".items"},
		"main.shards[3]":             {"main.shards", "[3]"},
		"net/http.DefaultClient":     {"net/http.DefaultClient", ""},
		"example.com/x/y.v.f.array":  {"example.com/x/y.v", ".f.array"},
		"global 0xa1b3e8":            {"global 0xa1b3e8", ""},
		"net/http..typeAssert.36":    {"net/http..typeAssert.36", ""},
		"main..stmp_3+8":             {"main..stmp_3+8", ""},
		"runtime.m0.mLockProfile.st": {"runtime.m0", ".mLockProfile.st"},
	} {
		v, p := splitGlobalName(in)
		if v != want[0] || p != want[1] {
			t.Errorf("splitGlobalName(%q) = %q, %q; want %q, %q", in, v, p, want[0], want[1])
		}
	}
	if n, ok := leadingIndex("[12].Name"); !ok || n != 12 {
		t.Errorf("leadingIndex([12].Name) = %d, %v", n, ok)
	}
	if got := trimArrayPrefix("[64]*main.T"); got != "*main.T" {
		t.Errorf("trimArrayPrefix = %q", got)
	}
}

// TestFromHeap runs the analysis on the core of testdata/retain and checks
// the diamond's and the cycle's dominators and retained sizes against the
// program's hand-computed ones, and the group of the objects a goroutine
// keeps in a local variable.
func TestFromHeap(t *testing.T) {
	exe := coretest.BuildGo(t, coretest.Testdata(t, "retain"), coretest.GoBuild{})
	core := coretest.MakeCore(t, exe, []string{"-blobs=300"}, nil)
	proc, err := dump.Open(core.Path, dump.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer proc.Close()
	prog, _, err := gocore.Open(proc)
	if err != nil {
		t.Fatal(err)
	}
	a, err := FromHeap(prog, HeapOptions{})
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
	var blobs *Group
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
	if root.Kind != gocore.RootStack || root.Func != "main.holder" || root.Var != "keep" ||
		root.Goroutine != int64(core.Int(t, "local_goroutine")) || !slices.Equal(a.GroupLabels(*blobs), []string{"[]"}) {
		t.Errorf("main.Blob group: root %+v, labels %q", root, a.GroupLabels(*blobs))
	}
}
