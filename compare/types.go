package compare

// TypeDiff compares two heaps type by type.
type TypeDiff struct {
	// Total is the whole live heap of each dump.
	Total TallyDelta
	// Rows has one row per type live in either dump, in DiffTallies order.
	Rows []TallyDelta
}

// DiffTypes compares the per-type tallies of two heaps; the totals are
// their sums.
func DiffTypes(older, newer []Tally) *TypeDiff {
	d := &TypeDiff{Total: TallyDelta{Name: "the live heap"}, Rows: DiffTallies(older, newer)}
	for _, r := range d.Rows {
		d.Total.OldCount += r.OldCount
		d.Total.NewCount += r.NewCount
		d.Total.OldBytes += r.OldBytes
		d.Total.NewBytes += r.NewBytes
	}
	return d
}

// Growth returns what limits measure in d: the total and every type.
func (d *TypeDiff) Growth() Growth {
	g := Growth{kind: ByType, measures: []measure{{scope: "total", TallyDelta: d.Total, bytes: true}}}
	for _, t := range d.Rows {
		g.measures = append(g.measures, measure{scope: "type", TallyDelta: t, bytes: true})
	}
	return g
}
