package main

import (
	"errors"
	"fmt"
	"github.com/heapsift/heapsift/dump"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// Safety: what a hostile core must not make heapsift do. Text from a core
// (paths, arguments, strings, file names) never reaches a terminal raw:
// termSafe escapes its control characters, and every byte heapsift writes
// as text passes through a termWriter as well. An output file (-o) may be
// none of the files the command reads.

// termSafe returns s with control characters (C0, DEL, C1) and invalid
// UTF-8 escaped Go-style, so that a path holding ESC, BEL or "\r\n" prints
// as one visible line: "/tmp/\x1b[31mred".
func termSafe(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case isControl(r):
			if r < 0x80 {
				fmt.Fprintf(&b, `\x%02x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// needsEscape reports whether termSafe would change s.
func needsEscape(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || isControl(r) {
			return true
		}
		i += n
	}
	return false
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// termWriter passes text to w with every control byte but newline and tab
// escaped: the last line of defence for a string from the core that a
// renderer printed without termSafe.
type termWriter struct{ w io.Writer }

func (t termWriter) Write(p []byte) (int, error) {
	clean := true
	for _, c := range p {
		if (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return t.w.Write(p)
	}
	out := make([]byte, 0, len(p)+16)
	for _, c := range p {
		if (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f {
			out = fmt.Appendf(out, `\x%02x`, c)
			continue
		}
		out = append(out, c)
	}
	if _, err := t.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// noteInputs records files the command reads, so that no output replaces
// one of them.
func (e *env) noteInputs(paths ...string) {
	for _, p := range paths {
		if p != "" {
			e.inputs = append(e.inputs, p)
		}
	}
}

// checkOutput refuses an output path that is one of the command's inputs:
// the same file, compared by device and inode (os.SameFile), whatever the
// spelling. A path that does not exist yet is no input.
func checkOutput(out string, e *env) error {
	if out == "" || out == "-" {
		return nil
	}
	ost, err := os.Stat(out)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("-o %s: %w", termSafe(out), err)
	}
	if !ost.Mode().IsRegular() && ost.Mode()&os.ModeCharDevice == 0 {
		return usagef("-o %s %s; give a regular file", termSafe(out), dump.DescribeFileMode(ost.Mode()))
	}
	for _, in := range e.inputs {
		if ist, err := os.Stat(in); err == nil && os.SameFile(ost, ist) {
			return usagef("-o %s would overwrite %s, which this command reads; give another file", termSafe(out), termSafe(in))
		}
	}
	return nil
}

// faultError turns a memory fault recovered from a panic (a mapped file
// that shrank while heapsift read it) into an error naming the files being
// read, or returns nil for any other panic.
func faultError(r any, e *env) error {
	f, ok := r.(interface{ Addr() uintptr })
	if _, isErr := r.(error); !ok || !isErr {
		return nil
	}
	files := "the input"
	if len(e.inputs) > 0 {
		files = strings.Join(e.inputs, ", ")
	}
	return fmt.Errorf("%s: a file changed or shrank while it was read (memory fault at %#x); read a copy that nothing writes to", termSafe(files), f.Addr())
}
