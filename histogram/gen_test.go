package histogram

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// coreLike returns n bytes shaped like the heap of a process core: about
// half zeros (whole pages and short runs), objects whose second word is one
// of a few dozen heavy "type pointers" (Zipf distributed), many distinct
// heap pointers, small integers, some random data and runs of equal words.
func coreLike(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	types := make([]uint64, 64)
	for i := range types {
		types[i] = 0x55d4a0000000 + rng.Uint64N(1<<16)*64
	}
	zipf := rand.NewZipf(rng, 1.3, 2, uint64(len(types)-1))
	b := make([]byte, n)
	g := gen{b: b, rng: rng}
	for g.i < len(b) {
		switch k := rng.IntN(1000); {
		case k < 5:
			g.repeat(0, 512) // a zero page
		case k < 300:
			g.repeat(0, 1+rng.IntN(16))
		case k < 880:
			g.object(types[zipf.Uint64()])
		case k < 950:
			for range 1 + rng.IntN(32) {
				g.put(rng.Uint64())
			}
		default:
			g.repeat(g.pointer(), 2+rng.IntN(63))
		}
	}
	return b
}

type gen struct {
	b   []byte
	i   int
	rng *rand.Rand
}

func (g *gen) put(w uint64) {
	if g.i+8 <= len(g.b) {
		binary.LittleEndian.PutUint64(g.b[g.i:], w)
	}
	g.i += 8
}

func (g *gen) repeat(w uint64, n int) {
	for range n {
		g.put(w)
	}
}

// pointer returns a heap address: many distinct values.
func (g *gen) pointer() uint64 { return 0x7f3a00000000 + g.rng.Uint64N(1<<30)*16 }

// object writes a reference count, a type pointer and a few fields.
func (g *gen) object(typ uint64) {
	g.put(1 + g.rng.Uint64N(100))
	g.put(typ)
	for range 1 + g.rng.IntN(6) {
		switch k := g.rng.IntN(100); {
		case k < 40:
			g.put(g.pointer())
		case k < 65:
			g.put(g.rng.Uint64N(1000))
		case k < 85:
			g.put(0)
		default:
			g.put(g.rng.Uint64())
		}
	}
}

// TestCoreLikeShape checks that the benchmark input has the shape the
// benchmarks claim: about half zeros, runs, and many distinct values.
func TestCoreLikeShape(t *testing.T) {
	b := coreLike(1, 8<<20)
	m := map[uint64]int{}
	runs, prev := 0, uint64(1)
	for i := 0; i < len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		m[w]++
		if i == 0 || w != prev {
			runs++
		}
		prev = w
	}
	words := len(b) / 8
	zeros := float64(m[0]) / float64(words)
	t.Logf("%d words: %.0f%% zeros, %.0f%% run starts, %d distinct", words, 100*zeros, 100*float64(runs)/float64(words), len(m))
	if zeros < 0.4 || zeros > 0.6 || len(m) < words/10 || runs > words*3/4 {
		t.Errorf("core-like input is not shaped as documented")
	}
}
