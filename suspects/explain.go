package suspects

import (
	"fmt"
	"strings"

	"github.com/dustin/go-humanize"

	"github.com/heapsift/heapsift/heap"
)

// explain says what the suspect is in one sentence: "`main.p.results` (a
// `[]*main.Timing` of 200,000 elements) retains 15 MiB, 93% of the live
// heap: 200,000 `main.Timing` accumulate there."
func explain(s Suspect, total uint64) string {
	if s.Kind == KindGroup {
		return explainGroup(s)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "`%s` (%s) retains %s, %s of the live heap", s.Expr, holderPhrase(s), humanize.IBytes(s.AccRetained), sharePhrase(s.AccRetained, total))
	if s.Members.Count > 0 {
		fmt.Fprintf(&sb, ": %s `%s` accumulate there", humanize.Comma(int64(s.Members.Count)), s.Members.Type)
	}
	sb.WriteString(".")
	return sb.String()
}

// explainGroup: "12,000 `main.Item` held through `main.registry.items[]`
// retain 3 MiB together, 40% of the live heap; no single object holds
// them."
func explainGroup(s Suspect) string {
	if s.Threads > 1 {
		return explainThreads(s)
	}
	return fmt.Sprintf("%s `%s` held through `%s` retain %s together, %s of the live heap; no single object holds them all.",
		humanize.Comma(int64(s.Members.Count)), s.Members.Type, s.Expr, humanize.IBytes(s.Retained), sharePercent(s.Share))
}

// explainThreads: "88 goroutines running `main.proxy` hold 88 `[]uint8`
// through `buf`, about 1.0 MiB each: 88 MiB together, 93% of the live
// heap."
func explainThreads(s Suspect) string {
	word := s.Root.ThreadLabel
	if word == "" {
		word = "thread"
	}
	through := heap.WordsText(s.Path[1:])
	if s.Root.Var != "" {
		through = heap.WordsText(append([]string{s.Root.Var}, s.Path[1:]...))
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s %ss running `%s` hold %s `%s`", humanize.Comma(int64(s.Threads)), word, s.Root.Func,
		humanize.Comma(int64(s.Members.Count)), s.Members.Type)
	if through != "" {
		fmt.Fprintf(&sb, " through `%s`", through)
	}
	fmt.Fprintf(&sb, ", about %s each: %s together, %s of the live heap.",
		humanize.IBytes(s.Retained/uint64(s.Threads)), humanize.IBytes(s.Retained), sharePercent(s.Share))
	return sb.String()
}

// holderPhrase names the accumulation point's type: "a `[]*main.Timing`
// of 200,000 elements", "a `main.Cache`".
func holderPhrase(s Suspect) string {
	if s.AccElements {
		return fmt.Sprintf("a `%s` of %s elements", s.AccFamily, humanize.Comma(int64(s.AccRefs)))
	}
	return fmt.Sprintf("a `%s`", s.AccFamily)
}

func sharePhrase(part, total uint64) string {
	if total == 0 {
		return "0%"
	}
	return sharePercent(float64(part) / float64(total))
}

// sharePercent writes a share as a whole percentage, or with one decimal
// below 10%.
func sharePercent(share float64) string {
	if share < 0.1 {
		return fmt.Sprintf("%.1f%%", 100*share)
	}
	return fmt.Sprintf("%.0f%%", 100*share)
}
