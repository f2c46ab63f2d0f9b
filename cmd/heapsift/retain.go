package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/dustin/go-humanize"
	"github.com/heapsift/heapsift/heap"
	"github.com/heapsift/heapsift/retain"
	"github.com/spf13/pflag"
)

// `heapsift retain CORE`: who keeps the heap alive. The retain package
// groups the reachable objects by root, collapsed field path and type,
// and ranks the groups by retained size; this file renders them as a
// tree, JSON, a pprof profile (pprof.go) or a Graphviz graph (dot.go).

// analyzeRetention runs the retention analysis of a heap (with the
// groups, or without when only paths and dominators are asked for) with a
// progress line per stage, and prints its warnings. Between stages it
// hands the memory retain dropped back to the system: the analysis of a
// large heap runs close to the machine's memory.
//
// The analysis's large arrays are mapped outside the Go heap (files in
// the --scratch directory, if one is given) and unmapped as it goes; what
// it allocates on the Go heap beside the model is small but comes and
// goes while the model's heap is large, so that with the collector's
// default pacing the heap would grow by the model's size first: it runs
// with a GOGC of 10 (the model's arrays hold no pointers, so each
// collection is quick), unless $GOGC says otherwise. The caller closes
// the analysis (Close) when done.
func analyzeRetention(h heap.Heap, scratch string, e *env, groups bool) (*retain.Analysis, error) {
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(10))
	}
	stop := func() {}
	a, err := retain.FromHeap(h, retain.HeapOptions{SkipGroups: !groups, ScratchDir: scratch, Stage: func(what string) {
		stop()
		stop = func() {}
		e.memTrace.mark(what)
		switch what {
		case "naming roots", "computing dominators":
			debug.FreeOSMemory() // what building the model and the graph dropped: the dominators' arrays are mapped outside the Go heap
		case "grouping objects":
			runtime.GC() // the third pass over the model's references left garbage
		case "ranking groups":
			debug.FreeOSMemory() // and so did the grouping's label names
		}
		if what != "" {
			stop = startProgress(e, what)
		}
	}})
	stop()
	if err != nil {
		return nil, err
	}
	warnAll(e, a.Warnings())
	return a, nil
}

// rootJSON is a GC root (JSON: docs/json.md).
type rootJSON struct {
	Kind      string   `json:"kind"`
	Name      string   `json:"name"`
	Fields    []string `json:"fields"`
	Func      string   `json:"func"`
	Var       string   `json:"var"`
	Goroutine int64    `json:"goroutine"`
	// Thread, ThreadName, File and Line say where a stack root of a
	// language with threads (Python) is; Unexplained counts the
	// references an "outside" root stands for.
	Thread      string `json:"thread,omitempty"`
	ThreadName  string `json:"thread_name,omitempty"`
	File        string `json:"file,omitempty"`
	Line        int    `json:"line,omitempty"`
	Unexplained int64  `json:"unexplained,omitempty"`
	Addr        string `json:"addr,omitempty"`
}

// newRootJSON describes a root: for a global, its variable and the fields
// within it; for a stack root, the variable (or what the slot is).
func newRootJSON(r heap.Root, exact bool) rootJSON {
	j := rootJSON{Kind: r.Kind.String(), Name: rootName(r), Fields: r.Path.Words(), Func: r.Func, Var: r.Var, Goroutine: r.Thread}
	if r.Kind == heap.RootGlobal {
		j.Var = ""
	}
	if r.Kind == heap.RootStack && r.ThreadLabel != "goroutine" {
		j.Goroutine, j.Thread, j.ThreadName = 0, hexAddr(uint64(r.Thread)), r.ThreadName
	}
	j.File, j.Line, j.Unexplained = r.File, r.Line, r.Unexplained
	if exact {
		j.Addr = hexAddr(uint64(r.Addr))
	}
	return j
}

// groupJSON is one retention group (JSON: docs/json.md).
type groupJSON struct {
	Type     string   `json:"type"`
	Count    int      `json:"count"`
	Bytes    uint64   `json:"bytes"`
	Retained uint64   `json:"retained"`
	Root     rootJSON `json:"root"`
	Path     []string `json:"path"`
	PathText string   `json:"path_text"`
	Example  string   `json:"example"`
	// Threads is how many goroutines' (threads') stack roots the group
	// merges (--by-function); absent for other roots.
	Threads int `json:"threads,omitempty"`
	// labels are the collapsed labels of the edges below the root, for
	// the tree, the profile and the graph.
	labels []heap.Path
	root   heap.Root
	raw    bool
}

// retainReport is `heapsift retain` (JSON: docs/json.md).
type retainReport struct {
	Language         string      `json:"language"`
	Version          string      `json:"version"`
	ReachableObjects int         `json:"reachable_objects"`
	ReachableBytes   uint64      `json:"reachable_bytes"`
	TotalGroups      int         `json:"total_groups"`
	Matched          int         `json:"matched_groups"`
	Groups           []groupJSON `json:"groups"`
}

// retainFilter selects the groups shown.
type retainFilter struct {
	top         int
	minRetained uint64
	typ         string
	// rawPaths shows the runtime's steps (a map's directory, tables and
	// groups) instead of folding them into the Go step they implement.
	rawPaths bool
	// perThread keeps the groups of goroutines running the same function
	// apart (--by-function=false); by default they are one group.
	perThread bool
}

// groups returns the analysis's groups, merged over goroutines running
// the same function unless f.perThread.
func (f retainFilter) groups(a *retain.Analysis) []retain.ThreadGroup {
	if !f.perThread {
		return a.GroupsByThread()
	}
	out := make([]retain.ThreadGroup, len(a.Groups()))
	for i, g := range a.Groups() {
		out[i] = retain.ThreadGroup{Group: g}
		if a.GroupRoot(g).Kind == heap.RootStack {
			out[i].Threads = 1
		}
	}
	return out
}

func (f retainFilter) match(a *retain.Analysis, gr retain.Group) bool {
	return gr.Retained >= f.minRetained && (f.typ == "" || a.TypeName(gr.Type) == f.typ)
}

// newRetainReport lists the groups that pass f, at most f.top of them
// (all when f.top is 0).
func newRetainReport(a *retain.Analysis, m *heapModel, f retainFilter) *retainReport {
	r := &retainReport{
		Language: m.lang, Version: m.version(),
		ReachableObjects: a.NumReachable(), ReachableBytes: a.ReachableBytes(),
		Groups: []groupJSON{},
	}
	groups := f.groups(a)
	r.TotalGroups = len(groups)
	for _, gr := range groups {
		if !f.match(a, gr.Group) {
			continue
		}
		r.Matched++
		if f.top == 0 || len(r.Groups) < f.top {
			g := newGroupJSON(a, gr.Group, f.rawPaths)
			g.setThreads(gr.Threads)
			r.Groups = append(r.Groups, g)
		}
	}
	return r
}

func newGroupJSON(a *retain.Analysis, gr retain.Group, raw bool) groupJSON {
	root := a.GroupRoot(gr)
	g := groupJSON{
		Type: a.TypeName(gr.Type), Count: gr.Count, Bytes: gr.Bytes, Retained: gr.Retained,
		Root: newRootJSON(root, false), Path: a.GroupPath(gr),
		Example: hexAddr(a.Heap().Addr(int(gr.Example))),
		labels:  a.GroupLabels(gr), root: root, raw: raw,
	}
	if raw {
		g.Path = append([]string{root.Label()}, root.Path.RawWords()...)
		for _, l := range g.labels {
			g.Path = append(g.Path, l.RawWords()...)
		}
	}
	g.PathText = heap.WordsText(g.Path)
	return g
}

// setThreads records that the group merges n goroutines' (threads')
// roots: its root reads "88 goroutines main.serve buf".
func (g *groupJSON) setThreads(n int) {
	g.Threads = n
	if n > 1 && len(g.Path) > 0 {
		g.Path[0] = g.root.MergedLabel(n)
		g.PathText = heap.WordsText(g.Path)
	}
}

// treePath is the path of a group as the lines of the tree: the root,
// then one line per field within the root variable and per edge. An edge
// wholly inside the runtime's implementation of a value (a map's
// directory) shows its raw steps in parentheses.
func (g *groupJSON) treePath() []string {
	path := []string{rootLine(g.root)}
	if g.Threads > 1 {
		path[0] = g.root.MergedLabel(g.Threads) + " (" + g.root.Kind.String() + ")"
	}
	for _, s := range g.root.Path {
		path = append(path, heap.Path{s}.String())
	}
	for _, l := range g.labels {
		text := l.String()
		switch {
		case g.raw:
			text = l.RawString()
		case text == "" && len(l) > 0:
			text = "(" + l.RawString() + ")"
		}
		path = append(path, text)
	}
	return path
}

// rootName is a root's name in JSON: the variable of a global or of a
// stack slot DWARF names, the description of the rest.
func rootName(r heap.Root) string {
	if (r.Kind == heap.RootGlobal || r.Kind == heap.RootStack) && r.Var != "" {
		return r.Var
	}
	return r.Name
}

// rootLine names a root with its kind.
func rootLine(r heap.Root) string {
	return r.Label() + " (" + r.Kind.String() + ")"
}

// treeNode is one path prefix of the groups shown.
type treeNode struct {
	label    string
	groups   []*groupJSON
	children []*treeNode
	index    map[string]*treeNode
}

func (n *treeNode) child(label string) *treeNode {
	if c, ok := n.index[label]; ok {
		return c
	}
	c := &treeNode{label: label, index: map[string]*treeNode{}}
	n.index[label] = c
	n.children = append(n.children, c)
	return c
}

// groupTree arranges groups by path, children in the order of their
// largest group.
func groupTree(groups []groupJSON) *treeNode {
	top := &treeNode{index: map[string]*treeNode{}}
	for i := range groups {
		n := top
		for _, l := range groups[i].treePath() {
			n = n.child(l)
		}
		n.groups = append(n.groups, &groups[i])
	}
	return top
}

func (r *retainReport) writeText(w io.Writer) {
	if len(r.Groups) == 0 {
		fmt.Fprintf(w, "no group matches (%d groups of %s reachable objects, %s)\n", r.TotalGroups, count(uint64(r.ReachableObjects)), size(r.ReachableBytes))
		return
	}
	t := newTable(">RETAINED", ">BYTES", ">OBJECTS", "HELD BY → TYPE")
	var walk func(n *treeNode, depth int)
	walk = func(n *treeNode, depth int) {
		pad := strings.Repeat("  ", depth)
		if len(n.groups) == 0 {
			t.add("", "", "", pad+n.label)
		}
		for _, g := range n.groups {
			t.add(size(g.Retained), size(g.Bytes), count(uint64(g.Count)), pad+n.label+" → "+g.Type+"  e.g. "+g.Example)
		}
		for _, c := range n.children {
			walk(c, depth+1)
		}
	}
	for _, c := range groupTree(r.Groups).children {
		walk(c, 0)
	}
	t.write(w)
	fmt.Fprintf(w, "\n%s of %s groups shown", count(uint64(len(r.Groups))), count(uint64(r.Matched)))
	if r.Matched != r.TotalGroups {
		fmt.Fprintf(w, " (%s in all)", count(uint64(r.TotalGroups)))
	}
	fmt.Fprintf(w, "; %s reachable objects, %s. RETAINED: what freeing every object of the group would free.\n",
		count(uint64(r.ReachableObjects)), size(r.ReachableBytes))
}

// retainFlags are the flags of `heapsift retain`.
type retainFlags struct {
	filter      retainFilter
	minRetained string
	byFunction  bool
	format      string
	output      string
}

func retainCommand() *command {
	rf := &retainFlags{}
	return &command{
		name: "retain", args: "CORE", minArgs: 1, maxArgs: 1,
		summary: "Go, Python and C/C++ (glibc malloc) cores: who keeps the heap alive — objects grouped by root, path and type, by retained\n" +
			"size. A group is the reachable objects of one type held through the same root (a package- or\n" +
			"module-level variable, a goroutine's or thread's local variable, ...) and the same path from it,\n" +
			"indices collapsed (results[] is every element; __main__.Profiler.results[] on a Python core).\n" +
			"Groups are ranked by the bytes that freeing them would free (retained size, from the dominator\n" +
			"tree) and shown as a tree root → path → type. --format pprof writes a profile\n" +
			"for `go tool pprof -http` (samples are objects, stacks are reference paths); --format dot a\n" +
			"Graphviz graph of the paths.",
		example: "heapsift retain core\n" +
			"heapsift retain --type main.Timing core\n" +
			"heapsift retain --json core | jq '.groups[0] | {type, count, path}'\n" +
			"heapsift retain --format pprof -o retain.pb.gz core && go tool pprof -http :8080 retain.pb.gz\n" +
			"heapsift retain --format dot --top 10 core | dot -Tsvg > retain.svg\n" +
			"heapsift retain --json python.core | jq '.groups[0]'   # __main__.Profiler → results",
		flags: func(fs *pflag.FlagSet, o *options) {
			fs.IntVar(&rf.filter.top, "top", 20, "show the N groups that retain most (0: all)")
			fs.StringVar(&rf.minRetained, "min-retained", "0", "leave out groups retaining less than this (e.g. 1MiB)")
			fs.StringVar(&rf.filter.typ, "type", "", "only groups of this type (as the histogram names it)")
			fs.BoolVar(&rf.byFunction, "by-function", true, "one group for the goroutines (threads) running the same function that hold the same way (\"88 goroutines main.serve buf\"); false: one per goroutine")
			fs.BoolVar(&rf.filter.rawPaths, "raw-paths", false, "show the runtime's steps in paths (a map's .dirPtr, tables and groups) instead of Go's (main.sessions[…])")
			fs.StringVar(&rf.format, "format", "text", "text, json, pprof (with -o) or dot")
			fs.StringVarP(&rf.output, "output", "o", "", "write to this file instead of stdout (needed for pprof)")
			addCoreFlags(fs, o)
			addScratchFlag(fs, o)
		},
		exec: func(o *options, args []string, e *env) error { return runRetain(o, rf, args[0], e) },
	}
}

// check validates the flags and resolves --json into --format.
func (rf *retainFlags) check(o *options) error {
	v, err := humanize.ParseBytes(rf.minRetained)
	if err != nil {
		return usagef("--min-retained: %q is not a size (e.g. 1MiB, 512KB, 1000000)", rf.minRetained)
	}
	rf.filter.minRetained = v
	rf.filter.perThread = !rf.byFunction
	if o.json {
		if rf.format != "text" && rf.format != "json" {
			return usagef("--json and --format %s do not go together", rf.format)
		}
		rf.format = "json"
	}
	switch rf.format {
	case "text", "json", "dot":
	case "pprof":
		if rf.output == "" {
			return usagef("--format pprof writes a binary profile: give a file with -o")
		}
	default:
		return usagef("--format takes text, json, pprof or dot, not %q", rf.format)
	}
	return nil
}

func runRetain(o *options, rf *retainFlags, path string, e *env) error {
	if err := rf.check(o); err != nil {
		return err
	}
	e.noteInputs(path, o.exe)
	if err := checkOutput(rf.output, e); err != nil {
		return err
	}
	m, err := o.openHeap(path, e)
	if err != nil {
		return err
	}
	defer m.Close()
	a, err := analyzeRetention(m.h, o.scratch, e, true)
	if err != nil {
		return err
	}
	defer a.Close()
	if rf.filter.typ != "" && !hasGroupOfType(a, rf.filter.typ) {
		return fmt.Errorf("no reachable object has type %q (see heapsift histogram for the type names)", rf.filter.typ)
	}
	if err := checkOutput(rf.output, e); err != nil {
		return err // -o names a library the core maps
	}
	err = withOutput(rf.output, rf.format == "pprof", e, func(w io.Writer) error {
		switch rf.format {
		case "pprof":
			return writeRetainProfile(w, a, rf.filter)
		case "dot":
			return writeRetainDot(w, newRetainReport(a, m, rf.filter))
		}
		r := newRetainReport(a, m, rf.filter)
		if rf.format == "json" {
			flushWarnings(e)
			b, err := withWarnings(e, r)
			if err != nil {
				return err
			}
			return writeJSON(w, b)
		}
		r.writeText(w)
		return nil
	})
	if err != nil {
		return err
	}
	return m.damage(path)
}

func hasGroupOfType(a *retain.Analysis, typ string) bool {
	for _, gr := range a.Groups() {
		if a.TypeName(gr.Type) == typ {
			return true
		}
	}
	return false
}

// withOutput runs write on stdout, or on the file path if one is given.
// Binary output goes to stdout unfiltered.
func withOutput(path string, binary bool, e *env, write func(io.Writer) error) error {
	if path == "" || path == "-" {
		if binary {
			return write(e.rawStdout)
		}
		return write(e.stdout)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
