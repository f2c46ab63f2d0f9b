package dump

import (
	"bytes"
	"debug/elf"
	"io"
	"os"
	"testing"

	"github.com/heapsift/heapsift/internal/elfcore"
)

// TestAbsentSegmentsFromFile: when a core does not list an executable's
// segment at all (as gdb's gcore may), its bytes are read from the file.
func TestAbsentSegmentsFromFile(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Type != elf.ET_EXEC {
		t.Skip("test binary is position-independent")
	}
	var text *elf.Prog
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 {
			text = p
			break
		}
	}
	if text == nil || text.Filesz < 0x2000 {
		t.Skip("no text segment")
	}
	want := make([]byte, 64)
	if _, err := io.ReadFull(io.NewSectionReader(text, 0x1000, 64), want); err != nil {
		t.Fatal(err)
	}
	c := sampleCore()
	c.Notes = []elfcore.Note{
		{Name: "CORE", Type: elfcore.NTAuxv, Desc: elfcore.Auxv(elfcore.ATEntry, f.Entry)},
		{Name: "CORE", Type: elfcore.NTFile, Desc: elfcore.FileNote([]elfcore.FileEntry{{
			Start: text.Vaddr &^ 0xfff, End: text.Vaddr + text.Filesz, Offset: text.Off &^ 0xfff, Path: exe,
		}})},
	}
	c.Segments = c.Segments[1:] // no PT_LOAD for the executable
	p, err := Open(writeTemp(t, c.Build()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	got, err := p.Slice(Address(text.Vaddr+0x1000), 64)
	if err != nil {
		t.Fatalf("reading the absent text segment: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("bytes differ from the file")
	}
	if m := p.FindMapping(Address(text.Vaddr + 0x1000)); m == nil || m.File != exe || m.Perm&PermExec == 0 {
		t.Errorf("mapping %v", m)
	}
}
