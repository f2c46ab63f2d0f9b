package histogram

// exactWorker is one goroutine's state in the exact pass.
type exactWorker struct {
	cand    *candSet
	counts  []uint64 // per slot of cand.keys
	zeros   uint64
	sketch  []uint32 // counters of non-candidates, by hash
	wide    []uint64 // sketch totals moved out before a uint32 could overflow
	shift   uint     // 64 - sketch bits
	pending uint64   // words added to sketch since the last move to wide
}

// scan counts the words of one chunk. It works on local copies of the
// fields, which the compiler then keeps in registers.
func (x *exactWorker) scan(p []byte) {
	words := uint64(len(p) / 8)
	if x.pending+words >= 1<<32 {
		x.spill()
	}
	x.pending += words
	cand, counts, sketch, shift := *x.cand, x.counts, x.sketch, x.shift
	zeros := x.zeros
	for len(p) >= 8 {
		w, n, rest := run(p)
		p = rest
		if w == 0 {
			zeros += n
			continue
		}
		if s := cand.slot(w); s >= 0 {
			counts[s] += n
			continue
		}
		sketch[(w*mulCell)>>shift] += uint32(n)
	}
	x.zeros = zeros
}

// spill moves the sketch counters into wide.
func (x *exactWorker) spill() {
	if x.wide == nil {
		x.wide = make([]uint64, len(x.sketch))
	}
	for i, v := range x.sketch {
		x.wide[i] += uint64(v)
		x.sketch[i] = 0
	}
	x.pending = 0
}

// exactCounts is the merged outcome of the exact pass.
type exactCounts struct {
	cand   *candSet
	counts []uint64 // per slot of cand.keys
	zeros  uint64
	sketch []uint64 // per counter: total count of the non-candidates hashing there
}

// exactPass counts the candidates and 0 exactly over all chunks, and every
// other word in a sketch of 1<<bits counters.
func exactPass(chunks [][]byte, cand *candSet, workers int, bits uint) *exactCounts {
	ws := make([]*exactWorker, workers)
	for i := range ws {
		ws[i] = &exactWorker{
			cand:   cand,
			counts: make([]uint64, len(cand.keys)),
			sketch: make([]uint32, 1<<bits),
			shift:  64 - bits,
		}
	}
	parallel(chunks, workers, func(w int, p []byte) { ws[w].scan(p) })
	ex := &exactCounts{cand: cand, counts: make([]uint64, len(cand.keys)), sketch: make([]uint64, 1<<bits)}
	for _, x := range ws {
		ex.zeros += x.zeros
		for i, n := range x.counts {
			ex.counts[i] += n
		}
		for i, n := range x.sketch {
			ex.sketch[i] += uint64(n)
		}
		for i, n := range x.wide {
			ex.sketch[i] += n
		}
	}
	return ex
}

// pool returns the exactly counted values: 0 and the candidates seen.
func (ex *exactCounts) pool() []Row {
	rows := []Row{{0, ex.zeros}}
	for i, k := range ex.cand.keys {
		if k != 0 && ex.counts[i] > 0 {
			rows = append(rows, Row{k, ex.counts[i]})
		}
	}
	return rows
}

// bound returns an upper bound on the count of any non-candidate value: the
// largest sketch counter.
func (ex *exactCounts) bound() uint64 {
	var b uint64
	for _, n := range ex.sketch {
		b = max(b, n)
	}
	return b
}
