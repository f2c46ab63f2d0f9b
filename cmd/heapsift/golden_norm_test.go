package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// This file turns heapsift's output on a real core into the stable text
// stored in a golden file. A real core differs from run to run (addresses,
// pids, temporary paths, build ids, the runtime's own objects, counts that
// depend on the machine), so the normalizer keeps what the test program
// fixes (rows about its own types, headings, field names) and replaces the
// rest with placeholders.

// normalizer holds what is replaced in every string of one output.
type normalizer struct {
	// literal replaces exact strings (temporary directories, the Go
	// version), longest first.
	literal []string // old, new pairs
	// keep selects the table rows, paragraphs and JSON array elements that
	// the test program fixes; their numbers are kept.
	keep *regexp.Regexp
	// maskKept masks numbers even in kept rows (sizes of the executable's
	// mappings, which depend on the toolchain).
	maskKept bool
	// trustTop keeps the numbers of a JSON document's top level: the
	// whole document is about the program's own objects.
	trustTop bool
	// drop lists JSON fields left out: present in some runs only.
	drop map[string]bool
}

var (
	hexRE       = regexp.MustCompile(`0x[0-9a-fA-F]{5,}`)
	goroutineRE = regexp.MustCompile(`goroutine \d+`)
	// statesRE is the overview's goroutine count by state, which lists
	// only the states some goroutine is in at the moment of the crash.
	statesRE = regexp.MustCompile(`goroutines( +)\d+ \([^)]*\)`)
	// argsRE is the command line from the core's process note, which the
	// kernel cuts at 80 bytes: after a temporary directory of varying
	// length, its arguments are cut at varying places.
	argsRE    = regexp.MustCompile(`(\$EXEDIR/[\w.-]+)( -[^\s",]*)+`)
	percentRE = regexp.MustCompile(`\b\d+(\.\d+)?%`)
	numberRE  = regexp.MustCompile(`\b\d[\d,]*(\.\d+)?\b`)
	spacesRE  = regexp.MustCompile(`  +`)
	headingRE = regexp.MustCompile(`^[A-Z][A-Z /→().-]*$`)
)

// str normalizes one string: paths, pids and versions, then long hex
// numbers (addresses, word values: <addr>) and goroutine IDs, which depend
// on what the runtime started first.
func (n *normalizer) str(s string) string {
	for i := 0; i+1 < len(n.literal); i += 2 {
		s = strings.ReplaceAll(s, n.literal[i], n.literal[i+1])
	}
	s = hexRE.ReplaceAllString(s, "<addr>")
	s = statesRE.ReplaceAllString(s, "goroutines${1}N (by state)")
	s = argsRE.ReplaceAllString(s, "$1 ARGS")
	return goroutineRE.ReplaceAllString(s, "goroutine N")
}

// maskNumbers replaces every decimal number in s with N.
func maskNumbers(s string) string {
	return numberRE.ReplaceAllString(s, "N")
}

// headerColumns returns the column spans of a table heading (columns are
// separated by two or more spaces), or nil if line is not a heading.
func headerColumns(line string) [][2]int {
	body := strings.TrimLeft(line, " ")
	if body == "" || strings.TrimRight(line, " ") != line {
		return nil
	}
	off := len(line) - len(body)
	start := off
	var cols [][2]int
	for _, sep := range spacesRE.FindAllStringIndex(body, -1) {
		cols = append(cols, [2]int{start, off + sep[0]})
		start = off + sep[1]
	}
	cols = append(cols, [2]int{start, len(line)})
	if len(cols) < 2 {
		return nil
	}
	for _, c := range cols {
		if !headingRE.MatchString(line[c[0]:c[1]]) {
			return nil
		}
	}
	return cols
}

// misaligned says how row breaks the layout of the table with the heading
// columns cols: every column but the last must hold a cell that starts
// where the heading's column starts (left-aligned) or ends where it ends
// (right-aligned); the first column may be indented (a path's steps), and a
// row may hold only a last-column cell (a tree's inner node). It returns ""
// for a well-aligned row.
func misaligned(row string, cols [][2]int) string {
	r := []rune(row)
	at := func(i int) rune {
		if i < 0 || i >= len(r) {
			return ' '
		}
		return r[i]
	}
	first := len(r) - len([]rune(strings.TrimLeft(row, " ")))
	if first >= cols[len(cols)-1][0] {
		return ""
	}
	for i, c := range cols[:len(cols)-1] {
		left := at(c[0]) != ' ' && at(c[0]-1) == ' '
		right := at(c[1]-1) != ' ' && at(c[1]) == ' '
		indented := i == 0 && first < cols[1][0]-1 && at(cols[1][0]-1) == ' '
		if !left && !right && !indented {
			return fmt.Sprintf("no cell aligned with the column at %d-%d", c[0], c[1])
		}
	}
	return ""
}

// text normalizes a command's text output. Headings of tables stay; table
// rows stay only when keep matches them, with their numbers (but not
// shares); other lines stay with every number masked. Paragraphs that are
// not tables (goroutine traces) stay only when keep matches them, and
// within them only the first line and the lines keep matches, with the
// deeper-indented line after each. Runs of spaces become two. Layout problems of kept rows are
// returned, each naming the row.
func (n *normalizer) text(out string) (string, []string) {
	var b strings.Builder
	var problems []string
	for _, para := range strings.Split(strings.TrimRight(out, "\n"), "\n\n") {
		lines := strings.Split(para, "\n")
		var kept []string
		var cols [][2]int
		for i, line := range lines {
			if c := headerColumns(line); c != nil {
				cols = c
				kept = append(kept, n.str(line))
				continue
			}
			norm := n.str(line)
			match := n.keep.MatchString(norm)
			switch {
			case cols != nil && !match:
				continue // a table row the program does not fix
			case cols != nil:
				if p := misaligned(line, cols); p != "" {
					problems = append(problems, fmt.Sprintf("%s in %q under %q", p, line, lines[0]))
				}
			case n.isTrace(lines) && !match && i > 0 && !n.continues(lines[i-1], line):
				continue
			}
			norm = percentRE.ReplaceAllString(norm, "N%")
			if !match || n.maskKept {
				norm = maskNumbers(norm)
			}
			kept = append(kept, norm)
		}
		if n.isTrace(lines) && !n.keep.MatchString(n.str(para)) {
			continue
		}
		for _, l := range kept {
			b.WriteString(strings.TrimRight(spacesRE.ReplaceAllString(l, "  "), " "))
			b.WriteByte('\n')
		}
		b.WriteByte('\n')
	}
	return b.String(), problems
}

// continues reports whether line belongs to the kept line before it: it
// is indented deeper (a frame's file and line under its function).
func (n *normalizer) continues(before, line string) bool {
	indent := func(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }
	return n.keep.MatchString(n.str(before)) && indent(line) > indent(before)
}

// isTrace reports whether a paragraph is a goroutine's trace.
func (n *normalizer) isTrace(lines []string) bool {
	return strings.HasPrefix(lines[0], "goroutine ") && strings.HasSuffix(lines[0], ":")
}

// maskedKeys are JSON fields whose values differ from run to run even for
// the program's own objects.
var maskedKeys = map[string]bool{
	"pid": true, "sender_pid": true, "build_id": true, "file_build_id": true,
	"share": true, "file_size": true, "typed_share": true,
	"id": true, "goroutine": true, // goroutine IDs
	"explanation": true, // a sentence with a share of the heap in it
}

// JSON trust levels: a masked element keeps only its field names, a normal
// one its strings too, a trusted one its numbers as well.
const (
	masked = iota
	normal
	trusted
)

// json normalizes a JSON document and returns it indented.
func (n *normalizer) json(out string) (string, error) {
	var v any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		return "", fmt.Errorf("bad JSON: %w", err)
	}
	level := normal
	if n.trustTop {
		level = trusted
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(n.value("", v, level)); err != nil {
		return "", fmt.Errorf("re-encoding: %w", err)
	}
	return b.String(), nil
}

// value normalizes v, the value of field key. Arrays of objects keep only
// the elements keep matches (trusted); if none matches they keep all of
// them when trusted and else their first, masked, so that its field names
// are still checked.
func (n *normalizer) value(key string, v any, level int) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			if n.drop[k] {
				continue
			}
			out[k] = n.value(k, e, level)
		}
		return out
	case []any:
		return n.array(key, v, level)
	case string:
		if level == masked || maskedKeys[key] {
			return "S"
		}
		return n.str(v)
	case float64:
		if level != trusted || maskedKeys[key] || v != float64(int64(v)) {
			return "N"
		}
		return v
	case bool:
		if level == masked {
			return "B"
		}
	}
	return v
}

func (n *normalizer) array(key string, v []any, level int) any {
	out := []any{}
	objects := len(v) > 0
	for _, e := range v {
		if _, ok := e.(map[string]any); !ok {
			objects = false
		}
	}
	if !objects {
		if level != trusted && len(v) > 0 {
			return []any{n.value(key, v[0], masked)}
		}
		for _, e := range v {
			out = append(out, n.value(key, e, level))
		}
		return out
	}
	for _, e := range v {
		b, _ := json.Marshal(e)
		if n.keep.MatchString(n.str(string(b))) {
			out = append(out, n.value(key, e, trusted))
		}
	}
	switch {
	case len(out) > 0:
	case level == trusted:
		for _, e := range v {
			out = append(out, n.value(key, e, level))
		}
	default:
		out = append(out, n.value(key, v[0], masked))
	}
	return out
}
