package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/dustin/go-humanize"
	"github.com/heapsift/heapsift/histogram"
)

// growthLimit is one --fail-on-growth: [SCOPE=]LIMIT.
type growthLimit struct {
	spec  string // as given
	scope string // "total", "each", "type" or "word"
	name  string // type or word name, for scopes type and word
	unit  string // "bytes", "count" or "percent"
	value float64
}

// measure is one quantity a limit may apply to: a total, a type, a word
// (a symbol or a pointer into a module), a value. word: limits match its
// Name or alias.
type measure struct {
	scope string // "total", "type", "word" or "value"
	alias string
	histogram.TallyDelta
	bytes bool // the byte figures are meaningful
}

// checkResult is the outcome of one limit (JSON: see docs/json.md).
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

func parseGrowthLimits(specs []string) ([]growthLimit, error) {
	var out []growthLimit
	for _, s := range specs {
		l, err := parseGrowthLimit(s)
		if err != nil {
			return nil, usagef("--fail-on-growth %q: %v (want [total=|each=|type:NAME=|word:NAME=]LIMIT, LIMIT like 10MiB, 5%% or 1000)", s, err)
		}
		out = append(out, l)
	}
	return out, nil
}

// parseGrowthLimit reads [SCOPE=]LIMIT. The scope is split at the last
// '=', which no LIMIT contains, so that type names may hold one.
func parseGrowthLimit(s string) (growthLimit, error) {
	l := growthLimit{spec: s, scope: "total"}
	lim := s
	if i := strings.LastIndexByte(s, '='); i >= 0 {
		scope := strings.TrimSpace(s[:i])
		lim = s[i+1:]
		kind, name, hasName := strings.Cut(scope, ":")
		switch {
		case !hasName && (scope == "total" || scope == "each"):
			l.scope = scope
		case hasName && (kind == "type" || kind == "word") && name != "":
			l.scope, l.name = kind, name
		default:
			return l, fmt.Errorf("unknown scope %q", scope)
		}
	}
	lim = strings.TrimSpace(strings.ReplaceAll(lim, "_", ""))
	var err error
	switch {
	case strings.HasSuffix(lim, "%"):
		l.unit = "percent"
		l.value, err = strconv.ParseFloat(strings.TrimSuffix(lim, "%"), 64)
		if err == nil && (l.value < 0 || math.IsNaN(l.value) || math.IsInf(l.value, 0)) {
			err = fmt.Errorf("a percentage must be a finite number >= 0")
		}
	case lim != "" && strings.Trim(lim, "0123456789,") == "":
		l.unit = "count"
		var n uint64
		n, err = strconv.ParseUint(strings.ReplaceAll(lim, ",", ""), 10, 64)
		l.value = float64(n)
	default:
		l.unit = "bytes"
		var n uint64
		n, err = humanize.ParseBytes(lim)
		l.value = float64(n)
	}
	if err != nil {
		return l, fmt.Errorf("bad limit %q", lim)
	}
	return l, nil
}

// check applies the limits to the measures of r's comparison, records
// each outcome in r.Checks and returns the details of those exceeded.
func (r *diffReport) check(limits []growthLimit, ms []measure) ([]string, error) {
	var failed []string
	for _, l := range limits {
		c, err := l.apply(ms, r.Compare)
		if err != nil {
			return nil, usagef("--fail-on-growth %q: %v", l.spec, err)
		}
		r.Checks = append(r.Checks, c)
		if c.Exceeded {
			failed = append(failed, c.Limit+": "+c.Detail)
		}
	}
	return failed, nil
}

// apply measures growth in the limit's unit over the limit's scope: the
// worst row for each, the sum of the matching rows for type: and word:.
func (l growthLimit) apply(ms []measure, compare string) (checkResult, error) {
	c := checkResult{Limit: l.spec, Scope: l.scope, Name: l.name, Unit: l.unit, Max: l.value}
	switch {
	case l.scope == "type" && compare != "types":
		return c, fmt.Errorf("type: limits need two Go cores; this comparison is by words (use word:NAME)")
	case l.scope == "word" && compare != "words":
		return c, fmt.Errorf("word: limits apply to word comparisons; these are Go cores (use type:NAME, or --words)")
	case l.unit == "bytes" && compare == "words" && l.scope != "total":
		return c, fmt.Errorf("words have no size; give a count or a percentage")
	}
	var picked []measure
	for _, m := range ms {
		switch {
		case l.scope == "total" && m.scope == "total",
			l.scope == "each" && (m.scope == "type" || m.scope == "word"),
			l.scope == "type" && m.scope == "type" && l.name == m.Name,
			l.scope == "word" && (m.scope == "word" || m.scope == "value") && (l.name == m.Name || l.name == m.alias):
			picked = append(picked, m)
		}
	}
	if (l.scope == "type" || l.scope == "word") && len(picked) > 0 {
		sum := measure{scope: l.scope, TallyDelta: histogram.TallyDelta{Name: l.name}, bytes: picked[0].bytes}
		for _, m := range picked {
			sum.OldCount, sum.NewCount = sum.OldCount+m.OldCount, sum.NewCount+m.NewCount
			sum.OldBytes, sum.NewBytes = sum.OldBytes+m.OldBytes, sum.NewBytes+m.NewBytes
		}
		picked = []measure{sum}
	}
	if len(picked) == 0 {
		c.Growth = new(float64)
		switch l.scope {
		case "type":
			c.Detail = fmt.Sprintf("%s is in neither dump", l.name)
		case "word":
			c.Detail = fmt.Sprintf("%s is not among the words compared", l.name)
		default:
			c.Detail = "nothing to compare"
		}
		return c, nil
	}
	worst, growth := picked[0], l.growth(picked[0])
	for _, m := range picked[1:] {
		if g := l.growth(m); g > growth {
			worst, growth = m, g
		}
	}
	c.What, c.Exceeded = worst.Name, growth > l.value
	if !math.IsInf(growth, 1) {
		c.Growth = &growth
	}
	c.Detail = fmt.Sprintf("%s grew by %s (limit %s)", worst.Name, l.format(growth, compare, worst.scope), l.format(l.value, compare, worst.scope))
	return c, nil
}

// growth is how much m grew, in the limit's unit; percentages of bytes when
// m has a size, of counts otherwise.
func (l growthLimit) growth(m measure) float64 {
	switch {
	case l.unit == "bytes":
		return float64(m.DeltaBytes())
	case l.unit == "count":
		return float64(m.DeltaCount())
	case m.bytes:
		return percentGrowth(m.OldBytes, m.NewBytes)
	}
	return percentGrowth(m.OldCount, m.NewCount)
}

// format shows an amount in the limit's unit.
func (l growthLimit) format(v float64, compare, scope string) string {
	switch {
	case l.unit == "percent" && math.IsInf(v, 1):
		return "∞% (from nothing)"
	case l.unit == "percent":
		return fmt.Sprintf("%.4g%%", v)
	case l.unit == "bytes" && v < 0:
		return "-" + size(uint64(-v))
	case l.unit == "bytes":
		return size(uint64(v))
	}
	noun := "objects"
	switch {
	case compare == "words" && scope == "total":
		noun = "words"
	case compare == "words":
		noun = "occurrences"
	}
	return humanize.Comma(int64(v)) + " " + noun
}
