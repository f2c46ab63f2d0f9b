package mutate

import (
	"fmt"
	"sort"
)

// The word families: damage aimed at the words a heap model reads to size
// its loops and to follow its links. A word of writable memory holding a
// small number is likely a length, a count or a size; one holding an
// address inside the core is likely a pointer.

// maxScan bounds the words a word mutator looks at for candidates.
const maxScan = 1 << 18

// counts sets writable words that hold small numbers (1 to 1<<20) to
// edge values.
func (g *gen) counts() (Mutant, bool) {
	return g.wordFamily("count", func(v uint64) bool { return v > 0 && v <= 1<<20 }, func(uint64) uint64 { return g.edge(8) })
}

// pointers redirects writable words that point into the core's memory:
// next to where they pointed, anywhere in the segment they point into,
// into unmapped memory, or at themselves.
func (g *gen) pointers() (Mutant, bool) {
	segs := g.l.loads(g.core, 8, false)
	sort.Slice(segs, func(i, j int) bool { return segs[i].vaddr < segs[j].vaddr })
	seg := func(v uint64) (phdr, bool) {
		i := sort.Search(len(segs), func(i int) bool { return segs[i].vaddr+segs[i].memsz > v })
		return segs[min(i, len(segs)-1)], i < len(segs) && segs[i].vaddr <= v
	}
	isPtr := func(v uint64) bool { _, ok := seg(v); return ok && v&7 == 0 }
	redirect := func(v uint64) uint64 {
		s, _ := seg(v)
		switch g.rng.Intn(4) {
		case 0:
			return v + 8*uint64(g.rng.Intn(5)) - 16
		case 1:
			return s.vaddr + uint64(g.rng.Int63n(int64(max(s.memsz/8, 1))))*8
		case 2:
			return v ^ 1<<46
		}
		return v &^ 0xfff
	}
	return g.wordFamily("pointer", isPtr, redirect)
}

// wordFamily changes, in one writable segment, up to a power of two of
// the words that match, by change.
func (g *gen) wordFamily(what string, match func(uint64) bool, change func(uint64) uint64) (Mutant, bool) {
	segs := g.l.loads(g.core, 4096, true)
	if len(segs) == 0 {
		return Mutant{}, false
	}
	s := segs[g.rng.Intn(len(segs))]
	words := s.filesz / 8
	want := 1 << g.rng.Intn(10)
	var at []uint64
	start := uint64(g.rng.Int63n(int64(words)))
	for i := uint64(0); i < min(words, maxScan) && len(at) < 4*want; i++ {
		off := s.off + (start+i)%words*8
		if match(le.Uint64(g.core[off:])) {
			at = append(at, off)
		}
	}
	if len(at) == 0 {
		return Mutant{}, false
	}
	b := clone(g.core)
	n := 0
	for _, off := range at {
		if n < want && g.rng.Intn(4) == 0 || n == 0 {
			le.PutUint64(b[off:], change(le.Uint64(b[off:])))
			n++
		}
	}
	return Mutant{Name: fmt.Sprintf("%d %s words of the segment at %#x", n, what, s.vaddr), Data: b}, true
}
