package main

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/heapsift/heapsift/compare"
	"github.com/heapsift/heapsift/gocore"
	"github.com/heapsift/heapsift/report"
	"github.com/heapsift/heapsift/retain"
	"github.com/heapsift/heapsift/suspects"
	"github.com/spf13/pflag"
)

// `heapsift report CORE` and `heapsift report OLD NEW`: the HTML report
// (package report) of one core, or of the newer of two with what grew.
// This file gathers what is language-specific (the overview's lines, the
// goroutines or Python threads) and hands the rest to package report.

// Limits of what the report lists besides package report's own.
const (
	reportThreads    = 500
	reportDiffTypes  = 500
	reportDomTop     = 30
	reportDomDepth   = 4
	reportDomFanout  = 12
	reportMaxFrames  = 60
	reportMaxSuspect = 10
)

// reportFlags are the flags of `heapsift report`.
type reportFlags struct {
	suspects suspectsFlags
	output   string
}

func reportCommand() *command {
	rf := &reportFlags{}
	return &command{
		name: "report", args: "CORE | OLD NEW", minArgs: 1, maxArgs: 2,
		summary: "Go and Python: one self-contained HTML file to look at (no network access; inline CSS, SVG\n" +
			"and script): the overview, the leak suspects, the type histogram as a table that sorts and\n" +
			"filters, retention as an icicle graph root → path → type that zooms, the top of the dominator\n" +
			"tree, the goroutines or Python threads. With two cores: the newer one, with what grew.",
		example: "heapsift report core -o report.html && xdg-open report.html\n" +
			"heapsift report warm.core load.core -o growth.html",
		flags: func(fs *pflag.FlagSet, o *options) {
			fs.StringVar(&rf.suspects.thresholdStr, "threshold", "10%", "a suspect retains more than this share of the live heap (with two cores: of its growth)")
			fs.StringVarP(&rf.output, "output", "o", "", "write the HTML to this file instead of stdout")
			addDumpFlags(fs, o)
			addScratchFlag(fs, o)
		},
		exec: func(o *options, args []string, e *env) error { return runReport(o, rf, args, e) },
	}
}

func runReport(o *options, rf *reportFlags, args []string, e *env) error {
	if err := rf.suspects.check(); err != nil {
		return err
	}
	e.noteInputs(append(args, o.exe)...)
	if err := checkOutput(rf.output, e); err != nil {
		return err
	}
	var old *oldSide
	if len(args) == 2 {
		var err error
		if old, err = readOldSide(o, args[0], e); err != nil {
			return err
		}
	}
	path := args[len(args)-1]
	var r *report.Report
	err := o.withHeap(path, e, func(m *heapModel) error {
		a, err := analyzeRetention(m.h, o.scratch, e, true)
		if err != nil {
			return err
		}
		defer a.Close()
		r = buildReport(m, a, rf.suspects.threshold, old, args)
		return nil
	})
	if r == nil {
		return err
	}
	if cerr := checkOutput(rf.output, e); cerr != nil {
		return cerr // -o names a library the core maps
	}
	if werr := withOutput(rf.output, false, e, func(w io.Writer) error { return report.Write(w, r) }); werr != nil {
		return werr
	}
	return err
}

// oldSide is what the report of two cores keeps of the older: its types,
// its suspect candidates and its live bytes.
type oldSide struct {
	types      []compare.Tally
	candidates []suspects.Suspect
	total      uint64
}

// readOldSide analyses the older core and keeps only what the comparison
// needs, so that one analysis is in memory at a time.
func readOldSide(o *options, path string, e *env) (*oldSide, error) {
	old := &oldSide{}
	err := o.withHeap(path, e, func(m *heapModel) error {
		a, err := analyzeRetention(m.h, o.scratch, e, true)
		if err != nil {
			return fmt.Errorf("OLD: analysing retention: %w", err)
		}
		defer a.Close()
		old.types = typeTallies(m.h)
		old.candidates = suspects.Find(a, suspects.Options{Threshold: suspects.CandidateThreshold})
		old.total = a.ReachableBytes()
		return nil
	})
	return old, err
}

// buildReport gathers the report of m's heap, with the comparison to old
// if there is one.
func buildReport(m *heapModel, a *retain.Analysis, threshold float64, old *oldSide, args []string) *report.Report {
	r := &report.Report{
		Title:      strings.Join(args, " → "),
		Overview:   overviewFields(m),
		Threshold:  threshold,
		Flame:      report.FlameTree(a),
		Dominators: report.DominatorTree(a, reportDomTop, reportDomDepth, reportDomFanout),
	}
	r.Types, r.TypesTotal = report.Types(m.h)
	r.ThreadLabel, r.Threads = reportThreadsOf(m)
	if old == nil {
		r.Suspects = report.Suspects(a, suspects.Find(a, suspects.Options{Threshold: threshold, Max: reportMaxSuspect}))
		return r
	}
	newer := suspects.Find(a, suspects.Options{Threshold: suspects.CandidateThreshold})
	grown := suspects.Compare(old.candidates, newer, old.total, a.ReachableBytes(), threshold, "OLD")
	r.Suspects = report.Growth(a, grown[:min(len(grown), reportMaxSuspect)])
	d := &report.Diff{Old: filepath.Base(args[0]), New: filepath.Base(args[1]), OldBytes: old.total, NewBytes: a.ReachableBytes()}
	for _, row := range compare.DiffTypes(old.types, typeTallies(m.h)).Rows {
		if len(d.Types) >= reportDiffTypes {
			break
		}
		d.Types = append(d.Types, report.TypeDelta{Name: row.Name, OldCount: row.OldCount, NewCount: row.NewCount, OldBytes: row.OldBytes, NewBytes: row.NewBytes})
	}
	r.Diff = d
	return r
}

// overviewFields are the lines of the overview (heapsift info and the
// language's section) as label and value.
func overviewFields(m *heapModel) []report.Field {
	info := newInfoReport(m.proc)
	info.setModel(m)
	var buf bytes.Buffer
	info.writeText(&buf)
	var out []report.Field
	for _, line := range strings.Split(strings.TrimRight(buf.String(), "\n"), "\n") {
		label, value, _ := strings.Cut(line, " ")
		out = append(out, report.Field{Label: label, Value: strings.TrimSpace(value)})
	}
	return out
}

// reportThreadsOf lists the goroutines of a Go core or the threads of a
// Python one, each with its stack.
func reportThreadsOf(m *heapModel) (string, []report.Thread) {
	var out []report.Thread
	switch {
	case m.goP != nil:
		// As `heapsift goroutines --group` shows them: identical stacks
		// once with their count, the runtime's own goroutines left out.
		r := newGoroutinesReport(m.goP.prog.Goroutines(), false, true)
		for _, gr := range r.Groups[:min(len(r.Groups), reportThreads)] {
			t := report.Thread{Title: fmt.Sprintf("%s goroutines [%s]: %s", count(uint64(gr.Count)), statesText(gr.States), idsText(gr.IDs))}
			for _, f := range gr.Frames[:min(len(gr.Frames), reportMaxFrames)] {
				t.Frames = append(t.Frames, fmt.Sprintf("%s %s:%d", gocore.TracebackName(f.Func), f.File, f.Line))
			}
			out = append(out, t)
		}
		return "Goroutines", out
	case m.py != nil:
		for _, th := range pyThreads(m.py, false) {
			t := report.Thread{Title: th.label()}
			for _, f := range th.Frames {
				t.Frames = append(t.Frames, fmt.Sprintf("%s %s:%d", f.Func, f.File, f.Line))
			}
			out = append(out, t)
		}
		return "Python threads", out
	}
	return "", nil
}
