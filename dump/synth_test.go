package dump

import (
	"encoding/binary"
)

// This file builds small ELF cores in memory for the tests: just enough of
// the format (header, program headers, notes, segment bytes) to exercise
// the reader without a real crash.

type synthSegment struct {
	vaddr  uint64
	flags  uint32
	data   []byte // bytes written to the core (p_filesz)
	memsz  uint64 // 0 means len(data)
	offset uint64 // filled by build
}

type synthNote struct {
	name string
	typ  uint32
	desc []byte
}

type synthCore struct {
	machine  uint16
	typ      uint16
	segments []synthSegment
	notes    []synthNote
}

func (c *synthCore) build() []byte {
	le := binary.LittleEndian
	var notes []byte
	for _, n := range c.notes {
		h := make([]byte, 12)
		le.PutUint32(h, uint32(len(n.name)+1))
		le.PutUint32(h[4:], uint32(len(n.desc)))
		le.PutUint32(h[8:], n.typ)
		notes = append(notes, h...)
		notes = append(notes, pad4(append([]byte(n.name), 0))...)
		notes = append(notes, pad4(n.desc)...)
	}
	nph := len(c.segments) + 1
	off := uint64(64 + 56*nph)
	noteOff := off
	off += uint64(len(notes))
	off = (off + 4095) &^ 4095
	for i := range c.segments {
		c.segments[i].offset = off
		off += uint64(len(c.segments[i].data))
	}
	out := make([]byte, off)
	copy(out, []byte{0x7f, 'E', 'L', 'F', 2, 1, 1})
	typ, machine := c.typ, c.machine
	if typ == 0 {
		typ = etCore
	}
	if machine == 0 {
		machine = emX86_64
	}
	le.PutUint16(out[16:], typ)
	le.PutUint16(out[18:], machine)
	le.PutUint64(out[32:], 64)
	le.PutUint16(out[52:], 64)
	le.PutUint16(out[54:], 56)
	le.PutUint16(out[56:], uint16(nph))
	ph := out[64:]
	le.PutUint32(ph, ptNote)
	le.PutUint64(ph[8:], noteOff)
	le.PutUint64(ph[32:], uint64(len(notes)))
	copy(out[noteOff:], notes)
	for i, s := range c.segments {
		ph := out[64+56*(i+1):]
		memsz := s.memsz
		if memsz == 0 {
			memsz = uint64(len(s.data))
		}
		le.PutUint32(ph, ptLoad)
		le.PutUint32(ph[4:], s.flags)
		le.PutUint64(ph[8:], s.offset)
		le.PutUint64(ph[16:], s.vaddr)
		le.PutUint64(ph[32:], uint64(len(s.data)))
		le.PutUint64(ph[40:], memsz)
		copy(out[s.offset:], s.data)
	}
	return out
}

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func prstatusDesc(tid int, sig int, rip, rsp, fsBase uint64) []byte {
	b := make([]byte, 336)
	le := binary.LittleEndian
	le.PutUint16(b[12:], uint16(sig))
	le.PutUint32(b[32:], uint32(tid))
	regs := b[prstatusRegOff:]
	le.PutUint64(regs[16*8:], rip)
	le.PutUint64(regs[19*8:], rsp)
	le.PutUint64(regs[21*8:], fsBase)
	return b
}

func prpsinfoDesc(pid int, cmd, args string) []byte {
	b := make([]byte, 136)
	binary.LittleEndian.PutUint32(b[24:], uint32(pid))
	copy(b[40:56], cmd)
	copy(b[56:], args)
	return b
}

func fileNoteDesc(entries []fileEntry) []byte {
	le := binary.LittleEndian
	b := make([]byte, 16+24*len(entries))
	le.PutUint64(b, uint64(len(entries)))
	le.PutUint64(b[8:], 4096)
	for i, e := range entries {
		le.PutUint64(b[16+24*i:], uint64(e.Start))
		le.PutUint64(b[24+24*i:], uint64(e.End))
		le.PutUint64(b[32+24*i:], e.Offset/4096)
	}
	for _, e := range entries {
		b = append(b, e.Path...)
		b = append(b, 0)
	}
	return b
}

func auxvDesc(kv ...uint64) []byte {
	b := make([]byte, 8*len(kv)+16)
	for i, v := range kv {
		binary.LittleEndian.PutUint64(b[8*i:], v)
	}
	return b
}

func siginfoDesc(signo int, addr uint64) []byte {
	b := make([]byte, 128)
	binary.LittleEndian.PutUint32(b, uint32(signo))
	binary.LittleEndian.PutUint64(b[16:], addr)
	return b
}

func words(vals ...uint64) []byte {
	b := make([]byte, 8*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint64(b[8*i:], v)
	}
	return b
}

// sampleCore is a two-thread core with a heap segment, a stack, a file
// mapping the kernel left out, and every note kind.
func sampleCore() *synthCore {
	heap := words(0x1111, 0x2222, 0x3333, 0x4444)
	stack := make([]byte, 4096)
	copy(stack[4096-16:], words(0xdead, 0xbeef))
	return &synthCore{
		segments: []synthSegment{
			{vaddr: 0x400000, flags: pfR | pfX, data: nil, memsz: 0x2000},
			{vaddr: 0x600000, flags: pfR | pfW, data: heap, memsz: 0x1000},
			{vaddr: 0x7ffff000, flags: pfR | pfW, data: stack},
		},
		notes: []synthNote{
			{"CORE", ntPRStatus, prstatusDesc(42, 11, 0x401000, 0x7ffffff0, 0x777000)},
			{"CORE", ntPRPSInfo, prpsinfoDesc(42, "demo", "./demo --flag")},
			{"CORE", ntSigInfo, siginfoDesc(11, 0xbad)},
			{"CORE", ntAuxv, auxvDesc(atPhdr, 0x400040, atEntry, 0x401000)},
			{"CORE", ntFile, fileNoteDesc([]fileEntry{{Start: 0x400000, End: 0x402000, Offset: 0, Path: "/no/such/demo"}})},
			{"CORE", ntPRStatus, prstatusDesc(43, 0, 0x401008, 0x600010, 0)},
		},
	}
}
