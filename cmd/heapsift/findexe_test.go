package main

import (
	"debug/elf"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heapsift/heapsift/internal/mutate"
)

// TestExecutableWithoutAuxv: a Go core whose NT_AUXV and NT_PRPSINFO
// notes are both lost (nothing says which mapped file is the program)
// still has its Go heap read: --exe is matched to the core's files by
// build ID, or by where its segments lie when the core lacks the file's
// first page; without --exe, the mapped file that looks like an
// executable is taken. Each way says so in a warning.
func TestExecutableWithoutAuxv(t *testing.T) {
	core := leakyCore(t, 500)
	data, err := os.ReadFile(core.Path)
	if err != nil {
		t.Fatal(err)
	}
	const ntPRPSInfo, ntAuxv = 3, 6
	lost := mutate.DropNotes(data, ntPRPSInfo, ntAuxv)
	// Zeroing the executable's first page needs its address: a fixed
	// one (Go's default on linux/amd64); for a PIE that case is skipped.
	noHeader := mutate.DropNotes(data, ntPRPSInfo, ntAuxv)
	start, fixed := exeStart(t, core.Exe)
	if fixed && !mutate.WriteAt(noHeader, start, make([]byte, 4096)) {
		t.Fatal("the core does not hold the executable's first page")
	}
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		core []byte
		exe  bool
		want string
	}{
		{"build ID", lost, true, "has the build ID of"},
		{"segments", noHeader, true, "has its segments where"},
		{"no --exe", lost, false, "the lowest-mapped file whose ELF header says it is an executable"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "segments" && !fixed {
				t.Skip("the test program is a PIE")
			}
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_"))
			if err := writeSparse(path, c.core); err != nil {
				t.Fatal(err)
			}
			args := []string{"histogram", "--top", "0", path}
			if c.exe {
				args = append([]string{"--exe", core.Exe}, args...)
			}
			code, out, stderr := runCLI(t, args...)
			if code != 0 || !strings.Contains(stderr, c.want) {
				t.Fatalf("exit %d, stderr %q; want exit 0 and %q", code, stderr, c.want)
			}
			if got, want := histogramCount(out, "main.Timing"), core.Value(t, "timings"); got != want {
				t.Errorf("main.Timing: %q objects, the program kept %s", got, want)
			}
		})
	}
}

// exeStart returns the address of the first loaded segment of a
// fixed-address executable; false for a PIE.
func exeStart(t *testing.T, exe string) (uint64, bool) {
	t.Helper()
	f, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Type != elf.ET_EXEC {
		return 0, false
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			return p.Vaddr &^ 0xfff, true
		}
	}
	t.Fatal("no PT_LOAD")
	return 0, false
}

// histogramCount returns the COUNT column of type name's row in a text
// histogram, "" if it has none.
func histogramCount(out, name string) string {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && f[len(f)-1] == name {
			return strings.ReplaceAll(f[0], ",", "")
		}
	}
	return ""
}
