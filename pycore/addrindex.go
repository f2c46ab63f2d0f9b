package pycore

import (
	"fmt"
	"math"
	"math/bits"
	"sort"
)

// addrIndex is the set of object addresses found, kept as one bit an
// 8-byte word of the bytes the core holds for each mapping (1/64 of the
// heap), with a second bitmap for the objects the collector tracks. Once
// sealed, an object's number is the count of objects at lower addresses:
// a rank, found in constant time from a count per 64-bit word (1/128 of
// the heap more), so that numbering needs no sort and finding an object
// by address no search over the objects. The index is also the only
// record of the objects' addresses: object i's address is found by
// selecting the set bit of rank i (a binary search over the mappings'
// first ranks and over the counts, then a select within a word), and the
// passes over every object walk the bitmaps in order. Keeping an array of
// addresses instead would cost 8 bytes per object.
type addrIndex struct {
	v       *coreView
	bits    [][]uint64 // per mapping, nil until an address in it is added
	tracked [][]uint64 // likewise, the tracked objects
	rank    [][]uint32 // per mapping and word, the objects before that word
	// first[i] is the number of the first object in mapping i (after
	// seal); first[len(ms)] is n.
	first []uint32
	n     int
}

func newAddrIndex(v *coreView) *addrIndex {
	return &addrIndex{v: v, bits: make([][]uint64, len(v.ms)), tracked: make([][]uint64, len(v.ms))}
}

// locate returns the mapping index and word number of a, which must be
// 8-byte aligned and held in the core.
func (x *addrIndex) locate(a uint64) (int, uint64, bool) {
	if i, off, ok := x.v.guessHeld(a); ok && a&7 == 0 && off>>3 < uint64(len(x.v.held[i]))>>3 {
		return i, off >> 3, true
	}
	i := x.v.find(a)
	if i < 0 || a&7 != 0 {
		return 0, 0, false
	}
	w := (a - uint64(x.v.ms[i].Start)) >> 3
	if w >= uint64(len(x.v.held[i]))>>3 {
		return 0, 0, false
	}
	return i, w, true
}

// seen reports whether word w of mapping i holds an address added.
func (x *addrIndex) seen(i int, w uint64) bool {
	b := x.bits[i]
	return b != nil && b[w>>6]&(1<<(w&63)) != 0
}

// add adds word w of mapping i as an object's address (tracked says the
// collector lists it) and reports whether it was new.
func (x *addrIndex) add(i int, w uint64, tracked bool) bool {
	b := x.bits[i]
	if b == nil {
		words := (len(x.v.held[i])>>3 + 63) / 64
		b = make([]uint64, words)
		x.bits[i] = b
		x.tracked[i] = make([]uint64, words)
	}
	m := uint64(1) << (w & 63)
	if b[w>>6]&m != 0 {
		return false
	}
	b[w>>6] |= m
	if tracked {
		x.tracked[i][w>>6] |= m
	}
	x.n++
	return true
}

// seal computes the ranks; no address may be added afterwards. It calls
// fn for each address in increasing order with its number and whether it
// is tracked, and drops the tracked bitmaps.
func (x *addrIndex) seal(fn func(obj int, a uint64, tracked bool)) error {
	if x.n > math.MaxUint32-2 {
		return fmt.Errorf("pycore: %d objects is more than heapsift can number", x.n)
	}
	x.rank = make([][]uint32, len(x.bits))
	x.first = make([]uint32, len(x.bits)+1)
	n := 0
	for i, b := range x.bits {
		x.first[i] = uint32(n)
		if b == nil {
			continue
		}
		r := make([]uint32, len(b))
		start, tr := uint64(x.v.ms[i].Start), x.tracked[i]
		for k, word := range b {
			r[k] = uint32(n)
			for word != 0 {
				j := bits.TrailingZeros64(word)
				fn(n, start+uint64(k*64+j)*8, tr[k]&(1<<j) != 0)
				word &= word - 1
				n++
			}
		}
		x.rank[i] = r
	}
	x.first[len(x.bits)] = uint32(n)
	x.tracked = nil
	return nil
}

// each calls fn for every object in increasing address order, after
// seal: one pass over the bitmaps.
func (x *addrIndex) each(fn func(obj int, a uint64)) {
	n := 0
	for i, b := range x.bits {
		start := uint64(x.v.ms[i].Start)
		for k, word := range b {
			for word != 0 {
				j := bits.TrailingZeros64(word)
				fn(n, start+uint64(k*64+j)*8)
				word &= word - 1
				n++
			}
		}
	}
}

// addr returns the address of object obj, after seal: O(log n).
func (x *addrIndex) addr(obj int) uint64 {
	o := uint32(obj)
	// The last mapping whose first object is at most obj, and within it
	// the last word whose rank is at most obj: that word holds it.
	i := sort.Search(len(x.bits), func(i int) bool { return x.first[i+1] > o })
	r := x.rank[i]
	k := sort.Search(len(r), func(k int) bool { return r[k] > o }) - 1
	word := x.bits[i][k]
	for skip := o - r[k]; skip > 0; skip-- {
		word &= word - 1
	}
	j := bits.TrailingZeros64(word)
	return uint64(x.v.ms[i].Start) + uint64(k*64+j)*8
}

// below returns the number of objects at addresses below a, after seal.
func (x *addrIndex) below(a uint64) int {
	ends := x.v.ends
	i := sort.Search(len(ends), func(i int) bool { return ends[i] > a })
	if i == len(ends) || a < uint64(x.v.ms[i].Start) || x.bits[i] == nil {
		return int(x.first[i])
	}
	w := (a - uint64(x.v.ms[i].Start)) >> 3
	b := x.bits[i]
	if w>>6 >= uint64(len(b)) {
		return int(x.first[i+1])
	}
	return int(x.rank[i][w>>6]) + bits.OnesCount64(b[w>>6]&(1<<(w&63)-1))
}

// find returns the number of the object at a, after seal.
func (x *addrIndex) find(a uint64) (int, bool) {
	i, w, ok := x.locate(a)
	if !ok || x.bits[i] == nil {
		return 0, false
	}
	word, m := x.bits[i][w>>6], uint64(1)<<(w&63)
	if word&m == 0 {
		return 0, false
	}
	return int(x.rank[i][w>>6]) + bits.OnesCount64(word&(m-1)), true
}
