package compare

import (
	"cmp"
	"math"
	"slices"
)

// Tally is one named total of a dump: a type's live objects and bytes.
type Tally struct {
	Name  string
	Count uint64
	Bytes uint64
}

// TallyDelta compares one name's totals in two dumps.
type TallyDelta struct {
	Name               string
	OldCount, NewCount uint64
	OldBytes, NewBytes uint64
}

// DeltaCount is NewCount - OldCount.
func (d TallyDelta) DeltaCount() int64 { return int64(d.NewCount - d.OldCount) }

// DeltaBytes is NewBytes - OldBytes.
func (d TallyDelta) DeltaBytes() int64 { return int64(d.NewBytes - d.OldBytes) }

// Change says how d changed, its ratio being of the bytes.
func (d TallyDelta) Change() Change {
	return changeOf(d.OldCount, d.NewCount, d.OldBytes, d.NewBytes)
}

// Change says how a row changed between the dumps.
type Change struct {
	// Ratio is NEW/OLD of the row's size; nil when OLD's is 0.
	Ratio *float64
	// New: OLD has none. Gone: NEW has none.
	New, Gone bool
}

// changeOf describes a row by its counts and its sizes (the ratio is of
// the sizes).
func changeOf(oldCount, newCount, oldSize, newSize uint64) Change {
	c := Change{New: oldCount == 0, Gone: newCount == 0}
	if oldSize > 0 {
		r := float64(newSize) / float64(oldSize)
		c.Ratio = &r
	}
	return c
}

// DiffTallies compares two lists of tallies by name (a name listed twice
// is summed) and returns one row per name of either list, the largest
// byte growth first, then the largest count growth, then the most bytes
// in NEW, then by name.
func DiffTallies(older, newer []Tally) []TallyDelta {
	index := map[string]int{}
	var rows []TallyDelta
	row := func(name string) *TallyDelta {
		i, ok := index[name]
		if !ok {
			i = len(rows)
			index[name] = i
			rows = append(rows, TallyDelta{Name: name})
		}
		return &rows[i]
	}
	for _, t := range older {
		r := row(t.Name)
		r.OldCount += t.Count
		r.OldBytes += t.Bytes
	}
	for _, t := range newer {
		r := row(t.Name)
		r.NewCount += t.Count
		r.NewBytes += t.Bytes
	}
	slices.SortFunc(rows, func(a, b TallyDelta) int {
		return cmp.Or(cmp.Compare(b.DeltaBytes(), a.DeltaBytes()),
			cmp.Compare(b.DeltaCount(), a.DeltaCount()), cmp.Compare(b.NewBytes, a.NewBytes), cmp.Compare(a.Name, b.Name))
	})
	return rows
}

// percentGrowth is the growth from old to new in percent of old: +Inf
// when old is 0 and new is not.
func percentGrowth(old, new uint64) float64 {
	if old == 0 {
		if new == 0 {
			return 0
		}
		return math.Inf(1)
	}
	return 100 * (float64(new) - float64(old)) / float64(old)
}
