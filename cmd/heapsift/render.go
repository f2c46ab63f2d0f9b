package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/dustin/go-humanize"
)

// table renders aligned columns for people. Columns whose header starts
// with '>' are right-aligned (numbers); the '>' is not printed.
type table struct {
	headers []string
	rows    [][]string
}

func newTable(headers ...string) *table { return &table{headers: headers} }

// add appends a row; its cells are made safe for a terminal (termSafe),
// since names, paths and strings in them come from the core.
func (t *table) add(cells ...string) {
	row := make([]string, len(cells))
	for i, c := range cells {
		row[i] = termSafe(c)
	}
	t.rows = append(t.rows, row)
}

func (t *table) write(w io.Writer) {
	n := len(t.headers)
	width := make([]int, n)
	right := make([]bool, n)
	heads := make([]string, n)
	for i, h := range t.headers {
		right[i] = strings.HasPrefix(h, ">")
		heads[i] = strings.TrimPrefix(h, ">")
		width[i] = utf8.RuneCountInString(heads[i])
	}
	for _, r := range t.rows {
		for i := 0; i < n && i < len(r); i++ {
			width[i] = max(width[i], utf8.RuneCountInString(r[i]))
		}
	}
	line := func(cells []string) {
		var b strings.Builder
		for i := 0; i < n; i++ {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i == n-1 && !right[i] {
				pad = ""
			}
			if right[i] {
				b.WriteString(pad + c)
			} else {
				b.WriteString(c + pad)
			}
			if i < n-1 {
				b.WriteString("  ")
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(heads)
	for _, r := range t.rows {
		line(r)
	}
}

// writeJSON prints v as one indented JSON document.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// Number formatting for people: counts with thousands separators, sizes in
// IEC units.
func count(n uint64) string { return humanize.Comma(int64(n)) }
func size(n uint64) string  { return humanize.IBytes(n) }

func hexWord(v uint64) string { return fmt.Sprintf("0x%016x", v) }
func hexAddr(v uint64) string { return fmt.Sprintf("%#x", v) }

func percent(part, whole uint64) string {
	if whole == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(part)/float64(whole))
}

// section prints a heading for a block of text output.
func section(w io.Writer, title string) {
	fmt.Fprintf(w, "\n%s\n", title)
}
