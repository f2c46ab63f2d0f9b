package histogram

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// streamAll writes regions to a Stream made with cfg in pieces of random
// lengths, starting each region with an empty write as dump does; async
// counts them in the Stream's own goroutine.
func streamAll(t *testing.T, rng *rand.Rand, regions []Region, opts Options, cfg config, async bool) *Result {
	t.Helper()
	s, err := newStream(opts, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if async {
		s.Async()
	}
	for _, r := range regions {
		s.Write(r.Addr, nil)
		for off := 0; off < len(r.Data); {
			n := min(len(r.Data)-off, 1+rng.IntN(100))
			s.Write(r.Addr+uint64(off), r.Data[off:off+n])
			off += n
		}
	}
	return s.Result()
}

// TestStreamGuarantee: a Stream's result keeps Count's guarantee (exact
// rows, an honest bound, a complete listing equal to the true one) on
// skewed inputs cut into pieces, whether its prefix table fills or not,
// counted in the caller's goroutine or its own.
func TestStreamGuarantee(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	big := defaultConfig()
	for i := range 40 {
		regions := split(rng, skewed(rng, 200+rng.IntN(20000)))
		m, words := naive(regions)
		opts := Options{Top: 1 + rng.IntN(30), SkipZero: i%3 == 0, MinCount: uint64(rng.IntN(3))}
		for _, cfg := range []config{smallConfig(), tinyConfig(), big} {
			res := streamAll(t, rng, regions, opts, cfg, i%2 == 1)
			if msg := checkResult(res, m, words, opts); msg != "" {
				t.Fatalf("input %d, stream table %d: %s", i, cfg.streamTable, msg)
			}
			if cfg.streamTable == big.streamTable && !res.Complete {
				t.Errorf("input %d: fewer values than the table holds, but incomplete", i)
			}
		}
	}
}

// TestStreamMatchesCount: on a core-like input whose distinct values
// overflow the prefix table, the stream lists what Count lists.
func TestStreamMatchesCount(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	data := coreLike(5, 8<<20)
	regions := []Region{{Addr: 0xc000000000, Data: data[:3<<20]}, {Addr: 0xc000000000 + 3<<20, Data: data[3<<20:]}}
	cfg := defaultConfig()
	cfg.streamTable = 4096
	res := streamAll(t, rng, regions, Options{}, cfg, false)
	if async := streamAll(t, rng, regions, Options{}, cfg, true); !reflect.DeepEqual(async, res) {
		t.Errorf("counted in its own goroutine: %+v\nwant %+v", async, res)
	}
	want, err := Count(regions, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, words := naive(regions)
	if msg := checkResult(res, m, words, Options{}); msg != "" {
		t.Fatal(msg)
	}
	if !res.Complete || !want.Complete || !slices.Equal(res.Rows, want.Rows) {
		t.Errorf("stream: complete %v %v\ncount: complete %v %v", res.Complete, res.Rows, want.Complete, want.Rows)
	}
}
