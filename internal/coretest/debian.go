package coretest

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// DebianBuild is the python3.11 of Debian's python3 package: CPython
// linked statically into a non-PIE executable stripped to its .dynsym,
// whose DWARF is a separate debug file (package python3.11-dbg) found by
// build ID.
type DebianBuild struct {
	Exe       string // /usr/bin/python3.11
	DebugFile string // /usr/lib/debug/.build-id/ab/cdef….debug
	DebugDir  string // /usr/lib/debug
	Version   string // "3.11.2"
}

// debianPackages are what .ci/run installs for DebianPython.
const debianPackages = "python3.11 python3.11-dbg"

// DebianPython returns Debian's python3.11 and its debug file. If either
// is missing, or the executable is not the stripped, statically linked
// build the tests mean, the test fails in CI and is skipped elsewhere.
func DebianPython(t testing.TB) DebianBuild {
	t.Helper()
	skipShort(t)
	b := DebianBuild{Exe: "/usr/bin/python3.11", DebugDir: "/usr/lib/debug"}
	why := func(msg string) {
		t.Helper()
		missing(t, "Debian's python3.11: "+msg, ".ci/run installs it with `apt-get install "+debianPackages+"`")
	}
	f, err := elf.Open(b.Exe)
	if err != nil {
		why(err.Error())
		return b
	}
	defer f.Close()
	if f.Section(".symtab") != nil || f.Section(".debug_info") != nil {
		why(b.Exe + " is not stripped")
	}
	if needed, err := neededLibpython(b.Exe); err != nil || needed != "" {
		why(fmt.Sprintf("%s links libpython as a shared library (%q, %v)", b.Exe, needed, err))
	}
	id, err := elfBuildID(f)
	if err != nil {
		why(fmt.Sprintf("%s: %v", b.Exe, err))
	}
	b.DebugFile = filepath.Join(b.DebugDir, ".build-id", id[:2], id[2:]+".debug")
	if _, err := os.Stat(b.DebugFile); err != nil {
		why(fmt.Sprintf("no debug file for build ID %s: %v", id, err))
	}
	out, err := exec.Command(b.Exe, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])").Output()
	if err != nil {
		why(fmt.Sprintf("running %s: %v", b.Exe, err))
	}
	b.Version = strings.TrimSpace(string(out))
	return b
}

// elfBuildID returns f's GNU build ID in hex.
func elfBuildID(f *elf.File) (string, error) {
	sec := f.Section(".note.gnu.build-id")
	if sec == nil {
		return "", fmt.Errorf("no GNU build ID")
	}
	note, err := sec.Data()
	if err != nil || len(note) < 16 {
		return "", fmt.Errorf("reading the build ID note: %v", err)
	}
	namesz := uint64(binary.LittleEndian.Uint32(note[0:]))
	descsz := uint64(binary.LittleEndian.Uint32(note[4:]))
	start := 12 + (namesz+3)&^3
	if descsz < 2 || start+descsz > uint64(len(note)) {
		return "", fmt.Errorf("malformed build ID note")
	}
	return fmt.Sprintf("%x", note[start:start+descsz]), nil
}
