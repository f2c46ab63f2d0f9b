package dump

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// This file lays out a live process as an ELF core, the same headers and
// notes the kernel writes: a PT_NOTE segment (NT_PRSTATUS per thread,
// NT_PRPSINFO, NT_AUXV, NT_FILE) and a PT_LOAD segment per mapping, each
// holding what the kernel's default coredump_filter would keep. The image
// is then opened by the same code as any core, so that everything above
// this package sees no difference.

// ELF and note constants for writing.
const (
	ehdrSize  = 64
	phdrSize  = 56
	shdrSize  = 64
	prRegOff  = prstatusRegOff
	psinfoLen = 136
)

// liveImage is what is known of a live process before its memory is copied.
type liveImage struct {
	arch    Arch
	info    *ProcessInfo
	auxv    []byte
	maps    []procMapping
	threads []*stoppedThread
	copied  *liveCopy // the memory, once copied
	// scan is how page tables are read first (a fallback, in tests).
	scan scanHow
}

// loadSeg is where one mapping's bytes go in the image.
type loadSeg struct {
	m      *procMapping
	off    uint64 // in the image
	filesz uint64 // bytes copied
}

// layout returns the image's headers and notes and where each mapping's
// bytes go, and the image's total size.
func (li *liveImage) layout() (head []byte, segs []loadSeg, size uint64) {
	notes := li.notes()
	nph := 1 + len(li.maps)
	shoff := uint64(0)
	hdrEnd := uint64(ehdrSize + nph*phdrSize)
	if nph >= pnXNum {
		shoff, hdrEnd = hdrEnd, hdrEnd+shdrSize
	}
	noteOff := hdrEnd
	off := alignPage(noteOff + uint64(len(notes)))
	for i := range li.maps {
		m := &li.maps[i]
		n := m.copySize()
		segs = append(segs, loadSeg{m: m, off: off, filesz: n})
		off = alignPage(off + n)
	}
	head = make([]byte, noteOff+uint64(len(notes)))
	li.writeHeaders(head, nph, shoff)
	le := binary.LittleEndian
	ph := head[ehdrSize:]
	le.PutUint32(ph[0:], ptNote)
	le.PutUint64(ph[8:], noteOff)
	le.PutUint64(ph[32:], uint64(len(notes)))
	le.PutUint64(ph[48:], 4)
	for i, s := range segs {
		p := ph[(i+1)*phdrSize:]
		var flags uint32
		if s.m.Perm&PermRead != 0 {
			flags |= pfR
		}
		if s.m.Perm&PermWrite != 0 {
			flags |= pfW
		}
		if s.m.Perm&PermExec != 0 {
			flags |= pfX
		}
		le.PutUint32(p[0:], ptLoad)
		le.PutUint32(p[4:], flags)
		le.PutUint64(p[8:], s.off)
		le.PutUint64(p[16:], uint64(s.m.Start))
		le.PutUint64(p[32:], s.filesz)
		le.PutUint64(p[40:], uint64(s.m.End-s.m.Start))
		le.PutUint64(p[48:], pageSize)
	}
	copy(head[noteOff:], notes)
	return head, segs, off
}

// writeHeaders fills in the ELF header (and, past 65535 program headers,
// the section header that holds their count).
func (li *liveImage) writeHeaders(b []byte, nph int, shoff uint64) {
	le := binary.LittleEndian
	copy(b, []byte{0x7f, 'E', 'L', 'F', 2, 1, 1})
	le.PutUint16(b[16:], etCore)
	machine := uint16(emX86_64)
	if li.arch == ArchARM64 {
		machine = emAArch64
	}
	le.PutUint16(b[18:], machine)
	le.PutUint32(b[20:], 1)
	le.PutUint64(b[32:], ehdrSize)
	le.PutUint16(b[52:], ehdrSize)
	le.PutUint16(b[54:], phdrSize)
	le.PutUint16(b[58:], shdrSize)
	if nph < pnXNum {
		le.PutUint16(b[56:], uint16(nph))
		return
	}
	le.PutUint16(b[56:], pnXNum)
	le.PutUint64(b[40:], shoff)
	le.PutUint16(b[60:], 1)
	le.PutUint32(b[shoff+44:], uint32(nph))
}

// notes encodes the PT_NOTE segment.
func (li *liveImage) notes() []byte {
	var out []byte
	for _, t := range li.threads {
		if t.regs == nil {
			continue
		}
		out = appendNote(out, "CORE", ntPRStatus, li.prstatus(t))
		if t.tls != nil {
			out = appendNote(out, "LINUX", ntARMTLS, t.tls)
		}
	}
	out = appendNote(out, "CORE", ntPRPSInfo, li.prpsinfo())
	if len(li.auxv) > 0 {
		out = appendNote(out, "CORE", ntAuxv, li.auxv)
	}
	return appendNote(out, "CORE", ntFile, li.fileNote())
}

func appendNote(out []byte, name string, typ uint32, desc []byte) []byte {
	le := binary.LittleEndian
	out = le.AppendUint32(out, uint32(len(name)+1))
	out = le.AppendUint32(out, uint32(len(desc)))
	out = le.AppendUint32(out, typ)
	out = append(out, name...)
	out = append(out, make([]byte, align4(uint64(len(name)+1))-uint64(len(name)))...)
	out = append(out, desc...)
	return append(out, make([]byte, align4(uint64(len(desc)))-uint64(len(desc)))...)
}

// prstatus is struct elf_prstatus for thread t: ids and registers.
func (li *liveImage) prstatus(t *stoppedThread) []byte {
	le := binary.LittleEndian
	b := make([]byte, prRegOff+len(t.regs)+8)
	le.PutUint16(b[12:], uint16(t.sig))
	le.PutUint32(b[32:], uint32(t.tid))
	if li.info != nil {
		le.PutUint32(b[36:], uint32(li.info.PPID))
	}
	copy(b[prRegOff:], t.regs)
	return b
}

// prpsinfo is struct elf_prpsinfo.
func (li *liveImage) prpsinfo() []byte {
	le := binary.LittleEndian
	b := make([]byte, psinfoLen)
	if i := li.info; i != nil {
		le.PutUint32(b[16:], uint32(i.UID))
		le.PutUint32(b[20:], uint32(i.GID))
		le.PutUint32(b[24:], uint32(i.PID))
		le.PutUint32(b[28:], uint32(i.PPID))
		copy(b[40:55], i.Command)
		copy(b[56:135], i.Args)
	}
	return b
}

// fileNote is NT_FILE: the file-backed mappings and their paths.
func (li *liveImage) fileNote() []byte {
	le := binary.LittleEndian
	var entries, names []byte
	n := 0
	for _, m := range li.maps {
		if m.Inode == 0 || !strings.HasPrefix(m.Path, "/") {
			continue
		}
		entries = le.AppendUint64(entries, uint64(m.Start))
		entries = le.AppendUint64(entries, uint64(m.End))
		entries = le.AppendUint64(entries, m.Offset/pageSize)
		names = append(append(names, m.Path...), 0)
		n++
	}
	b := le.AppendUint64(nil, uint64(n))
	b = le.AppendUint64(b, pageSize)
	return append(append(b, entries...), names...)
}

func alignPage(n uint64) uint64 { return (n + pageSize - 1) &^ (pageSize - 1) }

// checkRegs verifies that every thread's register set has the size of the
// architecture's general registers, as a 64-bit process's does.
func (li *liveImage) checkRegs() error {
	want := 27 * 8
	if li.arch == ArchARM64 {
		want = 34 * 8
	}
	for _, t := range li.threads {
		if t.regs != nil && len(t.regs) != want {
			return fmt.Errorf("thread %d has %d bytes of registers, want %d: only 64-bit processes are supported", t.tid, len(t.regs), want)
		}
	}
	return nil
}
