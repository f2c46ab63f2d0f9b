package histogram

import (
	"encoding/binary"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

func words(ws ...uint64) []byte {
	var b []byte
	for _, w := range ws {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	return b
}

func TestAlignment(t *testing.T) {
	data := append([]byte{1, 2, 3, 4, 5}, words(7, 7, 9)...)
	data = append(data, 1, 2, 3, 4, 5, 6, 7) // trailing partial word
	res, err := Count([]Region{{Addr: 3, Data: data}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Row{{7, 2}, {9, 1}}
	if !slices.Equal(res.Rows, want) || res.Words != 3 || !res.Complete || res.UnlistedMax != 0 {
		t.Fatalf("got %+v, want rows %v, 3 words, complete", res, want)
	}
}

func TestEdgeCases(t *testing.T) {
	cases := map[string][]Region{
		"nil":         nil,
		"empty":       {{Addr: 0, Data: nil}},
		"short":       {{Addr: 0, Data: []byte{1, 2, 3}}},
		"no aligned":  {{Addr: 1, Data: make([]byte, 14)}},
		"just one":    {{Addr: 9, Data: make([]byte, 15)}},
		"top address": {{Addr: ^uint64(0) - 7, Data: words(5)}},
		"wrap":        {{Addr: ^uint64(0) - 2, Data: words(1, 2, 3)}},
		"all zero":    {{Addr: 8, Data: make([]byte, 800)}},
		"many":        {{0, words(1)}, {8, words(1)}, {4, words(2, 2)}, {16, nil}},
	}
	for name, regions := range cases {
		t.Run(name, func(t *testing.T) {
			for _, cfg := range []config{defaultConfig(), smallConfig(), tinyConfig()} {
				for _, skip := range []bool{false, true} {
					res := check(t, regions, Options{SkipZero: skip}, cfg)
					if !res.Complete {
						t.Errorf("%+v: incomplete on a trivial input", res)
					}
				}
			}
		})
	}
}

func TestOptionErrors(t *testing.T) {
	for _, o := range []Options{{Top: -1}, {Top: MaxTop + 1}, {Workers: -1}} {
		if _, err := Count(nil, o); err == nil {
			t.Errorf("Count(%+v) accepted", o)
		}
	}
	if _, err := Count(nil, Options{Top: MaxTop, Workers: 1000}); err != nil {
		t.Errorf("Count(Top: MaxTop, Workers: 1000): %v", err)
	}
}

// TestAgainstNaive compares random skewed inputs, cut into regions with
// unaligned addresses and odd lengths, with a map-based count, through
// every pass.
func TestAgainstNaive(t *testing.T) {
	configs := map[string]config{"default": defaultConfig(), "small": smallConfig(), "tiny": tinyConfig()}
	for seed := range uint64(150) {
		rng := rand.New(rand.NewPCG(seed, 1))
		data := skewed(rng, rng.IntN(6000))
		regions := split(rng, data)
		opts := Options{
			Top:      rng.IntN(30),
			MinCount: uint64(rng.IntN(4)),
			SkipZero: rng.IntN(2) == 0,
			Workers:  rng.IntN(4),
		}
		for _, cfg := range configs {
			check(t, regions, opts, cfg)
		}
	}
}

// TestUniform checks honesty when no value stands out.
func TestUniform(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	data := make([]byte, 8*40000)
	for i := 0; i < len(data); i += 8 {
		binary.LittleEndian.PutUint64(data[i:], rng.Uint64N(30000))
	}
	for _, cfg := range []config{smallConfig(), tinyConfig()} {
		check(t, []Region{{Data: data}}, Options{Top: 10}, cfg)
	}
}

// TestSkewedComplete checks that a clearly skewed input larger than the
// exact limit still gets a complete answer.
func TestSkewedComplete(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	small := skewed(rng, 50000)
	if res := check(t, []Region{{Data: small}}, Options{Top: 5}, smallConfig()); !res.Complete {
		t.Errorf("small config: incomplete: %+v", res)
	}
	if testing.Short() {
		return
	}
	big := coreLike(5, 64<<20)
	res := check(t, []Region{{Addr: 0x7f0000000000, Data: big}}, Options{Top: 30}, defaultConfig())
	if !res.Complete {
		t.Errorf("default config: incomplete: %+v", res)
	}
}

// TestRepairFindsHidden hides a frequent value where the sample does not
// look and checks that the repair pass finds it.
func TestRepairFindsHidden(t *testing.T) {
	const n = 1 << 16
	rng := rand.New(rand.NewPCG(11, 11))
	w := make([]uint64, n)
	for i := range w {
		switch {
		case i%13 == 0:
			w[i] = 0x1000 + uint64(i%5) // five heavy values, spread out
		default:
			w[i] = 0x100000 + rng.Uint64N(20000)
		}
	}
	// smallConfig samples blocks of 8 words every n/32 words.
	const hidden, stride = 0xdead0, n / 32
	for i := 5*stride + 16; i < 5*stride+16+1500; i++ {
		w[i] = hidden
	}
	regions := []Region{{Data: words(w...)}}
	cfg := smallConfig()
	res := check(t, regions, Options{Top: 6}, cfg)
	if !res.Complete || len(res.Rows) != 6 || res.Rows[0].Value != hidden {
		t.Errorf("with repair: %+v", res)
	}
	cfg.repairCells = 0
	if res := check(t, regions, Options{Top: 6}, cfg); res.Complete {
		t.Errorf("without repair the hidden value should leave the result incomplete: %+v", res)
	}
}

func TestWorkersAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	regions := split(rng, skewed(rng, 30000))
	for _, cfg := range []config{smallConfig(), defaultConfig()} {
		var first *Result
		for _, workers := range []int{1, 2, 3, 8} {
			res := check(t, regions, Options{Top: 25, Workers: workers}, cfg)
			if first != nil && !slices.Equal(res.Rows, first.Rows) {
				t.Errorf("workers %d: rows differ", workers)
			}
			first = res
		}
	}
}

// TestSpill checks the move of sketch counters to 64 bits.
func TestSpill(t *testing.T) {
	c := newCandSet(nil)
	x := &exactWorker{cand: c, counts: make([]uint64, len(c.keys)), sketch: make([]uint32, 4), shift: 62}
	v := uint64(9)
	cell := (v * mulCell) >> 62
	x.pending = 1<<32 - 5
	x.sketch[cell] = 1<<32 - 3
	x.scan(words(v, v, v, v, v, v, v, 0))
	if got := x.wide[cell] + uint64(x.sketch[cell]); got != 1<<32+4 || x.zeroCount() != 1 {
		t.Fatalf("cell holds %d, zeros %d", got, x.zeroCount())
	}
}

// TestBoundedMemory counts 512 MB of random words, the worst case for
// distinct values, and checks the bytes allocated, also by a repair pass
// made to resolve every sketch counter.
func TestBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 512 MB")
	}
	data := make([]byte, 512<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < len(data); i += 8 {
		binary.LittleEndian.PutUint64(data[i:], rng.Uint64())
	}
	const limit = 200 << 20
	var res *Result
	alloc := allocated(func() {
		var err error
		if res, err = Count([]Region{{Data: data}}, Options{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("Count allocated %d MB; %d rows, complete %v, unlisted max %d", alloc>>20, len(res.Rows), res.Complete, res.UnlistedMax)
	if alloc > limit {
		t.Errorf("Count allocated %d MB", alloc>>20)
	}
	if len(res.Rows) != 0 || res.Complete {
		t.Errorf("random words: %+v", res)
	}

	// The exact path at its limit, every word distinct.
	cfg := defaultConfig()
	small := data[:8*cfg.exactWords]
	alloc = allocated(func() {
		if _, err := Count([]Region{{Data: small}}, Options{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("exact count of %d MB allocated %d MB", len(small)>>20, alloc>>20)
	if alloc > limit {
		t.Errorf("exact count allocated %d MB", alloc>>20)
	}

	chunks, _ := plan([]Region{{Data: data}}, cfg.chunkWords)
	h := heavy{bits: make([]uint64, 1<<cfg.sketchBits/64), shift: 64 - cfg.sketchBits}
	for i := range h.bits {
		h.bits[i] = ^uint64(0)
	}
	var resolved int
	alloc = allocated(func() {
		rc := repairPass(chunks, h, 4, cfg)
		resolved = len(rc.rows(newCandSet(nil), h))
	})
	t.Logf("repair allocated %d MB, resolved %d values", alloc>>20, resolved)
	if alloc > limit {
		t.Errorf("repair allocated %d MB", alloc>>20)
	}
}

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestScanStrided: each chunk is scanned by the worker its index names
// (index modulo workers), whatever the scheduling, so that per-worker state
// such as the repair pass's tables, which overflow chunk by chunk, gives
// the same result on every run.
func TestScanStrided(t *testing.T) {
	chunks := make([][]byte, 37)
	for i := range chunks {
		chunks[i] = []byte{byte(i)}
	}
	for run := range 20 {
		var mu sync.Mutex
		seen := map[int]int{}
		scanStrided(chunks, 3, func(w int, p []byte) {
			mu.Lock()
			seen[int(p[0])] = w
			mu.Unlock()
			if w == run%3 {
				time.Sleep(time.Millisecond) // one worker lags
			}
		})
		if len(seen) != len(chunks) {
			t.Fatalf("run %d: %d of %d chunks scanned", run, len(seen), len(chunks))
		}
		for c, w := range seen {
			if w != c%3 {
				t.Fatalf("run %d: chunk %d scanned by worker %d, want %d", run, c, w, c%3)
			}
		}
	}
}
