package main

import (
	"github.com/heapsift/heapsift/gocore"
	"github.com/spf13/pflag"
)

func overviewCommand() *command {
	return &command{
		name: "", args: "CORE", minArgs: 1, maxArgs: 1,
		summary: "heapsift analyses the memory of a dead process. Given a core it prints an overview (process,\n" +
			"signal, threads, memory, executable) and then the most frequent words, each named. On a Go core\n" +
			"it shows the Go heap instead: live and garbage bytes, goroutines, and the largest types.",
		example: "heapsift core.25867\nheapsift --exe ./server core\nheapsift --json core | jq .words",
		flags: func(fs *pflag.FlagSet, o *options) {
			addWordFlags(fs, o, 20)
			addCoreFlags(fs, o)
		},
		exec: func(o *options, args []string, e *env) error {
			p, err := o.openDump(args[0], e)
			if err != nil {
				return err
			}
			defer p.Close()
			info := newInfoReport(p)
			if prog := maybeGo(p, e); prog != nil {
				return goOverview(info, prog, o, e)
			}
			words, err := countWords(p, o, e)
			if err != nil {
				return err
			}
			if o.json {
				return writeJSON(e.stdout, struct {
					*infoReport
					Words *wordsReport `json:"words"`
				}{info, words})
			}
			info.writeText(e.stdout)
			section(e.stdout, "Most frequent words")
			words.writeText(e.stdout)
			return nil
		},
	}
}

// goOverview prints the overview of a Go core: the process, the Go heap's
// totals and its largest types.
func goOverview(info *infoReport, prog *gocore.Program, o *options, e *env) error {
	info.Go = newGoInfoReport(prog)
	hist := newHistogramReport(prog, "bytes", o.top)
	if o.json {
		return writeJSON(e.stdout, struct {
			*infoReport
			Histogram *histogramReport `json:"histogram"`
		}{info, hist})
	}
	info.writeText(e.stdout)
	section(e.stdout, "Largest types (live heap)")
	hist.writeText(e.stdout)
	return nil
}
