package coretest

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

var (
	pythonOnce sync.Once
	pythonExe  string
	pythonLib  string
	pythonWhy  string // why none was found
)

// FindSharedPython returns a CPython interpreter whose executable links
// libpython as a shared library (DT_NEEDED libpython*.so*), and the path of
// that libpython as the interpreter actually maps it. heapsift finds the
// interpreter's symbols in libpython for such builds, so Python core tests
// need one.
//
// It looks at $HEAPSIFT_PYTHON if set, then python3 on PATH (following pyenv
// shims to the real executable), then $PYENV_ROOT/versions/*/bin/python3*
// and /root/.pyenv/versions/*/bin/python3*, newest version first. If none
// qualifies (Debian's own python3, for instance, links libpython
// statically) the test is skipped, or fails in CI, saying what was looked at.
// Since such an interpreter is only needed to make cores, the test is
// skipped under go test -short before anything is looked up.
func FindSharedPython(t testing.TB) (python string, libpython string) {
	t.Helper()
	skipShort(t)
	pythonOnce.Do(findSharedPython)
	if pythonExe == "" {
		missing(t, "no CPython with a shared libpython found: "+pythonWhy,
			".ci/run looks for one in $HEAPSIFT_PYTHON, python3 on PATH and the pyenv versions under $PYENV_ROOT and /root/.pyenv, "+
				"and cannot install one: build one with `PYTHON_CONFIGURE_OPTS=--enable-shared pyenv install 3.12` or point HEAPSIFT_PYTHON at one")
	}
	return pythonExe, pythonLib
}

func findSharedPython() {
	var notes []string
	seen := map[string]bool{}
	for _, cand := range pythonCandidates() {
		real, err := filepath.EvalSymlinks(cand)
		if err != nil || seen[real] {
			continue
		}
		seen[real] = true
		needed, err := neededLibpython(real)
		if err != nil {
			continue // scripts (python3-config, shims), unreadable files
		}
		if needed == "" {
			notes = append(notes, real+" links libpython statically")
			continue
		}
		lib, err := mappedLibpython(real)
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s needs %s but: %v", real, needed, err))
			continue
		}
		pythonExe, pythonLib = real, lib
		return
	}
	if len(notes) == 0 {
		notes = append(notes, "no python3 executable on PATH or under pyenv")
	}
	pythonWhy = strings.Join(notes, "; ")
}

// pythonCandidates lists interpreter paths to try, best first.
func pythonCandidates() []string {
	var out []string
	if p := os.Getenv("HEAPSIFT_PYTHON"); p != "" {
		out = append(out, p)
	}
	if p, err := exec.LookPath("python3"); err == nil {
		if _, err := neededLibpython(p); err == nil {
			out = append(out, p)
		} else if b, err := exec.Command(p, "-c", "import sys; print(sys.executable)").Output(); err == nil {
			// A pyenv shim or other wrapper script: ask the interpreter.
			out = append(out, strings.TrimSpace(string(b)))
		}
	}
	roots := []string{os.Getenv("PYENV_ROOT"), "/root/.pyenv"}
	if home, err := os.UserHomeDir(); err == nil {
		roots = append(roots, filepath.Join(home, ".pyenv"))
	}
	var versions []string
	for _, r := range roots {
		if r == "" {
			continue
		}
		m, _ := filepath.Glob(filepath.Join(r, "versions", "*", "bin", "python3*"))
		versions = append(versions, m...)
	}
	sort.SliceStable(versions, func(i, j int) bool {
		return versionLess(versionOf(versions[j]), versionOf(versions[i]))
	})
	return append(out, versions...)
}

// versionOf returns the numeric parts of the pyenv version directory of an
// interpreter path (.../versions/3.12.1/bin/python3 -> [3 12 1]).
func versionOf(p string) []int {
	var v []int
	for _, f := range strings.Split(filepath.Base(filepath.Dir(filepath.Dir(p))), ".") {
		n, err := strconv.Atoi(f)
		if err != nil {
			break
		}
		v = append(v, n)
	}
	return v
}

func versionLess(a, b []int) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

// neededLibpython returns the libpython DT_NEEDED entry of the ELF
// executable at path, or "" if it has none. It fails if path is not ELF.
func neededLibpython(path string) (string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	libs, err := f.ImportedLibraries()
	if err != nil {
		return "", fmt.Errorf("%s: reading DT_NEEDED: %w", path, err)
	}
	for _, l := range libs {
		if strings.HasPrefix(l, "libpython") && strings.Contains(l, ".so") {
			return l, nil
		}
	}
	return "", nil
}

// mappedLibpython runs python and reports which libpython file it maps.
func mappedLibpython(python string) (string, error) {
	const prog = `
for line in open("/proc/self/maps"):
    f = line.split()
    if len(f) >= 6 and "/libpython" in f[5]:
        print(f[5])
        break
`
	out, err := exec.Command(python, "-c", prog).Output()
	if err != nil {
		return "", fmt.Errorf("running it: %v", err)
	}
	lib := strings.TrimSpace(string(out))
	if lib == "" {
		return "", fmt.Errorf("no libpython in its /proc/self/maps")
	}
	return lib, nil
}
