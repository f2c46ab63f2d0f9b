package main

import (
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/gocore"
	"github.com/heapsift/heapsift/heap"
	"github.com/heapsift/heapsift/histogram"
)

// Retention groups that grew between two Go cores: each core's groups
// (heapsift retain) are matched by type and path (root, fields, collapsed
// indices; a stack root by function and variable, whatever its
// goroutine's ID), and compared like types.

// groupDelta is one row of the comparison of retention groups.
type groupDelta struct {
	Type string   `json:"type"`
	Path []string `json:"path"`
	countDelta
	bytesDelta
	change
}

// groupSide is one core's groups as tallies, with each tally's type and
// path by name.
type groupSide struct {
	tallies []histogram.Tally
	rows    map[string]groupDelta
}

// diffGroups compares the retention groups of two Go heaps and returns
// the rows that grew, at most top of them (0: all). The analyses are made
// one after the other and dropped, so that only one is in memory at once.
func diffGroups(oldP, newP *dump.Process, oldProg, newProg *gocore.Program, top int, e *env) ([]groupDelta, error) {
	older, err := retentionSide(oldP, oldProg, "OLD", e)
	if err != nil {
		return nil, err
	}
	newer, err := retentionSide(newP, newProg, "NEW", e)
	if err != nil {
		return nil, err
	}
	rows := []groupDelta{}
	for _, t := range histogram.DiffTallies(older.tallies, newer.tallies) {
		if t.DeltaBytes() <= 0 && t.DeltaCount() <= 0 {
			continue
		}
		if top > 0 && len(rows) >= top {
			break
		}
		row, ok := newer.rows[t.Name]
		if !ok {
			row = older.rows[t.Name]
		}
		row.countDelta, row.bytesDelta = deltas(t)
		row.change = changeOf(t.OldCount, t.NewCount, t.OldBytes, t.NewBytes)
		rows = append(rows, row)
	}
	return rows, nil
}

func retentionSide(p *dump.Process, prog *gocore.Program, which string, e *env) (groupSide, error) {
	a, err := analyzeRetention(prog.Model(), e, true)
	if err != nil {
		return groupSide{}, fmt.Errorf("%s: analysing retention: %w", which, err)
	}
	side := groupSide{rows: map[string]groupDelta{}}
	for _, g := range a.Groups() {
		path := a.GroupPath(g)
		if root := a.GroupRoot(g); root.Kind == heap.RootStack {
			path[0] = strings.TrimSpace("goroutine " + root.Func + " " + root.Var)
		}
		typ := a.TypeName(g.Type)
		name := typ + "\x00" + strings.Join(path, "\x00")
		side.tallies = append(side.tallies, histogram.Tally{Name: name, Count: uint64(g.Count), Bytes: g.Bytes})
		side.rows[name] = groupDelta{Type: typ, Path: path}
	}
	runtime.GC() // the analysis is garbage now; the next one reuses its memory (the CLI may collect, libraries do not)
	return side, nil
}

func (r *diffReport) writeGroups(w io.Writer) {
	section(w, "Retention groups that grew (heapsift retain on each core)")
	if len(*r.Groups) == 0 {
		fmt.Fprintln(w, "none")
		return
	}
	t := newTable(">OLD COUNT", ">NEW COUNT", ">DELTA", ">OLD BYTES", ">NEW BYTES", ">DELTA", ">RATIO", "TYPE ← HELD BY")
	for _, row := range *r.Groups {
		t.add(count(row.OldCount), count(row.NewCount), signedCount(row.DeltaCount),
			size(row.OldBytes), size(row.NewBytes), signedSize(row.DeltaBytes), row.change.text(),
			row.Type+" ← "+pathText(row.Path))
	}
	t.write(w)
}

// pathText writes path words in Go's notation: "main.p.results[]".
func pathText(words []string) string {
	if len(words) == 0 {
		return ""
	}
	return words[0] + joinFields(words[1:])
}
