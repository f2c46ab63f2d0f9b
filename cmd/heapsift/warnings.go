package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/symbolize"

	"github.com/heapsift/heapsift/warn"
)

// Warnings: every library returns its warnings as data; the commands hand
// them to warnAll, which prints each one once on stderr as it arrives, so
// that a warning raised before a command fails is still seen. Sources that
// find warnings lazily (the symbolizer, which loads symbol tables on first
// use) are registered with lateWarnings and drained before the report is
// written and again when the command ends. Every JSON document carries
// them all as "warnings" (one line each) and "warning_details".

// warnAll records warnings and prints those not said before.
func warnAll(e *env, ws []warn.Warning) {
	for _, w := range ws {
		before := e.warnings.Len()
		e.warnings.Add(w)
		if e.warnings.Len() > before {
			fmt.Fprintf(e.stderr, "%s: warning: %s\n", programName, oneLine(warningLine(w)))
		}
	}
}

// warnStrings records warnings that a library gives as text.
func warnStrings(e *env, source string, ws []string) {
	for _, w := range ws {
		warnAll(e, []warn.Warning{{Source: source, Message: w}})
	}
}

// warningLine is a warning as printed: its message, and the address it is
// about. The source is in the JSON, not on the line people read.
func warningLine(w warn.Warning) string {
	if w.HasAddr {
		return fmt.Sprintf("%s (at %#x)", w.Message, w.Addr)
	}
	return w.Message
}

// printSummaries says, once at the end, how many warnings of each kind
// were too many to print one by one.
func printSummaries(e *env) {
	for _, w := range e.warnings.Summaries() {
		fmt.Fprintf(e.stderr, "%s: warning: %s\n", programName, oneLine(warningLine(w)))
	}
}

// lateWarnings registers a source of warnings found after it was opened.
func lateWarnings(e *env, source func() []warn.Warning) {
	e.late = append(e.late, source)
}

// flushWarnings drains the late sources.
func flushWarnings(e *env) {
	for _, source := range e.late {
		warnAll(e, source())
	}
}

// emitJSON writes v as the command's JSON document, with every warning
// said so far.
func emitJSON(e *env, v any) error {
	flushWarnings(e)
	b, err := withWarnings(e, v)
	if err != nil {
		return err
	}
	return writeJSON(e.stdout, b)
}

// warningJSON is one entry of "warning_details" (JSON: docs/json.md).
type warningJSON struct {
	Source  string `json:"source"`
	Message string `json:"message"`
	Addr    string `json:"addr,omitempty"`
}

// withWarnings returns the JSON of report r with "warnings" and
// "warning_details" added at its top level, unless r has its own.
func withWarnings(e *env, r any) (json.RawMessage, error) {
	b, err := marshal(r)
	if err != nil {
		return nil, err
	}
	var top map[string]json.RawMessage
	if len(b) < 2 || b[0] != '{' || json.Unmarshal(b, &top) != nil {
		return b, nil
	}
	lines := []string{}
	details := []warningJSON{}
	for _, w := range append(slices.Clone(e.warnings.Items()), e.warnings.Summaries()...) {
		lines = append(lines, warningLine(w))
		d := warningJSON{Source: w.Source, Message: w.Message}
		if w.HasAddr {
			d.Addr = hexAddr(w.Addr)
		}
		details = append(details, d)
	}
	var extra bytes.Buffer
	for _, f := range []struct {
		key string
		val any
	}{{"warnings", lines}, {"warning_details", details}} {
		if _, ok := top[f.key]; ok {
			continue
		}
		v, err := marshal(f.val)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&extra, ",%q:%s", f.key, v)
	}
	if extra.Len() == 0 {
		return b, nil
	}
	if len(top) == 0 {
		extra.Bytes()[0] = '{' // the report was "{}": no comma before the first key
		return append(extra.Bytes(), '}'), nil
	}
	return append(append(b[:len(b)-1:len(b)-1], extra.Bytes()...), '}'), nil
}

// marshal is json.Marshal without escaping "<" and ">", which type names
// hold ("<untyped 48>").
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("writing JSON: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// newSymbolizer loads the dump's symbol tables, records the warnings of
// the loading and registers those found later, as tables load on use.
func newSymbolizer(p *dump.Process, e *env) (*symbolize.Symbolizer, error) {
	sym, warnings, err := symbolize.New(p, symbolize.Options{})
	warnAll(e, warnings)
	if err != nil {
		return nil, fmt.Errorf("loading symbols: %w", err)
	}
	lateWarnings(e, sym.Warnings)
	return sym, nil
}
