package histogram

import (
	"encoding/binary"
	"math/bits"
)

// CountValues answers "how often does each of these values occur?" for a
// given set of values, exactly, in one parallel pass over the words.
//
// The values go into an open-addressing table with linear probing, sized
// to at least four slots per value so that most words, which are not in
// the set, are rejected by one load and one compare, and small enough to
// stay in cache for the few thousand values a diff asks about. An empty
// slot holds a sentinel that is not one of the values (so 0 can be asked
// about like any other value). Each worker counts into its own array
// indexed by slot; the arrays are summed at the end.

// valueSet is the lookup table of the values being counted.
type valueSet struct {
	keys  []uint64 // by slot: a value, or empty
	empty uint64   // the sentinel of unused slots; never a value
	shift uint     // 64 - log2(len(keys))
}

// newValueSet builds the table for values (duplicates allowed).
func newValueSet(values []uint64) *valueSet {
	taken := make(map[uint64]bool, len(values))
	for _, v := range values {
		taken[v] = true
	}
	empty := uint64(0)
	for taken[empty] {
		empty++
	}
	b := uint(bits.Len(uint(4 * len(values)))) // 2^b > 4*len(values)
	b = max(b, 4)
	s := &valueSet{keys: make([]uint64, 1<<b), empty: empty, shift: 64 - b}
	for i := range s.keys {
		s.keys[i] = empty
	}
	for _, v := range values {
		if s.slot(v) < 0 {
			s.keys[s.free(v)] = v
		}
	}
	return s
}

// slot returns the slot holding v, or -1.
func (s *valueSet) slot(v uint64) int {
	mask := uint64(len(s.keys) - 1)
	for i := (v * mulSlot) >> s.shift; ; i = (i + 1) & mask {
		switch s.keys[i] {
		case v:
			return int(i)
		case s.empty:
			return -1
		}
	}
}

// free returns the empty slot where v, which is absent, goes.
func (s *valueSet) free(v uint64) uint64 {
	mask := uint64(len(s.keys) - 1)
	i := (v * mulSlot) >> s.shift
	for s.keys[i] != s.empty {
		i = (i + 1) & mask
	}
	return i
}

// scan adds the words of p to counts (by slot). The common case, a word
// not in the set whose home slot is empty, costs a multiply, a load and
// two compares.
func (s *valueSet) scan(p []byte, counts []uint64) {
	keys, empty, shift := s.keys, s.empty, s.shift
	mask := uint64(len(keys) - 1)
	counts = counts[:len(keys)]
	for len(p) >= 8 {
		w := binary.LittleEndian.Uint64(p)
		p = p[8:]
		i := (w * mulSlot) >> shift
		for {
			k := keys[i&mask]
			if k == w {
				counts[i&mask]++
				break
			}
			if k == empty {
				break
			}
			i++
		}
	}
}

// CountValues returns how many times each of values occurs as an aligned
// word in regions: counts[i] for values[i] (a value listed twice gets its
// count twice). Words are read as Count reads them. workers is the number
// of goroutines; 0 means one per CPU. A memory fault while reading is a
// *FaultError.
func CountValues(regions []Region, values []uint64, workers int) (_ []uint64, err error) {
	defer guardFaults(&err)()
	counts := make([]uint64, len(values))
	if len(values) == 0 {
		return counts, nil
	}
	o, err := normalize(Options{Workers: max(workers, 0)})
	if err != nil {
		return nil, err
	}
	chunks, _ := plan(regions, defaultConfig().chunkWords)
	set := newValueSet(values)
	workers = max(1, min(o.workers, len(chunks)))
	perWorker := make([][]uint64, workers)
	for w := range perWorker {
		perWorker[w] = make([]uint64, len(set.keys))
	}
	scanChunks(chunks, workers, func(w int, p []byte) { set.scan(p, perWorker[w]) })
	for i, v := range values {
		s := set.slot(v)
		for _, c := range perWorker {
			counts[i] += c[s]
		}
	}
	return counts, nil
}
