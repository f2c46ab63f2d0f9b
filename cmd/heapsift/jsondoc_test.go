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
