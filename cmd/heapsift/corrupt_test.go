package main

import (
	"debug/elf"
	"encoding/binary"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCorruptGoCore overwrites random words of a Go core's writable memory
// (heap spans, runtime structures, stacks): every Go command must still
// answer with results or one clear error, never a panic.
func TestCorruptGoCore(t *testing.T) {
	if testing.Short() {
		t.Skip("makes several cores")
	}
	core := leakyCore(t, 2000)
	data, err := os.ReadFile(core.Path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(core.Path)
	if err != nil {
		t.Fatal(err)
	}
	var segs []*elf.Prog
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Flags&elf.PF_W != 0 && p.Filesz >= 4096 {
			segs = append(segs, p)
		}
	}
	f.Close()
	for seed := int64(1); seed <= 4; seed++ {
		rng := rand.New(rand.NewSource(seed))
		bad := append([]byte{}, data...)
		words := 400 << seed // from 800 to 6,400 corrupted words
		for i := 0; i < words; i++ {
			p := segs[rng.Intn(len(segs))]
			off := p.Off + uint64(rng.Int63n(int64(p.Filesz/8)))*8
			v := rng.Uint64()
			if rng.Intn(2) == 0 { // a plausible pointer: somewhere in the same segment
				v = p.Vaddr + uint64(rng.Int63n(int64(p.Filesz)))
			}
			binary.LittleEndian.PutUint64(bad[off:], v)
		}
		path := filepath.Join(t.TempDir(), "core.bad")
		if err := os.WriteFile(path, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, cmd := range [][]string{{"histogram"}, {"goroutines"}, {"objects", "--type", "main.Timing"}, {"info"}, {}, {"retain"}, {"dominators"}} {
			code, _, stderr := runCLI(t, append(append(cmd, "--exe", core.Exe), path)...)
			if code != 0 && code != 1 {
				t.Errorf("seed %d %v: exit %d", seed, cmd, code)
			}
			if strings.Contains(stderr, "internal error") {
				t.Errorf("seed %d %v: %s", seed, cmd, stderr)
			}
			assertNoTrace(t, stderr)
		}
	}
}
