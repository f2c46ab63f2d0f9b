// Package report writes heapsift's HTML report: one self-contained file
// (inline CSS, SVG and a little JavaScript; no network access, no external
// script, font or image) with the overview of a core, its leak suspects,
// the type histogram as a table that sorts and filters, retention as an
// icicle graph root → path → type that zooms, the top of the dominator
// tree, the threads' stacks and, for two cores, what grew.
//
// Everything is aggregated (groups, types, the top of the dominator tree),
// so the file stays small whatever the heap's size. Names from a core are
// untrusted: the page is written with html/template, which escapes them in
// HTML and in the JSON the script reads, and the script inserts them as
// text only. The builders here read only package heap, retain and
// suspects; the caller adds what is language-specific (the overview's
// lines, the threads).
package report

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/dustin/go-humanize"
)

//go:embed assets/report.html.tmpl assets/report.css assets/report.js
var assets embed.FS

// Field is one line of the overview: a label and its value.
type Field struct {
	Label, Value string
}

// Suspect is one leak suspect as the report shows it.
type Suspect struct {
	Sentence     string
	Growth       string // with two cores: how it grew
	Kind         string
	Retained     uint64
	Share        float64
	Root         string
	Path         string
	Accumulation string
	Members      string
}

// TypeRow is one line of the type histogram.
type TypeRow struct {
	Name  string
	Count uint64
	Bytes uint64
	Share float64
}

// DomNode is one object of the dominator tree with the largest of those
// it dominates.
type DomNode struct {
	Label    string
	Retained uint64
	Share    float64
	Children []DomNode
}

// Thread is a goroutine's or thread's stack.
type Thread struct {
	Title  string
	Frames []string
}

// TypeDelta is one type's change between two cores.
type TypeDelta struct {
	Name               string
	OldCount, NewCount uint64
	OldBytes, NewBytes uint64
}

// Diff is what grew between two cores.
type Diff struct {
	Old, New string
	OldBytes uint64
	NewBytes uint64
	Types    []TypeDelta
}

// Report is everything one report shows.
type Report struct {
	Title    string
	Overview []Field
	// Threshold is the suspects' share of the heap.
	Threshold float64
	Suspects  []Suspect
	Types     []TypeRow
	// TypesTotal is the number of types, of which Types may list fewer.
	TypesTotal int
	// Flame is the icicle graph's tree (FlameTree).
	Flame *Frame
	// Dominators is the top of the dominator tree.
	Dominators []DomNode
	// ThreadLabel names what Threads are ("goroutines", "Python threads").
	ThreadLabel string
	Threads     []Thread
	Diff        *Diff
}

// Write renders the report as one HTML document.
func Write(w io.Writer, r *Report) error {
	t, err := template.New("report.html.tmpl").Funcs(template.FuncMap{
		"size":    func(n uint64) string { return humanize.IBytes(n) },
		"count":   func(n uint64) string { return humanize.Comma(int64(n)) },
		"countI":  func(n int) string { return humanize.Comma(int64(n)) },
		"percent": func(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) },
		"delta":   signedSize,
		"deltaN":  signedCount,
		"code":    codeSpans,
		"css": func() (template.CSS, error) {
			s, err := assets.ReadFile("assets/report.css")
			return template.CSS(s), err
		},
		"js": func() (template.JS, error) { s, err := assets.ReadFile("assets/report.js"); return template.JS(s), err },
	}).ParseFS(assets, "assets/report.html.tmpl")
	if err != nil {
		return fmt.Errorf("report: parsing the template: %w", err)
	}
	if err := t.Execute(w, r); err != nil {
		return fmt.Errorf("report: writing the page: %w", err)
	}
	return nil
}

// codeSpans turns a sentence with `code` spans into HTML, escaping every
// part of it: the spans name types and paths from the core.
func codeSpans(s string) template.HTML {
	var sb strings.Builder
	for i, part := range strings.Split(s, "`") {
		esc := template.HTMLEscapeString(part)
		if i%2 == 1 {
			sb.WriteString("<code>" + esc + "</code>")
		} else {
			sb.WriteString(esc)
		}
	}
	return template.HTML(sb.String())
}

func signedSize(old, new uint64) string {
	if new >= old {
		return "+" + humanize.IBytes(new-old)
	}
	return "-" + humanize.IBytes(old-new)
}

func signedCount(old, new uint64) string {
	if new >= old {
		return "+" + humanize.Comma(int64(new-old))
	}
	return "-" + humanize.Comma(int64(old-new))
}
