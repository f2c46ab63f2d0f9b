package rtread

import (
	"debug/dwarf"
	"fmt"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/warn"
)

// checkSliceLen checks the length n read from Go slice v against what the
// core can hold: not negative, at most the capacity, and its elements lying
// in memory the core maps from the slice's array on. A runtime slice whose
// header was damaged (runtime.allgs with a length of 2^40) is then an
// error naming it, not a loop of 2^40 reads.
func (v Value) checkSliceLen(n int64) error {
	if n < 0 {
		return fmt.Errorf("negative length %d", n)
	}
	if v.HasField("cap") {
		c, err := v.Field("cap").Int()
		if err == nil && n > c {
			return fmt.Errorf("length %d exceeds capacity %d", n, c)
		}
	}
	if n == 0 {
		return nil
	}
	arr := v.Field("array")
	p, err := arr.Ptr()
	if err != nil {
		return err
	}
	pt, ok := StripTypedefs(arr.Type).(*dwarf.PtrType)
	if !ok {
		return fmt.Errorf("%s.array is not a pointer", TypeName(v.Type))
	}
	es := max(pt.Type.Size(), 1)
	mapped := mappedFrom(v.r.proc, p)
	if uint64(n) > mapped/uint64(es) {
		return fmt.Errorf("length %d needs %d bytes at %#x, but the core maps %d bytes there", n, uint64(n)*uint64(es), uint64(p), mapped)
	}
	return nil
}

// mappedFrom returns how many bytes from a on lie in mappings of proc, in
// contiguous mappings.
func mappedFrom(proc *dump.Process, a dump.Address) uint64 {
	var n uint64
	for cur := a; ; {
		m := proc.FindMapping(cur)
		if m == nil {
			return n
		}
		n += uint64(m.End - cur)
		cur = m.End
		if cur == 0 { // the mapping ends at the top of the address space
			return n
		}
	}
}

// repeats remembers the structures a runtime list has named, so that a
// list damaged into naming one mspan or g a million times yields it once
// (and counts it once in the heap's totals), with one warning.
type repeats struct {
	seen  map[dump.Address]bool
	n     int
	first dump.Address
}

// again reports whether a was named before, remembering it.
func (r *repeats) again(a dump.Address) bool {
	if r.seen == nil {
		r.seen = map[dump.Address]bool{}
	}
	if !r.seen[a] {
		r.seen[a] = true
		return false
	}
	if r.n == 0 {
		r.first = a
	}
	r.n++
	return true
}

// warnings says how many repeats list (a name such as
// "runtime.mheap_.allspans") held.
func (r *repeats) warnings(list, what string) []warn.Warning {
	if r.n == 0 {
		return nil
	}
	return []warn.Warning{warn.New(source, "%s names %d %s more than once (the first at %#x); each is read once", list, r.n, what, uint64(r.first))}
}
