package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/heapsift/heapsift/internal/coretest"
)

// collectFields adds the name of every object key in the JSON document out,
// at any depth, to fields (name -> "case: path" where it was first seen).
func collectFields(out, caseName string, fields map[string]string) error {
	var v any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		return fmt.Errorf("bad JSON: %w", err)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				p := k
				if path != "" {
					p = path + "." + k
				}
				if _, ok := fields[k]; !ok {
					fields[k] = caseName + ": " + p
				}
				walk(p, e)
			}
		case []any:
			for _, e := range v {
				walk(path+"[]", e)
			}
		}
	}
	walk("", v)
	return nil
}

var (
	codeSpanRE = regexp.MustCompile("`[^`\n]+`")
	fenceRE    = regexp.MustCompile("(?s)```.*?```")
	wordRE     = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)
)

// documentedNames returns every identifier inside a code span of the
// markdown doc, leaving out fenced blocks: an example document does not
// explain a field.
func documentedNames(doc string) map[string]bool {
	names := map[string]bool{}
	for _, span := range codeSpanRE.FindAllString(fenceRE.ReplaceAllString(doc, ""), -1) {
		for _, w := range wordRE.FindAllString(span, -1) {
			names[w] = true
		}
	}
	return names
}

// checkJSONDocumented fails naming each field in fields that docs/json.md
// does not mention in a code span outside its examples.
func checkJSONDocumented(t *testing.T, fields map[string]string) {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "json.md"))
	if err != nil {
		t.Fatalf("reading the JSON documentation: %v", err)
	}
	if len(fields) < 50 {
		t.Fatalf("only %d JSON field names collected; the golden cases printed too little JSON", len(fields))
	}
	names := documentedNames(string(doc))
	var undocumented []string
	for f, where := range fields {
		if !names[f] {
			undocumented = append(undocumented, fmt.Sprintf("%s (%s)", f, where))
		}
	}
	sort.Strings(undocumented)
	if len(undocumented) > 0 {
		t.Errorf("%d JSON fields are not documented in docs/json.md:\n  %s", len(undocumented), strings.Join(undocumented, "\n  "))
	}
}

// TestDocumentedNames: names count only in code spans outside fences.
func TestDocumentedNames(t *testing.T) {
	doc := "| `words[].value` | the `share` of it |\n```json\n{\"hidden\": `x`}\n```\nplain_word\n"
	got := documentedNames(doc)
	for _, want := range []string{"words", "value", "share"} {
		if !got[want] {
			t.Errorf("%s not found in %q", want, doc)
		}
	}
	for _, not := range []string{"hidden", "plain_word", "json"} {
		if got[not] {
			t.Errorf("%s counted as documented", not)
		}
	}
}

// TestJSONDocumentedPythonNative checks that docs/json.md documents every
// JSON field the commands print for a CPython core and a native (C++)
// core, whose documents carry fields of their own (python, native,
// threads, leaked) that the Go golden cases never print.
func TestJSONDocumentedPythonNative(t *testing.T) {
	python := coretest.PyenvPython(t, suspectPython)
	py := coretest.MakeCore(t, python, []string{coretest.Testdata(t, "python", "profiler.py"), "2000"}, nil)
	cxx := leaksCore(t)
	fields := map[string]string{}
	for _, c := range []struct {
		name, core, addr string
	}{
		{"python", py.Path, py.Value(t, "first_tuple")},
		{"native", cxx.Path, ""},
	} {
		addr := c.addr
		if addr == "" {
			var objs objectsReport
			runJSON(t, &objs, "objects", "--limit", "1", c.core)
			if len(objs.Objects) == 0 {
				t.Fatalf("%s: objects lists nothing", c.name)
			}
			addr = objs.Objects[0].Addr
		}
		for _, args := range [][]string{
			{}, {"info"}, {"histogram"}, {"objects", "--garbage"}, {"retain"}, {"why"}, {"dominators"},
			{"suspects"}, {"stacks"}, {"words"}, {"mappings"}, {"symbol"}, {"diff"},
		} {
			if c.name == "native" && len(args) > 0 && args[0] == "stacks" {
				continue // Go and Python only
			}
			argv := append(append([]string(nil), args...), "--json", c.core)
			switch {
			case len(args) == 0:
			case args[0] == "why" || args[0] == "symbol":
				argv = append(argv, addr)
			case args[0] == "diff":
				argv = append(argv, c.core)
			}
			code, out, errs := runCLI(t, argv...)
			assertNoTrace(t, errs)
			if code != exitOK {
				t.Errorf("%s: heapsift %s: exit %d: %s", c.name, strings.Join(argv, " "), code, errs)
				continue
			}
			if err := collectFields(out, c.name+" "+strings.Join(args, " "), fields); err != nil {
				t.Errorf("%s: heapsift %s: %v", c.name, strings.Join(argv, " "), err)
			}
		}
	}
	checkJSONDocumented(t, fields)
}
