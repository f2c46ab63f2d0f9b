package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/heapsift/heapsift/gocore"
	"github.com/spf13/pflag"
)

// goroutinesReport is `heapsift goroutines` (JSON: docs/json.md).
type goroutinesReport struct {
	Goroutines []goroutineJSON `json:"goroutines"`
	// Groups is set with --group: goroutines with identical stacks.
	Groups []goroutineGroupJSON `json:"groups,omitempty"`
	// HiddenRuntime counts the runtime's own goroutines left out (--all
	// shows them).
	HiddenRuntime int `json:"hidden_runtime"`
}

type frameJSON struct {
	Func    string `json:"func"`
	File    string `json:"file"`
	Line    int    `json:"line"`
	PC      string `json:"pc"`
	Offset  uint64 `json:"offset"`
	Inlined bool   `json:"inlined"`
}

type goroutineJSON struct {
	ID         int64       `json:"id"`
	Status     string      `json:"status"`
	WaitReason string      `json:"wait_reason"`
	WaitSince  int64       `json:"wait_since_ns,omitempty"`
	Waited     int64       `json:"waited_ns,omitempty"`
	System     bool        `json:"runtime"`
	StartFunc  string      `json:"start_func"`
	CreatedBy  *frameJSON  `json:"created_by,omitempty"`
	ParentID   int64       `json:"parent_id,omitempty"`
	Frames     []frameJSON `json:"frames"`
	Error      string      `json:"error,omitempty"`
}

// goroutineGroupJSON is one set of goroutines with the same stack.
type goroutineGroupJSON struct {
	Count  int            `json:"count"`
	IDs    []int64        `json:"ids"`
	States map[string]int `json:"states"`
	Frames []frameJSON    `json:"frames"`
}

func goroutinesCommand() *command {
	var group bool
	return &command{
		name: "goroutines", args: "CORE", minArgs: 1, maxArgs: 1,
		summary: "Go cores: every goroutine with its state, stack (func file:line, inlined calls included) and creator,\n" +
			"as the runtime's own traceback prints them. The runtime's own goroutines are left out as the\n" +
			"traceback leaves them out (--all shows them); --group merges goroutines with identical stacks.",
		example: "heapsift goroutines core\nheapsift goroutines --group core\n" +
			"heapsift goroutines --json core | jq '.goroutines[] | select(.wait_reason == \"chan receive\") | .id'",
		flags: func(fs *pflag.FlagSet, o *options) {
			fs.BoolVar(&o.all, "all", false, "also show the runtime's own goroutines (GC workers, finalizers, ...)")
			fs.BoolVar(&group, "group", false, "one entry per distinct stack, with the number of goroutines on it (as pprof's goroutine profile)")
			addCoreFlags(fs, o)
		},
		exec: func(o *options, args []string, e *env) error {
			return o.withHeap(args[0], e, func(m *heapModel) error {
				g, err := m.goOnly("goroutines")
				if err != nil {
					return err
				}
				r := newGoroutinesReport(g.prog.Goroutines(), o.all, group)
				return o.emit(e, r)
			})
		},
	}
}

// newGoroutinesReport lists goroutines gs, the runtime's own only with all,
// grouped by stack with group.
func newGoroutinesReport(gs []gocore.Goroutine, all, group bool) *goroutinesReport {
	r := &goroutinesReport{Goroutines: []goroutineJSON{}}
	for i := range gs {
		gr := &gs[i]
		if gr.System && !all {
			r.HiddenRuntime++
			continue
		}
		row := goroutineJSON{ID: gr.ID, Status: gr.Status, WaitReason: gr.WaitReason, System: gr.System,
			StartFunc: gr.StartFunc, ParentID: gr.ParentID, Error: gr.Error, Frames: []frameJSON{},
			WaitSince: gr.WaitSince, Waited: int64(gr.Waited)}
		for _, f := range gr.Frames {
			row.Frames = append(row.Frames, newFrameJSON(f))
		}
		if c := gr.CreatedBy; c != nil {
			fj := newFrameJSON(*c)
			row.CreatedBy = &fj
		}
		r.Goroutines = append(r.Goroutines, row)
	}
	if group {
		r.Groups = groupGoroutines(r.Goroutines)
		r.Goroutines = []goroutineJSON{}
	}
	return r
}

func newFrameJSON(f gocore.Frame) frameJSON {
	fj := frameJSON{Func: f.Func, File: f.File, Line: f.Line, PC: hexAddr(f.PC), Inlined: f.Inlined}
	if !f.Inlined && f.PC >= f.Entry {
		fj.Offset = f.PC - f.Entry
	}
	return fj
}

// groupGoroutines merges goroutines whose stacks (functions, files and
// lines) are identical, largest group first.
func groupGoroutines(rows []goroutineJSON) []goroutineGroupJSON {
	byKey := map[string]*goroutineGroupJSON{}
	var order []string
	for _, g := range rows {
		var b strings.Builder
		for _, f := range g.Frames {
			fmt.Fprintf(&b, "%s\x00%s\x00%d\x00", f.Func, f.File, f.Line)
		}
		k := b.String()
		gr := byKey[k]
		if gr == nil {
			gr = &goroutineGroupJSON{IDs: []int64{}, States: map[string]int{}, Frames: g.Frames}
			byKey[k] = gr
			order = append(order, k)
		}
		gr.Count++
		gr.IDs = append(gr.IDs, g.ID)
		gr.States[stateOf(g)]++
	}
	out := make([]goroutineGroupJSON, 0, len(order))
	for _, k := range order {
		out = append(out, *byKey[k])
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Count > out[j].Count })
	return out
}

// stateOf is a goroutine's state as a traceback names it: the wait reason
// of a waiting goroutine, else its status.
func stateOf(g goroutineJSON) string {
	if g.Status == "waiting" && g.WaitReason != "" {
		return g.WaitReason
	}
	return g.Status
}

func (r *goroutinesReport) writeText(w io.Writer) {
	for i, g := range r.Goroutines {
		if i > 0 {
			fmt.Fprintln(w)
		}
		state := stateOf(g)
		if m := time.Duration(g.Waited) / time.Minute; m > 0 {
			state += fmt.Sprintf(", %d minutes", m)
		}
		if g.System {
			state += ", runtime"
		}
		fmt.Fprintf(w, "goroutine %d [%s]:\n", g.ID, termSafe(state))
		writeFrames(w, g.Frames)
		if c := g.CreatedBy; c != nil {
			by := gocore.TracebackName(c.Func)
			if g.ParentID != 0 {
				by += fmt.Sprintf(" in goroutine %d", g.ParentID)
			}
			fmt.Fprintf(w, "  created by %s\n      %s:%d +%#x\n", termSafe(by), termSafe(c.File), c.Line, c.Offset)
		}
		if g.Error != "" {
			fmt.Fprintf(w, "  (%s)\n", oneLine(g.Error))
		}
	}
	for i, gr := range r.Groups {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s goroutines [%s]: %s\n", count(uint64(gr.Count)), termSafe(statesText(gr.States)), idsText(gr.IDs))
		writeFrames(w, gr.Frames)
	}
	if r.HiddenRuntime > 0 {
		if len(r.Goroutines)+len(r.Groups) > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "(%d goroutines of the runtime's own not shown; --all shows them)\n", r.HiddenRuntime)
	}
}

func writeFrames(w io.Writer, frames []frameJSON) {
	for _, f := range frames {
		if f.Inlined {
			fmt.Fprintf(w, "  %s (inlined)\n      %s:%d\n", termSafe(gocore.TracebackName(f.Func)), termSafe(f.File), f.Line)
			continue
		}
		fmt.Fprintf(w, "  %s\n      %s:%d +%#x\n", termSafe(gocore.TracebackName(f.Func)), termSafe(f.File), f.Line, f.Offset)
	}
}

// statesText lists a group's states, most frequent first.
func statesText(states map[string]int) string {
	var names []string
	for s := range states {
		names = append(names, s)
	}
	sort.Slice(names, func(i, j int) bool {
		if states[names[i]] != states[names[j]] {
			return states[names[i]] > states[names[j]]
		}
		return names[i] < names[j]
	})
	if len(names) == 1 {
		return names[0]
	}
	for i, s := range names {
		names[i] = fmt.Sprintf("%s ×%d", s, states[s])
	}
	return strings.Join(names, ", ")
}

// idsText lists goroutine IDs, the first few of a long list.
func idsText(ids []int64) string {
	const maxIDs = 8
	var parts []string
	for i, id := range ids {
		if i == maxIDs {
			parts = append(parts, fmt.Sprintf("… (%d more)", len(ids)-maxIDs))
			break
		}
		parts = append(parts, fmt.Sprint(id))
	}
	return "goroutine " + strings.Join(parts, ", ")
}
