package histogram

import (
	"fmt"
	"runtime"
)

// Region is a run of memory to count: Data holds the bytes, Addr the address
// (or file offset) of Data[0]. Data is only read, never written, so it may be
// read-only mmapped memory.
type Region struct {
	Addr uint64
	Data []byte
}

// Options tune Count. The zero value asks for the top DefaultTop rows on all
// cores.
type Options struct {
	Top      int    // rows wanted; DefaultTop when 0, at most MaxTop
	MinCount uint64 // drop rows below this count
	SkipZero bool   // leave the value 0 out of the rows (it is still counted in Words)
	Workers  int    // goroutines; 0 = runtime.GOMAXPROCS(0); at most 64
}

const (
	// DefaultTop is the number of rows returned when Options.Top is 0.
	DefaultTop = 20
	// MaxTop is the largest Options.Top accepted.
	MaxTop = 10000
	// maxWorkers caps the goroutines (and so the per-worker tables).
	maxWorkers = 64
)

// Row is one value and its exact number of occurrences.
type Row struct {
	Value uint64
	Count uint64
}

// Result is the outcome of Count.
type Result struct {
	// Rows lists the most frequent values first, ties by value ascending.
	// Every count is exact.
	Rows []Row
	// Words is the number of aligned words examined.
	Words uint64
	// Complete is true when Rows is provably the true top list: the same
	// rows a full exact count would give, with Top, MinCount and SkipZero
	// applied.
	Complete bool
	// UnlistedMax is an upper bound on the count of any value not in Rows
	// (other than 0 under SkipZero). When Complete is false every row's
	// count is above it: rows that could not be told apart from unlisted
	// values are left out rather than shown in doubtful order.
	UnlistedMax uint64
}

// options are Options after defaults and checks.
type options struct {
	top      int
	minCount uint64
	skipZero bool
	workers  int
}

func normalize(o Options) (options, error) {
	if o.Top < 0 || o.Top > MaxTop {
		return options{}, fmt.Errorf("histogram: Top %d out of range [0, %d]", o.Top, MaxTop)
	}
	if o.Workers < 0 {
		return options{}, fmt.Errorf("histogram: negative Workers %d", o.Workers)
	}
	n := options{top: o.Top, minCount: o.MinCount, skipZero: o.SkipZero, workers: o.Workers}
	if n.top == 0 {
		n.top = DefaultTop
	}
	if n.workers == 0 {
		n.workers = runtime.GOMAXPROCS(0)
	}
	n.workers = min(n.workers, maxWorkers)
	return n, nil
}

// config holds the sizes that shape the algorithm. Tests shrink them to
// drive small inputs through every pass.
type config struct {
	chunkWords   int  // words per unit of parallel work
	exactWords   int  // inputs up to this many words are counted exactly
	sampleWords  int  // about this many words are sampled for candidates
	sampleBlock  int  // words per sampled block
	minCands     int  // candidates kept from the sample (at least 2*Top)
	sketchBits   uint // log2 of the number of sketch counters
	repairCells  int  // most sketch counters one repair pass resolves
	repairBudget int  // most values the repair tables hold, all workers together
	streamTable  int  // most values a Stream counts exactly before it picks candidates
}

func defaultConfig() config {
	return config{
		chunkWords:   1 << 18,
		exactWords:   1 << 20,
		sampleWords:  1 << 18,
		sampleBlock:  128,
		minCands:     4096,
		sketchBits:   16,
		repairCells:  4096,
		repairBudget: 1 << 19,
		// 16 MB of table, and enough values that a Stream's candidates
		// come from more than the first pages of a heap.
		streamTable: 1 << 19,
	}
}

// Count counts the aligned words of regions and returns the most frequent
// values. See the package documentation for the method and its guarantee.
func Count(regions []Region, opts Options) (*Result, error) {
	return count(regions, opts, defaultConfig())
}

func count(regions []Region, opts Options, cfg config) (res *Result, err error) {
	defer guardFaults(&err)()
	o, err := normalize(opts)
	if err != nil {
		return nil, err
	}
	chunks, words := plan(regions, cfg.chunkWords)
	var r ranking
	if words <= uint64(cfg.exactWords) {
		r = countExact(chunks, o)
	} else {
		r = countSampled(chunks, words, o, cfg)
	}
	return &Result{Rows: r.rows, Words: words, Complete: r.complete, UnlistedMax: r.unlisted}, nil
}

// countExact counts every value of a small input in one table.
func countExact(chunks [][]byte, o options) ranking {
	t, zeros := countAll(chunks)
	return rank(append(t.rows(), Row{0, zeros}), 0, o)
}

// countSampled takes candidates from a sample, counts them exactly and
// bounds the others with a sketch, then repairs the ranking when the bound
// is too high and a repair pass looks worth its cost.
func countSampled(chunks [][]byte, words uint64, o options, cfg config) ranking {
	workers := max(1, min(o.workers, len(chunks)))
	cands := newCandSet(topValues(sample(chunks, words, cfg), max(cfg.minCands, 2*o.top)))
	ex := exactPass(chunks, cands, workers, cfg.sketchBits)
	pool, bound := ex.pool(), ex.bound()
	r := rank(pool, bound, o)
	if r.complete {
		return r
	}
	h := chooseHeavy(ex.sketch, r, o, cfg)
	if !h.worthwhile(r, bound, o) {
		return r
	}
	rep := repairPass(chunks, h, workers, cfg)
	pool = append(pool, rep.rows(cands, h)...)
	return rank(pool, rep.bound(ex.sketch, h), o)
}
