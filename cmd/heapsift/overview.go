package main

import (
	"fmt"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/suspects"
	"github.com/heapsift/heapsift/warn"
	"github.com/spf13/pflag"
)

func overviewCommand() *command {
	return &command{
		name: "", args: "CORE", minArgs: 1, maxArgs: 1,
		summary: "heapsift analyses the memory of a dead process. Given a core it prints an overview (process,\n" +
			"signal, threads, memory, executable) and then the most frequent words, each named. On a Go or\n" +
			"CPython core it shows the heap instead: live and garbage bytes, goroutines or Python threads, the\n" +
			"largest types, and the groups of objects that retain most with the root and path holding them\n" +
			"(heapsift retain).",
		example: "heapsift core.25867\nheapsift --exe ./server core\nheapsift --json core | jq .words",
		flags: func(fs *pflag.FlagSet, o *options) {
			addWordFlags(fs, o, 20)
			addCoreFlags(fs, o)
			addScratchFlag(fs, o)
		},
		exec: func(o *options, args []string, e *env) error {
			return o.withDump(args[0], e, func(p *dump.Process) error {
				info := newInfoReport(p)
				if m := maybeHeap(p, e); m != nil {
					if err := heapOverview(info, m, o, e); err != nil {
						return err
					}
					return m.damage(args[0])
				}
				words, err := countWords(p, o, e)
				if err != nil {
					return err
				}
				if o.json {
					return emitJSON(e, struct {
						*infoReport
						Words *wordsReport `json:"words"`
					}{info, words})
				}
				info.writeText(e.stdout)
				section(e.stdout, "Most frequent words")
				words.writeText(e.stdout)
				return nil
			})
		},
	}
}

// overviewGroups is the number of retention groups the overview shows.
const overviewGroups = 10

// heapOverview prints the overview of a Go or Python core: the process,
// the heap's totals, its largest types and the groups of objects that
// retain most.
func heapOverview(info *infoReport, m *heapModel, o *options, e *env) error {
	info.setModel(m)
	hist := newHistogramReport(m, "bytes", o.top)
	var groups *retainReport
	var top []suspectJSON // the top leak suspect, if any
	if a, err := analyzeRetention(m.h, o.scratch, e, true); err != nil {
		warnAll(e, []warn.Warning{warn.New("retain", "cannot analyse retention: %v", err)})
	} else {
		defer a.Close()
		groups = newRetainReport(a, m, retainFilter{top: overviewGroups})
		top = findSuspects(a, m, suspects.DefaultThreshold, 1).Suspects
	}
	if o.json {
		return emitJSON(e, struct {
			*infoReport
			Suspects  []suspectJSON    `json:"suspects,omitempty"`
			Histogram *histogramReport `json:"histogram"`
			Retain    *retainReport    `json:"retain,omitempty"`
		}{info, top, hist, groups})
	}
	info.writeText(e.stdout)
	if len(top) > 0 {
		section(e.stdout, "Top leak suspect (heapsift suspects for more)")
		fmt.Fprintln(e.stdout, termSafe(top[0].Explanation))
	}
	section(e.stdout, "Largest types (live heap)")
	hist.writeText(e.stdout)
	if groups != nil {
		section(e.stdout, "What holds the heap (heapsift retain for more)")
		groups.writeText(e.stdout)
	}
	return nil
}
