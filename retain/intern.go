package retain

// internTable maps uint64 keys to uint32 values by open addressing with
// linear probing; a slot whose value is None is empty. It stands in for a
// Go map on the per-object path of Groups: two flat arrays, one hash per
// lookup, nothing allocated per entry.
type internTable struct {
	keys []uint64
	vals []uint32
	used int
}

func newInternTable() *internTable {
	t := &internTable{}
	t.resize(1 << 10)
	return t
}

func (t *internTable) resize(slots int) {
	keys, vals := t.keys, t.vals
	t.keys = make([]uint64, slots)
	t.vals = make([]uint32, slots)
	for i := range t.vals {
		t.vals[i] = None
	}
	t.used = 0
	for i, v := range vals {
		if v != None {
			t.insert(keys[i], v)
		}
	}
}

// lookup returns the value stored under key, or None.
func (t *internTable) lookup(key uint64) uint32 {
	mask := uint64(len(t.keys) - 1)
	for i := mix64(key) & mask; ; i = (i + 1) & mask {
		if t.vals[i] == None || t.keys[i] == key {
			return t.vals[i]
		}
	}
}

// insert stores val (not None) under key, which must not be present.
func (t *internTable) insert(key uint64, val uint32) {
	if 2*(t.used+1) > len(t.keys) {
		t.resize(2 * len(t.keys))
	}
	mask := uint64(len(t.keys) - 1)
	i := mix64(key) & mask
	for t.vals[i] != None {
		i = (i + 1) & mask
	}
	t.keys[i], t.vals[i] = key, val
	t.used++
}

// pathTable interns label paths from the super-root along the
// breadth-first tree. Path 0 is the empty path (the super-root itself);
// every other path is its parent path plus one label. A path whose parent
// is 0 is a root step and its label a root label.
type pathTable struct {
	parent []uint32
	label  []uint32
	// next maps (path, label) to the path that step leads to, so each
	// distinct step is worked out once.
	next *internTable
}

func newPathTable() *pathTable {
	return &pathTable{parent: []uint32{None}, label: []uint32{None}, next: newInternTable()}
}

// step returns the path reached from path from by an edge labelled label.
// Labels below the root step go through collapse, and a label already on
// the path (below the root step) folds the path back to where it occurred,
// so that lists, trees and other recursive structures yield a bounded
// number of paths (root.head.next.next... is root.head.next).
func (pt *pathTable) step(from, label uint32, collapse func(uint32) uint32) uint32 {
	if from != 0 && collapse != nil {
		label = collapse(label)
	}
	key := uint64(from)<<32 | uint64(label)
	if to := pt.next.lookup(key); to != None {
		return to
	}
	to := pt.fold(from, label)
	if to == None {
		to = uint32(len(pt.parent))
		pt.parent = append(pt.parent, from)
		pt.label = append(pt.label, label)
	}
	pt.next.insert(key, to)
	return to
}

// fold returns the path ending at the nearest step below the root step of
// path from that has label, or None.
func (pt *pathTable) fold(from, label uint32) uint32 {
	if from == 0 {
		return None
	}
	for q := from; pt.parent[q] != 0; q = pt.parent[q] {
		if pt.label[q] == label {
			return q
		}
	}
	return None
}

// labels returns the root label of path id and the labels below it,
// outermost first.
func (pt *pathTable) labels(id uint32) (root uint32, below []uint32) {
	for ; pt.parent[id] != 0; id = pt.parent[id] {
		below = append(below, pt.label[id])
	}
	for i, j := 0, len(below)-1; i < j; i, j = i+1, j-1 {
		below[i], below[j] = below[j], below[i]
	}
	return pt.label[id], below
}

// mix64 is a 64-bit finalizer (xorshift-multiply) spreading every input
// bit over the result.
func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}
