package histogram

import "slices"

// Multipliers for Fibonacci-style hashing: the top bits of key*mul are
// well mixed from all bits of key, including the high bits of pointers.
const (
	mulSlot = 0x9E3779B97F4A7C15 // table slots
	mulCell = 0xD6E8FEB86659FD93 // sketch counters, independent of slots
)

// counter counts nonzero keys in an open-addressing table with linear
// probing. The key 0 marks an empty slot; callers count 0 themselves.
type counter struct {
	keys   []uint64
	counts []uint64
	used   int
	shift  uint // 64 - log2(len(keys))
	limit  int  // most keys held; 0 means no limit
}

const minTableBits = 6

func newCounter(limit int) *counter {
	t := &counter{limit: limit}
	t.resize(minTableBits)
	return t
}

func (t *counter) resize(bits uint) {
	keys, counts := t.keys, t.counts
	t.keys = make([]uint64, 1<<bits)
	t.counts = make([]uint64, 1<<bits)
	t.shift = 64 - bits
	for i, k := range keys {
		if k != 0 {
			t.insert(k, counts[i])
		}
	}
}

// insert puts a key known to be absent, with room to spare.
func (t *counter) insert(k, n uint64) {
	mask := uint64(len(t.keys) - 1)
	i := (k * mulSlot) >> t.shift
	for t.keys[i] != 0 {
		i = (i + 1) & mask
	}
	t.keys[i], t.counts[i] = k, n
}

// add adds n to the count of k (nonzero). It reports false, changing
// nothing, when k is new and the table already holds limit keys.
func (t *counter) add(k, n uint64) bool {
	mask := uint64(len(t.keys) - 1)
	i := (k * mulSlot) >> t.shift
	for {
		switch t.keys[i] {
		case k:
			t.counts[i] += n
			return true
		case 0:
			return t.addNew(k, n, i)
		}
		i = (i + 1) & mask
	}
}

// addNew stores the new key k at its free slot i, growing the table first
// when it would be more than half full.
func (t *counter) addNew(k, n, i uint64) bool {
	if t.limit > 0 && t.used >= t.limit {
		return false
	}
	t.used++
	if 2*t.used > len(t.keys) {
		t.resize(65 - t.shift)
		t.insert(k, n)
		return true
	}
	t.keys[i], t.counts[i] = k, n
	return true
}

// rows returns the keys and counts held.
func (t *counter) rows() []Row {
	rows := make([]Row, 0, t.used+1)
	for i, k := range t.keys {
		if k != 0 {
			rows = append(rows, Row{k, t.counts[i]})
		}
	}
	return rows
}

// candSet is a read-only, direct-mapped table of candidate values: each
// candidate sits in its home slot, with no probing, so that looking a word
// up costs one multiply, one load and one compare, and the branch that
// follows is the only one per word. A candidate whose home slot a better
// one already holds is left out: candidates are only a guess, and a value
// left out is bounded by the sketch like any other.
//
// The value 0 is always a candidate and its home is slot 0 (0*mul is 0), so
// 0 also marks every other slot as empty: no word looked up there can be 0.
type candSet struct {
	keys  []uint64
	shift uint // 64 - log2(len(keys))
}

// newCandSet builds the table from vals, best first (0 is there in any
// case). It has at least two slots per value: most of them keep theirs,
// and the table stays small enough to share a core's L2 cache with the
// sketch.
func newCandSet(vals []uint64) *candSet {
	bits := uint(minTableBits)
	for 1<<bits < 2*len(vals) {
		bits++
	}
	c := &candSet{keys: make([]uint64, 1<<bits), shift: 64 - bits}
	for _, v := range vals {
		if i := c.home(v); c.keys[i] == 0 && i != 0 {
			c.keys[i] = v
		}
	}
	return c
}

// home returns the only slot where k can be.
func (c *candSet) home(k uint64) uint64 { return (k * mulSlot) >> c.shift }

// slot returns the index of k in keys, or -1 when k is not a candidate.
func (c *candSet) slot(k uint64) int {
	if i := c.home(k); c.keys[i] == k {
		return int(i)
	}
	return -1
}

// topValues returns the values of the (up to) k rows of t with the highest
// counts, best first.
func topValues(t *counter, k int) []uint64 {
	best := topK{k: k}
	for i, key := range t.keys {
		if key != 0 {
			best.push(Row{key, t.counts[i]})
		}
	}
	rows := best.sorted()
	vals := make([]uint64, len(rows))
	for i, r := range rows {
		vals[i] = r.Value
	}
	return vals
}

// ranksBelow reports whether a comes after b in the listing order: a lower
// count, or an equal count and a higher value.
func ranksBelow(a, b Row) bool {
	return a.Count < b.Count || a.Count == b.Count && a.Value > b.Value
}

func compareRank(a, b Row) int {
	switch {
	case ranksBelow(a, b):
		return 1
	case ranksBelow(b, a):
		return -1
	}
	return 0
}

// topK keeps the k best rows pushed so far in a heap whose root is the
// lowest ranked of them.
type topK struct {
	k int
	h []Row
}

func (t *topK) push(r Row) {
	if len(t.h) < t.k {
		t.h = append(t.h, r)
		t.up(len(t.h) - 1)
		return
	}
	if len(t.h) > 0 && ranksBelow(t.h[0], r) {
		t.h[0] = r
		t.down(0)
	}
}

func (t *topK) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !ranksBelow(t.h[i], t.h[p]) {
			return
		}
		t.h[i], t.h[p] = t.h[p], t.h[i]
		i = p
	}
}

func (t *topK) down(i int) {
	for {
		c := 2*i + 1
		if c >= len(t.h) {
			return
		}
		if c+1 < len(t.h) && ranksBelow(t.h[c+1], t.h[c]) {
			c++
		}
		if !ranksBelow(t.h[c], t.h[i]) {
			return
		}
		t.h[i], t.h[c] = t.h[c], t.h[i]
		i = c
	}
}

// sorted returns the kept rows, best first.
func (t *topK) sorted() []Row {
	slices.SortFunc(t.h, compareRank)
	return t.h
}
