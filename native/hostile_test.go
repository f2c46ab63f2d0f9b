package native

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/internal/coretest"
	"github.com/heapsift/heapsift/internal/mutate"
	"github.com/heapsift/heapsift/symbolize"
	"github.com/heapsift/heapsift/warn"
)

// Regression tests for hostile cores (issue 14) on mutants of the leaks
// program's core made at test time.

// openMutant writes data as a core and opens its native heap.
func openMutant(t *testing.T, data []byte, exe string) (*Heap, []warn.Warning) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "core")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := dump.Open(path, dump.Options{Exe: exe})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	s, _, err := symbolize.New(p, symbolize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h, warns, err := Open(p, s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return h, warns
}

// TestThreadsSharingTLS: 20,000 threads sharing one thread's registers,
// stack and thread pointer (a core may claim them) cost one read of that
// static TLS block, for the tcache pointers and for the roots alike, and
// the heap is the same.
func TestThreadsSharingTLS(t *testing.T) {
	c, exe := leaksCore(t)
	data, err := os.ReadFile(c.Path)
	if err != nil {
		t.Fatal(err)
	}
	m, ok := mutate.One(data, "thread-copies", mutate.Options{MaxCount: 20000, Exact: true})
	if !ok {
		t.Fatal("no thread note to copy")
	}
	orig := openNative(t, c.Path, exe, false)
	start := time.Now()
	h, _ := openMutant(t, m.Data, exe)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("opening took %v", d)
	}
	if n := len(h.p.Threads); n < 20000 {
		t.Fatalf("%d threads, want the 20,000 copies", n)
	}
	checkLeaks(t, h, c, true)
	if h.alloc.Tcaches != orig.alloc.Tcaches {
		t.Errorf("%d tcaches, want %d", h.alloc.Tcaches, orig.alloc.Tcaches)
	}
	if got, want := len((&opener{p: h.p}).tlsWords()), len((&opener{p: orig.p}).tlsWords()); got != want {
		t.Errorf("tcache search read %d TLS words, want %d: the shared block once", got, want)
	}
	words := func(ws []tlsWindow) (n uint64) {
		for _, w := range ws {
			n += (w.to - w.from) / 8
		}
		return n
	}
	if got, want := words(tlsWindows(h.p, nil)), words(tlsWindows(orig.p, nil)); got != want {
		t.Errorf("roots scan %d TLS words, want %d: the shared block once", got, want)
	}
}

// threadArena makes the leaks program's core and returns it with its
// executable, an opener that found its two arenas (main_arena, then the
// thread's), those arenas and the core's bytes to mutate.
func threadArena(t *testing.T) (*coretest.Core, string, *opener, []arena, []byte) {
	t.Helper()
	c, exe := leaksCore(t)
	orig := openNative(t, c.Path, exe, false)
	o := &opener{p: orig.p, warns: &warn.List{}}
	o.libc = findLibc(orig.p)
	o.chooseLayout(Options{})
	_, arenas, err := o.findRegions()
	if err != nil || len(arenas) != 2 || arenas[1].main {
		t.Fatalf("arenas %+v, %v: want main_arena and the thread's", arenas, err)
	}
	data, err := os.ReadFile(c.Path)
	if err != nil {
		t.Fatal(err)
	}
	return c, exe, o, arenas, data
}

// TestArenaRingLoop: a non-main arena whose next link points back at
// itself, not at main_arena, ends the ring there with a warning: each
// arena is read once and the heap is the same.
func TestArenaRingLoop(t *testing.T) {
	c, exe, o, arenas, data := threadArena(t)
	self := binary.LittleEndian.AppendUint64(nil, arenas[1].addr)
	if !mutate.WriteAt(data, arenas[1].addr+uint64(o.l.StateNext), self) {
		t.Fatal("the thread's arena is not in the core")
	}
	h, warns := openMutant(t, data, exe)
	if h.alloc.Arenas != 2 {
		t.Errorf("%d arenas, want 2: each once", h.alloc.Arenas)
	}
	want := fmt.Sprintf("arena's next link loops back to arena %#x, not to main_arena %#x", arenas[1].addr, arenas[0].addr)
	if len(warn.Matching(warns, want)) == 0 {
		t.Errorf("no warning %q in %q", want, warn.Messages(warns))
	}
	checkLeaks(t, h, c, true)
}

// TestHeapChainLoop: a non-main arena's heap whose heap_info.prev points
// back at itself is read once, with a warning.
func TestHeapChainLoop(t *testing.T) {
	c, exe, o, arenas, data := threadArena(t)
	h0 := arenas[1].top &^ (heapMaxSize - 1)
	if !mutate.WriteAt(data, h0+uint64(o.l.HeapInfoPrev), binary.LittleEndian.AppendUint64(nil, h0)) {
		t.Fatal("the thread arena's heap_info is not in the core")
	}
	h, warns := openMutant(t, data, exe)
	if h.alloc.Heaps != 1 {
		t.Errorf("%d heaps, want 1: each once", h.alloc.Heaps)
	}
	if len(warn.Matching(warns, fmt.Sprintf("heap_info chain loops back to the heap at %#x", h0))) == 0 {
		t.Errorf("no warning about the loop in %q", warn.Messages(warns))
	}
	checkLeaks(t, h, c, true)
}

// TestHugeClaimedMapping: a program header claiming 2^57 bytes for the
// thread arena's heap (the mutation suite's phdr[7].p_memsz) is read in
// the time its bytes in the core take, not 2^31 heap alignments' worth.
func TestHugeClaimedMapping(t *testing.T) {
	_, exe, _, arenas, data := threadArena(t)
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	phoff := binary.LittleEndian.Uint64(data[32:])
	found := false
	for i, p := range f.Progs {
		if p.Type == elf.PT_LOAD && arenas[1].addr >= p.Vaddr && arenas[1].addr < p.Vaddr+p.Memsz {
			binary.LittleEndian.PutUint64(data[phoff+uint64(i)*56+40:], 1<<57) // p_memsz
			found = true
		}
	}
	if !found {
		t.Fatal("no segment holds the thread's arena")
	}
	start := time.Now()
	openMutant(t, data, exe)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("opening took %v", d)
	}
}
