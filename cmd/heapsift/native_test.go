package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/heapsift/heapsift/internal/coretest"
)

// The heap commands on glibc malloc cores (testdata/native/leaks.cpp,
// which prints its truth).

func leaksCore(t *testing.T, args ...string) *coretest.Core {
	t.Helper()
	exe := coretest.BuildCXX(t, coretest.Testdata(t, "native", "leaks.cpp"))
	return coretest.MakeCore(t, exe, args, nil)
}

// TestNativeOverview: `heapsift CORE` gives the malloc view: classes with
// exact counts and bytes, and the leaked ones apart.
func TestNativeOverview(t *testing.T) {
	c := leaksCore(t)
	var r struct {
		Native *nativeInfoReport `json:"native"`
	}
	runJSON(t, &r, c.Path)
	if r.Native == nil {
		t.Fatal("no native section in the overview")
	}
	n := r.Native
	if n.Language != "native" || n.Allocator.Name != "glibc" || n.Allocator.Version != c.Value(t, "glibc") || n.Allocator.LayoutFrom == "" {
		t.Errorf("allocator %+v, language %q", n.Allocator, n.Language)
	}
	wantLeaked := c.Int(t, "leaked:app::Leaked") + c.Int(t, "leaked:ListNode")
	if n.Leaked.Objects != wantLeaked || n.Leaked.Roots != c.Int(t, "leaked:app::Leaked")+1 {
		t.Errorf("leaked %+v, want %d objects and %d roots", n.Leaked, wantLeaked, c.Int(t, "leaked:app::Leaked")+1)
	}
	byType := map[string]nativeTypeJSON{}
	for _, tt := range n.Types {
		byType[tt.Type] = tt
	}
	for _, cls := range []string{"Big", "Kept"} {
		if tt := byType[cls]; tt.Count != c.Int(t, "count:"+cls) || tt.Bytes != c.Int(t, "bytes:"+cls) || tt.Leaked != 0 {
			t.Errorf("%s: %+v, want %d of %d bytes", cls, tt, c.Int(t, "count:"+cls), c.Int(t, "bytes:"+cls))
		}
	}
	if len(n.LeakedTypes) == 0 || n.LeakedTypes[0].Type != "app::Leaked" || n.LeakedTypes[0].Leaked != c.Int(t, "leaked:app::Leaked") {
		t.Errorf("leaked types %+v, want app::Leaked first", n.LeakedTypes)
	}
	code, out, errs := runCLI(t, c.Path)
	assertNoTrace(t, errs)
	if code != 0 || !strings.Contains(out, "malloc      glibc") || !strings.Contains(out, "Leaked allocations by class") {
		t.Errorf("overview: exit %d:\n%s", code, out)
	}
}

// TestNativeCommands: objects --leaked, why and dominators on a native
// core.
func TestNativeCommands(t *testing.T) {
	c := leaksCore(t)
	var objs objectsReport
	runJSON(t, &objs, "objects", "--leaked", "--type", "ListNode", "--limit", "0", c.Path)
	if uint64(objs.Count) != c.Int(t, "leaked:ListNode") {
		t.Errorf("objects --leaked --type ListNode: %d, want %d", objs.Count, c.Int(t, "leaked:ListNode"))
	}
	runJSON(t, &objs, "objects", "--type", "Kept", "--limit", "0", c.Path)
	if uint64(objs.Count) != c.Int(t, "count:Kept") {
		t.Errorf("objects --type Kept: %d, want %d", objs.Count, c.Int(t, "count:Kept"))
	}
	code, out, errs := runCLI(t, "why", c.Path, fmt.Sprintf("%#x", c.Hex(t, "addr_HeapOnly")))
	assertNoTrace(t, errs)
	if code != 0 || !strings.Contains(out, "g_holder") || !strings.Contains(out, "Holder") {
		t.Errorf("why HeapOnly: exit %d, want a path from g_holder through a Holder:\n%s%s", code, out, errs)
	}
	code, out, errs = runCLI(t, "dominators", "--top", "3", c.Path)
	assertNoTrace(t, errs)
	if code != 0 || !strings.Contains(out, "Big") {
		t.Errorf("dominators: exit %d, want the Bigs on top:\n%s%s", code, out, errs)
	}
	// stacks has no native model: an error naming the core, not a crash.
	code, _, errs = runCLI(t, "stacks", c.Path)
	assertNoTrace(t, errs)
	if code != 1 || !strings.Contains(errs, c.Path+": stacks reads Go and Python programs") {
		t.Errorf("stacks on a native core: exit %d, want 1 and an error naming the core:\n%s", code, errs)
	}
}

// TestNativeDiff: diff of two cores names the class that grew, leaked
// allocations included, and --fail-on-growth checks it.
func TestNativeDiff(t *testing.T) {
	old, grown := leaksCore(t, "1000", "100", "10"), leaksCore(t, "1000", "2100", "10")
	var r diffReport
	runJSON(t, &r, "diff", old.Path, grown.Path)
	if r.Compare != "types" || r.Types == nil || len(*r.Types) == 0 {
		t.Fatalf("diff compared %q: %+v", r.Compare, r)
	}
	top := (*r.Types)[0]
	if top.Type != "app::Leaked" || top.DeltaCount != 2000 {
		t.Errorf("diff's top row %+v, want app::Leaked +2000", top)
	}
	code, _, errs := runCLI(t, "diff", "--fail-on-growth", "type:app::Leaked=1000", old.Path, grown.Path)
	if code != exitGrowth {
		t.Errorf("diff --fail-on-growth type:app::Leaked=1000: exit %d, want %d: %s", code, exitGrowth, errs)
	}
}

// TestLeakedNoneOfAType: a class none of whose allocations leaked lists
// none (exit 0); a type no allocation has is an error.
func TestLeakedNoneOfAType(t *testing.T) {
	c := leaksCore(t)
	var objs objectsReport
	runJSON(t, &objs, "objects", "--leaked", "--type", "Kept", c.Path)
	if objs.Count != 0 || len(objs.Objects) != 0 || c.Int(t, "count:Kept") == 0 {
		t.Errorf("objects --leaked --type Kept: %d leaked (the program keeps all %d)", objs.Count, c.Int(t, "count:Kept"))
	}
	if code, _, errs := runCLI(t, "objects", "--leaked", "--type", "NoSuchClass", c.Path); code == 0 || !strings.Contains(errs, `no object has type "NoSuchClass"`) {
		t.Errorf("objects --leaked --type NoSuchClass: exit %d, %q", code, errs)
	}
}
