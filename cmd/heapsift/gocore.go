package main

import (
	"bytes"
	"debug/buildinfo"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/gocore"
	"github.com/heapsift/heapsift/heap"
	"golang.org/x/term"
)

// goProgram is an opened Go core: the dump and the heap model on top of it.
type goProgram struct {
	proc  *dump.Process
	prog  *gocore.Program
	model *gocore.Model // made on first use
}

// heap returns the Go heap as the language-neutral heap.Heap.
func (g *goProgram) heap() heap.Heap {
	if g.model == nil {
		g.model = g.prog.Model()
	}
	return g.model
}

func (g *goProgram) Close() { g.proc.Close() }

// damageError is the failure to report after a command's output when the
// core's runtime structures failed their own checks in ways its totals
// depend on: the output was shown, with warnings, but the exit is not 0.
func damageError(path string, prog *gocore.Program) error {
	if prog == nil || len(prog.Damage()) == 0 {
		return nil
	}
	return &exitCodeError{code: exitError, msg: fmt.Sprintf("%s: the results are incomplete: %s", path, strings.Join(prog.Damage(), "; "))}
}

// buildGoModel runs gocore.Open with a progress line and prints its
// warnings.
func buildGoModel(p *dump.Process, e *env) (*gocore.Program, error) {
	stop := startProgress(e, "reading the Go heap")
	prog, warnings, err := gocore.Open(p)
	stop()
	// The warnings first: they often explain the error.
	warnAll(e, warnings)
	if err != nil {
		return nil, err
	}
	return prog, nil
}

// isGoCore reports whether the core's executable is at hand and is a Go
// program.
func isGoCore(p *dump.Process) bool {
	exe := p.Executable()
	if exe == nil || exe.Mismatch || exe.FileData() == nil {
		return false
	}
	_, err := buildinfo.Read(bytes.NewReader(exe.FileData()))
	return err == nil
}

// startProgress shows "heapsift: what… 3s" on stderr, refreshed, when
// stderr is a terminal and the work takes more than a second. The returned
// function stops it and clears the line.
func startProgress(e *env, what string) func() {
	f, ok := e.stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		start := time.Now()
		shown := false
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				if shown {
					fmt.Fprint(f, "\r\033[K")
				}
				return
			case <-tick.C:
				if el := time.Since(start); el > time.Second {
					fmt.Fprintf(f, "\r%s: %s… %.0fs", programName, what, el.Seconds())
					shown = true
				}
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// goInfoReport is the Go runtime's view of a Go core (JSON: docs/json.md).
type goInfoReport struct {
	Version    string          `json:"version"`
	Arch       string          `json:"arch"`
	GreenTea   bool            `json:"green_tea"`
	Heap       goHeapReport    `json:"heap"`
	MemStats   *goMemStats     `json:"memstats,omitempty"`
	Goroutines int             `json:"goroutines"`
	RuntimeGs  int             `json:"runtime_goroutines"`
	Stacks     uint64          `json:"stack_bytes"`
	Spans      int             `json:"spans"`
	Unswept    int             `json:"unswept_spans"`
	byStatus   map[string]int  // for text
	totals     gocore.Totals   // for text
	prog       *gocore.Program // for text
}

type goHeapReport struct {
	InUse          uint64  `json:"in_use"`
	LiveObjects    uint64  `json:"live_objects"`
	LiveBytes      uint64  `json:"live_bytes"`
	GarbageObjects uint64  `json:"garbage_objects"`
	GarbageBytes   uint64  `json:"garbage_bytes"`
	TypedBytes     uint64  `json:"typed_bytes"`
	TypedShare     float64 `json:"typed_share"`
}

type goMemStats struct {
	HeapAlloc   uint64 `json:"heap_alloc"`
	HeapObjects uint64 `json:"heap_objects"`
}

func newGoInfoReport(prog *gocore.Program) *goInfoReport {
	t := prog.Totals()
	gs := prog.Goroutines()
	r := &goInfoReport{
		Version: prog.Version(), Arch: string(prog.Arch()), GreenTea: prog.GreenTea(),
		Heap: goHeapReport{
			InUse: t.HeapInUse, LiveObjects: t.LiveObjects, LiveBytes: t.LiveBytes,
			GarbageObjects: t.GarbageObjects, GarbageBytes: t.GarbageBytes, TypedBytes: t.TypedBytes,
		},
		Goroutines: len(gs), Stacks: t.StackBytes, Spans: t.Spans, Unswept: t.UnsweptSpans,
		byStatus: map[string]int{}, totals: t, prog: prog,
	}
	if t.LiveBytes > 0 {
		r.Heap.TypedShare = float64(t.TypedBytes) / float64(t.LiveBytes)
	}
	if t.HaveMemStats {
		r.MemStats = &goMemStats{HeapAlloc: t.MemStats.HeapAlloc, HeapObjects: t.MemStats.HeapObjects}
	}
	for _, g := range gs {
		r.byStatus[g.Status]++
		if g.System {
			r.RuntimeGs++
		}
	}
	return r
}

func (r *goInfoReport) writeText(w io.Writer) {
	h := r.Heap
	gt := ""
	if r.GreenTea {
		gt = ", Green Tea GC"
	}
	fmt.Fprintf(w, "go          %s %s%s\n", r.Version, r.Arch, gt)
	fmt.Fprintf(w, "heap        %s in use; live %s in %s objects (%s typed); garbage %s in %s objects\n",
		size(h.InUse), size(h.LiveBytes), count(h.LiveObjects), percent(h.TypedBytes, h.LiveBytes),
		size(h.GarbageBytes), count(h.GarbageObjects))
	if m := r.MemStats; m != nil {
		fmt.Fprintf(w, "memstats    HeapAlloc %s, HeapObjects %s (the runtime's own counters)\n", size(m.HeapAlloc), count(m.HeapObjects))
	}
	fmt.Fprintf(w, "goroutines  %d (%s; %d the runtime's own), stacks %s\n", r.Goroutines, statusSummary(r.byStatus), r.RuntimeGs, size(r.Stacks))
}

func statusSummary(m map[string]int) string {
	order := []string{"running", "runnable", "syscall", "waiting"}
	var rest []string
	for st := range m {
		if !slices.Contains(order, st) {
			rest = append(rest, st)
		}
	}
	sort.Strings(rest)
	var parts []string
	for _, st := range append(order, rest...) {
		if m[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", m[st], st))
		}
	}
	return strings.Join(parts, ", ")
}
