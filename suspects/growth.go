package suspects

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/dustin/go-humanize"
)

// CandidateThreshold is the share of the heap down to which Compare's
// callers look for candidates in each heap: a suspect of the newer heap
// may have been small in the older one.
const CandidateThreshold = 0.001

// Growth is a suspect of the newer heap with what it was in the older.
type Growth struct {
	Suspect
	// Found says whether the older heap had the same suspect (same key).
	Found bool
	// OldRetained and OldCount are its retained bytes and member count in
	// the older heap (0 if not found).
	OldRetained uint64
	OldCount    int
	// Grew is Retained - OldRetained, More the members added.
	Grew int64
	More int
	// Growth is the sentence saying so.
	Growth string
}

// Compare matches the candidates of a newer heap with those of an older
// one by key and returns those that grew by more than threshold (0:
// DefaultThreshold) of the heap's growth, most growth first. older and
// newer are Find's results with a low threshold (CandidateThreshold);
// since is how the older heap is called in the sentences ("OLD").
func Compare(older, newer []Suspect, oldTotal, newTotal uint64, threshold float64, since string) []Growth {
	if threshold <= 0 {
		threshold = DefaultThreshold
	}
	byKey := map[string]Suspect{}
	for _, s := range older {
		if _, dup := byKey[s.Key]; !dup {
			byKey[s.Key] = s
		}
	}
	heapGrowth := int64(newTotal) - int64(oldTotal)
	limit := int64(threshold * float64(max(heapGrowth, -heapGrowth)))
	var out []Growth
	for _, s := range newer {
		g := Growth{Suspect: s}
		if old, ok := byKey[s.Key]; ok {
			g.Found, g.OldRetained, g.OldCount = true, old.Retained, old.Members.Count
		}
		g.Grew = int64(s.Retained) - int64(g.OldRetained)
		g.More = s.Members.Count - g.OldCount
		if g.Grew <= 0 || g.Grew <= limit {
			continue
		}
		g.Growth = growthSentence(g, since)
		out = append(out, g)
	}
	slices.SortStableFunc(out, func(x, y Growth) int { return cmp.Compare(y.Grew, x.Grew) })
	return out
}

// growthSentence: "`main.p.results` grew by 7.5 MiB, 100,000 more
// `main.Timing`, since OLD (now 15 MiB, 93% of the live heap)."
func growthSentence(g Growth, since string) string {
	what := fmt.Sprintf("`%s`", g.Expr)
	if g.Kind == KindGroup {
		what = fmt.Sprintf("`%s` held through `%s`", g.Members.Type, g.Expr)
	}
	s := fmt.Sprintf("%s grew by %s", what, humanize.IBytes(uint64(g.Grew)))
	if g.More > 0 && g.Members.Type != "" {
		s += fmt.Sprintf(", %s more `%s`", humanize.Comma(int64(g.More)), g.Members.Type)
	}
	if !g.Found {
		s += fmt.Sprintf(" (not a holder in %s)", since)
	}
	return s + fmt.Sprintf(", since %s: it retains %s now, %s of the live heap.", since, humanize.IBytes(g.Retained), sharePercent(g.Share))
}
