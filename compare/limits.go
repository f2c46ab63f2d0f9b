package compare

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/dustin/go-humanize"
)

// LimitSyntax is how a growth limit is written, for error messages.
const LimitSyntax = "[total=|each=|type:NAME=|word:NAME=]LIMIT, LIMIT like 10MiB, 5% or 1000"

// Limit is one growth limit: [SCOPE=]LIMIT.
type Limit struct {
	Spec  string  // as given
	Scope string  // "total", "each", "type" or "word"
	Name  string  // the type or word, for scopes type and word
	Unit  string  // "bytes", "count" or "percent"
	Value float64 // the limit in Unit
}

// ParseLimits parses each spec with ParseLimit; the error names the spec.
func ParseLimits(specs []string) ([]Limit, error) {
	var out []Limit
	for _, s := range specs {
		l, err := ParseLimit(s)
		if err != nil {
			return nil, fmt.Errorf("%q: %w (want %s)", s, err, LimitSyntax)
		}
		out = append(out, l)
	}
	return out, nil
}

// ParseLimit reads [SCOPE=]LIMIT. LIMIT is bytes (10MiB, 512KB: KB is
// 1000 bytes, KiB 1024), a percentage of OLD (5%) or a count (1000, or
// 1,000); SCOPE is total (the default), each, type:NAME or word:NAME. The
// scope is split at the last '=', which no LIMIT contains, so that type
// names may hold one.
func ParseLimit(s string) (Limit, error) {
	l := Limit{Spec: s, Scope: "total"}
	lim := s
	if i := strings.LastIndexByte(s, '='); i >= 0 {
		scope := strings.TrimSpace(s[:i])
		lim = s[i+1:]
		kind, name, hasName := strings.Cut(scope, ":")
		switch {
		case !hasName && (scope == "total" || scope == "each"):
			l.Scope = scope
		case hasName && (kind == "type" || kind == "word") && name != "":
			l.Scope, l.Name = kind, name
		default:
			return l, fmt.Errorf("unknown scope %q", scope)
		}
	}
	lim = strings.TrimSpace(strings.ReplaceAll(lim, "_", ""))
	var err error
	switch {
	case strings.HasSuffix(lim, "%"):
		l.Unit = "percent"
		l.Value, err = strconv.ParseFloat(strings.TrimSuffix(lim, "%"), 64)
		if err == nil && (l.Value < 0 || math.IsNaN(l.Value) || math.IsInf(l.Value, 0)) {
			err = fmt.Errorf("a percentage must be a finite number >= 0")
		}
	case lim != "" && strings.Trim(lim, "0123456789,") == "":
		l.Unit = "count"
		var n uint64
		n, err = strconv.ParseUint(strings.ReplaceAll(lim, ",", ""), 10, 64)
		l.Value = float64(n)
	default:
		l.Unit = "bytes"
		var n uint64
		n, err = humanize.ParseBytes(lim)
		l.Value = float64(n)
	}
	if err != nil {
		return l, fmt.Errorf("bad limit %q", lim)
	}
	return l, nil
}

// Growth is what limits measure in one comparison (TypeDiff.Growth,
// WordDiff.Growth).
type Growth struct {
	kind     Kind
	measures []measure
}

// measure is one quantity a limit may apply to: a total, a type, a word
// (a symbol or a pointer into a module), a value. word: limits match its
// Name or alias.
type measure struct {
	scope string // "total", "type", "word" or "value"
	alias string
	TallyDelta
	bytes bool // the byte figures are meaningful
}

// CheckResult is the outcome of one limit.
type CheckResult struct {
	Limit string  // the limit as given
	Scope string  // as Limit.Scope
	Name  string  // as Limit.Name
	Unit  string  // as Limit.Unit
	Max   float64 // Limit.Value
	What  string  // the total, type or word measured; for each, the one that grew most
	// Growth is What's growth in Unit: 0 when nothing matched, nil when it
	// grew from nothing in percent (an infinite percentage).
	Growth   *float64
	Exceeded bool   // Growth > Max
	Detail   string // the check in words: "main.Order grew by 2,000 objects (limit 1,000 objects)"
}

// Check applies each limit to g, in order. A limit that cannot apply to
// this kind of comparison (type: on words, word: on types, bytes on single
// words) is an error naming it.
func Check(limits []Limit, g Growth) ([]CheckResult, error) {
	out := make([]CheckResult, 0, len(limits))
	for _, l := range limits {
		c, err := l.apply(g)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", l.Spec, err)
		}
		out = append(out, c)
	}
	return out, nil
}
