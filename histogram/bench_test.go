package histogram

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// benchCount counts data as one region per b.N and reports MB/s, and MB
// per CPU second, which other load on the machine disturbs less.
func benchCount(b *testing.B, data []byte, opts Options) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var res *Result
	cpu := cpuTime()
	for b.Loop() {
		var err error
		if res, err = Count([]Region{{Addr: 0x7f0000000000, Data: data}}, opts); err != nil {
			b.Fatal(err)
		}
	}
	if cpu := (cpuTime() - cpu).Seconds(); cpu > 0 {
		b.ReportMetric(float64(len(data))*float64(b.N)/1e6/cpu, "MB/cpu-s")
	}
	b.ReportMetric(float64(len(res.Rows)), "rows")
	if res.Complete {
		b.ReportMetric(1, "complete")
	}
}

func randomWords(n int) []byte {
	rng := rand.New(rand.NewPCG(9, 9))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], rng.Uint64())
	}
	return b
}

// BenchmarkCount measures throughput on in-memory inputs: core-like data
// (see coreLike), all zeros, and random words (every word distinct).
func BenchmarkCount(b *testing.B) {
	const size = 256 << 20
	core := coreLike(1, size)
	b.Run("core-256MB", func(b *testing.B) { benchCount(b, core, Options{}) })
	b.Run("core-256MB-1worker", func(b *testing.B) { benchCount(b, core, Options{Workers: 1}) })
	b.Run("core-256MB-skipzero-top100", func(b *testing.B) { benchCount(b, core, Options{Top: 100, SkipZero: true}) })
	zeros := make([]byte, size)
	b.Run("zeros-256MB", func(b *testing.B) { benchCount(b, zeros, Options{}) })
	random := randomWords(size)
	b.Run("random-256MB", func(b *testing.B) { benchCount(b, random, Options{}) })
	small := coreLike(2, 8<<20)
	b.Run("core-8MB-exact", func(b *testing.B) { benchCount(b, small, Options{}) })
}

// BenchmarkCountCore2GB measures the target case: a 2 GB core-like input.
func BenchmarkCountCore2GB(b *testing.B) {
	if testing.Short() {
		b.Skip("needs 2 GB of memory")
	}
	core := coreLike(3, 2<<30)
	b.Run("core-2GB", func(b *testing.B) { benchCount(b, core, Options{}) })
}
