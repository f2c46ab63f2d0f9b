package histogram

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// naive counts the aligned words of regions in a map.
func naive(regions []Region) (map[uint64]uint64, uint64) {
	m := map[uint64]uint64{}
	var words uint64
	for _, r := range regions {
		for i := 0; i+8 <= len(r.Data); i++ {
			if (r.Addr+uint64(i))%8 == 0 {
				m[binary.LittleEndian.Uint64(r.Data[i:])]++
				words++
			}
		}
	}
	return m, words
}

// naiveTop returns the true listing of counts m under opts.
func naiveTop(m map[uint64]uint64, opts Options) []Row {
	top := opts.Top
	if top == 0 {
		top = DefaultTop
	}
	var rows []Row
	for v, n := range m {
		if n >= opts.MinCount && !(opts.SkipZero && v == 0) {
			rows = append(rows, Row{v, n})
		}
	}
	slices.SortFunc(rows, compareRank)
	return rows[:min(len(rows), top)]
}

// checkResult verifies res against the exact counts m of an input of words
// words: listed counts exact, order right, the bound honest and a complete
// result equal to the true listing. It returns a description of the first
// problem, or "".
func checkResult(res *Result, m map[uint64]uint64, words uint64, opts Options) string {
	if res.Words != words {
		return fmt.Sprintf("Words = %d, want %d", res.Words, words)
	}
	top := opts.Top
	if top == 0 {
		top = DefaultTop
	}
	if len(res.Rows) > top {
		return fmt.Sprintf("%d rows, more than Top %d", len(res.Rows), top)
	}
	listed := map[uint64]bool{}
	for i, r := range res.Rows {
		switch {
		case m[r.Value] != r.Count:
			return fmt.Sprintf("row %d: value %#x count %d, want %d", i, r.Value, r.Count, m[r.Value])
		case r.Count < opts.MinCount || r.Count == 0:
			return fmt.Sprintf("row %d: count %d below MinCount %d", i, r.Count, opts.MinCount)
		case opts.SkipZero && r.Value == 0:
			return fmt.Sprintf("row %d: zero listed under SkipZero", i)
		case i > 0 && !ranksBelow(r, res.Rows[i-1]):
			return fmt.Sprintf("row %d (%v) not below row %d (%v)", i, r, i-1, res.Rows[i-1])
		case !res.Complete && r.Count <= res.UnlistedMax:
			return fmt.Sprintf("incomplete result lists row %d count %d <= UnlistedMax %d", i, r.Count, res.UnlistedMax)
		}
		listed[r.Value] = true
	}
	for v, n := range m {
		if !listed[v] && !(opts.SkipZero && v == 0) && n > res.UnlistedMax {
			return fmt.Sprintf("unlisted value %#x has count %d > UnlistedMax %d", v, n, res.UnlistedMax)
		}
	}
	want := naiveTop(m, opts)
	if res.Complete && !slices.Equal(res.Rows, want) {
		return fmt.Sprintf("complete result\n%v\nwant\n%v", res.Rows, want)
	}
	if !slices.Equal(res.Rows, want[:min(len(want), len(res.Rows))]) {
		return fmt.Sprintf("rows are not the start of the true listing\n%v\nwant\n%v", res.Rows, want)
	}
	return ""
}

// check runs count with cfg and fails t on any problem.
func check(t *testing.T, regions []Region, opts Options, cfg config) *Result {
	t.Helper()
	res, err := count(regions, opts, cfg)
	if err != nil {
		t.Fatalf("count: %v", err)
	}
	m, words := naive(regions)
	if msg := checkResult(res, m, words, opts); msg != "" {
		t.Fatalf("opts %+v: %s", opts, msg)
	}
	return res
}

// smallConfig drives inputs of a few thousand words through the sample,
// exact and repair passes.
func smallConfig() config {
	return config{
		chunkWords:   64,
		exactWords:   0,
		sampleWords:  256,
		sampleBlock:  8,
		minCands:     16,
		sketchBits:   8,
		repairCells:  32,
		repairBudget: 4096,
		streamTable:  64,
	}
}

// tinyConfig is smallConfig with tables so small that sketch counters and
// repair tables overflow.
func tinyConfig() config {
	return config{
		chunkWords:   7,
		exactWords:   3,
		sampleWords:  16,
		sampleBlock:  2,
		minCands:     1,
		sketchBits:   2,
		repairCells:  2,
		repairBudget: 4,
		streamTable:  2,
	}
}

// skewed returns n words drawn from a skewed distribution: zeros in runs,
// a few heavy values, a tail of rare ones and runs of equal words.
func skewed(rng *rand.Rand, n int) []byte {
	heavy := make([]uint64, 1+rng.IntN(40))
	for i := range heavy {
		heavy[i] = 0x7f0000000000 + rng.Uint64N(1<<20)*16
	}
	b := make([]byte, 0, n*8)
	for len(b) < n*8 {
		var w uint64
		reps := 1
		switch k := rng.IntN(100); {
		case k < 20:
			reps = 1 + rng.IntN(30)
		case k < 70:
			// index ~ square of a uniform variable: low indexes win.
			u := rng.Float64()
			w = heavy[int(u*u*float64(len(heavy)))]
		case k < 75:
			w = heavy[rng.IntN(len(heavy))]
			reps = 1 + rng.IntN(10)
		case k < 90:
			w = 0x7f0000000000 + rng.Uint64N(1<<30)*8
		default:
			w = rng.Uint64() >> rng.IntN(64)
		}
		for range reps {
			b = binary.LittleEndian.AppendUint64(b, w)
		}
	}
	return b[:n*8]
}

// split cuts data into regions of random lengths at random addresses,
// with unaligned starts and odd lengths.
func split(rng *rand.Rand, data []byte) []Region {
	var regions []Region
	for len(data) > 0 {
		n := min(len(data), 1+rng.IntN(max(len(data)/3, 1)))
		addr := rng.Uint64()
		if rng.IntN(3) > 0 {
			addr &^= 7 // mostly aligned, as core segments are
		}
		regions = append(regions, Region{Addr: addr, Data: data[:n:n]})
		data = data[n:]
	}
	return regions
}
