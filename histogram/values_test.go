package histogram

import (
	"math/rand/v2"
	"testing"
)

// checkCountValues compares CountValues with a naive count of regions.
func checkCountValues(t *testing.T, regions []Region, values []uint64, workers int) {
	t.Helper()
	m, _ := naive(regions)
	got, err := CountValues(regions, values, workers)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(values) {
		t.Fatalf("%d counts for %d values", len(got), len(values))
	}
	for i, v := range values {
		if got[i] != m[v] {
			t.Errorf("value %#x: counted %d, naive count %d", v, got[i], m[v])
		}
	}
}

// TestCountValuesExact asks about values that occur (heavy, rare, 0, the
// sentinel's first choices) and values that do not, over regions with
// unaligned starts and odd lengths, with 1 and several workers.
func TestCountValuesExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	data := skewed(rng, 300000)
	regions := split(rng, data)
	m, _ := naive(regions)
	values := []uint64{0, 1, 2, 3, ^uint64(0)}
	for v := range m {
		if len(values) > 3000 {
			break
		}
		values = append(values, v)
	}
	for range 1000 {
		values = append(values, rng.Uint64()) // almost surely absent
	}
	values = append(values, values[7], values[100]) // duplicates
	for _, w := range []int{1, 2, 7} {
		checkCountValues(t, regions, values, w)
	}
}

func TestCountValuesEdges(t *testing.T) {
	one := words(5, 0, 5, 7)
	cases := map[string]struct {
		regions []Region
		values  []uint64
	}{
		"no values":      {[]Region{{Addr: 0, Data: one}}, nil},
		"no regions":     {nil, []uint64{0, 5}},
		"empty region":   {[]Region{{Addr: 8, Data: nil}}, []uint64{0}},
		"only zero":      {[]Region{{Addr: 0, Data: one}}, []uint64{0}},
		"unaligned":      {[]Region{{Addr: 3, Data: one}}, []uint64{5, 7, 0}},
		"partial word":   {[]Region{{Addr: 0, Data: one[:13]}}, []uint64{5, 0}},
		"sentinel taken": {[]Region{{Addr: 0, Data: words(0, 1, 2, 3, 4)}}, []uint64{0, 1, 2, 3, 4, 5}},
		"one value":      {[]Region{{Addr: 0, Data: words(9, 9, 9)}}, []uint64{9}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) { checkCountValues(t, c.regions, c.values, 0) })
	}
}

// BenchmarkCountValues measures the pass over a core-like input for a diff's
// few thousand values, against Count on the same input.
func BenchmarkCountValues(b *testing.B) {
	data := coreLike(4, 256<<20)
	regions := []Region{{Addr: 0x7f0000000000, Data: data}}
	rng := rand.New(rand.NewPCG(1, 2))
	m, _ := naive([]Region{{Data: data[:8<<20]}})
	var values []uint64
	for v := range m {
		if len(values) == 2000 {
			break
		}
		values = append(values, v)
	}
	for range 2000 {
		values = append(values, rng.Uint64())
	}
	for _, w := range []int{1, 0} {
		name := "4000-values"
		if w == 1 {
			name += "-1worker"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			cpu := cpuTime()
			for b.Loop() {
				if _, err := CountValues(regions, values, w); err != nil {
					b.Fatal(err)
				}
			}
			if cpu := (cpuTime() - cpu).Seconds(); cpu > 0 {
				b.ReportMetric(float64(len(data))*float64(b.N)/1e6/cpu, "MB/cpu-s")
			}
		})
	}
}
