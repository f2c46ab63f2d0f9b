package dump

import (
	"encoding/binary"
	"fmt"
)

// This file decodes the parts of an ELF64 little-endian file that a core
// reader needs: the file header and the program headers. It is written for
// untrusted input: every offset and count is checked against the data.

// ELF constants used here.
const (
	etExec = 2
	etDyn  = 3
	etCore = 4

	emX86_64  = 62
	emAArch64 = 183

	ptLoad = 1
	ptNote = 4

	pfX = 1
	pfW = 2
	pfR = 4

	pnXNum = 0xffff
)

// Arch is the processor architecture of a dump.
type Arch string

// Architectures heapsift reads.
const (
	ArchAMD64 Arch = "amd64"
	ArchARM64 Arch = "arm64"
)

// elfHeader is the part of an ELF64 header heapsift uses.
type elfHeader struct {
	Type      uint16
	Machine   uint16
	Entry     uint64
	PhOff     uint64
	ShOff     uint64
	PhEntSize uint16
	PhNum     uint32
}

// progHeader is one ELF64 program header.
type progHeader struct {
	Type   uint32
	Flags  uint32
	Off    uint64
	Vaddr  uint64
	Filesz uint64
	Memsz  uint64
	Align  uint64
}

// FormatError reports malformed input with the offset where it was found.
type FormatError struct {
	Off int64
	Msg string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("%s (at byte %#x)", e.Msg, e.Off)
}

// isELF reports whether b starts with the ELF magic number.
func isELF(b []byte) bool {
	return len(b) >= 4 && b[0] == 0x7f && b[1] == 'E' && b[2] == 'L' && b[3] == 'F'
}

// parseELFHeader decodes the ELF64 little-endian header at the start of b.
func parseELFHeader(b []byte) (*elfHeader, error) {
	if !isELF(b) {
		return nil, &FormatError{0, "not an ELF file"}
	}
	if len(b) < 64 {
		return nil, &FormatError{0, fmt.Sprintf("ELF header cut short: %d of 64 bytes", len(b))}
	}
	if b[4] != 2 {
		return nil, &FormatError{4, "not a 64-bit ELF file (only 64-bit cores are supported)"}
	}
	if b[5] != 1 {
		return nil, &FormatError{5, "not a little-endian ELF file"}
	}
	le := binary.LittleEndian
	h := &elfHeader{
		Type:      le.Uint16(b[16:]),
		Machine:   le.Uint16(b[18:]),
		Entry:     le.Uint64(b[24:]),
		PhOff:     le.Uint64(b[32:]),
		ShOff:     le.Uint64(b[40:]),
		PhEntSize: le.Uint16(b[54:]),
		PhNum:     uint32(le.Uint16(b[56:])),
	}
	if h.PhNum == pnXNum {
		// The real count lives in section header 0's sh_info.
		if h.ShOff > uint64(len(b)) || uint64(len(b))-h.ShOff < 64 {
			return nil, &FormatError{40, "program header count is in section 0, which is missing"}
		}
		h.PhNum = le.Uint32(b[h.ShOff+44:])
	}
	return h, nil
}

// parseProgHeaders decodes the program headers described by h from b.
func parseProgHeaders(b []byte, h *elfHeader) ([]progHeader, error) {
	if h.PhNum == 0 {
		return nil, nil
	}
	if h.PhEntSize < 56 {
		return nil, &FormatError{54, fmt.Sprintf("program header size %d is too small", h.PhEntSize)}
	}
	size := uint64(h.PhNum) * uint64(h.PhEntSize)
	if h.PhOff > uint64(len(b)) || uint64(len(b))-h.PhOff < size {
		return nil, &FormatError{int64(h.PhOff), fmt.Sprintf("%d program headers run past the end of the file", h.PhNum)}
	}
	le := binary.LittleEndian
	progs := make([]progHeader, h.PhNum)
	for i := range progs {
		p := b[h.PhOff+uint64(i)*uint64(h.PhEntSize):]
		progs[i] = progHeader{
			Type:   le.Uint32(p[0:]),
			Flags:  le.Uint32(p[4:]),
			Off:    le.Uint64(p[8:]),
			Vaddr:  le.Uint64(p[16:]),
			Filesz: le.Uint64(p[32:]),
			Memsz:  le.Uint64(p[40:]),
			Align:  le.Uint64(p[48:]),
		}
	}
	return progs, nil
}

func permOf(flags uint32) Perm {
	var p Perm
	if flags&pfR != 0 {
		p |= PermRead
	}
	if flags&pfW != 0 {
		p |= PermWrite
	}
	if flags&pfX != 0 {
		p |= PermExec
	}
	return p
}

// buildIDFromImage finds the GNU build ID in the program headers' notes of
// an ELF image laid out as in memory (a mapped file's first page) or as in a
// file (read is called with file offsets). It returns "" when there is none.
func buildIDFromImage(read func(off, n uint64) []byte, inMemory bool) string {
	hb := read(0, 64)
	h, err := parseELFHeader(hb)
	if err != nil {
		return ""
	}
	ph := read(h.PhOff, uint64(h.PhNum)*uint64(h.PhEntSize))
	at := *h
	at.PhOff = 0 // ph holds just the program headers
	progs, err := parseProgHeaders(ph, &at)
	if err != nil {
		return ""
	}
	// Notes are addressed by vaddr in memory (relative to the first
	// PT_LOAD's vaddr minus its offset) and by offset in a file.
	var loadBias uint64
	if inMemory {
		for _, p := range progs {
			if p.Type == ptLoad {
				loadBias = p.Vaddr - p.Off
				break
			}
		}
	}
	goID := ""
	for _, p := range progs {
		if p.Type != ptNote || p.Filesz > 1<<20 {
			continue
		}
		off := p.Off
		if inMemory {
			off = p.Vaddr - loadBias
		}
		for _, n := range parseNotes(read(off, p.Filesz)) {
			switch {
			case n.Type == ntGNUBuildID && n.Name == "GNU":
				return fmt.Sprintf("%x", n.Desc)
			case n.Type == ntGoBuildID && n.Name == "Go" && goID == "":
				goID = string(n.Desc)
			}
		}
	}
	return goID
}
