package main

import (
	"fmt"
	"io"
	"sort"

	"github.com/heapsift/heapsift/heap"
	"github.com/spf13/pflag"
)

// histogramReport is `heapsift histogram` (JSON: docs/json.md).
type histogramReport struct {
	Language   string         `json:"language"`
	Version    string         `json:"version"`
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
func newHistogramReport(m *heapModel, sortBy string, top int) *histogramReport {
	r := &histogramReport{Language: m.lang, Version: m.version(), Types: []typeStatJSON{}}
	r.setTotals(m)
	stats := heap.Histogram(m.h)
	if sortBy == "count" {
		sort.SliceStable(stats, func(i, j int) bool { return stats[i].Count > stats[j].Count })
	}
	for i, s := range stats {
		if top > 0 && i >= top {
			break
		}
		row := typeStatJSON{Type: s.Name, Count: s.Count, Size: s.Size, Bytes: s.Bytes, Typed: s.Typed}
		if r.Live.Bytes > 0 {
			row.Share = float64(s.Bytes) / float64(r.Live.Bytes)
		}
		r.Types = append(r.Types, row)
	}
	r.Shown = len(stats)
	return r
}

// setTotals fills the live and garbage totals: the Go runtime's own
// accounting for Go (with MemStats), the model's for other languages.
func (r *histogramReport) setTotals(m *heapModel) {
	if m.goP != nil {
		t := m.goP.prog.Totals()
		r.Live, r.Garbage = countBytes{t.LiveObjects, t.LiveBytes}, countBytes{t.GarbageObjects, t.GarbageBytes}
		r.TypedBytes = t.TypedBytes
		if t.HaveMemStats {
			r.MemStats = &goMemStats{HeapAlloc: t.MemStats.HeapAlloc, HeapObjects: t.MemStats.HeapObjects}
		}
		return
	}
	t := heap.SumTotals(m.h)
	r.Live, r.Garbage, r.TypedBytes = countBytes{t.LiveObjects, t.LiveBytes}, countBytes{t.GarbageObjects, t.GarbageBytes}, t.TypedBytes
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
	if r.Garbage.Objects > 0 && r.Language == "native" {
		fmt.Fprintf(w, "; leaked (no root reaches them): %s allocations, %s", count(r.Garbage.Objects), size(r.Garbage.Bytes))
	} else if r.Garbage.Objects > 0 {
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
		summary: "Go, Python and C/C++ (glibc malloc) cores: live heap objects by type, with counts and bytes.\n" +
			"For each type: count, object size, total bytes and share of the live heap. Go bytes are counted\n" +
			"as runtime.MemStats.HeapAlloc counts them, untyped objects listed by size class, never guessed;\n" +
			"Python bytes as sys.getsizeof reports them, types named as Python does (__main__.Profiler, tuple).",
		example: "heapsift histogram core\nheapsift histogram --sort count --top 10 core\nheapsift histogram --json core | jq '.types[] | select(.type == \"main.Session\")'\n" +
			"heapsift histogram --json python.core | jq '.types[] | select(.type == \"tuple\") | .count'",
		flags: func(fs *pflag.FlagSet, o *options) {
			fs.IntVar(&o.top, "top", 30, "show the N largest types (0: all)")
			fs.StringVar(&sortBy, "sort", "bytes", "order by bytes or count")
			addCoreFlags(fs, o)
		},
		exec: func(o *options, args []string, e *env) error {
			if sortBy != "bytes" && sortBy != "count" {
				return usagef("--sort takes bytes or count, not %q", sortBy)
			}
			return o.withHeap(args[0], e, func(m *heapModel) error {
				return o.emit(e, newHistogramReport(m, sortBy, o.top))
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
	var garbage, leaked bool
	return &command{
		name: "objects", args: "CORE", minArgs: 1, maxArgs: 1,
		summary: "Go, Python and C/C++ (glibc malloc) cores: list heap objects (address, type, size), by default the live objects of one type.",
		example: "heapsift objects --type main.Session core\nheapsift objects --type '[]*main.Timing' --limit 5 core\nheapsift objects --json --type main.Session core | jq -r '.objects[].addr'\n" +
			"heapsift objects --type __main__.Profiler python.core",
		flags: func(fs *pflag.FlagSet, o *options) {
			fs.StringVar(&typ, "type", "", "only objects of this type (as the histogram names it)")
			fs.IntVar(&limit, "limit", 100, "list at most N objects (0: all)")
			fs.BoolVar(&garbage, "garbage", false, "also list allocated objects no root reaches")
			fs.BoolVar(&leaked, "leaked", false, "native cores: only the leaked allocations (no root reaches them)")
			addCoreFlags(fs, o)
		},
		exec: func(o *options, args []string, e *env) error {
			return o.withHeap(args[0], e, func(m *heapModel) error {
				sel, err := selectObjects(m, garbage, leaked)
				if err != nil {
					return err
				}
				r, err := listObjects(m.h, typ, limit, sel)
				if err != nil {
					return err
				}
				return o.emit(e, r)
			})
		},
	}
}

// objectsReport is `heapsift objects` (JSON: docs/json.md).
type objectsReport struct {
	Count   int          `json:"count"`
	Objects []objectJSON `json:"objects"`
	// deadState names an object that is not live in the text table:
	// garbage, or leaked on a native core.
	deadState string
}

// objectSelection is which objects `objects` lists.
type objectSelection struct {
	keep      func(i int) bool
	what      string // one selected object, for messages
	deadState string
	// noneOK makes an empty list of a known type an answer, not an
	// error: a class none of whose allocations leaked.
	noneOK bool
}

// selectObjects picks live objects, live and garbage ones (--garbage),
// or a native core's leaked allocations (--leaked).
func selectObjects(m *heapModel, garbage, leaked bool) (objectSelection, error) {
	h := m.h
	dead := "garbage"
	if m.nat != nil {
		dead = "leaked"
	}
	switch {
	case leaked && m.nat == nil:
		return objectSelection{}, fmt.Errorf("--leaked is for native (C, C++) cores; this is a %s core (use --garbage)", m.lang)
	case leaked:
		return objectSelection{keep: func(i int) bool { return !h.Live(i) }, what: "leaked allocation", deadState: dead, noneOK: true}, nil
	case garbage:
		return objectSelection{keep: func(int) bool { return true }, what: "object", deadState: dead}, nil
	}
	return objectSelection{keep: h.Live, what: "live object", deadState: dead}, nil
}

// listObjects lists the selected objects of type typ (all types if ""),
// at most limit of them (0: all).
func listObjects(h heap.Heap, typ string, limit int, sel objectSelection) (*objectsReport, error) {
	want, ok := heap.TypeID(0), true
	if typ != "" {
		want, ok = heap.TypeByName(h, typ)
	}
	r := &objectsReport{Objects: []objectJSON{}, deadState: sel.deadState}
	for i := 0; ok && i < h.NumObjects(); i++ {
		if !sel.keep(i) || typ != "" && h.Type(i) != want {
			continue
		}
		r.Count++
		if limit == 0 || len(r.Objects) < limit {
			r.Objects = append(r.Objects, objectJSON{Addr: hexAddr(h.Addr(i)), Type: heap.ObjectTypeName(h, i), Size: h.Size(i), Live: h.Live(i)})
		}
	}
	switch {
	case !ok:
		return nil, fmt.Errorf("no object has type %q (see heapsift histogram for the type names)", typ)
	case typ != "" && r.Count == 0 && !sel.noneOK:
		return nil, fmt.Errorf("no %s has type %q (see heapsift histogram for the type names)", sel.what, typ)
	}
	return r, nil
}

func (r *objectsReport) writeText(w io.Writer) {
	if r.Count == 0 {
		fmt.Fprintln(w, "none")
		return
	}
	t := newTable("ADDRESS", ">SIZE", "TYPE", "STATE")
	for _, o := range r.Objects {
		state := "live"
		if !o.Live {
			state = r.deadState
		}
		t.add(o.Addr, size(o.Size), o.Type, state)
	}
	t.write(w)
	if len(r.Objects) < r.Count {
		fmt.Fprintf(w, "\n%s of %s objects shown (--limit 0 for all)\n", count(uint64(len(r.Objects))), count(uint64(r.Count)))
	}
}
