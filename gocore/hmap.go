package gocore

// Maps before Go 1.24 (runtime.hmap, which DWARF describes as hash<K,V>):
// buckets points to 1<<B buckets allocated as one array, oldbuckets to
// the previous array while the map grows. A bucket array of at most 512
// bytes has no malloc header, so only these slots say what it holds.

import (
	"debug/dwarf"
	"strings"

	"github.com/heapsift/heapsift/gocore/rtread"
)

// isHmap reports whether the struct called name is a pre-1.24 map header.
func isHmap(u *dwarf.StructType) bool {
	return strings.HasPrefix(u.StructName, "hash<") && rtread.HasField(u, "buckets") && rtread.HasField(u, "B")
}

// compileHmap appends the slots of a hash<K,V> at offset base: its other
// fields, and buckets and oldbuckets as arrays of their bucket type.
func (p *Program) compileHmap(u *dwarf.StructType, base uint64, out []slot, depth int) []slot {
	for _, f := range u.Field {
		if f.Name != "buckets" && f.Name != "oldbuckets" {
			out = p.compile(f.Type, base+uint64(f.ByteOffset), out, depth+1)
		}
	}
	b, err := rtread.Field(u, "B")
	if err != nil {
		return out
	}
	for _, name := range []string{"buckets", "oldbuckets"} {
		f, err := rtread.Field(u, name)
		if err != nil {
			continue
		}
		pt, ok := rtread.StripTypedefs(f.Type).(*dwarf.PtrType)
		if !ok || pt.Type == nil || pt.Type.Size() <= 0 {
			continue
		}
		s := slot{off: base + uint64(f.ByteOffset), kind: slotBuckets, target: p.types.internDWARF(pt.Type), auxOff: base + uint64(b.ByteOffset)}
		if name == "oldbuckets" {
			s.aux2 = 1 // half as many, or as many (a same-size grow): at least half
		}
		out = append(out, s)
	}
	return out
}

// buckets handles a slotBuckets: a pointer to 1<<B buckets (1<<B>>s.aux2
// at least, for oldbuckets), B the byte at s.auxOff.
func (pr *propagator) buckets(r *region, base uint64, s *slot) {
	ptr, ok := pr.word(r, base+s.off)
	if !ok || ptr == 0 {
		return
	}
	w, ok := pr.rawWord(r, base+s.auxOff)
	if !ok {
		return
	}
	b := w & 0xff
	if b > 40 {
		return
	}
	n := uint64(1) << b >> s.aux2
	pr.offer(r, base+s.off, ptr, s.target, max(n, 1)*pr.p.types.types[s.target].size, offerFit)
}
