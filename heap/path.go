package heap

import (
	"strconv"
	"strings"
)

// StepKind says how one step of a Path goes from a value to a part of it.
type StepKind uint8

// Kinds of steps.
const (
	StepField    StepKind = iota // a struct field or C member: ".results"
	StepAttr                     // an attribute of an object (Python __dict__, __slots__): ".results"
	StepIndex                    // an element of an array, slice, list or tuple: "[7]", collapsed "[]"
	StepKey                      // a map or dict key: "[key]", collapsed "[key]"
	StepValue                    // a map or dict value, by its key if known: "[\"name\"]", collapsed "[]"
	StepElem                     // a member of an unordered container (set): "{}"
	StepDeref                    // the value pointed to, when the pointer is the whole value: "*"
	StepOffset                   // bytes into a value whose layout is unknown: "+16"
	StepUnknown                  // somewhere in a value of unknown type: "?"
	StepMapValue                 // a value of a map whose keys are not shown (Go): "[…]"
	StepMapKey                   // a key of a map whose keys are not shown (Go): "{key}"
	StepIface                    // an interface's dynamic value, of type Name: ".(T)", collapsed hidden
)

// Collapsed is the Index of a step whose index has been folded.
const Collapsed = -1

// Step is one step of a Path.
type Step struct {
	Kind StepKind
	// Name is the field or attribute name, or the key of a StepValue as
	// shown ("'alice'", "42"); empty for steps that have none.
	Name string
	// Index is the index of a StepIndex, the byte offset of a StepOffset,
	// or Collapsed.
	Index int64
	// Internal marks a step through the implementation of a value rather
	// than through the value as its language shows it (a Go map's
	// directory, tables and groups, a channel's buffer pointer): String
	// and Words leave it out, folding it into the next step; RawString
	// and RawWords keep it.
	Internal bool
}

// Field returns a field step.
func Field(name string) Step { return Step{Kind: StepField, Name: name} }

// Attr returns an attribute step.
func Attr(name string) Step { return Step{Kind: StepAttr, Name: name} }

// Index returns an index step.
func Index(i int64) Step { return Step{Kind: StepIndex, Index: i} }

// Word returns the step as one word of a path listing: the field or
// attribute name, "[7]" or "[]", "[key]", "{}", "*", "+16".
func (s Step) Word() string {
	switch s.Kind {
	case StepField, StepAttr:
		return s.Name
	case StepIndex:
		if s.Index == Collapsed {
			return "[]"
		}
		return "[" + strconv.FormatInt(s.Index, 10) + "]"
	case StepKey:
		return "[key]"
	case StepValue:
		if s.Name == "" {
			return "[]"
		}
		return "[" + s.Name + "]"
	case StepElem:
		return "{}"
	case StepDeref:
		return "*"
	case StepOffset:
		return "+" + strconv.FormatInt(s.Index, 10)
	case StepMapValue:
		return "[…]"
	case StepMapKey:
		return "{key}"
	case StepIface:
		if s.Name == "" {
			return ".(…)"
		}
		return ".(" + s.Name + ")"
	}
	return "?" // StepUnknown
}

// Collapse returns the step with what varies from element to element
// folded: indices to "[]", dict values to "[]" (their keys dropped), an
// interface's dynamic type, which varies from value to value, hidden.
func (s Step) Collapse() Step {
	switch s.Kind {
	case StepIndex:
		s.Index = Collapsed
	case StepValue:
		s.Name = ""
	case StepIface:
		s.Name, s.Internal = "", true
	}
	return s
}

// Path is a sequence of steps from a value to a part of it or to what it
// refers to.
type Path []Step

// String writes the path as source code would: ".results[7].Name",
// "[…].Name" for a Go map's values, "*" for a bare dereference; internal
// steps are left out.
func (p Path) String() string { return p.text(false) }

// RawString is String with the internal steps: ".dirPtr[].groups.data"
// rather than "".
func (p Path) RawString() string { return p.text(true) }

func (p Path) text(raw bool) string {
	var sb strings.Builder
	for _, s := range p {
		if s.Internal && !raw {
			continue
		}
		switch s.Kind {
		case StepField, StepAttr:
			sb.WriteByte('.')
			sb.WriteString(s.Name)
		case StepDeref:
			if sb.Len() > 0 {
				sb.WriteByte('.')
			}
			sb.WriteByte('*')
		default:
			sb.WriteString(s.Word())
		}
	}
	return sb.String()
}

// Words returns each step's Word, internal steps left out: ["results", "[]"].
func (p Path) Words() []string { return p.words(false) }

// RawWords is Words with the internal steps.
func (p Path) RawWords() []string { return p.words(true) }

func (p Path) words(raw bool) []string {
	out := make([]string, 0, len(p))
	for _, s := range p {
		if !s.Internal || raw {
			out = append(out, s.Word())
		}
	}
	return out
}

// Collapse returns the path with every step collapsed, in a new slice.
func (p Path) Collapse() Path {
	out := make(Path, len(p))
	for i, s := range p {
		out[i] = s.Collapse()
	}
	return out
}

// WordsText writes path words (Words, after a root's label) as source
// code would: "main.p" + ["results", "[]"] is "main.p.results[]"; words
// that open with "[", "{", "." or "+" (indices, keys, interface data,
// offsets) follow without a dot.
func WordsText(words []string) string {
	var sb strings.Builder
	for i, w := range words {
		if i > 0 && !strings.HasPrefix(w, "[") && !strings.HasPrefix(w, "{") && !strings.HasPrefix(w, ".") && !strings.HasPrefix(w, "+") {
			sb.WriteByte('.')
		}
		sb.WriteString(w)
	}
	return sb.String()
}
