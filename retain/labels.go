package retain

import (
	"github.com/heapsift/heapsift/heap"
)

// labelTable collapses the labels of a heap's references into the labels
// Groups groups by: the path the model names the reference with, every
// index folded ("[]"), qualified by the family of the type the reference
// is in. So the pointers of all the elements of any []*T backing array
// share one label, "[]", and those of a map's slots one label per key or
// value field, whatever the array's length.
//
// Collapsing is asked once per reachable object. The answer is cached per
// type and reference class (heap.Heap.RefClass), so the model names each
// class once, not each reference.
type labelTable struct {
	h      heap.Heap
	types  []typeLabels      // by type ID, grown as types are met
	paths  []heap.Path       // label id -> collapsed path
	source []string          // label id -> the family of the type the references are in
	ids    map[string]uint32 // family + "\x00" + path -> label id
}

// typeLabels caches the labels of one type's reference classes: dense for
// small classes (offsets of pointer words), a map for the rest.
type typeLabels struct {
	dense []uint32 // class -> 1 + label, 0 if not yet known
	other map[uint32]uint32
}

// maxDenseClass bounds the dense cache of a type: classes above it (rare
// large offsets) go to the map.
const maxDenseClass = 1 << 14

func newLabelTable(h heap.Heap) *labelTable {
	return &labelTable{h: h, ids: map[string]uint32{}}
}

// collapse is the collapse function of GroupsBySource: the label of the
// reference labelled label out of object from.
func (lt *labelTable) collapse(from, label uint32) uint32 {
	obj := int(from)
	t := lt.h.Type(obj)
	if int(t) >= len(lt.types) {
		lt.types = append(lt.types, make([]typeLabels, int(t)+1-len(lt.types))...)
	}
	tl := &lt.types[t]
	class := lt.h.RefClass(t, label)
	if class < uint32(len(tl.dense)) && tl.dense[class] != 0 {
		return tl.dense[class] - 1
	}
	if id, ok := tl.other[class]; ok {
		return id
	}
	id := lt.intern(lt.h.TypeFamily(t), lt.h.RefPath(obj, label).Collapse())
	switch {
	case class < maxDenseClass:
		if class >= uint32(len(tl.dense)) {
			tl.dense = append(tl.dense, make([]uint32, int(class)+1-len(tl.dense))...)
		}
		tl.dense[class] = id + 1
	default:
		if tl.other == nil {
			tl.other = map[uint32]uint32{}
		}
		tl.other[class] = id
	}
	return id
}

func (lt *labelTable) intern(family string, path heap.Path) uint32 {
	key := family + "\x00" + path.RawString()
	if id, ok := lt.ids[key]; ok {
		return id
	}
	id := uint32(len(lt.paths))
	lt.ids[key] = id
	lt.paths = append(lt.paths, path)
	lt.source = append(lt.source, family)
	return id
}

// path returns a label's collapsed path.
func (lt *labelTable) path(id uint32) heap.Path {
	if int(id) < len(lt.paths) {
		return lt.paths[id]
	}
	return heap.Path{{Kind: heap.StepUnknown}}
}

// sourceOf returns the family of the type a label's references are in.
func (lt *labelTable) sourceOf(id uint32) string {
	if int(id) < len(lt.source) {
		return lt.source[id]
	}
	return ""
}
