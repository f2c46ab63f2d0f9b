// Package warn is heapsift's one kind of warning: something wrong with the
// input that did not stop the analysis. Library packages return warnings
// as data beside their results; only cmd/heapsift prints them, once.
package warn

import "fmt"

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
// repeats so that one fault seen a million times is said once.
type List struct {
	items []Warning
	seen  map[Warning]bool
}

// Add appends warnings not already in the list.
func (l *List) Add(ws ...Warning) {
	for _, w := range ws {
		if l.seen == nil {
			l.seen = map[Warning]bool{}
		}
		if l.seen[w] {
			continue
		}
		l.seen[w] = true
		l.items = append(l.items, w)
	}
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
