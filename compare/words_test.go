package compare

import (
	"encoding/binary"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/heapsift/heapsift/histogram"
	"github.com/heapsift/heapsift/symbolize"
)

// fakeKeyer plays a dump whose "library" is loaded at base: a word in
// [base, base+libSize) is symbol "sN"+offset (64-byte symbols); words at
// or above ptrStart are heap pointers, left out; any other word is keyed
// by value.
type fakeKeyer struct{ base uint64 }

const (
	libSize  = 1 << 16
	ptrStart = 1 << 60
)

func (f fakeKeyer) Key(v uint64) (WordKey, symbolize.Name, bool) {
	switch {
	case v >= f.base && v < f.base+libSize:
		off := v - f.base
		return WordKey{Kind: KeySymbol, Module: "lib.so", Symbol: "s" + strconv.FormatUint(off/64, 10), Offset: off % 64},
			symbolize.Name{Value: v, Kind: symbolize.KindSymbol}, true
	case v >= ptrStart:
		return WordKey{}, symbolize.Name{}, false
	}
	return WordKey{Kind: KeyValue, Value: v}, symbolize.Name{Value: v}, true
}

func (f fakeKeyer) Values(keys []WordKey) [][]uint64 {
	out := make([][]uint64, len(keys))
	for i, k := range keys {
		switch k.Kind {
		case KeySymbol:
			n, _ := strconv.ParseUint(k.Symbol[1:], 10, 64)
			out[i] = []uint64{f.base + n*64 + k.Offset}
		case KeyValue:
			if _, _, ok := f.Key(k.Value); ok {
				out[i] = []uint64{k.Value}
			}
		}
	}
	return out
}

// fakeDump writes words for a dump with its library at base: counts[j]
// copies of symbol j's start, noise values, zeros and heap pointers (one
// of them heavy), in
// random order, split into aligned regions.
func fakeDump(rng *rand.Rand, base uint64, counts []int, noise int) []histogram.Region {
	var ws []uint64
	for j, n := range counts {
		for range n {
			ws = append(ws, base+uint64(j)*64)
		}
	}
	for range 3000 { // a heavy heap pointer
		ws = append(ws, ptrStart+8)
	}
	for range noise {
		switch rng.IntN(4) {
		case 0:
			ws = append(ws, 0)
		case 1:
			ws = append(ws, uint64(rng.IntN(500)))
		default:
			ws = append(ws, ptrStart+rng.Uint64N(1<<20)*8)
		}
	}
	rng.Shuffle(len(ws), func(i, j int) { ws[i], ws[j] = ws[j], ws[i] })
	data := make([]byte, 0, 8*len(ws))
	for _, w := range ws {
		data = binary.LittleEndian.AppendUint64(data, w)
	}
	var regions []histogram.Region
	for len(data) > 0 { // aligned pieces, so that every word is counted
		n := min(len(data), 8*(1+rng.IntN(len(ws)/3+1)))
		regions = append(regions, histogram.Region{Addr: rng.Uint64() &^ 7, Data: data[:n:n]})
		data = data[n:]
	}
	return regions
}

// TestDiffWordsByMeaning: the library sits at different addresses in the two
// dumps; symbol counts compare by name, exactly, even for symbols that only
// one dump's short top list holds.
func TestDiffWordsByMeaning(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	const syms = 40
	oldCounts, newCounts := make([]int, syms), make([]int, syms)
	for j := range syms {
		oldCounts[j] = 50 + rng.IntN(400)
		newCounts[j] = oldCounts[j]
	}
	newCounts[3] += 5000 // the leak
	newCounts[7] = 0     // gone
	oldCounts[9] = 0     // new
	newCounts[9] = 800
	oldBase, newBase := uint64(0x7f1200000000), uint64(0x7f5500000000)
	old := WordSide{Regions: fakeDump(rng, oldBase, oldCounts, 20000), Keyer: fakeKeyer{oldBase}}
	new := WordSide{Regions: fakeDump(rng, newBase, newCounts, 20000), Keyer: fakeKeyer{newBase}}
	for _, top := range []int{5, 30, 1000} {
		d, err := DiffWords(old, new, WordDiffOptions{Top: top, SkipZero: true})
		if err != nil {
			t.Fatal(err)
		}
		if d.OldLeftOut == 0 || d.NewLeftOut == 0 {
			t.Errorf("top %d: heap pointers were not left out (%d, %d)", top, d.OldLeftOut, d.NewLeftOut)
		}
		oldNaive := naive(old.Regions)
		newNaive := naive(new.Regions)
		for _, r := range d.Rows {
			switch r.Key.Kind {
			case KeySymbol:
				j, _ := strconv.Atoi(r.Key.Symbol[1:])
				if r.OldCount != uint64(oldCounts[j]) || r.NewCount != uint64(newCounts[j]) {
					t.Errorf("top %d: %s: %d -> %d, want %d -> %d", top, r.Key.Symbol, r.OldCount, r.NewCount, oldCounts[j], newCounts[j])
				}
			case KeyValue:
				if r.OldCount != oldNaive[r.Key.Value] || r.NewCount != newNaive[r.Key.Value] {
					t.Errorf("top %d: value %d: %d -> %d, want %d -> %d", top, r.Key.Value, r.OldCount, r.NewCount,
						oldNaive[r.Key.Value], newNaive[r.Key.Value])
				}
				if r.Key.Value == 0 {
					t.Errorf("top %d: 0 listed under SkipZero", top)
				}
			}
		}
		if first := d.Rows[0]; first.Key.Symbol != "s3" || first.Delta() != 5000 {
			t.Errorf("top %d: first row %+v, want s3 grown by 5000", top, first)
		}
		if last := d.Rows[len(d.Rows)-1]; top >= 30 && (last.Key.Symbol != "s7" || last.NewCount != 0) {
			t.Errorf("top %d: last row %+v, want s7 gone", top, last)
		}
	}
}

// naive counts every aligned word of regions with a map.
func naive(regions []histogram.Region) map[uint64]uint64 {
	m := map[uint64]uint64{}
	for _, r := range regions {
		start := (8 - r.Addr%8) % 8
		for i := start; i+8 <= uint64(len(r.Data)); i += 8 {
			m[binary.LittleEndian.Uint64(r.Data[i:])]++
		}
	}
	return m
}

func TestWordLabel(t *testing.T) {
	tests := []struct {
		d    WordDelta
		want string
	}{
		{WordDelta{Key: WordKey{Kind: KeySymbol, Module: "libpython3.11.so", Symbol: "PyTuple_Type"},
			Name: symbolize.Name{Kind: symbolize.KindSymbol, Symbol: "PyTuple_Type"}}, "PyTuple_Type"},
		{WordDelta{Key: WordKey{Kind: KeySymbol, Module: "app", Symbol: "_ZTV6Button", Offset: 16},
			Name: symbolize.Name{Kind: symbolize.KindSymbol, Symbol: "vtable for Button", Offset: 16}}, "vtable for Button+16"},
		{WordDelta{Key: WordKey{Kind: KeyModule, Module: "libc.so.6", Offset: 0x1d8000}}, "→ libc.so.6+0x1d8000"},
		{WordDelta{Key: WordKey{Kind: KeyValue, Value: 1}, Name: symbolize.Name{Kind: symbolize.KindSmall, Value: 1}}, "small 1"},
		{WordDelta{Key: WordKey{Kind: KeyValue, Value: 0x1dd900a8a470c944}, Name: symbolize.Name{Kind: symbolize.KindOther}},
			"0x1dd900a8a470c944 other"},
		{WordDelta{Key: WordKey{Kind: KeyValue, Value: 0x7f0000001000}, Name: symbolize.Name{Kind: symbolize.KindPointer, Mapping: "[heap]"}},
			"0x00007f0000001000 → [heap]"},
	}
	for _, tt := range tests {
		if got := tt.d.Label(); got != tt.want {
			t.Errorf("Label(%+v) = %q, want %q", tt.d.Key, got, tt.want)
		}
	}
}
