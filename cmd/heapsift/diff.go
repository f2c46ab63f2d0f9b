package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/dustin/go-humanize"
	"github.com/heapsift/heapsift/compare"
	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/heap"
	"github.com/heapsift/heapsift/native"
	"github.com/heapsift/heapsift/symbolize"
	warnpkg "github.com/heapsift/heapsift/warn"
	"github.com/spf13/pflag"
)

// `heapsift diff OLD NEW`: what grew between two dumps. Two Go cores are
// compared type by type (gocore's histogram of live objects); any other
// pair word by word, by what each word means. The comparing and the growth
// limits (--fail-on-growth, a CI check) are package compare's; this file
// opens the dumps, builds compare's inputs and renders its results.

// diffFlags are the flags only diff takes (options holds the shared ones).
type diffFlags struct {
	words       bool
	pointers    bool
	symbolsOnly bool
	oldExe      string
	newExe      string
	failOn      []string
	groups      bool
}

// dumpSummary identifies one of the two dumps (JSON: see docs/json.md).
type dumpSummary struct {
	File       string `json:"file"`
	PID        int    `json:"pid,omitempty"`
	Command    string `json:"command,omitempty"`
	Executable string `json:"executable,omitempty"`
	BuildID    string `json:"build_id,omitempty"`
	GoVersion  string `json:"go_version,omitempty"`
	// Language and Version are the heap model's, when types are compared.
	Language string `json:"language,omitempty"`
	Version  string `json:"version,omitempty"`
}

// countDelta and bytesDelta compare one quantity in OLD and NEW.
type countDelta struct {
	OldCount   uint64 `json:"old_count"`
	NewCount   uint64 `json:"new_count"`
	DeltaCount int64  `json:"delta_count"`
}

type bytesDelta struct {
	OldBytes   uint64 `json:"old_bytes"`
	NewBytes   uint64 `json:"new_bytes"`
	DeltaBytes int64  `json:"delta_bytes"`
}

// change says how a row changed: its ratio NEW/OLD (absent when OLD is 0),
// and whether it is new in NEW or gone from it. It is compare.Change with
// JSON tags, so converts from it.
type change struct {
	Ratio *float64 `json:"ratio,omitempty"`
	New   bool     `json:"new,omitempty"`
	Gone  bool     `json:"gone,omitempty"`
}

// typeDelta is one row of a Go comparison.
type typeDelta struct {
	Type string `json:"type"`
	countDelta
	bytesDelta
	change
}

// wordDelta is one row of a word comparison.
type wordDelta struct {
	Symbol string `json:"symbol,omitempty"`
	Module string `json:"module,omitempty"`
	countDelta
	change
	Kind      string   `json:"kind"`
	Name      string   `json:"name"`
	Mangled   string   `json:"mangled,omitempty"`
	Offset    *uint64  `json:"offset,omitempty"`
	Section   string   `json:"section,omitempty"`
	Value     string   `json:"value,omitempty"`
	OldValues []string `json:"old_values"`
	NewValues []string `json:"new_values"`
}

// checkResult is the outcome of one --fail-on-growth limit (JSON: see
// docs/json.md). It is compare.CheckResult with JSON tags, so converts
// from it.
type checkResult struct {
	Limit    string   `json:"limit"`
	Scope    string   `json:"scope"`
	Name     string   `json:"name,omitempty"`
	Unit     string   `json:"unit"`
	Max      float64  `json:"max"`
	What     string   `json:"what,omitempty"`
	Growth   *float64 `json:"growth"` // null: grew from 0, in percent
	Exceeded bool     `json:"exceeded"`
	Detail   string   `json:"detail"`
}

// diffReport is the result of `heapsift diff` (JSON: see docs/json.md).
// Types is set for two cores of one language heapsift models, Words
// otherwise.
type diffReport struct {
	Old     dumpSummary `json:"old"`
	New     dumpSummary `json:"new"`
	Compare string      `json:"compare"` // "types" or "words"
	Total   struct {
		countDelta
		bytesDelta
	} `json:"total"`
	Rows       int           `json:"rows"` // rows compared, before --top
	Types      *[]typeDelta  `json:"types,omitempty"`
	Words      *[]wordDelta  `json:"words,omitempty"`
	Groups     *[]groupDelta `json:"groups,omitempty"`
	LeftOutOld *uint64       `json:"left_out_old,omitempty"`
	LeftOutNew *uint64       `json:"left_out_new,omitempty"`
	leftOutWhy string        // what was left out, for the text
	Checks     []checkResult `json:"checks"`
	// Reliable is false when rows cannot be matched by name across the
	// dumps (ReliableReason says why); --fail-on-growth then exits 1.
	Reliable       bool   `json:"reliable"`
	ReliableReason string `json:"reliable_reason,omitempty"`
}

func diffCommand() *command {
	d := &diffFlags{}
	return &command{
		name: "diff", args: "OLD NEW", minArgs: 2, maxArgs: 2,
		summary: "Show what grew between two dumps of the same service, such as two cores taken some time or load apart.\n" +
			"Two cores of one language (Go, CPython, or C/C++ with glibc malloc) are compared type by type\n" +
			"(objects and bytes, largest byte growth first). Other pairs, or --words, are compared word by word,\n" +
			"by what each word means: a symbol (module + symbol + offset) or\n" +
			"a pointer into a module matches across runs whatever the load addresses; other words by value.\n" +
			"--fail-on-growth [SCOPE=]LIMIT (repeatable) exits with status 3 when growth exceeds LIMIT:\n" +
			"  LIMIT  10MiB, 512KB (bytes); 5% (of OLD's value); 1000 (objects, or word occurrences)\n" +
			"  SCOPE  total (the default: the whole heap, or all memory the core holds), each (any one type\n" +
			"         or word), type:NAME (one type or class), word:NAME (one word, by the name shown)",
		example: "heapsift diff core.before core.after\n" +
			"heapsift diff --top 0 --json old.core new.core | jq '.types[] | select(.delta_count > 0)'\n" +
			"heapsift diff --groups py-1.core py-2.core   # Python types and the holders that grew\n" +
			"heapsift diff --words --symbols-only py-1.core py-2.core\n" +
			"# CI memory check: fail (exit 3) if the heap grew by over 10 MiB or main.Order by over 1000 objects\n" +
			"heapsift diff --fail-on-growth 10MiB --fail-on-growth type:main.Order=1000 warm.core load.core",
		flags: func(fs *pflag.FlagSet, o *options) {
			fs.IntVar(&o.top, "top", 20, "show the N rows that grew most in each section: types, groups, named and other words (0: all)")
			fs.StringArrayVar(&d.failOn, "fail-on-growth", nil, "exit with status 3 when growth exceeds [SCOPE=]LIMIT (repeatable; see above)")
			fs.BoolVar(&d.words, "words", false, "compare words even when both dumps are of one language heapsift models")
			fs.BoolVar(&d.symbolsOnly, "symbols-only", false, "words: compare only words that are symbols")
			fs.BoolVar(&d.pointers, "pointers", false, "words: compare pointers into the heap, stacks and anonymous memory by value\n(meaningful only for two dumps of one process; left out by default)")
			fs.BoolVar(&o.skipZero, "skip-zero", false, "words: leave the word 0 out")
			fs.StringVar(&d.oldExe, "old-exe", "", "the executable OLD came from, when it differs from NEW's (--exe)")
			fs.StringVar(&d.newExe, "new-exe", "", "the executable NEW came from, when it differs from OLD's (--exe)")
			fs.BoolVar(&d.groups, "groups", false, "types: also compare the retention groups (heapsift retain) and list those that grew")
			addCoreFlags(fs, o)
			addScratchFlag(fs, o)
		},
		exec: func(o *options, args []string, e *env) error { return runDiff(o, d, args[0], args[1], e) },
	}
}

func runDiff(o *options, d *diffFlags, oldPath, newPath string, e *env) error {
	limits, err := compare.ParseLimits(d.failOn)
	if err != nil {
		return usagef("--fail-on-growth %v", err)
	}
	oldOpts := *o
	if d.oldExe != "" {
		oldOpts.exe = d.oldExe
	}
	newOpts := *o
	if d.newExe != "" {
		newOpts.exe = d.newExe
	}
	oldP, err := oldOpts.openDump(oldPath, e)
	if err != nil {
		return fmt.Errorf("OLD: %w", err)
	}
	defer oldP.Close()
	newP, err := newOpts.openDump(newPath, e)
	if err != nil {
		return fmt.Errorf("NEW: %w", err)
	}
	defer newP.Close()

	r := &diffReport{Old: summarize(oldP), New: summarize(newP), Checks: []checkResult{}}
	note := func(ws ...string) {
		warnStrings(e, "compare", ws)
	}
	noteAll := func(ws []warnpkg.Warning) { warnAll(e, ws) }
	noteAll(compare.SameExecutable(executableOf(oldP), executableOf(newP)))
	var oldM, newM *heapModel
	if !d.words {
		if oldM, err = diffModel(oldP, "OLD", e); err != nil {
			return err
		}
		if newM, err = diffModel(newP, "NEW", e); err != nil {
			return err
		}
	}
	kind, ws := chooseKind(oldM, newM, d.words)
	noteAll(ws)
	var growth compare.Growth
	if kind == compare.ByType {
		growth, err = diffTypes(r, oldM, newM, o.top, d.groups, o.scratch, e)
	} else {
		growth, err = diffWords(r, oldP, newP, o, d, note)
	}
	if err != nil {
		return err
	}
	r.setReliable(kind, oldP, newP)
	checks, err := compare.Check(limits, growth)
	if err != nil {
		return usagef("--fail-on-growth %v", err)
	}
	var failed []string
	for _, c := range checks {
		r.Checks = append(r.Checks, checkResult(c))
		if c.Exceeded {
			failed = append(failed, c.Limit+": "+c.Detail)
		}
	}
	if o.json {
		err = emitJSON(e, r)
	} else {
		r.writeText(e.stdout)
	}
	if err != nil {
		return err
	}
	return r.growthVerdict(len(limits), failed)
}

func summarize(p *dump.Process) dumpSummary {
	s := dumpSummary{File: p.Path}
	if p.Info != nil {
		s.PID, s.Command = p.Info.PID, p.Info.Command
	}
	if exe := p.Executable(); exe != nil {
		s.Executable, s.BuildID = exe.Path, exe.BuildID
	}
	return s
}

// executableOf is p's executable for compare.SameExecutable; nil when the
// core names none.
func executableOf(p *dump.Process) *compare.Executable {
	exe := p.Executable()
	if exe == nil {
		return nil
	}
	return &compare.Executable{Path: exe.Path, BuildID: exe.BuildID}
}

// diffModel builds one side's heap model; nil when the dump's program
// is in no language heapsift models (words are compared then).
func diffModel(p *dump.Process, which string, e *env) (*heapModel, error) {
	m, err := buildHeapModel(p, e)
	switch {
	case errors.Is(err, errNoModel):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("%s: %w (--words compares words instead)", which, err)
	}
	return m, nil
}

// chooseKind compares types when both dumps have heap models of one
// language, words otherwise.
func chooseKind(oldM, newM *heapModel, words bool) (compare.Kind, []warnpkg.Warning) {
	switch {
	case oldM != nil && newM != nil && oldM.lang != newM.lang:
		return compare.ByWord, []warnpkg.Warning{warnpkg.New("compare", "OLD is a %s program and NEW a %s one; comparing words", langName(oldM.lang), langName(newM.lang))}
	case oldM != nil:
		return compare.ChooseKind(true, newM != nil, words, langName(oldM.lang))
	case newM != nil:
		return compare.ChooseKind(false, true, words, langName(newM.lang))
	}
	return compare.ChooseKind(false, false, words, "")
}

// langName spells a model's language for messages.
func langName(lang string) string {
	switch lang {
	case "python":
		return "Python"
	case "native":
		return "native (glibc malloc)"
	}
	return "Go"
}

// typeTallies is a heap's type histogram as compare's input.
func typeTallies(h heap.Heap) []compare.Tally {
	if n, ok := h.(*native.Heap); ok {
		return nativeTallies(n)
	}
	var out []compare.Tally
	for _, st := range heap.Histogram(h) {
		out = append(out, compare.Tally{Name: st.Name, Count: st.Count, Bytes: st.Bytes})
	}
	return out
}

// diffTypes compares two heaps of one language type by type and fills r.
func diffTypes(r *diffReport, oldM, newM *heapModel, top int, groups bool, scratch string, e *env) (compare.Growth, error) {
	td := compare.DiffTypes(typeTallies(oldM.h), typeTallies(newM.h))
	r.Compare = string(compare.ByType)
	for _, side := range []struct {
		s *dumpSummary
		m *heapModel
	}{{&r.Old, oldM}, {&r.New, newM}} {
		side.s.Language, side.s.Version = side.m.lang, side.m.version()
		if side.m.lang == "go" {
			side.s.GoVersion = side.m.version()
		}
	}
	r.Total.countDelta, r.Total.bytesDelta = deltas(td.Total)
	rows := []typeDelta{}
	for _, t := range td.Rows {
		if top != 0 && len(rows) >= top {
			break
		}
		c, b := deltas(t)
		rows = append(rows, typeDelta{Type: t.Name, countDelta: c, bytesDelta: b, change: change(t.Change())})
	}
	r.Rows, r.Types = len(td.Rows), &rows
	if groups {
		grown, err := diffGroups(oldM.h, newM.h, top, scratch, e)
		if err != nil {
			return compare.Growth{}, err
		}
		r.Groups = &grown
	}
	return td.Growth(), nil
}

// diffWords compares two dumps word by word, by meaning, and fills r.
func diffWords(r *diffReport, oldP, newP *dump.Process, o *options, d *diffFlags, note func(...string)) (compare.Growth, error) {
	keyOpts := compare.KeyOptions{Pointers: d.pointers, SymbolsOnly: d.symbolsOnly}
	oldSide, err := wordSide(oldP, "OLD", keyOpts, note)
	if err != nil {
		return compare.Growth{}, err
	}
	newSide, err := wordSide(newP, "NEW", keyOpts, note)
	if err != nil {
		return compare.Growth{}, err
	}
	wd, err := compare.DiffWords(oldSide, newSide, compare.WordDiffOptions{SkipZero: o.skipZero})
	if err != nil {
		return compare.Growth{}, err
	}
	r.Compare = string(compare.ByWord)
	r.Total.countDelta, r.Total.bytesDelta = deltas(wd.Total())
	if !d.pointers || d.symbolsOnly {
		r.LeftOutOld, r.LeftOutNew = &wd.OldLeftOut, &wd.NewLeftOut
		r.leftOutWhy = "pointers outside modules (--pointers compares them by value)"
		if d.symbolsOnly {
			r.leftOutWhy = "not symbols (--symbols-only)"
		}
	}
	// --top applies to each section: the named words and the others.
	rows := []wordDelta{}
	var named, other int
	for _, w := range wd.Rows {
		row := newWordDelta(w)
		n := &other
		if row.Symbol != "" {
			n = &named
		}
		if o.top == 0 || *n < o.top {
			*n++
			rows = append(rows, row)
		}
	}
	r.Rows, r.Words = len(wd.Rows), &rows
	return wd.Growth(), nil
}

// wordSide prepares one dump for compare.DiffWords.
func wordSide(p *dump.Process, which string, opts compare.KeyOptions, note func(...string)) (compare.WordSide, error) {
	sym, warnings, err := symbolize.New(p, symbolize.Options{})
	if err != nil {
		return compare.WordSide{}, fmt.Errorf("%s: loading symbols: %w", which, err)
	}
	for _, w := range warnings {
		note(which + ": " + w.Message)
	}
	regions, _ := wordRegions(p, false)
	return compare.WordSide{Regions: regions, Keyer: compare.NewSymbolKeyer(p, sym, opts)}, nil
}

func newWordDelta(w compare.WordDelta) wordDelta {
	row := wordDelta{
		Module:     w.Key.Module,
		countDelta: countDelta{OldCount: w.OldCount, NewCount: w.NewCount, DeltaCount: w.Delta()},
		change:     change(w.Change()),
		Name:       w.Label(),
		Section:    w.Name.Section, OldValues: hexWords(w.OldValues), NewValues: hexWords(w.NewValues),
	}
	off := w.Key.Offset
	switch w.Key.Kind {
	case compare.KeySymbol:
		row.Kind, row.Symbol, row.Mangled, row.Offset = "symbol", w.Name.Symbol, w.Name.Mangled, &off
	case compare.KeyModule:
		row.Kind, row.Offset = "module", &off
	default:
		row.Kind, row.Value = string(w.Name.Kind), hexWord(w.Key.Value)
	}
	return row
}

func hexWords(vs []uint64) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = hexWord(v)
	}
	return out
}

func deltas(t compare.TallyDelta) (countDelta, bytesDelta) {
	return countDelta{OldCount: t.OldCount, NewCount: t.NewCount, DeltaCount: t.DeltaCount()},
		bytesDelta{OldBytes: t.OldBytes, NewBytes: t.NewBytes, DeltaBytes: t.DeltaBytes()}
}

func (r *diffReport) writeText(w io.Writer) {
	for _, s := range []struct {
		label string
		d     dumpSummary
	}{{"OLD", r.Old}, {"NEW", r.New}} {
		fmt.Fprintf(w, "%s  %s", s.label, termSafe(s.d.File))
		if s.d.PID != 0 {
			fmt.Fprintf(w, "  pid %d", s.d.PID)
		}
		if s.d.Command != "" {
			fmt.Fprintf(w, "  %s", termSafe(s.d.Command))
		}
		if s.d.GoVersion != "" {
			fmt.Fprintf(w, "  %s", s.d.GoVersion)
		}
		fmt.Fprintln(w)
	}
	if !r.Reliable {
		fmt.Fprintf(w, "NOT RELIABLE  %s\n", termSafe(r.ReliableReason))
	}
	fmt.Fprintln(w)
	t := r.Total
	if r.Types != nil {
		r.writeTypes(w)
		fmt.Fprintf(w, "\nlive heap: %s objects → %s (%s), %s → %s (%s); %s types compared\n",
			count(t.OldCount), count(t.NewCount), signedCount(t.DeltaCount),
			size(t.OldBytes), size(t.NewBytes), signedSize(t.DeltaBytes), count(uint64(r.Rows)))
		if r.Groups != nil {
			r.writeGroups(w)
		}
	} else {
		r.writeWords(w)
		fmt.Fprintf(w, "\nmemory in the core: %s → %s (%s); %s distinct words compared by meaning (the top %s words of each dump); every count is exact\n",
			size(t.OldBytes), size(t.NewBytes), signedSize(t.DeltaBytes), count(uint64(r.Rows)), count(compare.DefaultDiffTop))
		if r.LeftOutOld != nil && *r.LeftOutOld+*r.LeftOutNew > 0 {
			fmt.Fprintf(w, "left out: %s and %s occurrences of top words that are %s\n", count(*r.LeftOutOld), count(*r.LeftOutNew), r.leftOutWhy)
		}
	}
	if len(r.Checks) > 0 {
		section(w, "Growth checks")
		for _, c := range r.Checks {
			state := "ok  "
			if c.Exceeded {
				state = "FAIL"
			}
			fmt.Fprintf(w, "%s  %s: %s\n", state, c.Limit, termSafe(c.Detail))
		}
	}
}

func (r *diffReport) writeTypes(w io.Writer) {
	t := newTable(">OLD COUNT", ">NEW COUNT", ">DELTA", ">OLD BYTES", ">NEW BYTES", ">DELTA", ">RATIO", "TYPE")
	for _, row := range *r.Types {
		t.add(count(row.OldCount), count(row.NewCount), signedCount(row.DeltaCount),
			size(row.OldBytes), size(row.NewBytes), signedSize(row.DeltaBytes), row.change.text(), row.Type)
	}
	t.write(w)
}

// writeWords prints the words that name something (symbols: types,
// vtables, functions) first, since that is where a leak shows, then the
// other values, each by growth.
func (r *diffReport) writeWords(w io.Writer) {
	var named, other []wordDelta
	for _, row := range *r.Words {
		if row.Symbol != "" {
			named = append(named, row)
		} else {
			other = append(other, row)
		}
	}
	for i, part := range [][]wordDelta{named, other} {
		if len(part) == 0 {
			continue
		}
		if i == 1 && len(named) > 0 {
			fmt.Fprintln(w, "\nOther words")
		}
		t := newTable(">OLD COUNT", ">NEW COUNT", ">DELTA", ">RATIO", "WHAT", "WHERE")
		for _, row := range part {
			where := row.Module
			if where != "" && row.Section != "" {
				where += " " + row.Section
			}
			t.add(count(row.OldCount), count(row.NewCount), signedCount(row.DeltaCount), row.change.text(), row.Name, where)
		}
		t.write(w)
	}
}

func signedCount(d int64) string {
	if d > 0 {
		return "+" + humanize.Comma(d)
	}
	return humanize.Comma(d)
}

func signedSize(d int64) string {
	switch {
	case d > 0:
		return "+" + size(uint64(d))
	case d < 0:
		return "-" + size(uint64(-d))
	}
	return "0 B"
}

func (c change) text() string {
	switch {
	case c.New:
		return "new"
	case c.Gone:
		return "gone"
	case c.Ratio == nil:
		return "-"
	}
	return fmt.Sprintf("%.2fx", *c.Ratio)
}
