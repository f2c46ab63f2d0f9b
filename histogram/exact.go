package histogram

import "encoding/binary"

// exactWorker is one goroutine's state in the exact pass.
type exactWorker struct {
	cand    *candSet
	counts  []uint64 // per slot of cand.keys; slot 0 counts the zeros met one by one
	zeros   uint64   // zeros met in all-zero blocks of zeroBlock words
	sketch  []uint32 // counters of non-candidates, by hash
	wide    []uint64 // sketch totals moved out before a uint32 could overflow
	shift   uint     // 64 - sketch bits
	pending uint64   // words added to sketch since the last move to wide
}

// zeroBlock is how many words the exact pass tests for zero at once: a
// core is mostly zeros and pointers, and four words OR-ed together skip a
// zero run at the speed of reading it.
const zeroBlock = 4

// scan counts the words of one chunk. A word is not compared with its
// neighbours (a run of equal words would save little but cost a
// mispredicted branch at every change of value): a block of zeros is
// counted at once, any other word looked up in the candidates, and added
// to the sketch when it is not one. It works on local copies of the
// fields, which the compiler then keeps in registers.
func (x *exactWorker) scan(p []byte) {
	words := uint64(len(p) / 8)
	if x.pending+words >= 1<<32 {
		x.spill()
	}
	x.pending += words
	// Shifts below 64 and masks by the tables' lengths let the compiler
	// drop the bounds checks and the checks for oversized shifts.
	keys, cshift := x.cand.keys, x.cand.shift&63
	counts, sketch, shift := x.counts[:len(keys)], x.sketch, x.shift&63
	kmask, smask := uint64(len(keys)-1), uint64(len(sketch)-1)
	zeros := x.zeros
	// one counts the word w.
	one := func(w uint64) {
		if i := (w * mulSlot) >> cshift & kmask; keys[i] == w {
			counts[i]++
		} else {
			sketch[(w*mulCell)>>shift&smask]++
		}
	}
	for len(p) >= 8*zeroBlock {
		w0 := binary.LittleEndian.Uint64(p)
		w1 := binary.LittleEndian.Uint64(p[8:])
		w2 := binary.LittleEndian.Uint64(p[16:])
		w3 := binary.LittleEndian.Uint64(p[24:])
		p = p[8*zeroBlock:]
		if w0|w1|w2|w3 == 0 {
			zeros += zeroBlock
			continue
		}
		one(w0)
		one(w1)
		one(w2)
		one(w3)
	}
	for ; len(p) >= 8; p = p[8:] {
		one(binary.LittleEndian.Uint64(p))
	}
	x.zeros = zeros
}

// zeroCount returns how many zeros the worker counted.
func (x *exactWorker) zeroCount() uint64 { return x.zeros + x.counts[0] }

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
	counts []uint64 // per slot of cand.keys; slot 0 is the zeros met one by one
	zeros  uint64   // zeros met in all-zero blocks
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
	scanChunks(chunks, workers, func(w int, p []byte) { ws[w].scan(p) })
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
	rows := []Row{{0, ex.zeros + ex.counts[0]}}
	for i, k := range ex.cand.keys {
		if i != 0 && k != 0 && ex.counts[i] > 0 {
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
