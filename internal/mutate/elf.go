package mutate

import "encoding/binary"

// This file reads the little of an ELF core the mutators need to aim: the
// program headers and the notes. It trusts nothing and fails soft: a core
// it cannot read gets only the mutations that need no structure.

var le = binary.LittleEndian

// Offsets of ELF64 header and program header fields.
const (
	ehdrSize = 64
	phdrSize = 56

	offPhoff     = 32
	offPhentsize = 54
	offPhnum     = 56

	ptLoad = 1
	ptNote = 4

	ntPRStatus = 1
	// prstatusPIDOff is pr_pid's offset in NT_PRSTATUS.
	prstatusPIDOff = 32
	ntFile         = 0x46494c45
)

// phdr is one program header and where it lies in the core.
type phdr struct {
	at                        int // offset of the header itself
	typ, flags                uint32
	off, vaddr, filesz, memsz uint64
}

// noteAt is one note and where its parts lie in the core.
type noteAt struct {
	at, descAt, descLen int
	name                string
	typ                 uint32
}

// layout is what the mutators know of a core.
type layout struct {
	phdrs []phdr
	notes []noteAt
}

// readLayout finds the program headers and notes of an ELF64 core.
func readLayout(b []byte) layout {
	var l layout
	if len(b) < ehdrSize || string(b[:4]) != "\x7fELF" {
		return l
	}
	phoff, phent, phnum := le.Uint64(b[offPhoff:]), uint64(le.Uint16(b[offPhentsize:])), uint64(le.Uint16(b[offPhnum:]))
	if phent < phdrSize || phoff > uint64(len(b)) || phnum > (uint64(len(b))-phoff)/phent {
		return l
	}
	for i := range phnum {
		at := phoff + i*phent
		h := b[at:]
		p := phdr{at: int(at), typ: le.Uint32(h), flags: le.Uint32(h[4:]), off: le.Uint64(h[8:]),
			vaddr: le.Uint64(h[16:]), filesz: le.Uint64(h[32:]), memsz: le.Uint64(h[40:])}
		l.phdrs = append(l.phdrs, p)
		if p.typ == ptNote {
			l.notes = append(l.notes, readNotes(b, p)...)
		}
	}
	return l
}

// readNotes lists the notes of one PT_NOTE segment.
func readNotes(b []byte, p phdr) []noteAt {
	if p.off > uint64(len(b)) || p.filesz > uint64(len(b))-p.off {
		return nil
	}
	var out []noteAt
	off, end := int(p.off), int(p.off+p.filesz)
	for end-off >= 12 {
		namesz, descsz := int(le.Uint32(b[off:])), int(le.Uint32(b[off+4:]))
		nameEnd := off + 12 + align4(namesz)
		if namesz < 0 || descsz < 0 || nameEnd > end || descsz > end-nameEnd {
			break
		}
		name := string(b[off+12 : off+12+namesz])
		for len(name) > 0 && name[len(name)-1] == 0 {
			name = name[:len(name)-1]
		}
		out = append(out, noteAt{at: off, descAt: nameEnd, descLen: descsz, name: name, typ: le.Uint32(b[off+8:])})
		off = nameEnd + align4(descsz)
	}
	return out
}

func align4(n int) int { return (n + 3) &^ 3 }

// loads returns the PT_LOAD headers whose bytes the core holds, at least
// min of them.
func (l layout) loads(b []byte, min uint64, writable bool) []phdr {
	var out []phdr
	for _, p := range l.phdrs {
		if p.typ != ptLoad || p.filesz < min || p.off > uint64(len(b)) || p.filesz > uint64(len(b))-p.off {
			continue
		}
		if writable && p.flags&2 == 0 {
			continue
		}
		out = append(out, p)
	}
	return out
}

// note returns the first note of type typ, if any.
func (l layout) note(typ uint32) (noteAt, bool) {
	for _, n := range l.notes {
		if n.typ == typ && (n.name == "CORE" || n.name == "LINUX") {
			return n, true
		}
	}
	return noteAt{}, false
}

// noteBytes encodes one note.
func noteBytes(name string, typ uint32, desc []byte) []byte {
	b := make([]byte, 12, 12+align4(len(name)+1)+align4(len(desc)))
	le.PutUint32(b, uint32(len(name)+1))
	le.PutUint32(b[4:], uint32(len(desc)))
	le.PutUint32(b[8:], typ)
	b = append(b, name...)
	b = append(b, make([]byte, align4(len(name)+1)-len(name))...)
	b = append(b, desc...)
	return append(b, make([]byte, align4(len(desc))-len(desc))...)
}

// ReadAt fills b from virtual address vaddr of the core's memory and
// reports whether a PT_LOAD held every byte of it.
func ReadAt(core []byte, vaddr uint64, b []byte) bool {
	for _, p := range readLayout(core).loads(core, 1, false) {
		if vaddr >= p.vaddr && vaddr-p.vaddr <= p.filesz && uint64(len(b)) <= p.filesz-(vaddr-p.vaddr) {
			copy(b, core[p.off+vaddr-p.vaddr:])
			return true
		}
	}
	return false
}

// WriteAt writes data at virtual address vaddr of the core's memory, in
// place, and reports whether a PT_LOAD held every byte of it.
func WriteAt(core []byte, vaddr uint64, data []byte) bool {
	for _, p := range readLayout(core).loads(core, 1, false) {
		if vaddr >= p.vaddr && vaddr-p.vaddr <= p.filesz && uint64(len(data)) <= p.filesz-(vaddr-p.vaddr) {
			copy(core[p.off+vaddr-p.vaddr:], data)
			return true
		}
	}
	return false
}

// DropNotes returns a copy of core whose CORE and LINUX notes of the
// given types are renamed to a type no reader knows, as if the kernel had
// not written them.
func DropNotes(core []byte, types ...uint32) []byte {
	b := clone(core)
	for _, n := range readLayout(core).notes {
		if n.name != "CORE" && n.name != "LINUX" {
			continue
		}
		for _, typ := range types {
			if n.typ == typ {
				le.PutUint32(b[n.at+8:], 0x7777)
			}
		}
	}
	return b
}
