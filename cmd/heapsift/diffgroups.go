package main

import (
	"fmt"
	"io"
	"runtime"

	"github.com/heapsift/heapsift/compare"
	"github.com/heapsift/heapsift/heap"
)

// Retention groups that grew between two cores of one language: each core's groups
// (heapsift retain) are handed to compare.DiffGroups, which matches them
// by type and path (a stack root by function and variable, whatever its
// goroutine's ID).

// groupDelta is one row of the comparison of retention groups.
type groupDelta struct {
	Type string   `json:"type"`
	Path []string `json:"path"`
	countDelta
	bytesDelta
	change
}

// diffGroups compares the retention groups of two heaps and returns
// the rows that grew, at most top of them (0: all). The analyses are made
// one after the other and dropped, so that only one is in memory at once.
func diffGroups(oldH, newH heap.Heap, top int, scratch string, e *env) ([]groupDelta, error) {
	older, err := retentionGroups(oldH, "OLD", scratch, e)
	if err != nil {
		return nil, err
	}
	newer, err := retentionGroups(newH, "NEW", scratch, e)
	if err != nil {
		return nil, err
	}
	rows := []groupDelta{}
	for _, g := range compare.DiffGroups(older, newer) {
		if top > 0 && len(rows) >= top {
			break
		}
		c, b := deltas(g.TallyDelta)
		rows = append(rows, groupDelta{Type: g.Type, Path: g.Path, countDelta: c, bytesDelta: b, change: change(g.Change())})
	}
	return rows, nil
}

// retentionGroups runs heapsift retain on one core and returns its groups
// as compare's input.
func retentionGroups(h heap.Heap, which, scratch string, e *env) ([]compare.GroupTally, error) {
	a, err := analyzeRetention(h, scratch, e, true)
	if err != nil {
		return nil, fmt.Errorf("%s: analysing retention: %w", which, err)
	}
	var groups []compare.GroupTally
	for _, g := range a.Groups() {
		path := a.GroupPath(g)
		t := compare.GroupTally{Type: a.TypeName(g.Type), Path: path[1:], Count: uint64(g.Count), Bytes: g.Bytes}
		t.Root.Name = path[0]
		if root := a.GroupRoot(g); root.Kind == heap.RootStack {
			t.Root = compare.GroupRoot{Stack: true, Thread: root.ThreadLabel, Func: root.Func, Var: root.Var}
		}
		groups = append(groups, t)
	}
	a.Close()
	runtime.GC() // the analysis is garbage now; the next one reuses its memory
	return groups, nil
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
			row.Type+" ← "+heap.WordsText(row.Path))
	}
	t.write(w)
}
