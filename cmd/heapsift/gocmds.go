package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/heapsift/heapsift/gocore"
	"github.com/spf13/pflag"
)

// histogramReport is `heapsift histogram` (JSON: docs/json.md).
type histogramReport struct {
	Live       countBytes     `json:"live"`
	Garbage    countBytes     `json:"garbage"`
	TypedBytes uint64         `json:"typed_bytes"`
	MemStats   *goMemStats    `json:"memstats,omitempty"`
	Types      []typeStatJSON `json:"types"`
	Shown      int            `json:"-"`
}

type countBytes struct {
	Objects uint64 `json:"objects"`
	Bytes   uint64 `json:"bytes"`
}

type typeStatJSON struct {
	Type  string  `json:"type"`
	Count uint64  `json:"count"`
	Size  uint64  `json:"size"`
	Bytes uint64  `json:"bytes"`
	Share float64 `json:"share"`
	Typed bool    `json:"typed"`
}

// newHistogramReport sorts the type histogram by bytes or count and keeps
// the top rows (all when top is 0).
func newHistogramReport(prog *gocore.Program, sortBy string, top int) *histogramReport {
	t := prog.Totals()
	r := &histogramReport{
		Live:       countBytes{t.LiveObjects, t.LiveBytes},
		Garbage:    countBytes{t.GarbageObjects, t.GarbageBytes},
		TypedBytes: t.TypedBytes,
		Types:      []typeStatJSON{},
	}
	if t.HaveMemStats {
		r.MemStats = &goMemStats{HeapAlloc: t.MemStats.HeapAlloc, HeapObjects: t.MemStats.HeapObjects}
	}
	stats := prog.Histogram()
	sort.SliceStable(stats, func(i, j int) bool {
		a, b := stats[i], stats[j]
		if sortBy == "count" && a.Count != b.Count {
			return a.Count > b.Count
		}
		if a.Bytes != b.Bytes {
			return a.Bytes > b.Bytes
		}
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Type < b.Type
	})
	for i, s := range stats {
		if top > 0 && i >= top {
			break
		}
		row := typeStatJSON{Type: s.Type, Count: s.Count, Size: s.Size, Bytes: s.Bytes, Typed: s.Typed}
		if t.LiveBytes > 0 {
			row.Share = float64(s.Bytes) / float64(t.LiveBytes)
		}
		r.Types = append(r.Types, row)
	}
	r.Shown = len(stats)
	return r
}

func (r *histogramReport) writeText(w io.Writer) {
	t := newTable(">COUNT", ">SIZE", ">BYTES", ">SHARE", "TYPE")
	for _, s := range r.Types {
		sz := "mixed"
		if s.Size > 0 {
			sz = size(s.Size)
		}
		t.add(count(s.Count), sz, size(s.Bytes), fmt.Sprintf("%.1f%%", 100*s.Share), s.Type)
	}
	t.write(w)
	fmt.Fprintf(w, "\nlive: %s objects, %s (%s typed)", count(r.Live.Objects), size(r.Live.Bytes), percent(r.TypedBytes, r.Live.Bytes))
	if r.Garbage.Objects > 0 {
		fmt.Fprintf(w, "; garbage not yet swept: %s objects, %s", count(r.Garbage.Objects), size(r.Garbage.Bytes))
	}
	if len(r.Types) < r.Shown {
		fmt.Fprintf(w, "; %d of %d types shown", len(r.Types), r.Shown)
	}
	fmt.Fprintln(w)
}

func histogramCommand() *command {
	var sortBy string
	return &command{
		name: "histogram", args: "CORE", minArgs: 1, maxArgs: 1,
		summary: "Go cores: live heap objects by type, with counts and bytes.\n" +
			"For each type: count, object size, total bytes (as runtime.MemStats.HeapAlloc counts them) and\n" +
			"share of the live heap. Untyped objects are listed by size class, never guessed.",
		example: "heapsift histogram core\nheapsift histogram --sort count --top 10 core\nheapsift histogram --json core | jq '.types[] | select(.type == \"main.Session\")'",
		flags: func(fs *pflag.FlagSet, o *options) {
			fs.IntVar(&o.top, "top", 30, "show the N largest types (0: all)")
			fs.StringVar(&sortBy, "sort", "bytes", "order by bytes or count")
			addCoreFlags(fs, o)
		},
		exec: func(o *options, args []string, e *env) error {
			if sortBy != "bytes" && sortBy != "count" {
				return usagef("--sort takes bytes or count, not %q", sortBy)
			}
			return o.withGo(args[0], e, func(g *goProgram) error {
				r := newHistogramReport(g.prog, sortBy, o.top)
				return o.emit(e, r)
			})
		},
	}
}

type objectJSON struct {
	Addr string `json:"addr"`
	Type string `json:"type"`
	Size uint64 `json:"size"`
	Live bool   `json:"live"`
}

func objectsCommand() *command {
	var typ string
	var limit int
	var garbage bool
	return &command{
		name: "objects", args: "CORE", minArgs: 1, maxArgs: 1,
		summary: "Go cores: list heap objects (address, type, size), by default the live objects of one type.",
		example: "heapsift objects --type main.Session core\nheapsift objects --type '[]*main.Timing' --limit 5 core\nheapsift objects --json --type main.Session core | jq -r '.objects[].addr'",
		flags: func(fs *pflag.FlagSet, o *options) {
			fs.StringVar(&typ, "type", "", "only objects of this type (as the histogram names it)")
			fs.IntVar(&limit, "limit", 100, "list at most N objects (0: all)")
			fs.BoolVar(&garbage, "garbage", false, "also list allocated objects no root reaches")
			addCoreFlags(fs, o)
		},
		exec: func(o *options, args []string, e *env) error {
			return o.withGo(args[0], e, func(g *goProgram) error {
				prog := g.prog
				var rows []objectJSON
				matched := 0
				for i := 0; i < prog.NumObjects(); i++ {
					live := prog.Live(i)
					if !live && !garbage {
						continue
					}
					name := objectTypeName(prog, i)
					if typ != "" && name != typ {
						continue
					}
					matched++
					if limit == 0 || len(rows) < limit {
						rows = append(rows, objectJSON{Addr: hexAddr(uint64(prog.Addr(i))), Type: name, Size: prog.Size(i), Live: live})
					}
				}
				if typ != "" && matched == 0 {
					return fmt.Errorf("no %sobject has type %q (see heapsift histogram for the type names)", map[bool]string{false: "live ", true: ""}[garbage], typ)
				}
				if o.json {
					return writeJSON(e.stdout, map[string]any{"count": matched, "objects": rows})
				}
				t := newTable("ADDRESS", ">SIZE", "TYPE", "STATE")
				for _, r := range rows {
					state := "live"
					if !r.Live {
						state = "garbage"
					}
					t.add(r.Addr, size(r.Size), r.Type, state)
				}
				t.write(e.stdout)
				if len(rows) < matched {
					fmt.Fprintf(e.stdout, "\n%s of %s objects shown (--limit 0 for all)\n", count(uint64(len(rows))), count(uint64(matched)))
				}
				return nil
			})
		},
	}
}

// objectTypeName names an object's type the way the histogram does.
func objectTypeName(prog *gocore.Program, i int) string {
	if t := prog.Type(i); t != gocore.NoType {
		return prog.TypeName(t)
	}
	return fmt.Sprintf("<untyped %d>", prog.Size(i))
}

type frameJSON struct {
	Func string `json:"func"`
	File string `json:"file"`
	Line int    `json:"line"`
	PC   string `json:"pc"`
}

type goroutineJSON struct {
	ID         int64       `json:"id"`
	Status     string      `json:"status"`
	WaitReason string      `json:"wait_reason"`
	Frames     []frameJSON `json:"frames"`
	Error      string      `json:"error,omitempty"`
}

func goroutinesCommand() *command {
	return &command{
		name: "goroutines", args: "CORE", minArgs: 1, maxArgs: 1,
		summary: "Go cores: every goroutine with its status, wait reason and stack (func file:line).",
		example: "heapsift goroutines core\nheapsift goroutines --json core | jq '.goroutines[] | select(.wait_reason == \"chan receive\") | .id'",
		flags: func(fs *pflag.FlagSet, o *options) {
			addCoreFlags(fs, o)
		},
		exec: func(o *options, args []string, e *env) error {
			return o.withGo(args[0], e, func(g *goProgram) error {
				var rows []goroutineJSON
				for _, gr := range g.prog.Goroutines() {
					row := goroutineJSON{ID: gr.ID, Status: gr.Status, WaitReason: gr.WaitReason, Error: gr.Error, Frames: []frameJSON{}}
					for _, f := range gr.Frames {
						row.Frames = append(row.Frames, frameJSON{Func: f.Func, File: f.File, Line: f.Line, PC: hexAddr(f.PC)})
					}
					rows = append(rows, row)
				}
				if o.json {
					return writeJSON(e.stdout, map[string]any{"goroutines": rows})
				}
				for i, r := range rows {
					if i > 0 {
						fmt.Fprintln(e.stdout)
					}
					state := r.Status
					if r.WaitReason != "" {
						state += ", " + r.WaitReason
					}
					fmt.Fprintf(e.stdout, "goroutine %d [%s]:\n", r.ID, state)
					for _, f := range r.Frames {
						fmt.Fprintf(e.stdout, "  %s\n      %s:%d\n", f.Func, f.File, f.Line)
					}
					if r.Error != "" {
						fmt.Fprintf(e.stdout, "  (%s)\n", strings.TrimSpace(r.Error))
					}
				}
				return nil
			})
		},
	}
}
