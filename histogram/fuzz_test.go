package histogram

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// fuzzInput decodes a fuzzer's bytes into regions and options. The first
// four bytes choose the start address, Top, MinCount, SkipZero, where the
// data is cut in two regions and whether it is read as raw words or as a
// compact code that makes repeated words (so heavy values) likely.
func fuzzInput(b []byte) ([]Region, Options) {
	// Longer inputs find nothing new and slow the fuzzer's minimizing.
	b = b[:min(len(b), 4096)]
	var h [4]byte
	copy(h[:], b)
	b = b[min(len(b), 4):]
	opts := Options{
		Top:      int(h[1] % 33),
		MinCount: uint64(h[2] % 4),
		SkipZero: h[0]&8 != 0,
		Workers:  1 + int(h[2]>>2)%3,
	}
	if h[0]&16 != 0 {
		b = expand(b)
	}
	addr := 0x10000 + uint64(h[0]&7)
	cut := min(len(b), int(h[3])*len(b)/255)
	return []Region{
		{Addr: addr, Data: b[:cut:cut]},
		{Addr: addr + uint64(cut) + uint64(h[3]&7), Data: b[cut:]},
	}, opts
}

// expand reads each byte as one of 16 words (low bits) repeated 1 to 4
// times (high bits).
func expand(b []byte) []byte {
	var out []byte
	for _, c := range b {
		w := uint64(c&15) * 0x0101010101010101
		if c&15 >= 12 {
			w = uint64(c & 15) // small values, as counts in memory are
		}
		for range 1 + int(c>>6) {
			out = binary.LittleEndian.AppendUint64(out, w)
		}
	}
	return out
}

// FuzzCount checks Count against a map-based count on the rows it lists,
// the bound on those it does not, and, when it says so, completeness, with
// the default config and with configs small enough to use every pass.
func FuzzCount(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{3, 5, 0, 128, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17})
	rng := rand.New(rand.NewPCG(1, 1))
	f.Add(append([]byte{0, 10, 1, 77}, skewed(rng, 500)...))
	f.Add(append([]byte{16 | 8, 4, 0, 200}, make([]byte, 300)...))
	code := make([]byte, 2000)
	for i := range code {
		code[i] = byte(rng.IntN(256) & rng.IntN(256))
	}
	f.Add(append([]byte{16 | 2, 6, 0, 9}, code...))
	f.Fuzz(func(t *testing.T, b []byte) {
		regions, opts := fuzzInput(b)
		m, words := naive(regions)
		for _, cfg := range []config{defaultConfig(), smallConfig(), tinyConfig()} {
			res, err := count(regions, opts, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if msg := checkResult(res, m, words, opts); msg != "" {
				t.Fatalf("opts %+v, config %+v: %s", opts, cfg, msg)
			}
		}
	})
}
