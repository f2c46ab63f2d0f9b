// Package bitset is a fixed-size set of small integers, one bit each: the
// models' marks over dense object numbers.
package bitset

// Set holds the integers 0 to its size-1.
type Set []uint64

// New returns an empty set of room for 0..n-1.
func New(n int) Set { return make(Set, (n+63)/64) }

// Has reports whether i is in the set; numbers outside its room are not.
func (b Set) Has(i int) bool { return i >= 0 && i>>6 < len(b) && b[i>>6]&(1<<(uint(i)&63)) != 0 }

// Add puts i, which must be within the set's room, in the set.
func (b Set) Add(i int) { b[i>>6] |= 1 << (uint(i) & 63) }
