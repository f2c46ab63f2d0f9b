package retain

import (
	"strings"

	"github.com/heapsift/heapsift/gocore"
)

// labelTable collapses the offset labels of the edges of a Go heap into
// the labels Groups groups by: the field path of the pointer word within
// one element of its object, with every index written "[]", and qualified
// by the element's type. So the pointers of all the elements of any
// []*T backing array share one label, "[]", and those of a map's slots
// one label per key or value field, whatever the array's length.
//
// Collapsing is asked once per reachable object. The answer is cached per
// type and pointer word within the element, so gocore names each distinct
// word once; the element size of an array type is found once per type.
type labelTable struct {
	prog     *gocore.Program
	typeOf   []uint32
	numTypes uint32
	types    []typeLabels
	names    []string          // label id -> display (".results", "[]")
	sources  []string          // label id -> the type of the objects the pointers are in
	ids      map[string]uint32 // element type + "\x00" + display -> label id
	untyped  uint32            // the label of every pointer of an untyped object
}

// typeLabels caches the collapsed labels of one type's pointer words.
type typeLabels struct {
	probed bool
	// elem is the size of the elements of an array type (the pointer
	// words of every element share labels), 0 for other types.
	elem uint64
	// base is the element type's name for arrays, the type's otherwise;
	// source is the type as shown, "[]T" for arrays of any length.
	base, source string
	// words[w] is 1 + the label of the pointer word at byte 8w within an
	// element, 0 if not yet known; odd offsets go to other.
	words []uint32
	other map[uint64]uint32
}

func newLabelTable(prog *gocore.Program, typeOf []uint32, numTypes uint32) *labelTable {
	lt := &labelTable{prog: prog, typeOf: typeOf, numTypes: numTypes,
		types: make([]typeLabels, numTypes), ids: map[string]uint32{}}
	lt.untyped = lt.intern("", "", "?")
	return lt
}

// collapse is the collapse function of GroupsBySource: the label of the
// pointer word at offset off of object from.
func (lt *labelTable) collapse(from, off uint32) uint32 {
	t := lt.typeOf[from]
	if t >= lt.numTypes || t == uint32(gocore.NoType) {
		return lt.untyped
	}
	tl := &lt.types[t]
	if !tl.probed {
		lt.probe(tl, t, int(from))
	}
	rel := uint64(off)
	if tl.elem > 0 {
		rel %= tl.elem
	}
	if rel%8 == 0 {
		if w := rel / 8; w < uint64(len(tl.words)) && tl.words[w] != 0 {
			return tl.words[w] - 1
		}
	} else if id, ok := tl.other[rel]; ok {
		return id
	}
	id := lt.intern(tl.base, tl.source, displayField(lt.prog.FieldPath(int(from), rel), true))
	if rel%8 == 0 {
		w := int(rel / 8)
		if w >= len(tl.words) {
			tl.words = append(tl.words, make([]uint32, w+1-len(tl.words))...)
		}
		tl.words[w] = id + 1
	} else {
		if tl.other == nil {
			tl.other = map[uint64]uint32{}
		}
		tl.other[rel] = id
	}
	return id
}

// probe finds whether type t (of object obj) is an array and, if so, the
// size of its elements: the smallest offset that gocore names as element
// [1], by bisection over the object's size.
func (lt *labelTable) probe(tl *typeLabels, t uint32, obj int) {
	tl.probed = true
	tl.base = lt.prog.TypeName(gocore.TypeID(t))
	tl.source = tl.base
	if _, ok := leadingIndex(lt.prog.FieldPath(obj, 0)); !ok {
		return
	}
	lo, hi := uint64(1), lt.prog.Size(obj)
	if idx, _ := leadingIndex(lt.prog.FieldPath(obj, hi-1)); idx < 1 {
		return // a single element: offsets stay below its size
	}
	for lo < hi {
		mid := lo + (hi-lo)/2
		if idx, _ := leadingIndex(lt.prog.FieldPath(obj, mid)); idx >= 1 {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	tl.elem = lo
	tl.base = trimArrayPrefix(tl.base)
	tl.source = "[]" + tl.base
}

// leadingIndex reads the index of a field path that starts with one
// ("[12].Name" is 12).
func leadingIndex(path string) (uint64, bool) {
	if !strings.HasPrefix(path, "[") {
		return 0, false
	}
	var n uint64
	for i := 1; i < len(path); i++ {
		c := path[i]
		switch {
		case c >= '0' && c <= '9':
			n = n*10 + uint64(c-'0')
		case c == ']' && i > 1:
			return n, true
		default:
			return 0, false
		}
	}
	return 0, false
}

// trimArrayPrefix drops the length of an array type's name: "[64]*main.T"
// is "*main.T".
func trimArrayPrefix(name string) string {
	if _, ok := leadingIndex(name); ok {
		return name[strings.IndexByte(name, ']')+1:]
	}
	return name
}

func (lt *labelTable) intern(base, source, display string) uint32 {
	key := base + "\x00" + display
	if id, ok := lt.ids[key]; ok {
		return id
	}
	id := uint32(len(lt.names))
	lt.ids[key] = id
	lt.names = append(lt.names, display)
	lt.sources = append(lt.sources, source)
	return id
}

func (lt *labelTable) name(id uint32) string {
	if int(id) < len(lt.names) {
		return lt.names[id]
	}
	return "?"
}

func (lt *labelTable) source(id uint32) string {
	if int(id) < len(lt.sources) {
		return lt.sources[id]
	}
	return ""
}

// displayField turns gocore's field path of a pointer word into the label
// shown: the data pointer of a slice or string is the slice or string
// itself (".results", not ".results.array"); the pointer that is the
// whole value is "*". With collapse, indices become "[]".
func displayField(path string, collapse bool) string {
	for _, suffix := range []string{".array", ".str"} {
		if strings.HasSuffix(path, suffix) {
			path = path[:len(path)-len(suffix)]
			break
		}
	}
	if collapse {
		path = collapseIndices(path)
	}
	if path == "" {
		return "*"
	}
	return path
}

// collapseIndices writes every "[digits]" of a path as "[]".
func collapseIndices(path string) string {
	if !strings.Contains(path, "[") {
		return path
	}
	var sb strings.Builder
	for i := 0; i < len(path); i++ {
		sb.WriteByte(path[i])
		if path[i] != '[' {
			continue
		}
		j := i + 1
		for j < len(path) && path[j] >= '0' && path[j] <= '9' {
			j++
		}
		if j > i+1 && j < len(path) && path[j] == ']' {
			i = j - 1 // the digits are dropped; ']' is copied next
		}
	}
	return sb.String()
}

// SplitFieldPath splits a field path into its fields and indices:
// ".slots[].elem" is ["slots", "[]", "elem"], "*" stays "*".
func SplitFieldPath(path string) []string {
	var out []string
	for len(path) > 0 {
		switch path[0] {
		case '.':
			path = path[1:]
		case '[':
			end := strings.IndexByte(path, ']')
			if end < 0 {
				return append(out, path)
			}
			out = append(out, path[:end+1])
			path = path[end+1:]
		default:
			end := strings.IndexAny(path, ".[")
			if end < 0 {
				end = len(path)
			}
			out = append(out, path[:end])
			path = path[end:]
		}
	}
	return out
}

// joinLabels concatenates per-edge labels into one field path ("*" labels,
// which name no field, are kept as words of their own).
func joinLabels(labels []string) string {
	var sb strings.Builder
	for _, l := range labels {
		if l == "*" {
			sb.WriteString(".*")
			continue
		}
		sb.WriteString(l)
	}
	return sb.String()
}
