// Package warn is heapsift's one kind of warning: something wrong with the
// input that did not stop the analysis. Library packages return warnings
// as data beside their results; only cmd/heapsift prints them, once.
package warn

import (
	"fmt"
	"strings"

	"github.com/dustin/go-humanize"
)

// Warning is one thing wrong with the input.
type Warning struct {
	// Source names what raised it: a package ("dump", "symbolize",
	// "gocore", "pycore", "retain", "compare") or a file it read.
	Source string `json:"source"`
	// Addr is the address the warning is about, when HasAddr.
	Addr    uint64 `json:"-"`
	HasAddr bool   `json:"-"`
	// Message says what is wrong, without the source.
	Message string `json:"message"`
}

// New returns a warning from source with a formatted message.
func New(source, format string, args ...any) Warning {
	return Warning{Source: source, Message: fmt.Sprintf(format, args...)}
}

// At returns a warning about address addr.
func At(source string, addr uint64, format string, args ...any) Warning {
	return Warning{Source: source, Addr: addr, HasAddr: true, Message: fmt.Sprintf(format, args...)}
}

// String renders the warning as one line: "source: message (at 0x…)".
func (w Warning) String() string {
	s := w.Message
	if w.Source != "" {
		s = w.Source + ": " + s
	}
	if w.HasAddr {
		s += fmt.Sprintf(" (at %#x)", w.Addr)
	}
	return s
}

// List collects warnings in the order they were raised, dropping exact
// repeats so that one fault seen a million times is said once. Warnings of
// one shape (the same source and message but for its numbers and
// addresses) are kept up to MaxSimilar; the rest are only counted, and
// Summaries says how many there were.
type List struct {
	items   []Warning
	seen    map[Warning]bool
	similar map[shape]int      // warnings of each shape seen, kept or not
	more    map[shape]*Warning // the first warning of each shape not kept
	order   []shape            // shapes with warnings not kept, in order
}

// MaxSimilar is how many warnings of one shape a List keeps.
const MaxSimilar = 5

// shape is a warning with the numbers of its message blanked out: what
// makes "segment 0x1000-0x2000 overlaps …" and "segment 0x3000-0x4000
// overlaps …" the same kind of warning.
type shape struct{ source, message string }

func shapeOf(w Warning) shape {
	b := make([]byte, 0, len(w.Message))
	digits := false
	for i := 0; i < len(w.Message); i++ {
		c := w.Message[i]
		isNum := c >= '0' && c <= '9' || digits && (c >= 'a' && c <= 'f' || c == 'x' || c == ',')
		if isNum {
			if !digits {
				b = append(b, '#')
			}
			digits = true
			continue
		}
		digits = false
		b = append(b, c)
	}
	return shape{w.Source, string(b)}
}

// Add appends warnings not already in the list, counting rather than
// keeping those past MaxSimilar of one shape.
func (l *List) Add(ws ...Warning) {
	for _, w := range ws {
		if l.seen == nil {
			l.seen = map[Warning]bool{}
			l.similar = map[shape]int{}
			l.more = map[shape]*Warning{}
		}
		if l.seen[w] {
			continue
		}
		l.seen[w] = true
		sh := shapeOf(w)
		l.similar[sh]++
		if l.similar[sh] > MaxSimilar {
			if l.more[sh] == nil {
				first := w
				l.more[sh] = &first
				l.order = append(l.order, sh)
			}
			continue
		}
		l.items = append(l.items, w)
	}
}

// Summaries returns one warning for each shape of which more than
// MaxSimilar warnings were added, saying how many more there were and
// quoting the first of them.
func (l *List) Summaries() []Warning {
	if l == nil {
		return nil
	}
	var out []Warning
	for _, sh := range l.order {
		first := l.more[sh]
		out = append(out, New(sh.source, "%s more warnings like %q", humanize.Comma(int64(l.similar[sh]-MaxSimilar)), first.String()))
	}
	return out
}

// Addf appends a formatted warning from source.
func (l *List) Addf(source, format string, args ...any) { l.Add(New(source, format, args...)) }

// Items returns the warnings collected so far; the slice is the list's own.
func (l *List) Items() []Warning {
	if l == nil {
		return nil
	}
	return l.items
}

// Len returns how many warnings the list holds.
func (l *List) Len() int {
	if l == nil {
		return 0
	}
	return len(l.items)
}

// Messages returns the warnings' messages, for matching in tests and for
// text that names no source.
func Messages(ws []Warning) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.Message
	}
	return out
}

// Matching returns the messages of ws that contain s: how callers and
// tests ask whether a kind of warning was given.
func Matching(ws []Warning, s string) []string {
	var out []string
	for _, m := range Messages(ws) {
		if strings.Contains(m, s) {
			out = append(out, m)
		}
	}
	return out
}
