package coretest

import (
	"os"
	"path/filepath"
	"testing"
)

// PyenvVersions are the CPython builds heapsift's Python tests run on,
// each a pyenv version built with a shared libpython and debugging
// information (--enable-shared, -g).
var PyenvVersions = []string{"3.6.15", "3.7.16", "3.8.18", "3.9.18", "3.10.13", "3.11.7", "3.12.1", "3.13.0"}

// PyenvPython returns the interpreter of pyenv version (e.g. "3.11.7"),
// looking under $PYENV_ROOT, /root/.pyenv and ~/.pyenv, if it links
// libpython as a shared library. A missing or unsuitable version fails the
// test when the environment has CI=true and skips it otherwise.
func PyenvPython(t testing.TB, version string) string {
	t.Helper()
	roots := []string{os.Getenv("PYENV_ROOT"), "/root/.pyenv"}
	if home, err := os.UserHomeDir(); err == nil {
		roots = append(roots, filepath.Join(home, ".pyenv"))
	}
	why := "not installed under " + filepath.Join("<pyenv root>", "versions", version)
	for _, r := range roots {
		if r == "" {
			continue
		}
		exe := filepath.Join(r, "versions", version, "bin", "python3")
		real, err := filepath.EvalSymlinks(exe)
		if err != nil {
			continue
		}
		needed, err := neededLibpython(real)
		switch {
		case err != nil:
			why = err.Error()
		case needed == "":
			why = real + " links libpython statically"
		default:
			return real
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("coretest: CPython %s: %s", version, why)
	}
	t.Skipf("coretest: CPython %s: %s", version, why)
	return ""
}
