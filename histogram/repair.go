package histogram

import (
	"cmp"
	"slices"
)

// heavy is the set of sketch counters whose values a repair pass counts
// exactly.
type heavy struct {
	bits   []uint64 // bitmap over the sketch counters
	shift  uint     // 64 - sketch bits, as in the exact pass
	cells  int      // counters in the set
	rest   uint64   // largest counter outside the set
	target uint64   // count a value needs to enter the listing
	mean   uint64   // mean counter
}

func (h *heavy) has(c uint64) bool { return h.bits[c>>6]&(1<<(c&63)) != 0 }

// chooseHeavy picks the counters that may hold a value reaching the
// listing's target count. When there are too many of them, or their values
// would not fit the repair tables, it keeps the largest counters that do.
func chooseHeavy(sketch []uint64, r ranking, o options, cfg config) heavy {
	h := heavy{
		bits:   make([]uint64, (len(sketch)+63)/64),
		shift:  64 - cfg.sketchBits,
		target: r.target(o),
	}
	var cells []int
	var sum uint64
	for c, n := range sketch {
		sum += n
		if n >= h.target {
			cells = append(cells, c)
		}
	}
	// A counter holds at most its count in distinct values, and about the
	// mean count of them when its excess comes from a few heavy values.
	h.mean = sum / uint64(len(sketch))
	spread := 2*h.mean + 1
	slices.SortFunc(cells, func(a, b int) int { return cmp.Compare(sketch[b], sketch[a]) })
	var room uint64 = uint64(cfg.repairBudget) * 3 / 4
	for _, c := range cells {
		est := min(sketch[c], spread)
		if h.cells >= cfg.repairCells || est > room {
			break
		}
		room -= est
		h.bits[c>>6] |= 1 << (c & 63)
		h.cells++
	}
	for c, n := range sketch {
		if !h.has(uint64(c)) {
			h.rest = max(h.rest, n)
		}
	}
	return h
}

// worthwhile reports whether resolving h can improve ranking r, whose
// values outside the pool are bounded by bound. The bound must drop, and
// then either the listing may become complete, or more pool values will be
// listed, or the largest counter stands out from the typical one by more
// than noise, hinting at a frequent value the sample missed.
func (h *heavy) worthwhile(r ranking, bound uint64, o options) bool {
	switch {
	case h.cells == 0 || h.rest >= bound:
		return false
	case h.rest < h.target || r.above(h.rest, o) > len(r.rows):
		return true
	}
	return bound-h.rest > h.mean/2
}

// repairWorker is one goroutine's state in the repair pass.
type repairWorker struct {
	h        *heavy
	table    *counter
	overflow []uint64 // counters in h some of whose values did not fit table
}

func (rw *repairWorker) scan(p []byte) {
	for len(p) >= 8 {
		w, n, rest := run(p)
		p = rest
		if w == 0 {
			continue
		}
		c := (w * mulCell) >> rw.h.shift
		if !rw.h.has(c) {
			continue
		}
		if !rw.table.add(w, n) {
			rw.overflow[c>>6] |= 1 << (c & 63)
		}
	}
}

// repairCounts is the outcome of a repair pass.
type repairCounts struct {
	workers  []*repairWorker
	overflow []uint64 // union of the workers' overflow
}

// repairPass counts exactly, over all chunks, the nonzero values hashing
// to the counters of h, within tables of cfg.repairBudget values in all.
func repairPass(chunks [][]byte, h heavy, workers int, cfg config) *repairCounts {
	limit := max(cfg.repairBudget/workers, 1)
	rc := &repairCounts{workers: make([]*repairWorker, workers), overflow: make([]uint64, len(h.bits))}
	for i := range rc.workers {
		rc.workers[i] = &repairWorker{h: &h, table: newCounter(limit), overflow: make([]uint64, len(h.bits))}
	}
	scanStrided(chunks, workers, func(w int, p []byte) { rc.workers[w].scan(p) })
	for _, rw := range rc.workers {
		for i, b := range rw.overflow {
			rc.overflow[i] |= b
		}
	}
	return rc
}

func (rc *repairCounts) overflowed(c uint64) bool {
	return rc.overflow[c>>6]&(1<<(c&63)) != 0
}

// rows returns the exact counts of the values the pass resolved, leaving
// out candidates (already counted) and values of overflowed counters.
func (rc *repairCounts) rows(cand *candSet, h heavy) []Row {
	merged := newCounter(0)
	for _, rw := range rc.workers {
		for i, k := range rw.table.keys {
			if k == 0 || rc.overflowed((k*mulCell)>>h.shift) || cand.slot(k) >= 0 {
				continue
			}
			merged.add(k, rw.table.counts[i])
		}
		rw.table = nil
	}
	return merged.rows()
}

// bound returns an upper bound on the count of every value that is neither
// a candidate nor resolved: the largest counter left out of h or
// overflowed.
func (rc *repairCounts) bound(sketch []uint64, h heavy) uint64 {
	b := h.rest
	for c, n := range sketch {
		if rc.overflowed(uint64(c)) {
			b = max(b, n)
		}
	}
	return b
}
