package dump

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"path/filepath"
	"slices"
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
	if len(progs) > 0 { // decoded: the table is not read again
		p.pages.drop(p.data[h.PhOff : h.PhOff+uint64(len(progs))*uint64(h.PhEntSize)])
	}
	var want uint64
	skip := noteSegmentsToSkip(progs, uint64(len(p.data)))
	shared := p.sharedSegments(progs)
	nr := &noteReader{malformed: warnLimiter{what: "malformed notes"}}
	for i, ph := range progs {
		switch ph.Type {
		case ptLoad:
			want = max(want, addSat(ph.Off, ph.Filesz))
			if !shared[i] {
				p.addSegment(ph)
			}
		case ptNote:
			if skip[i] {
				nr.overlapping++
				continue
			}
			p.readNotes(ph, nr)
		}
	}
	nr.finish(p)
	p.sortMappings()
	p.truncationWarning(want)
	if len(p.mappings) == 0 {
		p.warnf("the core has no memory segments")
	}
	p.attachFiles(nr.files, opts)
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

// noteReader carries what reading a core's note segments gathers across
// them: the NT_FILE note, and the problems counted rather than said.
type noteReader struct {
	files       *fileNote
	extraFiles  int // NT_FILE notes after the first, ignored
	overlapping int // PT_NOTE segments overlapping another, not read
	malformed   warnLimiter
	// tids are the threads read; a note repeating one is counted in
	// repeated (the first such TID in firstRepeat) and dropped, with the
	// notes that follow it for its thread (lastDropped).
	tids tidSet
	// slab holds the threads not yet handed out: threads are made a
	// chunk at a time, no garbage and no allocation each.
	slab                  []Thread
	repeated, firstRepeat int
	lastDropped           bool
}

// readNotes decodes a PT_NOTE segment.
func (p *Process) readNotes(ph progHeader, nr *noteReader) {
	b, err := p.noteRange(ph)
	if err != nil {
		nr.malformed.warnf(p, "%v", err)
		return
	}
	p.pages.smallPages(b)
	n := p.countThreads(b)
	p.Threads = slices.Grow(p.Threads, n)
	nr.tids.reserve(n)
	done := 0
	stop := walkNotes(b, func(n note) {
		p.pages.behind(b, &done, int(n.Off))
		if n.Name != "CORE" && n.Name != "LINUX" {
			return
		}
		if err := p.decodeNote(n, nr); err != nil && nr.malformed.say() {
			p.warnf("ignoring a malformed note at byte %#x: %v", ph.Off+n.Off, err)
		}
	})
	if stop >= 0 {
		nr.malformed.warnf(p, "ignoring the rest of the notes at byte %#x: a note header there runs past the end of its segment (at byte %#x)", ph.Off, ph.Off+uint64(stop))
	}
}

// threadChunk is how many threads newThread makes at a time.
const threadChunk = 1024

// newThread returns the next unused thread of the slab; it becomes used
// when the caller drops it from the slab.
func (nr *noteReader) newThread() *Thread {
	if len(nr.slab) == 0 {
		nr.slab = make([]Thread, threadChunk)
	}
	return &nr.slab[0]
}

// countThreads counts the NT_PRSTATUS notes of a note segment long
// enough to decode, so that the threads' list is made once at its size:
// grown by appending, the lists of a hundred thousand threads would cost
// four times as much again in garbage. (Each note counted holds hundreds
// of bytes of the core, so the count is no claim.)
func (p *Process) countThreads(b []byte) int {
	n, done := 0, 0
	walkNotes(b, func(nt note) {
		p.pages.behind(b, &done, int(nt.Off))
		if nt.Type == ntPRStatus && nt.Name == "CORE" && len(nt.Desc) >= prstatusRegOff+len(amd64RegNames)*8 {
			n++
		}
	})
	return n
}

// decodeNote decodes one CORE or LINUX note into p.
func (p *Process) decodeNote(n note, nr *noteReader) error {
	var err error
	switch n.Type {
	case ntPRStatus:
		if nr.repeatedThread(n.Desc) {
			return nil
		}
		t := nr.newThread()
		if err = t.decode(n.Desc, p.Arch); err == nil {
			p.Threads = append(p.Threads, t)
			nr.slab = nr.slab[1:]
		}
	case ntPRPSInfo:
		p.Info, err = parsePRPSInfo(n.Desc)
	case ntAuxv:
		p.Auxv = parseAuxv(n.Desc)
	case ntSigInfo:
		p.Signal, err = parseSigInfo(n.Desc)
	case ntFile:
		if nr.files != nil {
			nr.extraFiles++
			return nil
		}
		nr.files, err = parseFileNote(n.Desc, p.pages)
	case ntARMTLS:
		if len(n.Desc) >= 8 && len(p.Threads) > 0 && !nr.lastDropped {
			t := p.Threads[len(p.Threads)-1]
			t.TLS = Address(leUint64(n.Desc))
		}
	}
	return err
}

// repeatedThread reports whether an NT_PRSTATUS note names a thread
// already read: the kernel writes one per thread, and a core repeating
// one a million times must not cost a million threads.
func (nr *noteReader) repeatedThread(desc []byte) bool {
	nr.lastDropped = false
	if len(desc) < prstatusPIDOff+4 {
		return false // too short: parsePRStatus says so
	}
	tid := int(int32(binary.LittleEndian.Uint32(desc[prstatusPIDOff:])))
	if !nr.tids.add(tid) {
		return false
	}
	if nr.repeated == 0 {
		nr.firstRepeat = tid
	}
	nr.repeated++
	nr.lastDropped = true
	return true
}

// tidSet is the thread IDs read: an open-addressing hash set of 4-byte
// slots, so that a core of a hundred thousand threads costs a few bytes
// each rather than a map entry's dozens.
type tidSet struct {
	slots []uint32 // uint32(tid)+1, 0 for an empty slot
	n     int
	minus bool // tid -1, whose slot value would be 0
}

// add adds tid and reports whether it was there already.
func (s *tidSet) add(tid int) bool {
	k := uint32(tid) + 1
	if k == 0 {
		had := s.minus
		s.minus = true
		return had
	}
	if 8*(s.n+1) > 7*len(s.slots) {
		s.resize(2 * len(s.slots))
	}
	mask := uint32(len(s.slots) - 1)
	for i := s.home(k); ; i = (i + 1) & mask {
		switch s.slots[i] {
		case k:
			return true
		case 0:
			s.slots[i] = k
			s.n++
			return false
		}
	}
}

// home is key k's first slot: the high bits of a Fibonacci hash, which
// every bit of k changes, so that IDs sharing their low bits (multiples
// of 2^15 in a hostile core) do not pile into a few slots.
func (s *tidSet) home(k uint32) uint32 {
	shift := 32 - bits.TrailingZeros(uint(len(s.slots)))
	return (k * 0x9e3779b1) >> shift
}

// reserve makes room for n more IDs at once.
func (s *tidSet) reserve(n int) {
	want := 64
	for 7*want < 8*(s.n+n) {
		want *= 2
	}
	if want > len(s.slots) {
		s.resize(want)
	}
}

// resize makes the table size slots (a power of two, at least 64) and
// rehashes it.
func (s *tidSet) resize(size int) {
	old := s.slots
	s.slots = make([]uint32, max(64, size))
	mask := uint32(len(s.slots) - 1)
	for _, k := range old {
		if k == 0 {
			continue
		}
		i := s.home(k)
		for s.slots[i] != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = k
	}
}

// finish says what reading the notes counted rather than said.
func (nr *noteReader) finish(p *Process) {
	nr.malformed.flush(p)
	if nr.overlapping > 0 {
		p.warnf("ignored %d note segments that overlap another", nr.overlapping)
	}
	if nr.extraFiles > 0 {
		p.warnf("ignored %d NT_FILE notes after the first", nr.extraFiles)
	}
	if nr.repeated > 0 {
		p.warnf("ignored %d NT_PRSTATUS notes repeating a thread already read (the first: thread %d)", nr.repeated, nr.firstRepeat)
	}
	if f := nr.files; f != nil && f.dropped > 0 {
		p.warnf("ignored %d malformed NT_FILE entries (the first: %s)", f.dropped, f.firstBad)
	}
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
