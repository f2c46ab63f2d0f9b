package mutate

import (
	"bytes"
	"debug/elf"
	"testing"

	"github.com/heapsift/heapsift/internal/elfcore"
)

func sample() []byte {
	return (&elfcore.Core{
		Segments: []elfcore.Segment{
			{Vaddr: 0x400000, Flags: elf.PF_R | elf.PF_X, Memsz: 0x2000},
			{Vaddr: 0x600000, Flags: elf.PF_R | elf.PF_W, Data: append(elfcore.Words(3, 0x600010, 0x600000, 100), make([]byte, 8192-32)...)},
		},
		Notes: []elfcore.Note{
			{Name: "CORE", Type: elfcore.NTPRStatus, Desc: elfcore.PRStatusAMD64(1, 6, 0x401000, 0x600100, 0)},
			{Name: "CORE", Type: elfcore.NTFile, Desc: elfcore.FileNote([]elfcore.FileEntry{{Start: 0x400000, End: 0x402000, Path: "/bin/prog"}})},
		},
	}).Build()
}

// TestGenerateReproducible: one seed gives the same mutants, every family
// applies to a core with notes and memory (counts and pointers in it), and
// the core is not changed.
func TestGenerateReproducible(t *testing.T) {
	core := sample()
	orig := bytes.Clone(core)
	opts := Options{Seed: 3, N: 40, MaxCount: 1000}
	a, b := Generate(core, opts), Generate(core, opts)
	if len(a) != 40 || len(b) != 40 {
		t.Fatalf("%d and %d mutants, want 40", len(a), len(b))
	}
	fams := map[string]bool{}
	for i := range a {
		if a[i].Name != b[i].Name || !bytes.Equal(a[i].Data, b[i].Data) {
			t.Errorf("mutant %d differs between runs: %s / %s", i, a[i].Name, b[i].Name)
		}
		fams[a[i].Family] = true
	}
	for _, f := range Families() {
		if !fams[f] {
			t.Errorf("no mutant of family %s", f)
		}
	}
	if !bytes.Equal(core, orig) {
		t.Error("Generate changed the core")
	}
}

func TestRespell(t *testing.T) {
	for i, want := range map[int]string{0: "/a/b", 1: "/a/./b", 7: "/a//b", 35: "/a/x/../b"} {
		if got := respell("/a/b", i); got != want {
			t.Errorf("respell(%d) = %q, want %q", i, got, want)
		}
	}
}
