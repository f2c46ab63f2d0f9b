package histogram

import (
	"encoding/binary"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// streamAll writes regions to a Stream made with cfg, as writeAll does.
func streamAll(t *testing.T, rng *rand.Rand, regions []Region, opts Options, cfg config, async bool) (*Stream, *Result) {
	t.Helper()
	s, err := newStream(opts, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, writeAll(rng, s, regions, async)
}

// writeAll writes regions to s in pieces of random lengths, starting each
// region with an empty write as dump does, and returns its result; async
// counts them in the Stream's own goroutine.
func writeAll(rng *rand.Rand, s *Stream, regions []Region, async bool) *Result {
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
			s, res := streamAll(t, rng, regions, opts, cfg, i%2 == 1)
			if msg := checkResult(res, m, words, opts); msg != "" {
				t.Fatalf("input %d, stream table %d: %s", i, cfg.streamTable, msg)
			}
			if rs := s.Repair(); rs != nil {
				res = writeAll(rng, rs, regions, i%3 == 1)
				if msg := checkResult(res, m, words, opts); msg != "" {
					t.Fatalf("input %d, stream table %d, repaired: %s", i, cfg.streamTable, msg)
				}
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
	_, res := streamAll(t, rng, regions, Options{}, cfg, false)
	if _, async := streamAll(t, rng, regions, Options{}, cfg, true); !reflect.DeepEqual(async, res) {
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

// TestStreamRepair: values frequent only after the prefix are missed as
// candidates and make the first pass incomplete; a second, repair pass
// lists them with exact counts, completely.
func TestStreamRepair(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	var data []byte
	for i := range 60000 {
		var w uint64
		switch {
		case i < 20000:
			w = 0x1000 + rng.Uint64N(5000) // the prefix: many values, none heavy
		case i%7 == 0:
			w = 0x7f00deadbeef // heavy, first seen late
		case i%11 == 0:
			w = 0x7f00cafe0000
		default:
			w = rng.Uint64()
		}
		data = binary.LittleEndian.AppendUint64(data, w)
	}
	regions := []Region{{Addr: 0x10000, Data: data}}
	m, words := naive(regions)
	opts := Options{Top: 2}
	cfg := smallConfig()
	cfg.streamTable = 4096
	cfg.sketchBits = 6
	s, res := streamAll(t, rng, regions, opts, cfg, false)
	if msg := checkResult(res, m, words, opts); msg != "" {
		t.Fatal(msg)
	}
	if res.Complete {
		t.Fatalf("first pass complete: %+v; the test needs late heavy values", res)
	}
	rs := s.Repair()
	if rs == nil {
		t.Fatal("no repair pass")
	}
	res = writeAll(rng, rs, regions, true)
	if msg := checkResult(res, m, words, opts); msg != "" || !res.Complete {
		t.Fatalf("repaired: %s; %+v", msg, res)
	}
}
