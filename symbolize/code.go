package symbolize

import (
	"encoding/binary"

	"github.com/heapsift/heapsift/dump"
)

// A word that falls inside a function is a code pointer only if it points
// where code pointers point: a function's entry (a function pointer, a
// vtable slot) or the instruction after a call (a return address). A word
// that points anywhere else in code and reads as short text is text: in a
// non-PIE executable, whose code lies at low addresses such as 0x400000,
// three letters and NULs ("ing\0\0\0\0\0" is 0x676e69) land in it.

// minCodeASCII is the fewest printable characters that make a word that
// is an implausible code pointer text (fewer than minASCII, since such a
// word needs its high bytes to be zero).
const minCodeASCII = 3

// textInsteadOfCode returns n's word as text when n names a word inside a
// function, not at its entry, that is not a return address and reads as
// text. Only words below 4 GiB qualify: code there (a non-PIE executable)
// is where short strings land, while the six significant bytes of a
// pointer into a PIE's code (0x55... or 0x56...) are all printable for
// about one load address in a hundred, and would then read as text.
func (s *Symbolizer) textInsteadOfCode(n Name) (Name, bool) {
	if n.Offset == 0 || n.Value >= 1<<32 {
		return Name{}, false
	}
	text, ok := asciiTextMin(n.Value, minCodeASCII)
	if !ok {
		return Name{}, false
	}
	m := s.p.FindMapping(dump.Address(n.Value))
	if m == nil || m.Perm&dump.PermExec == 0 || s.afterCall(n.Value) {
		return Name{}, false
	}
	return Name{Value: n.Value, Kind: KindASCII, Text: text}, true
}

// afterCall reports whether the instruction before pc is a call, so that
// pc is a return address. Unreadable code counts as a call: the word is
// then left a code pointer.
func (s *Symbolizer) afterCall(pc uint64) bool {
	switch s.p.Arch {
	case dump.ArchAMD64:
		const before = 7
		if pc < before {
			return false
		}
		b := make([]byte, before)
		if _, err := s.p.ReadAt(b, dump.Address(pc-before)); err != nil {
			return true
		}
		return amd64CallEndsAt(b)
	case dump.ArchARM64:
		if pc%4 != 0 || pc < 4 {
			return false
		}
		b := make([]byte, 4)
		if _, err := s.p.ReadAt(b, dump.Address(pc-4)); err != nil {
			return true
		}
		insn := binary.LittleEndian.Uint32(b)
		return insn&0xfc000000 == 0x94000000 || insn&0xfffffc1f == 0xd63f0000 // BL, BLR
	}
	return true
}

// amd64CallEndsAt reports whether the bytes b, which end where the word
// points, end with a call instruction: CALL rel32 (E8 and four bytes), or
// CALL r/m64 (FF /2: FF, a ModRM byte whose reg field is 2, and the
// SIB and displacement bytes its mod and r/m fields call for).
func amd64CallEndsAt(b []byte) bool {
	n := len(b)
	if n >= 5 && b[n-5] == 0xe8 {
		return true
	}
	for k := 2; k <= n; k++ {
		if b[n-k] != 0xff {
			continue
		}
		modrm := b[n-k+1]
		if modrm>>3&7 != 2 {
			continue
		}
		if callModRMLen(modrm, b, n-k+2) == k {
			return true
		}
	}
	return false
}

// callModRMLen is the length of an FF /2 instruction with this ModRM byte,
// whose SIB byte (if any) is b[sib]: 2 bytes of opcode and ModRM, plus SIB
// and displacement.
func callModRMLen(modrm byte, b []byte, sib int) int {
	mod, rm := modrm>>6, modrm&7
	n := 2
	if mod != 3 && rm == 4 { // a SIB byte follows
		n++
		if mod == 0 && sib < len(b) && b[sib]&7 == 5 {
			n += 4 // no base: disp32
		}
	}
	switch {
	case mod == 0 && rm == 5:
		n += 4 // RIP-relative disp32
	case mod == 1:
		n++
	case mod == 2:
		n += 4
	}
	return n
}

// asciiTextMin is asciiText with at least minLen printable characters.
func asciiTextMin(v uint64, minLen int) (string, bool) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	n := 0
	for n < len(b) && b[n] >= 0x20 && b[n] <= 0x7e {
		n++
	}
	if n < minLen {
		return "", false
	}
	for _, c := range b[n:] {
		if c != 0 {
			return "", false
		}
	}
	return string(b[:n]), true
}
