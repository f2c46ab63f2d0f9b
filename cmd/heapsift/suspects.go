package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/heapsift/heapsift/heap"
	"github.com/heapsift/heapsift/retain"
	"github.com/heapsift/heapsift/suspects"
	"github.com/spf13/pflag"
)

// `heapsift suspects CORE`: the leak suspects of a heap (package suspects),
// and `heapsift suspects OLD NEW`: those that grew. This file renders them
// as text and JSON; the overview shows the top one and the report all.

// accumulationJSON is where a suspect's members accumulate (JSON:
// docs/json.md).
type accumulationJSON struct {
	Addr       string `json:"addr"`
	Type       string `json:"type"`
	Retained   uint64 `json:"retained"`
	References int    `json:"references"`
}

// membersJSON is what accumulates (JSON: docs/json.md).
type membersJSON struct {
	Type     string `json:"type"`
	Count    int    `json:"count"`
	Bytes    uint64 `json:"bytes"`
	Retained uint64 `json:"retained"`
}

// suspectJSON is one leak suspect (JSON: docs/json.md).
type suspectJSON struct {
	Kind         string            `json:"kind"`
	Object       string            `json:"object"`
	Retained     uint64            `json:"retained"`
	Share        float64           `json:"share"`
	Root         rootJSON          `json:"root"`
	Path         []string          `json:"path"`
	Expr         string            `json:"expr"`
	Accumulation *accumulationJSON `json:"accumulation"`
	Members      membersJSON       `json:"members"`
	Example      string            `json:"example"`
	Threads      int               `json:"threads,omitempty"`
	Explanation  string            `json:"explanation"`
	// Growth, for two cores (JSON: docs/json.md).
	*SuspectGrowth
	root heap.Root
}

// SuspectGrowth is how a suspect grew since the older core.
type SuspectGrowth struct {
	FoundInOld  bool   `json:"found_in_old"`
	OldRetained uint64 `json:"old_retained"`
	OldCount    int    `json:"old_count"`
	Grew        int64  `json:"grew"`
	MoreMembers int    `json:"more_members"`
	Growth      string `json:"growth"`
}

// suspectsReport is `heapsift suspects` (JSON: docs/json.md).
type suspectsReport struct {
	Language       string        `json:"language"`
	Version        string        `json:"version"`
	Threshold      float64       `json:"threshold"`
	ReachableBytes uint64        `json:"reachable_bytes"`
	OldFile        string        `json:"old_file,omitempty"`
	OldBytes       *uint64       `json:"old_reachable_bytes,omitempty"`
	Suspects       []suspectJSON `json:"suspects"`
}

// newSuspectJSON converts a suspect of the analysis a.
func newSuspectJSON(a *retain.Analysis, s suspects.Suspect) suspectJSON {
	h := a.Heap()
	j := suspectJSON{
		Kind: string(s.Kind), Object: hexAddr(h.Addr(s.Object)), Retained: s.Retained, Share: s.Share,
		Root: newRootJSON(s.Root, s.Kind == suspects.KindObject), Path: s.Path, Expr: s.Expr,
		Members:     membersJSON{Type: s.Members.Type, Count: s.Members.Count, Bytes: s.Members.Bytes, Retained: s.Members.Retained},
		Example:     hexAddr(h.Addr(s.Members.Example)),
		Explanation: s.Explanation, root: s.Root, Threads: s.Threads,
	}
	if j.Path == nil {
		j.Path = []string{}
	}
	if s.Accumulation >= 0 {
		j.Accumulation = &accumulationJSON{Addr: hexAddr(h.Addr(s.Accumulation)), Type: s.AccType, Retained: s.AccRetained, References: s.AccRefs}
	}
	return j
}

// findSuspects lists the suspects of an analysis of m's heap.
func findSuspects(a *retain.Analysis, m *heapModel, threshold float64, top int) *suspectsReport {
	r := &suspectsReport{Language: m.lang, Version: m.version(), Threshold: threshold, ReachableBytes: a.ReachableBytes(), Suspects: []suspectJSON{}}
	for _, s := range suspects.Find(a, suspects.Options{Threshold: threshold, Max: top}) {
		r.Suspects = append(r.Suspects, newSuspectJSON(a, s))
	}
	return r
}

// growthSuspects compares the suspects of two cores: OLD's candidates are
// found and its analysis dropped before NEW's is made.
func growthSuspects(o *options, sf *suspectsFlags, oldPath, newPath string, e *env) (*suspectsReport, error) {
	var older []suspects.Suspect
	var oldTotal uint64
	err := o.withHeap(oldPath, e, func(m *heapModel) error {
		a, err := analyzeRetention(m.h, o.scratch, e, true)
		if err != nil {
			return fmt.Errorf("OLD: analysing retention: %w", err)
		}
		defer a.Close()
		older, oldTotal = suspects.Find(a, suspects.Options{Threshold: suspects.CandidateThreshold}), a.ReachableBytes()
		return nil
	})
	if err != nil {
		return nil, err
	}
	var r *suspectsReport
	err = o.withHeap(newPath, e, func(m *heapModel) error {
		a, err := analyzeRetention(m.h, o.scratch, e, true)
		if err != nil {
			return fmt.Errorf("NEW: analysing retention: %w", err)
		}
		defer a.Close()
		newer := suspects.Find(a, suspects.Options{Threshold: suspects.CandidateThreshold})
		r = &suspectsReport{Language: m.lang, Version: m.version(), Threshold: sf.threshold, ReachableBytes: a.ReachableBytes(),
			OldFile: filepath.Base(oldPath), OldBytes: &oldTotal, Suspects: []suspectJSON{}}
		for _, g := range suspects.Compare(older, newer, oldTotal, a.ReachableBytes(), sf.threshold, "OLD") {
			if sf.top > 0 && len(r.Suspects) >= sf.top {
				break
			}
			j := newSuspectJSON(a, g.Suspect)
			j.SuspectGrowth = &SuspectGrowth{FoundInOld: g.Found, OldRetained: g.OldRetained, OldCount: g.OldCount, Grew: g.Grew, MoreMembers: g.More, Growth: g.Growth}
			r.Suspects = append(r.Suspects, j)
		}
		return nil
	})
	return r, err
}

func (r *suspectsReport) writeText(w io.Writer) {
	if r.OldBytes != nil {
		fmt.Fprintf(w, "Leak suspects by growth since OLD (%s): live heap %s → %s\n", termSafe(r.OldFile), size(*r.OldBytes), size(r.ReachableBytes))
	} else {
		fmt.Fprintf(w, "Leak suspects: holders of more than %s of the live heap (%s)\n", strconv.FormatFloat(100*r.Threshold, 'f', -1, 64)+"%", size(r.ReachableBytes))
	}
	if len(r.Suspects) == 0 {
		fmt.Fprintln(w, "\nnone: no object or group retains that much (a lower --threshold lists smaller holders)")
		return
	}
	for i, s := range r.Suspects {
		sentence := s.Explanation
		if s.SuspectGrowth != nil {
			sentence = s.Growth
		}
		fmt.Fprintf(w, "\n%d. %s\n", i+1, termSafe(sentence))
		t := newTable("", "")
		t.add("   root", rootLine(s.root))
		t.add("   path", s.Expr)
		if acc := s.Accumulation; acc != nil {
			t.add("   accumulation", fmt.Sprintf("%s %s, retains %s, %s references", acc.Addr, acc.Type, size(acc.Retained), count(uint64(acc.References))))
		}
		if s.Members.Count > 0 {
			t.add("   members", fmt.Sprintf("%s %s, %s, retaining %s, e.g. %s", count(uint64(s.Members.Count)), s.Members.Type, size(s.Members.Bytes), size(s.Members.Retained), s.Example))
		}
		writeRows(w, t)
	}
}

// writeRows writes a table's rows without its (empty) header line.
func writeRows(w io.Writer, t *table) {
	var sb strings.Builder
	t.write(&sb)
	lines := strings.SplitN(sb.String(), "\n", 2)
	if len(lines) == 2 {
		io.WriteString(w, lines[1])
	}
}

// suspectsFlags are the flags of `heapsift suspects`.
type suspectsFlags struct {
	thresholdStr string
	threshold    float64
	top          int
}

func addSuspectsFlags(fs *pflag.FlagSet, sf *suspectsFlags) {
	fs.StringVar(&sf.thresholdStr, "threshold", "10%", "a suspect retains more than this share of the live heap (with two cores: of its growth)")
	fs.IntVar(&sf.top, "top", 10, "show at most N suspects (0: all)")
}

// check parses --threshold: a percentage ("10%", "2.5").
func (sf *suspectsFlags) check() error {
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(sf.thresholdStr), "%"), 64)
	if err != nil || v <= 0 || v > 100 {
		return usagef("--threshold: %q is not a percentage between 0 and 100 (e.g. 10%%)", sf.thresholdStr)
	}
	sf.threshold = v / 100
	return nil
}

func suspectsCommand() *command {
	sf := &suspectsFlags{}
	return &command{
		name: "suspects", args: "CORE | OLD NEW", minArgs: 1, maxArgs: 2,
		summary: "Go and Python: leak suspects — the objects, or groups of objects held the same way, that retain\n" +
			"more than --threshold of the live heap, each walked down the dominator tree to its accumulation\n" +
			"point (the array, list or map where many small objects pile up) and said in one sentence with\n" +
			"the path from its root. With two cores of one program, the suspects ranked by how much they grew.",
		example: "heapsift suspects core\n" +
			"heapsift suspects --threshold 5% core\n" +
			"heapsift suspects --json core | jq -r '.suspects[0].explanation'\n" +
			"heapsift suspects warm.core load.core",
		flags: func(fs *pflag.FlagSet, o *options) {
			addSuspectsFlags(fs, sf)
			addCoreFlags(fs, o)
			addScratchFlag(fs, o)
		},
		exec: func(o *options, args []string, e *env) error { return runSuspects(o, sf, args, e) },
	}
}

func runSuspects(o *options, sf *suspectsFlags, args []string, e *env) error {
	if err := sf.check(); err != nil {
		return err
	}
	var r *suspectsReport
	var err error
	if len(args) == 2 {
		r, err = growthSuspects(o, sf, args[0], args[1], e)
		if err != nil {
			return err
		}
	} else {
		err = o.withHeap(args[0], e, func(m *heapModel) error {
			a, err := analyzeRetention(m.h, o.scratch, e, true)
			if err != nil {
				return err
			}
			defer a.Close()
			r = findSuspects(a, m, sf.threshold, sf.top)
			return nil
		})
		if err != nil && r == nil {
			return err
		}
	}
	if o.json {
		if jerr := emitJSON(e, r); jerr != nil {
			return jerr
		}
	} else {
		r.writeText(e.stdout)
	}
	return err
}
