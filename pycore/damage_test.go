package pycore

import (
	"encoding/binary"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/internal/coretest"
	"github.com/heapsift/heapsift/symbolize"
)

// TestDamagedCore overwrites words of the heap in a real core with
// zeros, all ones, huge counts and pointers elsewhere: Open must return
// a heap or an error, never panic, whatever it reads.
func TestDamagedCore(t *testing.T) {
	version := coretest.PyenvVersions[len(coretest.PyenvVersions)-1]
	python := coretest.PyenvPython(t, version)
	c := coretest.MakeCore(t, python, []string{coretest.Testdata(t, "python", "heapmodel", "heapmodel.py"), "2000"}, nil)
	orig, err := os.ReadFile(c.Path)
	if err != nil {
		t.Fatal(err)
	}
	ranges := anonymousRanges(t, c.Path, python)
	dir := t.TempDir()
	for seed := int64(1); seed <= 8; seed++ {
		data := append([]byte(nil), orig...)
		rng := rand.New(rand.NewSource(seed))
		for i := 0; i < 3000; i++ {
			r := ranges[rng.Intn(len(ranges))]
			off := r.off + int64(rng.Intn(int(r.n/8)))*8
			binary.LittleEndian.PutUint64(data[off:], damage(rng, r.start, r.n))
		}
		path := filepath.Join(dir, "core")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		openDamaged(t, path, python, seed)
	}
}

// coreRange is an anonymous mapping's bytes in the core file.
type coreRange struct {
	off   int64
	start uint64
	n     uint64
}

func anonymousRanges(t *testing.T, path, exe string) []coreRange {
	p, err := dump.Open(path, dump.Options{Exe: exe})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var out []coreRange
	for _, m := range p.Mappings() {
		if n := uint64(len(m.CoreData())); m.File == "" && m.CoreOffset >= 0 && n >= 64 && m.Name != "[vdso]" && m.Name != "[vvar]" {
			out = append(out, coreRange{off: m.CoreOffset, start: uint64(m.Start), n: n})
		}
	}
	if len(out) == 0 {
		t.Fatal("no anonymous memory in the core")
	}
	return out
}

// damage returns a harmful word: zero, all ones, a huge count, or a
// pointer somewhere into the mapping.
func damage(rng *rand.Rand, start, n uint64) uint64 {
	switch rng.Intn(4) {
	case 0:
		return 0
	case 1:
		return ^uint64(0)
	case 2:
		return 1 << (40 + rng.Intn(20))
	}
	return start + uint64(rng.Int63n(int64(n)))&^7
}

func openDamaged(t *testing.T, path, exe string, seed int64) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("seed %d: Open panicked: %v", seed, r)
		}
	}()
	p, err := dump.Open(path, dump.Options{Exe: exe})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s, _, err := symbolize.New(p, symbolize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h, warns, err := Open(p, s)
	if err != nil {
		t.Logf("seed %d: %v", seed, err)
		return
	}
	for i := 0; i < h.NumObjects(); i++ {
		targets, labels := h.Refs(i)
		for k := range targets {
			h.RefPath(i, labels[k])
		}
	}
	for _, th := range h.Threads() {
		_ = th.Frames
	}
	t.Logf("seed %d: %d objects, %d roots, %d warnings", seed, h.NumObjects(), len(h.Roots()), len(warns))
}

// TestFrameBudget: a stack deeper than maxFrames (as a damaged frame link
// leading through memory makes one) is read up to the budget, the frames
// of one function sharing its local names, and said to be cut, not cut
// silently.
func TestFrameBudget(t *testing.T) {
	python, _ := coretest.FindSharedPython(t)
	c := coretest.MakeCore(t, python, []string{coretest.Testdata(t, "python", "deep.py"), "25000"}, nil)
	p, err := dump.Open(c.Path, dump.Options{Exe: python})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s, _, err := symbolize.New(p, symbolize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h, warns, err := Open(p, s)
	if err != nil {
		t.Fatal(err)
	}
	frames := 0
	for _, th := range h.Threads() {
		frames += len(th.Frames)
	}
	if frames == 0 || frames > maxFrames {
		t.Errorf("%d frames read, want up to %d", frames, maxFrames)
	}
	if h.l.Minor >= 11 && frames < maxFrames-10 {
		t.Errorf("%d frames read of a stack of 25,000, want %d", frames, maxFrames)
	}
	cut := false
	for _, w := range warns {
		cut = cut || strings.Contains(w.Message, "frames (a deep recursion, or damaged frame links): the stacks are cut")
	}
	if !cut {
		t.Errorf("no warning that the stacks were cut: %v", warns)
	}
}
