package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/heapsift/heapsift/retain"
	"github.com/spf13/pflag"
)

// `heapsift dominators CORE`: the top of the dominator tree — the objects
// no single other object holds, by retained size — and, with --depth,
// the largest objects each of them dominates.

// dominatorJSON is one node of the dominator tree (JSON: docs/json.md).
type dominatorJSON struct {
	objectRefJSON
	Share     float64         `json:"share"`
	Root      rootJSON        `json:"root"`
	Path      []string        `json:"path"`
	Dominated []dominatorJSON `json:"dominated,omitempty"`
	pathText  string
}

// dominatorsReport is `heapsift dominators` (JSON: docs/json.md).
type dominatorsReport struct {
	ReachableObjects int             `json:"reachable_objects"`
	ReachableBytes   uint64          `json:"reachable_bytes"`
	Dominators       []dominatorJSON `json:"dominators"`
}

// dominatorsFlags are the flags of `heapsift dominators`.
type dominatorsFlags struct {
	depth    int
	children int
}

func newDominatorsReport(a *retain.Analysis, top int, df dominatorsFlags) *dominatorsReport {
	r := &dominatorsReport{ReachableObjects: a.NumReachable(), ReachableBytes: a.ReachableBytes()}
	k := top
	if k == 0 {
		k = a.NumReachable()
	}
	r.Dominators = dominatorNodes(a, a.TopDominators(k), r.ReachableBytes, df, 1)
	return r
}

// dominatorNodes describes objs and, down to df.depth, what they dominate.
func dominatorNodes(a *retain.Analysis, objs []int, total uint64, df dominatorsFlags, depth int) []dominatorJSON {
	out := []dominatorJSON{}
	for _, obj := range objs {
		d := dominatorJSON{objectRefJSON: newObjectRef(a, obj), Path: []string{}}
		if total > 0 {
			d.Share = float64(d.Retained) / float64(total)
		}
		if h, ok := pathTo(a, obj); ok {
			d.Root, d.Path, d.pathText = newRootJSON(h.root, true), h.words, h.text()
		}
		if depth < df.depth {
			d.Dominated = dominatorNodes(a, a.Dominated(obj, df.children), total, df, depth+1)
		}
		out = append(out, d)
	}
	return out
}

func (r *dominatorsReport) writeText(w io.Writer) {
	t := newTable(">RETAINED", ">SHARE", ">SIZE", "TYPE", "ADDRESS", "HELD BY")
	var add func(ds []dominatorJSON, depth int, parent string)
	add = func(ds []dominatorJSON, depth int, parent string) {
		pad := strings.Repeat("  ", depth)
		for _, d := range ds {
			held := d.pathText
			if parent != "" && strings.HasPrefix(held, parent) {
				held = "…" + strings.TrimPrefix(held, parent)
			}
			t.add(size(d.Retained), fmt.Sprintf("%.1f%%", 100*d.Share), size(d.Size), pad+d.Type, d.Addr, held)
			add(d.Dominated, depth+1, d.pathText)
		}
	}
	add(r.Dominators, 0, "")
	t.write(w)
	fmt.Fprintf(w, "\n%s reachable objects, %s. RETAINED: what freeing the object would free.\n",
		count(uint64(r.ReachableObjects)), size(r.ReachableBytes))
}

func dominatorsCommand() *command {
	df := dominatorsFlags{}
	return &command{
		name: "dominators", args: "CORE", minArgs: 1, maxArgs: 1,
		summary: "Go, Python and C/C++ (glibc malloc) cores: the top of the dominator tree — the objects that retain most, with their paths.\n" +
			"These are the objects no other single object holds, largest retained size first (the bytes\n" +
			"freeing the object would free), each with a shortest path from a root. --depth shows, under\n" +
			"each, the largest objects it dominates.",
		example: "heapsift dominators core\nheapsift dominators --depth 3 --top 5 core\nheapsift dominators --json core | jq '.dominators[0]'\nheapsift dominators --top 5 python.core",
		flags: func(fs *pflag.FlagSet, o *options) {
			fs.IntVar(&o.top, "top", 20, "show the N objects that retain most (0: all)")
			fs.IntVar(&df.depth, "depth", 1, "levels of the dominator tree to show")
			fs.IntVar(&df.children, "children", 5, "with --depth above 1: the objects shown under each")
			addCoreFlags(fs, o)
			addScratchFlag(fs, o)
		},
		exec: func(o *options, args []string, e *env) error {
			if df.depth < 1 || df.children < 1 {
				return usagef("--depth and --children must be at least 1")
			}
			return o.withHeap(args[0], e, func(m *heapModel) error {
				a, err := analyzeRetention(m.h, o.scratch, e, false)
				if err != nil {
					return err
				}
				defer a.Close()
				return o.emit(e, newDominatorsReport(a, o.top, df))
			})
		},
	}
}
