package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/heapsift/heapsift/internal/coretest"
)

// update rewrites the golden files: go test ./cmd/heapsift -run Golden -update
var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// goldenCores are the cores the golden cases run on, made once per test.
type goldenCores struct {
	retain, widgets, svcOld, svcNew *coretest.Core
	// lit are the literal replacements for every output (directories of
	// the cores and executables, GOROOT, the Go version).
	lit []string
}

// makeGoldenCores makes one core of each program the golden cases use:
// testdata/retain (Go, hand-computed heap), testdata/cpp/widgets.cpp (C++
// objects with vtables) and testdata/service after 200 and 400 requests
// (diff).
func makeGoldenCores(t *testing.T) *goldenCores {
	t.Helper()
	c := &goldenCores{}
	c.retain = retainCore(t)
	c.widgets = coretest.MakeCore(t, coretest.BuildCXX(t, coretest.Testdata(t, "cpp", "widgets.cpp")), nil, nil)
	svc := coretest.BuildGo(t, coretest.Testdata(t, "service"), coretest.GoBuild{})
	c.svcOld = coretest.MakeCore(t, svc, []string{"-requests", "200"}, nil)
	c.svcNew = coretest.MakeCore(t, svc, []string{"-requests", "400"}, nil)
	for _, k := range []*coretest.Core{c.retain, c.widgets, c.svcOld, c.svcNew} {
		c.lit = append(c.lit, filepath.Dir(k.Path), "$COREDIR", filepath.Dir(k.Exe), "$EXEDIR")
		if pid, ok := k.Truth["pid"]; ok {
			c.lit = append(c.lit, "pid "+pid, "pid PID")
		}
	}
	c.lit = append(c.lit, runtime.GOROOT(), "$GOROOT", runtime.Version(), "$GOVERSION")
	return c
}

// goldenCase is one command line whose text or JSON output is compared
// with testdata/golden/NAME.txt or NAME.json.
type goldenCase struct {
	name string
	args []string
	// keep selects what the test program fixes (see normalizer.keep).
	keep     string
	maskKept bool
	trustTop bool
	// drop lists JSON fields present in some runs only.
	drop []string
}

// goldenCases lists a text and a JSON case for every command.
func goldenCases(t *testing.T, c *goldenCores) []goldenCase {
	r, w := c.retain.Path, c.widgets.Path
	why := fmt.Sprintf("%#x", c.retain.Hex(t, "why_target"))
	field := fmt.Sprintf("%#x", c.retain.Hex(t, "why_target")+8)
	vtable := fmt.Sprintf("%#x", c.widgets.Hex(t, "vtable_Button"))
	const mainRE = `main\.|\$EXEDIR`
	const vtables = `vtable for (Button|shapes::Circle|Box<int>)`
	base := []goldenCase{
		{name: "overview", args: []string{r}, keep: mainRE},
		{name: "info", args: []string{"info", r}, keep: `^$`},
		{name: "mappings", args: []string{"mappings", r}, keep: `retain \+`, maskKept: true},
		{name: "words", args: []string{"words", "--top", "10", w}, keep: vtables},
		{name: "symbol-cxx", args: []string{"symbol", w, vtable}, keep: vtables, trustTop: true},
		{name: "symbol-go", args: []string{"symbol", r, field}, keep: mainRE, trustTop: true,
			// The kernel names the heap arena's mapping [stack] when a
			// thread's stack lies in it, and leaves it unnamed otherwise.
			drop: []string{"mapping"}},
		{name: "histogram", args: []string{"histogram", "--top", "0", r}, keep: mainRE},
		{name: "objects", args: []string{"objects", "--type", "main.Item", "--limit", "3", r}, keep: mainRE, trustTop: true},
		{name: "goroutines", args: []string{"goroutines", r}, keep: mainRE,
			// Wait times are runtime nanotimes, different in every run.
			drop: []string{"wait_since_ns", "waited_ns"}},
		{name: "retain", args: []string{"retain", "--top", "0", r}, keep: mainRE},
		{name: "suspects", args: []string{"suspects", "--top", "1", r}, keep: mainRE},
		{name: "why", args: []string{"why", r, why}, keep: mainRE, trustTop: true},
		{name: "dominators", args: []string{"dominators", "--top", "0", r}, keep: mainRE},
		{name: "diff", args: []string{"diff", c.svcOld.Path, c.svcNew.Path}, keep: mainRE},
	}
	var cases []goldenCase
	for _, gc := range base {
		cases = append(cases, gc)
		js := gc
		js.name += ".json"
		js.args = append(append([]string(nil), gc.args...), "--json")
		cases = append(cases, js)
	}
	dot := goldenCase{name: "retain-dot", args: []string{"retain", "--format", "dot", "--type", "main.Item", r}, keep: `.`}
	return append(cases, dot)
}

// TestGolden runs every command on small cores and compares the
// normalized output with the golden files; then checks that docs/json.md
// documents every JSON field the commands printed.
func TestGolden(t *testing.T) {
	cores := makeGoldenCores(t)
	fields := map[string]string{} // JSON field name -> a case printing it
	for _, gc := range goldenCases(t, cores) {
		t.Run(gc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, gc.args...)
			assertNoTrace(t, errs)
			if code != exitOK {
				t.Fatalf("heapsift %s: exit %d: %s", strings.Join(gc.args, " "), code, errs)
			}
			n := &normalizer{literal: cores.lit, keep: regexp.MustCompile(gc.keep), maskKept: gc.maskKept, trustTop: gc.trustTop, drop: map[string]bool{}}
			for _, k := range gc.drop {
				n.drop[k] = true
			}
			got, err := normalizeOutput(n, gc, out, fields)
			if err != nil {
				t.Fatalf("heapsift %s: %v\n%s", strings.Join(gc.args, " "), err, out)
			}
			compareGolden(t, gc.name, got)
		})
	}
	t.Run("docs/json.md", func(t *testing.T) {
		checkJSONDocumented(t, fields)
	})
}

// normalizeOutput normalizes the output of case gc, collecting the JSON
// field names it prints into fields. A text table whose rows are not
// aligned with its heading is an error.
func normalizeOutput(n *normalizer, gc goldenCase, out string, fields map[string]string) (string, error) {
	if !strings.HasSuffix(gc.name, ".json") {
		got, problems := n.text(out)
		if len(problems) > 0 {
			return "", fmt.Errorf("table layout:\n%s", strings.Join(problems, "\n"))
		}
		return got, nil
	}
	if err := collectFields(out, gc.name, fields); err != nil {
		return "", err
	}
	return n.json(out)
}

// compareGolden compares got with testdata/golden/NAME(.txt), or writes it
// there under -update.
func compareGolden(t *testing.T, name, got string) {
	t.Helper()
	if !strings.HasSuffix(name, ".json") {
		name += ".txt"
	}
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/heapsift -run Golden -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (if the change is intended, run go test ./cmd/heapsift -run Golden -update and review the diff):\n%s",
			path, lineDiff(string(want), got))
	}
}

// lineDiff lists the lines that differ between want and got, by position.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 40; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %s:\n  want %q\n  got  %q\n", strconv.Itoa(i+1), wl, gl)
			shown++
		}
	}
	return b.String()
}
