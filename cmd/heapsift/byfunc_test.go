package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heapsift/heapsift/internal/coretest"
)

// TestRetainByFunction: goroutines running the same function, each
// holding a local buffer, are one group with the goroutine count by
// default, and one group each with --by-function=false.
func TestRetainByFunction(t *testing.T) {
	exe := coretest.BuildGo(t, coretest.Testdata(t, "byfunc"), coretest.GoBuild{})
	core := coretest.MakeCore(t, exe, []string{"-workers=7"}, nil)
	n, typ := core.Int(t, "workers"), core.Value(t, "type")

	var r retainReport
	runJSON(t, &r, "retain", "--type", typ, core.Path)
	if len(r.Groups) != 1 {
		t.Fatalf("retain --type %s: %d groups, want 1: %+v", typ, len(r.Groups), r.Groups)
	}
	g := r.Groups[0]
	label := fmt.Sprintf("%d goroutines %s %s", n, core.Value(t, "func"), core.Value(t, "var"))
	if uint64(g.Count) != n || uint64(g.Threads) != n || g.Bytes != core.Int(t, "bytes") ||
		g.Root.Func != core.Value(t, "func") || g.Root.Var != core.Value(t, "var") || len(g.Path) == 0 || g.Path[0] != label {
		t.Errorf("merged group: %d objects, %d threads, %d bytes, root %+v, path %q; want %d, %d, %d, %q",
			g.Count, g.Threads, g.Bytes, g.Root, g.Path, n, n, core.Int(t, "bytes"), label)
	}
	code, out, _ := runCLI(t, "retain", "--type", typ, core.Path)
	if code != 0 || !strings.Contains(out, label+" (stack)") {
		t.Errorf("retain (text): exit %d, want a line %q:\n%s", code, label, out)
	}

	runJSON(t, &r, "retain", "--by-function=false", "--type", typ, core.Path)
	if uint64(len(r.Groups)) != n {
		t.Fatalf("retain --by-function=false: %d groups, want %d", len(r.Groups), n)
	}
	seen := map[int64]bool{}
	for _, g := range r.Groups {
		if g.Count != 1 || g.Threads != 1 || seen[g.Root.Goroutine] {
			t.Errorf("per-goroutine group: %d objects, %d threads, goroutine %d (seen: %v)", g.Count, g.Threads, g.Root.Goroutine, seen[g.Root.Goroutine])
		}
		seen[g.Root.Goroutine] = true
	}

	// The Shared object: one global and every goroutine of main.serve
	// hold it (main's own frame may keep a copy too).
	var why whyReport
	runJSON(t, &why, "why", core.Path, core.Value(t, "shared"))
	global := rootKindJSON{Kind: "global", Roots: 1, Example: "main.shared"}
	if len(why.RootKinds) != 2 || why.RootKinds[0] != global || why.RootKinds[1].Kind != "stack" || why.RootKinds[1].Roots < int(n) {
		t.Errorf("why %s: root kinds %+v, want %+v and ≥ %d stack roots", core.Value(t, "shared"), why.RootKinds, global, n)
	}
	code, out, _ = runCLI(t, "why", core.Path, core.Value(t, "shared"))
	if line := "roots: global 1 (main.shared), stack "; code != 0 || !strings.Contains(out, line) {
		t.Errorf("why (text): exit %d, want %q:\n%s", code, line, out)
	}
}

// TestSuspectsByFunction: goroutines running one function, each holding
// a buffer too small to be a suspect alone, are one suspect together.
func TestSuspectsByFunction(t *testing.T) {
	exe := coretest.BuildGo(t, coretest.Testdata(t, "byfunc"), coretest.GoBuild{})
	core := coretest.MakeCore(t, exe, []string{"-workers=40", "-size=32768"}, nil)
	n, typ := core.Int(t, "workers"), core.Value(t, "type")

	var r suspectsReport
	runJSON(t, &r, "suspects", core.Path)
	var found *suspectJSON
	for i, s := range r.Suspects {
		if s.Members.Type == typ {
			found = &r.Suspects[i]
		}
	}
	if found == nil {
		t.Fatalf("no suspect of %s among %d: %+v", typ, len(r.Suspects), r.Suspects)
	}
	s := found
	if s.Kind != "group" || uint64(s.Threads) != n || uint64(s.Members.Count) != n || s.Members.Bytes != core.Int(t, "bytes") ||
		s.Root.Func != core.Value(t, "func") {
		t.Errorf("suspect: kind %s, %d threads, %d members of %d bytes, root %+v; want group, %d, %d of %d, func %s",
			s.Kind, s.Threads, s.Members.Count, s.Members.Bytes, s.Root, n, n, core.Int(t, "bytes"), core.Value(t, "func"))
	}
	want := fmt.Sprintf("%d goroutines running `%s` hold %d `%s` through `%s`", n, core.Value(t, "func"), n, typ, core.Value(t, "var"))
	if !strings.HasPrefix(s.Explanation, want) {
		t.Errorf("explanation %q, want it to start %q", s.Explanation, want)
	}
}

// TestReportGroupsGoroutines: the HTML report lists goroutines with
// identical stacks once, with their count, as `goroutines --group` does.
func TestReportGroupsGoroutines(t *testing.T) {
	exe := coretest.BuildGo(t, coretest.Testdata(t, "byfunc"), coretest.GoBuild{})
	core := coretest.MakeCore(t, exe, []string{"-workers=9"}, nil)
	out := filepath.Join(t.TempDir(), "report.html")
	if code, _, stderr := runCLI(t, "report", "-o", out, core.Path); code != 0 {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	html, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%d goroutines [", core.Int(t, "workers"))
	if !bytes.Contains(html, []byte(want)) || !bytes.Contains(html, []byte(core.Value(t, "func"))) {
		t.Errorf("the report has no %q group of %s goroutines", want, core.Value(t, "func"))
	}
}
