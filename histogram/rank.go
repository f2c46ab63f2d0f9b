package histogram

import "slices"

// ranking is the listing built from a pool of exactly counted values and an
// upper bound on the count of every value outside the pool.
type ranking struct {
	rows     []Row
	unlisted uint64 // Result.UnlistedMax
	complete bool
	best     []Row // the top+1 best pool values, before MinCount and bound
}

// rank lists the best pool values, at most o.top of them, keeping only
// those whose count is at least o.minCount and above bound, since a value
// outside the pool may have any count up to bound. The pool holds each
// value at most once.
func rank(pool []Row, bound uint64, o options) ranking {
	best := topK{k: o.top + 1}
	for _, r := range pool {
		if r.Count == 0 || o.skipZero && r.Value == 0 {
			continue
		}
		best.push(r)
	}
	h := best.sorted()
	n := 0
	for n < len(h) && n < o.top && h[n].Count >= o.minCount && h[n].Count > bound {
		n++
	}
	r := ranking{rows: slices.Clone(h[:n]), unlisted: bound, best: h}
	if n < len(h) {
		// h is sorted and holds every pool value ranked above what it
		// left out, so this is the largest unlisted pool count.
		r.unlisted = max(bound, h[n].Count)
	}
	// Either all o.top rows beat every value outside the pool, or no value
	// outside the pool can reach MinCount (nor be nonzero).
	r.complete = n == o.top || bound < max(o.minCount, 1)
	return r
}

// target returns the count a value must reach to belong to the listing
// as far as the pool can tell: the count of the o.top-th qualifying pool
// value, or MinCount when there are fewer.
func (r ranking) target(o options) uint64 {
	t := max(o.minCount, 1)
	if len(r.best) >= o.top && r.best[o.top-1].Count >= t {
		t = r.best[o.top-1].Count
	}
	return t
}

// above returns how many qualifying pool values have a count above b,
// counting at most o.top+1 of them.
func (r ranking) above(b uint64, o options) int {
	n := 0
	for _, row := range r.best {
		if row.Count > b && row.Count >= o.minCount {
			n++
		}
	}
	return n
}
