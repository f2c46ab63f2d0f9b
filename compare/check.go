package compare

import (
	"fmt"
	"math"

	"github.com/dustin/go-humanize"
)

// apply measures growth in the limit's unit over the limit's scope: the
// worst row for each, the sum of the matching rows for type: and word:.
func (l Limit) apply(g Growth) (CheckResult, error) {
	c := CheckResult{Limit: l.Spec, Scope: l.Scope, Name: l.Name, Unit: l.Unit, Max: l.Value}
	switch {
	case l.Scope == "type" && g.kind != ByType:
		return c, fmt.Errorf("type: limits need two Go cores; this comparison is by words (use word:NAME)")
	case l.Scope == "word" && g.kind != ByWord:
		return c, fmt.Errorf("word: limits apply to word comparisons; these are Go cores (use type:NAME, or --words)")
	case l.Unit == "bytes" && g.kind == ByWord && l.Scope != "total":
		return c, fmt.Errorf("words have no size; give a count or a percentage")
	}
	picked := l.pick(g.measures)
	if len(picked) == 0 {
		c.Growth = new(float64)
		switch l.Scope {
		case "type":
			c.Detail = fmt.Sprintf("%s is in neither dump", l.Name)
		case "word":
			c.Detail = fmt.Sprintf("%s is not among the words compared", l.Name)
		default:
			c.Detail = "nothing to compare"
		}
		return c, nil
	}
	worst, growth := picked[0], l.growth(picked[0])
	for _, m := range picked[1:] {
		if gr := l.growth(m); gr > growth {
			worst, growth = m, gr
		}
	}
	c.What, c.Exceeded = worst.Name, growth > l.Value
	if !math.IsInf(growth, 1) {
		c.Growth = &growth
	}
	c.Detail = fmt.Sprintf("%s grew by %s (limit %s)", worst.Name, l.format(growth, g.kind, worst.scope), l.format(l.Value, g.kind, worst.scope))
	return c, nil
}

// pick returns the measures in the limit's scope; for type: and word:
// their sum, as one measure.
func (l Limit) pick(ms []measure) []measure {
	var picked []measure
	for _, m := range ms {
		switch {
		case l.Scope == "total" && m.scope == "total",
			l.Scope == "each" && (m.scope == "type" || m.scope == "word"),
			l.Scope == "type" && m.scope == "type" && l.Name == m.Name,
			l.Scope == "word" && (m.scope == "word" || m.scope == "value") && (l.Name == m.Name || l.Name == m.alias):
			picked = append(picked, m)
		}
	}
	if (l.Scope == "type" || l.Scope == "word") && len(picked) > 0 {
		sum := measure{scope: l.Scope, TallyDelta: TallyDelta{Name: l.Name}, bytes: picked[0].bytes}
		for _, m := range picked {
			sum.OldCount, sum.NewCount = sum.OldCount+m.OldCount, sum.NewCount+m.NewCount
			sum.OldBytes, sum.NewBytes = sum.OldBytes+m.OldBytes, sum.NewBytes+m.NewBytes
		}
		picked = []measure{sum}
	}
	return picked
}

// growth is how much m grew, in the limit's unit; percentages of bytes when
// m has a size, of counts otherwise.
func (l Limit) growth(m measure) float64 {
	switch {
	case l.Unit == "bytes":
		return float64(m.DeltaBytes())
	case l.Unit == "count":
		return float64(m.DeltaCount())
	case m.bytes:
		return percentGrowth(m.OldBytes, m.NewBytes)
	}
	return percentGrowth(m.OldCount, m.NewCount)
}

// format shows an amount in the limit's unit.
func (l Limit) format(v float64, kind Kind, scope string) string {
	switch {
	case l.Unit == "percent" && math.IsInf(v, 1):
		return "∞% (from nothing)"
	case l.Unit == "percent":
		return fmt.Sprintf("%.4g%%", v)
	case l.Unit == "bytes" && v < 0:
		return "-" + humanize.IBytes(uint64(-v))
	case l.Unit == "bytes":
		return humanize.IBytes(uint64(v))
	}
	noun := "objects"
	switch {
	case kind == ByWord && scope == "total":
		noun = "words"
	case kind == ByWord:
		noun = "occurrences"
	}
	return humanize.Comma(int64(v)) + " " + noun
}
