package dump

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"unsafe"
)

// This file decodes ELF notes: the generic note framing, and the core notes
// the kernel writes (NT_PRSTATUS, NT_PRPSINFO, NT_AUXV, NT_SIGINFO, NT_FILE).

// Note types.
const (
	ntPRStatus   = 1
	ntPRPSInfo   = 3
	ntAuxv       = 6
	ntGNUBuildID = 3 // in a "GNU" note
	ntGoBuildID  = 4 // in a "Go" note
	ntARMTLS     = 0x401
	ntSigInfo    = 0x53494749
	ntFile       = 0x46494c45
)

// Auxiliary vector keys heapsift uses.
const (
	atPhdr        = 3
	atEntry       = 9
	atExecFn      = 31
	atSysinfoEhdr = 33
)

// note is one decoded ELF note.
type note struct {
	// Off is the note's offset in the segment walked.
	Off  uint64
	Name string
	Type uint32
	Desc []byte
}

// parseNotes splits a PT_NOTE segment into notes, stopping at the first
// malformed one.
func parseNotes(b []byte) []note {
	var notes []note
	walkNotes(b, func(n note) { notes = append(notes, n) })
	return notes
}

// walkNotes calls fn for each note of a PT_NOTE segment, in order, without
// collecting them, so that a segment of millions of tiny notes costs no more
// memory than one. It returns the offset in b where a malformed note stopped
// the walk, or -1 when every byte was a well-formed note.
func walkNotes(b []byte, fn func(note)) int64 {
	le := binary.LittleEndian
	off := uint64(0)
	size := uint64(len(b))
	for size-off >= 12 {
		h := b[off:]
		namesz, descsz, typ := uint64(le.Uint32(h)), uint64(le.Uint32(h[4:])), le.Uint32(h[8:])
		rest := size - off - 12
		nameEnd := align4(namesz)
		if nameEnd > rest || descsz > rest-nameEnd {
			return int64(off)
		}
		name := b[off+12 : off+12+namesz]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		descAt := off + 12 + nameEnd
		fn(note{Off: off, Name: noteName(name), Type: typ, Desc: b[descAt : descAt+descsz : descAt+descsz]})
		off = descAt + min(align4(descsz), rest-nameEnd)
	}
	if off < size {
		return int64(off)
	}
	return -1
}

func align4(n uint64) uint64 { return (n + 3) &^ 3 }

// noteName returns a note's name as a string, the usual ones without
// allocating: a core may hold millions of notes.
func noteName(b []byte) string {
	for _, s := range []string{"CORE", "LINUX", "GNU"} {
		if string(b) == s {
			return s
		}
	}
	return string(b)
}

// Thread is one thread of the dumped process, from its NT_PRSTATUS note.
type Thread struct {
	TID int
	// Signal is the signal the thread had pending when it stopped (the
	// fatal one for the thread that crashed).
	Signal int
	// PC, SP and FP are the program counter, stack pointer and frame
	// pointer (rbp on amd64, x29 on arm64).
	PC, SP, FP Address
	// TLS is the thread pointer: fs_base on amd64, tpidr_el0 on arm64.
	TLS Address
	// regs is the first byte of the note's register block, a view of
	// the core, not a copy, holding the architecture's registers in the
	// order of regNames. A thread keeps no more (64 bytes in all): a core
	// may hold a hundred thousand.
	regs  *byte
	arm64 bool
}

// regWord returns register i of the block.
func (t *Thread) regWord(i int) uint64 {
	if t.regs == nil {
		return 0 // a Thread not read from a core
	}
	return binary.LittleEndian.Uint64(unsafe.Slice(t.regs, 8*len(t.regNames()))[8*i:])
}

// regNames returns the names of the registers in t.regs, in order.
func (t *Thread) regNames() []string {
	if t.arm64 {
		return arm64RegNames
	}
	return amd64RegNames
}

// Regs returns every general register by its usual name, in note order.
func (t *Thread) Regs() []Register {
	names := t.regNames()
	out := make([]Register, len(names))
	for i, name := range names {
		out[i] = Register{name, t.regWord(i)}
	}
	return out
}

// Register is one named register value.
type Register struct {
	Name  string
	Value uint64
}

// Reg returns the register with the given name.
func (t *Thread) Reg(name string) (uint64, bool) {
	for i, n := range t.regNames() {
		if n == name {
			return t.regWord(i), true
		}
	}
	return 0, false
}

var amd64RegNames = []string{
	"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8",
	"rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags",
	"rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs",
}

// arm64RegNames are x0..x30, sp, pc and pstate, in struct user_pt_regs
// order.
var arm64RegNames = []string{
	"x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11",
	"x12", "x13", "x14", "x15", "x16", "x17", "x18", "x19", "x20", "x21", "x22",
	"x23", "x24", "x25", "x26", "x27", "x28", "x29", "x30", "sp", "pc",
	"pstate",
}

// prstatusRegOff is the offset of pr_reg in struct elf_prstatus on 64-bit
// Linux (siginfo header, cursig, sigpend, sighold, ids, four timevals).
const prstatusRegOff = 112

// prstatusPIDOff is the offset of pr_pid, the thread's id, in
// struct elf_prstatus.
const prstatusPIDOff = 32

// parsePRStatus decodes an NT_PRSTATUS note.
func parsePRStatus(desc []byte, arch Arch) (*Thread, error) {
	t := &Thread{}
	return t, t.decode(desc, arch)
}

// decode fills t from an NT_PRSTATUS note.
func (t *Thread) decode(desc []byte, arch Arch) error {
	le := binary.LittleEndian
	nregs := 27
	if arch == ArchARM64 {
		nregs = 34 // x0..x30, sp, pc, pstate
	}
	if len(desc) < prstatusRegOff+nregs*8 {
		return fmt.Errorf("NT_PRSTATUS note is %d bytes, want at least %d", len(desc), prstatusRegOff+nregs*8)
	}
	*t = Thread{
		Signal: int(le.Uint16(desc[12:])),
		TID:    int(int32(le.Uint32(desc[prstatusPIDOff:]))),
	}
	t.regs = &desc[prstatusRegOff]
	t.arm64 = arch == ArchARM64
	get := func(n string) Address { v, _ := t.Reg(n); return Address(v) }
	if arch == ArchARM64 {
		t.PC, t.SP, t.FP = get("pc"), get("sp"), get("x29")
	} else {
		t.PC, t.SP, t.FP, t.TLS = get("rip"), get("rsp"), get("rbp"), get("fs_base")
	}
	return nil
}

// ProcessInfo is what NT_PRPSINFO tells about the process.
type ProcessInfo struct {
	PID, PPID int
	UID, GID  int
	// Command is the executable's short name (at most 15 bytes).
	Command string
	// Args is the start of the command line (at most 80 bytes).
	Args string
}

// parsePRPSInfo decodes an NT_PRPSINFO note (struct elf_prpsinfo, 64-bit).
func parsePRPSInfo(desc []byte) (*ProcessInfo, error) {
	if len(desc) < 136 {
		return nil, fmt.Errorf("NT_PRPSINFO note is %d bytes, want 136", len(desc))
	}
	le := binary.LittleEndian
	cstr := func(b []byte) string {
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
		return string(bytes.TrimSpace(b))
	}
	return &ProcessInfo{
		UID:     int(le.Uint32(desc[16:])),
		GID:     int(le.Uint32(desc[20:])),
		PID:     int(int32(le.Uint32(desc[24:]))),
		PPID:    int(int32(le.Uint32(desc[28:]))),
		Command: cstr(desc[40:56]),
		Args:    cstr(desc[56:136]),
	}, nil
}

// AuxEntry is one entry of the auxiliary vector.
type AuxEntry struct{ Key, Value uint64 }

func parseAuxv(desc []byte) []AuxEntry {
	le := binary.LittleEndian
	var aux []AuxEntry
	for len(desc) >= 16 {
		k, v := le.Uint64(desc), le.Uint64(desc[8:])
		if k == 0 {
			break
		}
		aux = append(aux, AuxEntry{k, v})
		desc = desc[16:]
	}
	return aux
}

// SignalInfo is the fatal signal, from NT_SIGINFO.
type SignalInfo struct {
	Signo, Errno, Code int
	// Addr is the faulting address for SIGSEGV, SIGBUS, SIGILL and SIGFPE.
	Addr Address
	// SenderPID is set for signals sent by a process (kill, abort).
	SenderPID int
}

func parseSigInfo(desc []byte) (*SignalInfo, error) {
	if len(desc) < 24 {
		return nil, fmt.Errorf("NT_SIGINFO note is %d bytes, want at least 24", len(desc))
	}
	le := binary.LittleEndian
	si := &SignalInfo{
		Signo: int(int32(le.Uint32(desc))),
		Errno: int(int32(le.Uint32(desc[4:]))),
		Code:  int(int32(le.Uint32(desc[8:]))),
	}
	switch si.Signo {
	case 4, 7, 8, 11: // SIGILL, SIGBUS, SIGFPE, SIGSEGV
		si.Addr = Address(le.Uint64(desc[16:]))
	default:
		if si.Code <= 0 { // sent by a process: si_pid at the union's start
			si.SenderPID = int(int32(le.Uint32(desc[16:])))
		}
	}
	return si, nil
}

// fileEntry is one entry of NT_FILE: a file-backed mapping.
type fileEntry struct {
	Start, End Address
	Offset     uint64 // in bytes
	// path is the file's path, a view of the note: a string is made only
	// for the entries that become modules.
	path []byte
}

// fileNote is a checked NT_FILE note: how many entries it holds, how many
// of them are malformed, with the first such entry's problem. It keeps no
// entry: each walks the note again, so that a million entries cost no
// memory of their own.
type fileNote struct {
	desc            []byte
	count, pageSize uint64
	dropped         int
	firstBad        string
	pages           pageDropper // gives back the note's pages behind a walk
}

// NT_FILE page sizes heapsift accepts: the kernel writes PAGE_SIZE, a power
// of two from 4 KiB (x86-64, arm64) to 64 KiB (arm64).
const (
	minFilePageSize = 1 << 12
	maxFilePageSize = 1 << 16
)

// parseFileNote checks an NT_FILE note's header and counts its malformed
// entries, giving back the pages it has read through pages.
func parseFileNote(desc []byte, pages pageDropper) (*fileNote, error) {
	le := binary.LittleEndian
	if len(desc) < 16 {
		return nil, fmt.Errorf("NT_FILE note is %d bytes, too short", len(desc))
	}
	count, pageSize := le.Uint64(desc), le.Uint64(desc[8:])
	if count > uint64(len(desc)-16)/24 {
		return nil, fmt.Errorf("NT_FILE note claims %d entries but holds at most %d", count, (len(desc)-16)/24)
	}
	if pageSize < minFilePageSize || pageSize > maxFilePageSize || pageSize&(pageSize-1) != 0 {
		return nil, fmt.Errorf("NT_FILE page size %d is not a page size (a power of two from 4096 to 65536); file offsets cannot be computed", pageSize)
	}
	fn := &fileNote{desc: desc, count: count, pageSize: pageSize, pages: pages}
	fn.walk(func(fe fileEntry, ok bool) {
		if !ok {
			fn.dropped++
		}
	})
	return fn, nil
}

// each calls fn with every well-formed entry, in note order. The kernel
// lists the file-backed mappings in address order, each non-empty and
// disjoint from the others; an entry that breaks that order is left out,
// so that every entry given names a distinct range of the address space.
func (fn *fileNote) each(f func(fileEntry)) {
	if fn == nil {
		return
	}
	fn.walk(func(fe fileEntry, ok bool) {
		if ok {
			f(fe)
		}
	})
}

// walk calls f with every entry and whether it is well-formed, and says
// the first malformed entry's problem in fn.firstBad.
func (fn *fileNote) walk(f func(fe fileEntry, ok bool)) {
	le := binary.LittleEndian
	names := fn.desc[16+fn.count*24:]
	var prevEnd Address
	doneEntries, doneNames := 0, len(fn.desc)-len(names)
	for i := range fn.count {
		if i%(1<<14) == 0 {
			fn.pages.behind(fn.desc, &doneEntries, int(16+i*24))
			fn.pages.behind(fn.desc, &doneNames, len(fn.desc)-len(names))
		}
		e := fn.desc[16+i*24:]
		fe := fileEntry{Start: Address(le.Uint64(e)), End: Address(le.Uint64(e[8:]))}
		pgoff := le.Uint64(e[16:])
		j := bytes.IndexByte(names, 0)
		if j < 0 {
			j = len(names)
		}
		fe.path = names[:j:j]
		names = names[min(j+1, len(names)):]
		fault := checkEntry(fe, pgoff, prevEnd, fn.pageSize)
		if fault == entryOK {
			fe.Offset = pgoff * fn.pageSize
			prevEnd = fe.End
		} else if fn.firstBad == "" {
			fn.firstBad = fault.describe(i, fe, pgoff)
		}
		f(fe, fault == entryOK)
	}
}

// entryFault is what makes an NT_FILE entry malformed.
type entryFault uint8

const (
	entryOK       entryFault = iota
	entryEmpty               // end <= start
	entryDisorder            // starts before the previous entry ends
	entryOffset              // a file offset past any file
	entryNoPath              // an empty path
)

// checkEntry checks an entry against the one before it (ending at
// prevEnd).
func checkEntry(fe fileEntry, pgoff uint64, prevEnd Address, pageSize uint64) entryFault {
	switch {
	case fe.End <= fe.Start:
		return entryEmpty
	case fe.Start < prevEnd:
		return entryDisorder
	case pgoff > (1<<63)/pageSize:
		return entryOffset
	case len(fe.path) == 0:
		return entryNoPath
	}
	return entryOK
}

// describe says what is wrong with entry i.
func (f entryFault) describe(i uint64, fe fileEntry, pgoff uint64) string {
	switch f {
	case entryEmpty:
		return fmt.Sprintf("entry %d (%#x-%#x) is empty", i, uint64(fe.Start), uint64(fe.End))
	case entryDisorder:
		return fmt.Sprintf("entry %d (%#x-%#x) is out of order or overlaps the one before", i, uint64(fe.Start), uint64(fe.End))
	case entryOffset:
		return fmt.Sprintf("entry %d has file offset %#x pages, past any file", i, pgoff)
	case entryNoPath:
		return fmt.Sprintf("entry %d (%#x-%#x) has no path", i, uint64(fe.Start), uint64(fe.End))
	}
	return ""
}
