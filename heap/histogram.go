package heap

import "sort"

// TypeStat is one line of a type histogram.
type TypeStat struct {
	Type  TypeID
	Name  string // the type's display name
	Count uint64 // live objects
	Size  uint64 // size of each object, 0 if they differ
	Bytes uint64 // total size
	Typed bool   // false for a model's stand-in for objects of unknown type
}

// UntypedReporter is implemented by models some of whose type IDs stand
// for objects of unknown type ("<untyped 48>").
type UntypedReporter interface {
	Untyped(t TypeID) bool
}

// Histogram returns the live objects of h grouped by type, largest Bytes
// first (then most objects, then by name).
func Histogram(h Heap) []TypeStat {
	nt := h.NumTypes()
	count := make([]uint64, nt)
	bytes := make([]uint64, nt)
	size := make([]uint64, nt) // common size, ^0 when sizes differ
	for i, n := 0, h.NumObjects(); i < n; i++ {
		if !h.Live(i) {
			continue
		}
		t, s := h.Type(i), h.Size(i)
		if int(t) >= nt {
			continue
		}
		count[t]++
		bytes[t] += s
		switch size[t] {
		case 0:
			size[t] = s
		case s:
		default:
			size[t] = ^uint64(0)
		}
	}
	untyped, _ := h.(UntypedReporter)
	var out []TypeStat
	for t := range count {
		if count[t] == 0 {
			continue
		}
		st := TypeStat{Type: TypeID(t), Name: h.TypeName(TypeID(t)), Count: count[t], Bytes: bytes[t], Size: size[t], Typed: true}
		if st.Size == ^uint64(0) {
			st.Size = 0
		}
		if untyped != nil && untyped.Untyped(TypeID(t)) {
			st.Typed = false
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Bytes != b.Bytes {
			return a.Bytes > b.Bytes
		}
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Name < b.Name
	})
	return out
}

// Totals sums a heap's objects.
type Totals struct {
	LiveObjects, LiveBytes       uint64
	GarbageObjects, GarbageBytes uint64
	TypedBytes                   uint64 // live bytes of objects of a known type
}

// SumTotals returns h's totals.
func SumTotals(h Heap) Totals {
	var t Totals
	untyped, _ := h.(UntypedReporter)
	for i, n := 0, h.NumObjects(); i < n; i++ {
		s := h.Size(i)
		if !h.Live(i) {
			t.GarbageObjects++
			t.GarbageBytes += s
			continue
		}
		t.LiveObjects++
		t.LiveBytes += s
		if untyped == nil || !untyped.Untyped(h.Type(i)) {
			t.TypedBytes += s
		}
	}
	return t
}
