package heap

import (
	"strconv"
	"strings"
)

// StepKind says how one step of a Path goes from a value to a part of it.
type StepKind uint8

// Kinds of steps.
const (
	StepField   StepKind = iota // a struct field or C member: ".results"
	StepAttr                    // an attribute of an object (Python __dict__, __slots__): ".results"
	StepIndex                   // an element of an array, slice, list or tuple: "[7]", collapsed "[]"
	StepKey                     // a map or dict key: "[key]", collapsed "[key]"
	StepValue                   // a map or dict value, by its key if known: "[\"name\"]", collapsed "[]"
	StepElem                    // a member of an unordered container (set): "{}"
	StepDeref                   // the value pointed to, when the pointer is the whole value: "*"
	StepOffset                  // bytes into a value whose layout is unknown: "+16"
	StepUnknown                 // somewhere in a value of unknown type: "?"
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
	}
	return "?" // StepUnknown
}

// Collapse returns the step with what varies from element to element
// folded: indices to "[]", dict values to "[]" (their keys dropped).
func (s Step) Collapse() Step {
	switch s.Kind {
	case StepIndex:
		s.Index = Collapsed
	case StepValue:
		s.Name = ""
	}
	return s
}

// Path is a sequence of steps from a value to a part of it or to what it
// refers to.
type Path []Step

// String writes the path as source code would: ".results[7].Name",
// ".slots[].elem", "*" for a bare dereference.
func (p Path) String() string {
	var sb strings.Builder
	for i, s := range p {
		switch s.Kind {
		case StepField, StepAttr:
			sb.WriteByte('.')
			sb.WriteString(s.Name)
		case StepDeref:
			if i > 0 {
				sb.WriteByte('.')
			}
			sb.WriteByte('*')
		default:
			sb.WriteString(s.Word())
		}
	}
	return sb.String()
}

// Words returns each step's Word: ["results", "[]"].
func (p Path) Words() []string {
	out := make([]string, len(p))
	for i, s := range p {
		out[i] = s.Word()
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

// Append returns the path followed by q, in a new slice.
func (p Path) Append(q ...Step) Path {
	out := make(Path, 0, len(p)+len(q))
	return append(append(out, p...), q...)
}
