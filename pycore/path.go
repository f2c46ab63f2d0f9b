package pycore

import (
	"strconv"

	"github.com/heapsift/heapsift/heap"
)

// Naming references and offsets.

// RefPath names the reference labelled label out of obj: ".results",
// "[7]", "['alice']", "{}".
func (h *Heap) RefPath(obj int, label uint32) heap.Path {
	i := labelIndex(label)
	switch labelKind(label) {
	case labelClass:
		return heap.Path{heap.Attr("__class__")}
	case labelItem:
		return heap.Path{heap.Index(i)}
	case labelKey:
		return heap.Path{{Kind: heap.StepKey}}
	case labelValue:
		return heap.Path{{Kind: heap.StepValue, Name: h.keyRepr(obj, int(i))}}
	case labelAttr:
		return heap.Path{heap.Attr(h.names[i])}
	case labelAttrKy:
		return heap.Path{heap.Attr(h.names[i]), {Kind: heap.StepKey}}
	case labelField:
		return heap.Path{heap.Attr(h.names[i])}
	case labelElem:
		return heap.Path{{Kind: heap.StepElem}}
	case labelOffset:
		return heap.Path{{Kind: heap.StepOffset, Index: i}}
	case labelLocal:
		return heap.Path{heap.Field("gi_frame"), heap.Attr(h.names[i])}
	case labelOwnDict:
		return heap.Path{heap.Attr("__dict__")}
	}
	return nil
}

// RefClass maps a label to its class: elements and dict values collapse
// to one class a kind; names and offsets stay apart.
func (h *Heap) RefClass(t heap.TypeID, label uint32) uint32 {
	switch labelKind(label) {
	case labelItem, labelKey, labelValue, labelElem:
		return mkLabel(labelKind(label), 0)
	}
	return label
}

// keyRepr shows the key of entry i of obj's dict (obj itself, or the dict
// it owns) when it is a str or an int; "" otherwise.
func (h *Heap) keyRepr(obj int, i int) string {
	a, ti := h.Addr(obj), h.ti(obj)
	if ti.kind != kindDict {
		d, ok := h.ownDict(a, ti)
		if !ok {
			return ""
		}
		a = d
	}
	e, ok := h.dictEntryAt(a, i)
	if !ok {
		return ""
	}
	if s, ok := h.readStr(e.key, 100); ok {
		return pyRepr(s)
	}
	t, err := h.mem.u64(e.key + uint64(h.l.ObType))
	if err != nil {
		return ""
	}
	if kt, err := h.typeOf(t); err == nil && kt.name == "int" {
		if v, ok := h.intValue(e.key); ok {
			return strconv.FormatInt(v, 10)
		}
	}
	return ""
}

// PathAt names offset off within obj: its header fields, a list's or
// tuple's element, a slot, or a C member.
func (h *Heap) PathAt(obj int, off uint64) heap.Path {
	ti := h.ti(obj)
	o := int64(off)
	switch {
	case o == h.l.ObRefcnt:
		return heap.Path{heap.Field("ob_refcnt")}
	case o == h.l.ObType:
		return heap.Path{heap.Field("ob_type")}
	case ti.kind == kindTuple && o >= h.l.Tuple.Item && (o-h.l.Tuple.Item)%8 == 0:
		return heap.Path{heap.Index((o - h.l.Tuple.Item) / 8)}
	}
	for _, s := range ti.slots {
		if s.off == o {
			return heap.Path{heap.Attr(h.names[s.name])}
		}
	}
	if ti.kind == kindGeneric {
		for _, f := range h.l.structRefs[ti.cstruct] {
			if f.off == o {
				return heap.Path{heap.Field(f.name)}
			}
		}
	}
	return heap.Path{{Kind: heap.StepOffset, Index: o}}
}
