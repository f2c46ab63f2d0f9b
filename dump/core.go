package dump

import (
	"fmt"
	"path/filepath"
)

// openCore reads an ELF core's program headers and notes into p.
func (p *Process) openCore(opts Options) error {
	h, err := parseELFHeader(p.data)
	if err != nil {
		if !isELF(p.data) {
			return fmt.Errorf("not an ELF core file (use --raw to read any file as a flat memory image)")
		}
		return fmt.Errorf("reading ELF header: %w", err)
	}
	switch h.Type {
	case etCore:
	case etExec, etDyn:
		return fmt.Errorf("this is an executable or shared library, not a core file (give the core first, the executable with --exe)")
	default:
		return fmt.Errorf("ELF file of type %d is not a core file", h.Type)
	}
	switch h.Machine {
	case emX86_64:
		p.Arch = ArchAMD64
	case emAArch64:
		p.Arch = ArchARM64
	default:
		return fmt.Errorf("core for machine type %d; only x86-64 and arm64 are supported", h.Machine)
	}
	p.Kind = "core"
	progs, err := parseProgHeaders(p.data, h)
	if err != nil {
		return fmt.Errorf("reading program headers: %w", err)
	}
	var files []fileEntry
	var want uint64
	for _, ph := range progs {
		switch ph.Type {
		case ptLoad:
			if end := ph.Off + ph.Filesz; end > want {
				want = end
			}
			p.addSegment(ph)
		case ptNote:
			files = append(files, p.readNotes(ph)...)
		}
	}
	p.sortMappings()
	p.truncationWarning(want)
	if len(p.mappings) == 0 {
		p.warnf("the core has no memory segments")
	}
	p.attachFiles(files, opts)
	p.nameMappings()
	return nil
}

// addSegment turns a PT_LOAD header into a Mapping, noting what the file
// lacks.
func (p *Process) addSegment(ph progHeader) {
	if ph.Memsz == 0 || ph.Vaddr+ph.Memsz < ph.Vaddr {
		return
	}
	m := &Mapping{
		Start:      Address(ph.Vaddr),
		End:        Address(ph.Vaddr + ph.Memsz),
		Perm:       permOf(ph.Flags),
		CoreOffset: -1,
	}
	filesz := min(ph.Filesz, ph.Memsz)
	m.Omitted = ph.Memsz - filesz
	size := uint64(len(p.data))
	if filesz > 0 {
		held := uint64(0)
		if ph.Off < size {
			held = min(filesz, size-ph.Off)
			m.core = p.data[ph.Off : ph.Off+held]
			m.CoreOffset = int64(ph.Off)
		}
		m.Truncated = filesz - held
	}
	m.fileFrom = filesz
	p.mappings = append(p.mappings, m)
}

// readNotes decodes a PT_NOTE segment, returning its NT_FILE entries.
func (p *Process) readNotes(ph progHeader) []fileEntry {
	size := uint64(len(p.data))
	if ph.Off >= size {
		p.warnf("notes at byte %#x lie past the end of the core", ph.Off)
		return nil
	}
	end := min(ph.Off+ph.Filesz, size)
	var files []fileEntry
	for _, n := range parseNotes(p.data[ph.Off:end]) {
		if n.Name != "CORE" && n.Name != "LINUX" {
			continue
		}
		var err error
		switch n.Type {
		case ntPRStatus:
			var t *Thread
			if t, err = parsePRStatus(n.Desc, p.Arch); err == nil {
				p.Threads = append(p.Threads, t)
			}
		case ntPRPSInfo:
			p.Info, err = parsePRPSInfo(n.Desc)
		case ntAuxv:
			p.Auxv = parseAuxv(n.Desc)
		case ntSigInfo:
			p.Signal, err = parseSigInfo(n.Desc)
		case ntFile:
			files, err = parseFileNote(n.Desc)
		case ntARMTLS:
			if len(n.Desc) >= 8 && len(p.Threads) > 0 {
				t := p.Threads[len(p.Threads)-1]
				t.TLS = Address(leUint64(n.Desc))
			}
		}
		if err != nil {
			p.warnf("ignoring a malformed note: %v", err)
		}
	}
	return files
}

// nameMappings gives anonymous mappings the names /proc/PID/maps would:
// stacks (by the threads' stack pointers), the brk heap, the vDSO.
func (p *Process) nameMappings() {
	for _, t := range p.Threads {
		m := p.FindMapping(t.SP)
		if m == nil || m.File != "" || m.Name != "" {
			continue
		}
		switch {
		case p.Info != nil && t.TID == p.Info.PID:
			m.Name = "[stack]"
		case m.Size() <= 16<<20 && m.End-t.SP <= 512<<10:
			// A thread stack: its pointer sits near the top. (A Go
			// goroutine stack inside a heap arena need not.)
			m.Name = fmt.Sprintf("[stack tid %d]", t.TID)
		}
	}
	if v, ok := p.Aux(atSysinfoEhdr); ok {
		if m := p.FindMapping(Address(v)); m != nil && m.File == "" {
			m.Name = "[vdso]"
		}
	}
	// The brk heap is the first anonymous mapping after the executable,
	// within the kernel's brk randomization range (up to 1 GiB on 64-bit
	// x86 and arm64 for PIE executables).
	const brkRange = 1<<30 + 16<<20
	if exe := p.Executable(); exe != nil {
		for _, m := range p.mappings {
			// A mapping that starts right where the executable ends is
			// the tail of its bss, not the heap.
			if m.Start > exe.End && m.Start-exe.End <= brkRange && m.File == "" && m.Name == "" && m.Perm&PermWrite != 0 {
				m.Name = "[heap]"
				break
			}
		}
	}
	for _, m := range p.mappings {
		if m.Name == "" && m.File != "" {
			m.Name = m.File
		}
	}
}

// ExecutablePath is the executable's path as the core records it, or
// the command name when there is no file note.
func (p *Process) ExecutablePath() string {
	if exe := p.Executable(); exe != nil {
		return exe.Path
	}
	if p.Info != nil {
		return p.Info.Command
	}
	return ""
}

func baseName(path string) string { return filepath.Base(path) }
