package elfcore

import (
	"bytes"
	"debug/elf"
	"io"
	"testing"
)

// TestBuildParses: debug/elf reads back what Build wrote: header, one
// PT_NOTE holding the notes and one PT_LOAD per segment at SegmentOffsets.
func TestBuildParses(t *testing.T) {
	c := &Core{
		Machine: elf.EM_AARCH64,
		Segments: []Segment{
			{Vaddr: 0x400000, Flags: elf.PF_R | elf.PF_X, Memsz: 0x2000},
			{Vaddr: 0x600000, Flags: elf.PF_R | elf.PF_W, Data: Words(1, 2, 3)},
		},
		Notes: []Note{{Name: "CORE", Type: NTPRPSInfo, Desc: PRPSInfo(7, "x", "x -y")}},
	}
	f, err := elf.NewFile(bytes.NewReader(c.Build()))
	if err != nil {
		t.Fatalf("debug/elf cannot read the core: %v", err)
	}
	if f.Type != elf.ET_CORE || f.Machine != elf.EM_AARCH64 || len(f.Progs) != 3 {
		t.Fatalf("type %v, machine %v, %d program headers", f.Type, f.Machine, len(f.Progs))
	}
	note, err := io.ReadAll(f.Progs[0].Open())
	if err != nil || f.Progs[0].Type != elf.PT_NOTE || !bytes.Contains(note, []byte("CORE\x00")) {
		t.Errorf("note segment %+v: %q, %v", f.Progs[0].ProgHeader, note, err)
	}
	offs := c.SegmentOffsets()
	for i, s := range c.Segments {
		p := f.Progs[i+1]
		memsz := max(s.Memsz, uint64(len(s.Data)))
		if p.Type != elf.PT_LOAD || p.Vaddr != s.Vaddr || p.Flags != s.Flags || p.Off != offs[i] ||
			p.Filesz != uint64(len(s.Data)) || p.Memsz != memsz {
			t.Errorf("segment %d: %+v, want %+v at offset %d", i, p.ProgHeader, s, offs[i])
		}
		got, _ := io.ReadAll(p.Open())
		if !bytes.Equal(got, s.Data) {
			t.Errorf("segment %d holds %x, want %x", i, got, s.Data)
		}
	}
}
