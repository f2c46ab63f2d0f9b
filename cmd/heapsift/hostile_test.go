package main

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heapsift/heapsift/internal/elfcore"
	"github.com/heapsift/heapsift/internal/mutate"
)

// Regression tests for hostile inputs (issue 14).

// writeTemp writes data to a file called name in a new directory.
func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// hostileTextCore is a synthetic core whose mapped file path and command
// line hold terminal control sequences.
func hostileTextCore() []byte {
	c := &elfcore.Core{
		Segments: []elfcore.Segment{
			{Vaddr: 0x400000, Flags: elf.PF_R | elf.PF_X, Memsz: 0x2000},
			{Vaddr: 0x600000, Flags: elf.PF_R | elf.PF_W, Data: elfcore.Words(0x400010, 0x1b5b33316d07, 0x600000)},
		},
		Notes: []elfcore.Note{
			{Name: "CORE", Type: elfcore.NTPRPSInfo, Desc: elfcore.PRPSInfo(7, "x\x1b[2J", "./x \x1b]0;owned\a\r\nfake line")},
			{Name: "CORE", Type: elfcore.NTAuxv, Desc: elfcore.Auxv(elfcore.ATEntry, 0x401000)},
			{Name: "CORE", Type: elfcore.NTFile, Desc: elfcore.FileNote([]elfcore.FileEntry{{Start: 0x400000, End: 0x402000, Path: "/tmp/\x1b[31mred\a\r\nbin"}})},
		},
	}
	return c.Build()
}

// TestNoControlCharacterReachesTerminal: paths, arguments and the core's
// own file name are printed with their control characters escaped.
func TestNoControlCharacterReachesTerminal(t *testing.T) {
	path := writeTemp(t, "core\x1b[1m\a\r\nname", hostileTextCore())
	for _, cmd := range [][]string{{"info", path}, {"mappings", path}, {"words", path}, {path}, {"symbol", path, "0x600000", "0x400010"}, {"info", path + ".missing"}} {
		r := runChild(t, time.Minute, cmd...)
		if hasControl(r.stdout) || hasControl(r.stderr) {
			t.Errorf("heapsift %q: control characters reach the terminal:\nstdout %q\nstderr %q", cmd, r.stdout, r.stderr)
		}
	}
	code, out, _ := runCLI(t, "info", path)
	if code != 0 || !strings.Contains(out, `\x1b]0;owned\x07\r\nfake line`) {
		t.Errorf("info: exit %d, the arguments are not shown escaped:\n%s", code, out)
	}
	var r infoReport
	runJSON(t, &r, "info", path)
	if r.Args != "./x \x1b]0;owned\a\r\nfake line" {
		t.Errorf("JSON args %q: JSON must keep the text as it is", r.Args)
	}
}

// TestNonRegularFilesRefused: a FIFO or a device given as the core is
// refused at once with one line, with or without --raw.
func TestNonRegularFilesRefused(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	for _, args := range [][]string{{fifo}, {"words", "--raw", fifo}, {"words", "--raw", "/dev/zero"}, {"info", "/dev/null"}} {
		r := runChild(t, 20*time.Second, args...)
		if r.timedOut || r.code != exitError || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("heapsift %q: exit %d after %v, stderr %q; want one line and exit 1 at once", args, r.code, r.took, r.stderr)
		}
		if !strings.Contains(r.stderr, "is a FIFO") && !strings.Contains(r.stderr, "is a character device") {
			t.Errorf("heapsift %q: %q does not say what the file is", args, r.stderr)
		}
	}
}

// TestRepeatedWarningsSummarized: ten thousand PT_LOADs over one range
// give a few warnings and a count, not 9,999 lines.
func TestRepeatedWarningsSummarized(t *testing.T) {
	c := &elfcore.Core{}
	for range 10000 {
		c.Segments = append(c.Segments, elfcore.Segment{Vaddr: 0x600000, Flags: elf.PF_R | elf.PF_W, Data: elfcore.Words(1)})
	}
	path := writeTemp(t, "core", c.Build())
	for _, json := range []bool{false, true} {
		args := []string{"mappings", path}
		if json {
			args = append(args, "--json")
		}
		code, out, stderr := runCLI(t, args...)
		if code != 0 || strings.Count(stderr, "\n") > 8 || !strings.Contains(stderr, "9996 more overlapping segments") {
			t.Errorf("%v: exit %d, stderr %d lines:\n%.2000s", args, code, strings.Count(stderr, "\n"), stderr)
		}
		if json && !strings.Contains(out, "9996 more overlapping segments") {
			t.Errorf("the summary is not in the JSON warnings")
		}
	}
}

// TestFlagErrorsQuoteTheValue: a bad flag or address value is quoted, and
// a negative address is a usage error that says so.
func TestFlagErrorsQuoteTheValue(t *testing.T) {
	core := writeTemp(t, "core", hostileTextCore())
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"retain", "--min-retained", "garbage", core}, `"garbage" is not a size`},
		{[]string{"retain", "--min-retained", "", core}, `"" is not a size`},
		{[]string{"symbol", core, "0x"}, `"0x" is not an address`},
		{[]string{"symbol", core, "-1"}, `"-1" is not a flag`},
		{[]string{"symbol", core, "--", "-1"}, `"-1" is not an address: addresses are not negative`},
		{[]string{"why", core, "0xzz"}, `"0xzz" is not an address`},
	} {
		code, _, stderr := runCLI(t, c.args...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and %q", c.args, code, stderr, c.want)
		}
	}
}

// TestFaultErrorNamesTheFile: a memory fault recovered at the top is an
// error naming the files being read, not an internal error.
func TestFaultErrorNamesTheFile(t *testing.T) {
	e := &env{}
	e.noteInputs("/data/core.1")
	err := faultError(fakeFault{}, e)
	if err == nil || !strings.Contains(err.Error(), "/data/core.1: a file changed or shrank") {
		t.Errorf("faultError = %v", err)
	}
	if faultError(errors.New("other"), e) != nil || faultError("a string", e) != nil {
		t.Error("faultError took a panic that is no fault for one")
	}
}

// fakeFault is a runtime fault as debug.SetPanicOnFault raises it.
type fakeFault struct{}

func (fakeFault) Error() string { return "unexpected fault address" }
func (fakeFault) Addr() uintptr { return 0x7f0000001000 }

// TestOutputNeverAnInput: -o naming the core or the executable, under any
// name, is refused and leaves the file as it was.
func TestOutputNeverAnInput(t *testing.T) {
	core := leakyCore(t, 500)
	dir := t.TempDir()
	copyCore := filepath.Join(dir, "core.copy")
	data, err := os.ReadFile(core.Path)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeSparse(copyCore, data); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(copyCore, link); err != nil {
		t.Fatal(err)
	}
	exeBefore, err := os.ReadFile(core.Exe)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{copyCore, link, filepath.Join(dir, ".", "core.copy"), core.Exe} {
		code, _, stderr := runCLI(t, "retain", "--format", "pprof", "--exe", core.Exe, "-o", out, copyCore)
		if code != exitUsage || !strings.Contains(stderr, "which this command reads") {
			t.Errorf("-o %s: exit %d, stderr %q; want a refusal", out, code, stderr)
		}
	}
	after, err := os.ReadFile(copyCore)
	if err != nil || !bytes.Equal(after, data) {
		t.Error("the core was changed")
	}
	if exeAfter, err := os.ReadFile(core.Exe); err != nil || !bytes.Equal(exeAfter, exeBefore) {
		t.Error("the executable was changed")
	}
}

// allgsAddr returns the address of runtime.allgs in a non-PIE executable.
func allgsAddr(t *testing.T, exe string) uint64 {
	t.Helper()
	f, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Type != elf.ET_EXEC {
		t.Skip("the test program is a PIE; runtime.allgs moves")
	}
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name == "runtime.allgs" {
			return s.Value
		}
	}
	t.Fatal("no runtime.allgs symbol")
	return 0
}

// TestDamagedGoroutineList: runtime.allgs with a length of 2^31, 2^40 or
// 2^62, or pointing at unmapped memory, gives an answer in seconds, a
// warning, and a failing exit where the goroutines are the answer.
func TestDamagedGoroutineList(t *testing.T) {
	core := leakyCore(t, 500)
	data, err := os.ReadFile(core.Path)
	if err != nil {
		t.Fatal(err)
	}
	at := allgsAddr(t, core.Exe)
	header := func(array, n uint64) []byte {
		b := make([]byte, 24)
		binary.LittleEndian.PutUint64(b, array)
		binary.LittleEndian.PutUint64(b[8:], n)
		binary.LittleEndian.PutUint64(b[16:], n)
		return b
	}
	for name, h := range map[string][]byte{
		"len 2^31": header(0, 1<<31),
		"len 2^40": header(0, 1<<40),
		"len 2^62": header(0, 1<<62),
		"unmapped": header(0x10, 40),
	} {
		t.Run(name, func(t *testing.T) {
			bad := bytes.Clone(data)
			orig := make([]byte, 8)
			if !mutate.ReadAt(bad, at, orig) {
				t.Fatal("runtime.allgs is not in the core")
			}
			if binary.LittleEndian.Uint64(h) == 0 {
				copy(h, orig) // keep the real array, change the length
			}
			mutate.WriteAt(bad, at, h)
			path := filepath.Join(t.TempDir(), "core")
			if err := writeSparse(path, bad); err != nil {
				t.Fatal(err)
			}
			for _, cmd := range []string{"info", "histogram", "goroutines"} {
				r := runChild(t, time.Minute, cmd, "--exe", core.Exe, path)
				if p := r.problem(); p != "" || r.took > 20*time.Second {
					t.Errorf("%s: %s after %v", cmd, p, r.took)
				}
				if !strings.Contains(r.stderr, "runtime.allgs") {
					t.Errorf("%s: no warning about runtime.allgs: %q", cmd, r.stderr)
				}
				if cmd == "goroutines" && (r.code != exitError || !strings.Contains(r.stderr, "incomplete")) {
					t.Errorf("goroutines: exit %d, stderr %q; want exit 1, saying the results are incomplete", r.code, r.stderr)
				}
			}
		})
	}
}

// TestRepeatedGoroutines: a runtime.allgs whose every entry names the
// same g lists that goroutine once, with a warning, instead of once per
// entry (a damaged runtime list of one structure repeated is read once:
// runtime.mheap_.allspans likewise).
func TestRepeatedGoroutines(t *testing.T) {
	core := leakyCore(t, 500)
	data, err := os.ReadFile(core.Path)
	if err != nil {
		t.Fatal(err)
	}
	at := allgsAddr(t, core.Exe)
	h := make([]byte, 16)
	if !mutate.ReadAt(data, at, h) {
		t.Fatal("runtime.allgs is not in the core")
	}
	array, n := binary.LittleEndian.Uint64(h), binary.LittleEndian.Uint64(h[8:])
	if n < 3 || n > 1<<20 {
		t.Fatalf("runtime.allgs has %d goroutines", n)
	}
	entries := make([]byte, 8*n)
	if !mutate.ReadAt(data, array, entries) {
		t.Fatal("runtime.allgs's array is not in the core")
	}
	for i := uint64(1); i < n; i++ {
		copy(entries[8*i:], entries[:8])
	}
	mutate.WriteAt(data, array, entries)
	path := filepath.Join(t.TempDir(), "core")
	if err := writeSparse(path, data); err != nil {
		t.Fatal(err)
	}
	r := runChild(t, time.Minute, "goroutines", "--exe", core.Exe, path)
	if p := r.problem(); p != "" {
		t.Fatal(p)
	}
	want := fmt.Sprintf("runtime.allgs names %d goroutines more than once", n-1)
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
	if gs := strings.Count("\n"+r.stdout, "\ngoroutine "); gs != 1 {
		t.Errorf("%d goroutines listed for one g:\n%s", gs, r.stdout)
	}
}
