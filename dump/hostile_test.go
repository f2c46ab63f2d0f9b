package dump

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heapsift/heapsift/internal/elfcore"
	"github.com/heapsift/heapsift/warn"
)

// Regression tests for hostile cores (issue 14): every case here once
// panicked, hung or ate memory.

// setNoteFilesz sets the PT_NOTE header's p_filesz (elfcore writes it
// first) to n.
func setNoteFilesz(core []byte, n uint64) {
	binary.LittleEndian.PutUint64(core[64+32:], n)
}

func TestHugeNoteFilesz(t *testing.T) {
	core := sampleCore().Build()
	setNoteFilesz(core, ^uint64(0))
	p, err := newProcess("huge", core, Options{NoFiles: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Threads) != 2 {
		t.Errorf("%d threads, want 2", len(p.Threads))
	}
	if got := warn.Matching(p.Warnings(), "ignoring the rest of the notes at byte 0x"); len(got) != 1 {
		t.Errorf("want one positioned warning about the notes' end, got %q", warn.Messages(p.Warnings()))
	}
}

func TestFilePageSizeZero(t *testing.T) {
	c := sampleCore()
	for i, n := range c.Notes {
		if n.Type == elfcore.NTFile {
			binary.LittleEndian.PutUint64(c.Notes[i].Desc[8:], 0)
		}
	}
	p, err := newProcess("pagesize", c.Build(), Options{NoFiles: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(warn.Matching(p.Warnings(), "NT_FILE page size 0")) != 1 {
		t.Errorf("no warning about page size 0: %q", warn.Messages(p.Warnings()))
	}
	if len(p.Modules()) != 0 {
		t.Errorf("modules from an NT_FILE note with page size 0: %d", len(p.Modules()))
	}
}

// TestManySpellingsOfOneFile: 70,000 NT_FILE entries naming one file under
// different spellings make one module, map the file once, take well under
// a second, and allocate next to nothing each (each spelling was once
// cleaned into a string of its own: megabytes of garbage).
func TestManySpellingsOfOneFile(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	const n = 70000
	var entries []elfcore.FileEntry
	for i := range n {
		path := filepath.Dir(exe) + strings.Repeat("/.", i%50) + strings.Repeat("/", 1+i/50%3) + filepath.Base(exe)
		start := uint64(0x10000000 + i*0x2000)
		entries = append(entries, elfcore.FileEntry{Start: start, End: start + 0x1000, Path: path})
	}
	c := sampleCore()
	c.Notes[4].Desc = elfcore.FileNote(entries)
	core := c.Build()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	p, err := newProcess("spellings", core, Options{})
	d := time.Since(start)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if d > 5*time.Second {
		t.Errorf("opening took %v", d)
	}
	if per := (after.TotalAlloc - before.TotalAlloc) / n; per > 8 {
		t.Errorf("opening a core of %d spellings of one file allocates %d bytes per entry", n, per)
	}
	if len(p.Modules()) != 1 {
		t.Errorf("%d modules, want 1", len(p.Modules()))
	}
	if len(p.mmaps) > 2 {
		t.Errorf("%d files mapped, want the core and one file", len(p.mmaps))
	}
}

// TestOverlappingSegmentsSummarized: 10,000 identical PT_LOADs give a few
// warnings and one count, not 9,999 lines.
func TestOverlappingSegmentsSummarized(t *testing.T) {
	c := sampleCore()
	for range 10000 {
		c.Segments = append(c.Segments, c.Segments[1])
	}
	p, err := newProcess("overlap", c.Build(), Options{NoFiles: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(p.Warnings()); n > 2*maxSameWarnings {
		t.Errorf("%d warnings, want a summary", n)
	}
	want := fmt.Sprintf("%d more overlapping segments ignored like the above", 10000-maxSameWarnings)
	if len(warn.Matching(p.Warnings(), want)) != 1 {
		t.Errorf("no summary %q in %q", want, warn.Messages(p.Warnings()))
	}
}

// TestManyNoteSegments: a thousand PT_NOTE headers naming one area of
// 100,000 tiny notes parse it once.
func TestManyNoteSegments(t *testing.T) {
	c := sampleCore()
	for range 100000 {
		c.Notes = append(c.Notes, elfcore.Note{Name: "CORE", Type: 0x77})
	}
	core := c.Build()
	progs, err := parseProgHeaders(core, mustHeader(t, core))
	if err != nil {
		t.Fatal(err)
	}
	// Rewrite every PT_LOAD but the first into a copy of the PT_NOTE.
	note := core[64 : 64+56]
	for i := 2; i < len(progs); i++ {
		copy(core[64+56*i:], note)
	}
	start := time.Now()
	p, err := newProcess("notes", core, Options{NoFiles: true})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("opening took %v", d)
	}
	if len(p.Threads) != 2 {
		t.Errorf("%d threads, want 2 (notes parsed once)", len(p.Threads))
	}
}

func mustHeader(t *testing.T, core []byte) *elfHeader {
	t.Helper()
	h, err := parseELFHeader(core)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestFIFORefused: a FIFO is refused at once, never opened.
func TestFIFORefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := Open(path, Options{})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), path+" is a FIFO") {
			t.Errorf("error %v, want one saying %s is a FIFO", err, path)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Open blocked on a FIFO")
	}
}

// TestRepeatedThreads: 100,000 copies of one NT_PRSTATUS note are one
// thread and one warning, not 100,000 threads (the mutation suite's
// many-threads family once cost 100 bytes of heap per copy).
func TestRepeatedThreads(t *testing.T) {
	c := sampleCore()
	first := c.Notes[0]
	for range 100000 {
		c.Notes = append(c.Notes, first)
	}
	p, err := newProcess("threads", c.Build(), Options{NoFiles: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Threads) != 2 || p.Threads[0].TID != 42 || p.Threads[1].TID != 43 {
		t.Errorf("%d threads, want threads 42 and 43", len(p.Threads))
	}
	if got := warn.Matching(p.Warnings(), "ignored 100000 NT_PRSTATUS notes repeating a thread already read (the first: thread 42)"); len(got) != 1 {
		t.Errorf("want one warning counting the repeats, got %q", warn.Messages(p.Warnings()))
	}
}

// TestFileNoteEntriesCostNoHeap: the entries of an NT_FILE note that
// cover no segment are walked from the note, not copied (they once cost
// 48 bytes of heap each, and a million of them 3.4 times the core's size
// at peak).
func TestFileNoteEntriesCostNoHeap(t *testing.T) {
	c := sampleCore()
	const n = 200000
	var entries []elfcore.FileEntry
	for i := range n {
		start := uint64(0x10000000 + 0x2000*i)
		entries = append(entries, elfcore.FileEntry{Start: start, End: start + 0x1000, Path: fmt.Sprintf("/no/such/lib%d.so", i/1000)})
	}
	c.Notes = append(c.Notes, elfcore.Note{Name: "CORE", Type: elfcore.NTFile, Desc: elfcore.FileNote(entries)})
	c.Notes[4].Type = 0x77 // the sample's own NT_FILE out of the way
	core := c.Build()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	p, err := newProcess("files", core, Options{})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if per := (after.TotalAlloc - before.TotalAlloc) / n; per > 8 {
		t.Errorf("opening a core of %d NT_FILE entries allocates %d bytes per entry", n, per)
	}
	if got := warn.Matching(p.Warnings(), "ignored 200000 NT_FILE entries that cover no segment"); len(got) != 1 {
		t.Errorf("want one warning counting the entries, got %q", warn.Messages(p.Warnings()))
	}
}

// TestAbsentFilesLookedForBounded: of a million NT_FILE entries covering
// no segment, each naming a distinct file that exists nowhere, only the
// first maxFileLooks files are looked for on this machine, and one
// warning counts the rest (a lookup each cost a second and 5 MiB of
// garbage per million).
func TestAbsentFilesLookedForBounded(t *testing.T) {
	const n = 100000
	var entries []elfcore.FileEntry
	for i := range n {
		start := uint64(0x10000000 + 0x2000*i)
		entries = append(entries, elfcore.FileEntry{Start: start, End: start + 0x1000, Path: fmt.Sprintf("/no/such/lib%d.so", i)})
	}
	c := sampleCore()
	c.Notes[4].Desc = elfcore.FileNote(entries)
	core := c.Build()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	p, err := newProcess("absent", core, Options{})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if per := (after.TotalAlloc - before.TotalAlloc) / n; per > 16 {
		t.Errorf("opening a core of %d absent files' entries allocates %d bytes per entry", n, per)
	}
	want := fmt.Sprintf("ignored %d NT_FILE entries that cover no segment of the core: %d name no file found here, and %d were not looked for (after %d lookups)",
		n, maxFileLooks, n-maxFileLooks, maxFileLooks)
	if got := warn.Matching(p.Warnings(), want); len(got) != 1 {
		t.Errorf("want %q, got %q", want, warn.Messages(p.Warnings()))
	}
}

// rssFile returns the process's resident pages of mapped files, in KiB.
func rssFile(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status:", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "RssFile:"); ok {
			var kb int
			fmt.Sscanf(strings.TrimSpace(rest), "%d", &kb)
			return kb
		}
	}
	t.Skip("no RssFile in /proc/self/status")
	return 0
}

// TestNotePagesGivenBack: the pages of a mapped core's notes are given
// back behind the passes that read them, so that a core of 200,000 thread
// notes and 200,000 NT_FILE entries (110 MiB) is not resident whole once
// opened (the mutation suite's repetition families once peaked at the
// mutant's size on top of the normal run).
func TestNotePagesGivenBack(t *testing.T) {
	c := sampleCore()
	var entries []elfcore.FileEntry
	for i := range 200000 {
		start := uint64(0x10000000 + 0x2000*i)
		entries = append(entries, elfcore.FileEntry{Start: start, End: start + 0x1000, Path: "/no/such/lib.so" + strings.Repeat("/", i%5)})
	}
	c.Notes[4].Type = 0x77
	c.Notes = append(c.Notes, elfcore.Note{Name: "CORE", Type: elfcore.NTFile, Desc: elfcore.FileNote(entries)})
	for i := range 200000 {
		c.Notes = append(c.Notes, elfcore.Note{Name: "CORE", Type: elfcore.NTPRStatus, Desc: elfcore.PRStatusAMD64(1000+i, 0, 0, 0, 0)})
	}
	path := filepath.Join(t.TempDir(), "core")
	core := c.Build()
	if err := os.WriteFile(path, core, 0o600); err != nil {
		t.Fatal(err)
	}
	before := rssFile(t)
	p, err := Open(path, Options{NoFiles: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if len(p.Threads) != 200002 {
		t.Errorf("%d threads, want 200,002", len(p.Threads))
	}
	if grew, size := rssFile(t)-before, len(core)>>10; grew > size/8 {
		t.Errorf("opening a core of %d KiB of notes left %d KiB of it resident", size, grew)
	}
}

// TestExecutableByName: when the NT_FILE entry holding the entry point is
// malformed (a page offset past any file) and dropped, the executable is
// the module of the path the program was started as (AT_EXECFN, or the
// command line's first word when the auxiliary vector lacks it), with a
// warning, and not lost: a Go core whose executable was lost was read as
// a C program's malloc heap.
func TestExecutableByName(t *testing.T) {
	const atExecFn = 31
	for from, auxv := range map[string][]byte{
		"AT_EXECFN":        elfcore.Auxv(elfcore.ATPhdr, 0x400040, elfcore.ATEntry, 0x400100, atExecFn, 0x7ffff100),
		"the command line": elfcore.Auxv(elfcore.ATPhdr, 0x400040, elfcore.ATEntry, 0x400100),
	} {
		c := sampleCore()
		copy(c.Segments[2].Data[0x100:], "./demo\x00")
		c.Notes[3].Desc = auxv
		c.Notes[4].Desc = elfcore.FileNote([]elfcore.FileEntry{
			{Start: 0x400000, End: 0x401000, Path: "/no/such/demo"},
			{Start: 0x401000, End: 0x402000, Offset: 0x1000, Path: "/no/such/demo"},
		})
		binary.LittleEndian.PutUint64(c.Notes[4].Desc[16+16:], ^uint64(0)) // entry 0's page offset
		c.Segments[0] = elfcore.Segment{Vaddr: 0x400000, Flags: c.Segments[0].Flags, Memsz: 0x1000}
		c.Segments = append(c.Segments, elfcore.Segment{Vaddr: 0x401000, Flags: c.Segments[0].Flags, Memsz: 0x1000})
		p, err := newProcess("execfn", c.Build(), Options{NoFiles: true})
		if err != nil {
			t.Fatal(err)
		}
		if exe := p.Executable(); exe == nil || exe.Path != "/no/such/demo" {
			t.Errorf("%s: executable %+v, want /no/such/demo", from, exe)
		}
		if got := warn.Matching(p.Warnings(), "taking /no/such/demo, the file it was started as ("+from+")"); len(got) != 1 {
			t.Errorf("want one warning naming %s, got %q", from, warn.Messages(p.Warnings()))
		}
	}
}

// TestExecutableByShape: a core with neither an auxiliary vector nor
// process information takes for the executable the lowest-mapped file
// with code that is not named like a shared library, with a warning; a
// core whose auxiliary vector places the program in no listed file gets
// no guess.
func TestExecutableByShape(t *testing.T) {
	files := []elfcore.FileEntry{
		{Start: 0x400000, End: 0x401000, Path: "/no/such/libc.so.6"},
		{Start: 0x401000, End: 0x402000, Path: "/no/such/demo"},
	}
	for _, auxv := range []bool{false, true} {
		c := sampleCore()
		c.Segments[0] = elfcore.Segment{Vaddr: 0x400000, Flags: elf.PF_R | elf.PF_X, Memsz: 0x1000}
		c.Segments = append(c.Segments, elfcore.Segment{Vaddr: 0x401000, Flags: elf.PF_R | elf.PF_X, Memsz: 0x1000})
		c.Notes[1].Type, c.Notes[3].Type = 0x77, 0x77 // no NT_PRPSINFO, no NT_AUXV
		if auxv {
			c.Notes[3] = elfcore.Note{Name: "CORE", Type: elfcore.NTAuxv, Desc: elfcore.Auxv(elfcore.ATPhdr, 0x900040)}
		}
		c.Notes[4].Desc = elfcore.FileNote(files)
		p, err := newProcess("shape", c.Build(), Options{NoFiles: true})
		if err != nil {
			t.Fatal(err)
		}
		exe := p.Executable()
		switch {
		case auxv && exe != nil:
			t.Errorf("auxv placing the program elsewhere: executable %s, want none", exe.Path)
		case !auxv && (exe == nil || exe.Path != "/no/such/demo"):
			t.Errorf("executable %+v, want /no/such/demo", exe)
		case !auxv && len(warn.Matching(p.Warnings(), "taking /no/such/demo, the lowest-mapped file with code that is not named like a shared library")) != 1:
			t.Errorf("no warning saying how the executable was taken: %q", warn.Messages(p.Warnings()))
		}
	}
}
