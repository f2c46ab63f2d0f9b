// Package elfcore builds small 64-bit little-endian ELF core files in
// memory for heapsift's unit tests: just enough of the format (file header,
// program headers, notes, segment bytes) to exercise a core reader without a
// real crash.
//
// It is ordinary (non-test) code so that the tests of several packages
// (dump, gocore) can share it, but nothing outside _test.go files should
// import it. It follows the Linux layout of the notes it writes on amd64 and
// arm64; it checks nothing, so tests can also build deliberately odd cores.
package elfcore

import (
	"debug/elf"
	"encoding/binary"
)

// Segment is one PT_LOAD program header and the bytes the core holds for it.
type Segment struct {
	Vaddr uint64
	Flags elf.ProgFlag
	// Data is written to the core (p_filesz = len(Data)).
	Data []byte
	// Memsz is p_memsz; 0 means len(Data).
	Memsz uint64
}

// Note is one ELF note of the PT_NOTE segment.
type Note struct {
	Name string // "CORE", "LINUX", "GNU"
	Type elf.NType
	Desc []byte
}

// Core describes a core file for Build.
type Core struct {
	// Machine is e_machine; 0 means elf.EM_X86_64.
	Machine elf.Machine
	// Type is e_type; 0 means elf.ET_CORE.
	Type     elf.Type
	Segments []Segment
	Notes    []Note
}

// Note types Linux writes into cores that debug/elf does not name.
const (
	NTPRStatus elf.NType = 1          // NT_PRSTATUS
	NTPRPSInfo elf.NType = 3          // NT_PRPSINFO
	NTAuxv     elf.NType = 6          // NT_AUXV
	NTARMTLS   elf.NType = 0x401      // NT_ARM_TLS
	NTSigInfo  elf.NType = 0x53494749 // NT_SIGINFO
	NTFile     elf.NType = 0x46494c45 // NT_FILE
)

// Auxiliary vector keys.
const (
	ATPhdr  = 3 // AT_PHDR
	ATEntry = 9 // AT_ENTRY
)

// PRStatusRegOff is the offset of pr_reg in struct elf_prstatus on 64-bit
// Linux.
const PRStatusRegOff = 112

const (
	ehdrSize = 64
	phdrSize = 56
	pageSize = 4096
)

// SegmentOffsets returns the file offset Build gives each segment's data:
// the notes follow the program headers, and the first segment starts at the
// next page boundary, the others right after each other.
func (c *Core) SegmentOffsets() []uint64 {
	off := uint64(ehdrSize+phdrSize*(len(c.Segments)+1)) + uint64(len(c.notes()))
	off = (off + pageSize - 1) &^ (pageSize - 1)
	offs := make([]uint64, len(c.Segments))
	for i, s := range c.Segments {
		offs[i] = off
		off += uint64(len(s.Data))
	}
	return offs
}

// notes returns the PT_NOTE segment's contents.
func (c *Core) notes() []byte {
	le := binary.LittleEndian
	var notes []byte
	for _, n := range c.Notes {
		h := make([]byte, 12)
		le.PutUint32(h, uint32(len(n.Name)+1))
		le.PutUint32(h[4:], uint32(len(n.Desc)))
		le.PutUint32(h[8:], uint32(n.Type))
		notes = append(notes, h...)
		notes = append(notes, pad4(append([]byte(n.Name), 0))...)
		notes = append(notes, pad4(n.Desc)...)
	}
	return notes
}

// Build returns the core file: the ELF header, a PT_NOTE program header
// followed by one PT_LOAD per segment, the notes, and the segments' data
// from the first page boundary after the notes.
func (c *Core) Build() []byte {
	le := binary.LittleEndian
	notes := c.notes()
	offs := c.SegmentOffsets()
	size := uint64(ehdrSize + phdrSize*(len(c.Segments)+1) + len(notes))
	if n := len(offs); n > 0 {
		size = offs[n-1] + uint64(len(c.Segments[n-1].Data))
	}
	out := make([]byte, size)
	copy(out, []byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)})
	typ, machine := c.Type, c.Machine
	if typ == 0 {
		typ = elf.ET_CORE
	}
	if machine == 0 {
		machine = elf.EM_X86_64
	}
	le.PutUint16(out[16:], uint16(typ))
	le.PutUint16(out[18:], uint16(machine))
	le.PutUint32(out[20:], uint32(elf.EV_CURRENT))
	le.PutUint64(out[32:], ehdrSize)
	le.PutUint16(out[52:], ehdrSize)
	le.PutUint16(out[54:], phdrSize)
	le.PutUint16(out[56:], uint16(len(c.Segments)+1))
	ph := out[ehdrSize:]
	noteOff := uint64(ehdrSize + phdrSize*(len(c.Segments)+1))
	le.PutUint32(ph, uint32(elf.PT_NOTE))
	le.PutUint64(ph[8:], noteOff)
	le.PutUint64(ph[32:], uint64(len(notes)))
	copy(out[noteOff:], notes)
	for i, s := range c.Segments {
		ph := out[ehdrSize+phdrSize*(i+1):]
		memsz := s.Memsz
		if memsz == 0 {
			memsz = uint64(len(s.Data))
		}
		le.PutUint32(ph, uint32(elf.PT_LOAD))
		le.PutUint32(ph[4:], uint32(s.Flags))
		le.PutUint64(ph[8:], offs[i])
		le.PutUint64(ph[16:], s.Vaddr)
		le.PutUint64(ph[32:], uint64(len(s.Data)))
		le.PutUint64(ph[40:], memsz)
		copy(out[offs[i]:], s.Data)
	}
	return out
}

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}
