package gocore

// Paths that read like Go. The field paths of references follow the
// runtime's structures (a swiss map's header → directory → table →
// group → slot); goPath rewrites them as a Go programmer writes them: the
// steps through a map's header, directory, tables, buckets and a channel's
// buffer pointer are internal (heap.Path leaves them out unless asked for
// the raw path), a slot's value is one "[…]" step and its key "{key}", an
// interface's data word is ".(T)" after its dynamic type. Generic
// functions' names are shortened as the runtime prints them, "F[...]".

import (
	"strings"

	"github.com/heapsift/heapsift/dump"
	model "github.com/heapsift/heapsift/heap"
)

// goPath rewrites the field path steps of offset off of object obj (from
// FieldSteps) as Go.
func (p *Program) goPath(obj int, off uint64, steps model.Path) model.Path {
	elem, _ := p.types.elemOf(p.objType[obj])
	name := strings.TrimPrefix(p.types.types[elem].name, "*")
	name = strings.TrimPrefix(name, "noalg.")
	switch {
	case strings.HasPrefix(name, "map<"), strings.HasPrefix(name, "hash<"), strings.HasPrefix(name, "table<"):
		return internal(steps)
	case strings.HasPrefix(name, "map.group["), strings.HasPrefix(name, "bucket<"):
		return mapSlotPath(steps)
	case strings.HasPrefix(name, "hchan<"):
		if len(steps) > 0 && steps[0].Kind == model.StepField && steps[0].Name == "buf" {
			return internal(steps)
		}
		return steps
	}
	return p.ifacePath(obj, off, steps)
}

// internal marks every step internal.
func internal(steps model.Path) model.Path {
	for i := range steps {
		steps[i].Internal = true
	}
	return steps
}

// mapSlotPath rewrites a path in a map group or bucket (or an array of
// them): ".slots[3].elem.Name" becomes "[…].Name", ".keys[2]" "{key}",
// and the rest (the array index, ctrl, overflow) internal.
func mapSlotPath(steps model.Path) model.Path {
	for i := 0; i+1 < len(steps); i++ {
		s := steps[i]
		if s.Kind != model.StepField {
			continue
		}
		var kind model.StepKind
		rest := i + 2 // after .slots[3] comes .elem or .key
		switch s.Name {
		case "slots":
			if rest >= len(steps) || steps[rest].Kind != model.StepField {
				return internal(steps)
			}
			switch steps[rest].Name {
			case "elem":
				kind = model.StepMapValue
			case "key":
				kind = model.StepMapKey
			default:
				return internal(steps)
			}
			rest++
		case "elems":
			kind = model.StepMapValue
		case "keys":
			kind = model.StepMapKey
		default:
			continue
		}
		out := internal(steps[:i:i])
		out = append(out, model.Step{Kind: kind})
		return append(out, steps[min(rest, len(steps)):]...)
	}
	return internal(steps)
}

// ifacePath names the data word of an interface by its dynamic type: a
// path ending in an interface's ".data" ends in ".(T)" instead.
func (p *Program) ifacePath(obj int, off uint64, steps model.Path) model.Path {
	n := len(steps)
	if n == 0 || off < 8 || steps[n-1].Kind != model.StepField {
		return steps
	}
	elem, _ := p.types.elemOf(p.objType[obj])
	size := p.types.types[elem].size
	if size == 0 {
		return steps
	}
	kind, ok := slotAt(p.layoutOf(elem), (off-8)%size)
	if !ok || kind != slotEface && kind != slotIface {
		return steps
	}
	base := p.Addr(obj)
	tw, err := p.proc.Uint64(base + dump.Address(off-8))
	if err != nil || tw == 0 {
		return steps
	}
	if kind == slotIface {
		t, err := p.rtypes.ItabType(dump.Address(tw))
		if err != nil || t == 0 {
			return steps
		}
		tw = uint64(t)
	}
	rt, err := p.rtypes.Get(dump.Address(tw))
	if err != nil || rt.Name == "" {
		return steps
	}
	steps[n-1] = model.Step{Kind: model.StepIface, Name: shortenShapes(rt.Name)}
	return steps
}

// slotAt returns the kind of the slot of lay at offset off, looking into
// repeated arrays.
func slotAt(lay []slot, off uint64) (slotKind, bool) {
	for i := range lay {
		s := &lay[i]
		if s.kind == slotArray {
			if off >= s.off && s.stride != 0 && off < s.off+s.count*s.stride {
				if k, ok := slotAt(s.sub, (off-s.off)%s.stride); ok {
					return k, true
				}
			}
			continue
		}
		if s.off == off {
			return s.kind, true
		}
	}
	return 0, false
}

// shortenShapes shortens the type arguments of generic functions and
// types instantiated with GC shapes, as the runtime prints them:
// "main.F[go.shape.struct { ... }].func1" becomes "main.F[...].func1".
func shortenShapes(name string) string {
	if !strings.Contains(name, "go.shape.") {
		return name
	}
	var sb strings.Builder
	for i := 0; i < len(name); i++ {
		if name[i] != '[' {
			sb.WriteByte(name[i])
			continue
		}
		end := matchBracket(name, i)
		if end < 0 {
			sb.WriteString(name[i:])
			break
		}
		if strings.Contains(name[i:end], "go.shape.") {
			sb.WriteString("[...]")
		} else {
			sb.WriteString(name[i : end+1])
		}
		i = end
	}
	return sb.String()
}

// matchBracket returns the index of the ']' closing the '[' at s[i], -1 if
// none.
func matchBracket(s string, i int) int {
	depth := 0
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '[':
			depth++
		case ']':
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}
