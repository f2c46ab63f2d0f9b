package dump

import (
	"path/filepath"
	"testing"
)

// TestAppendClean: appendClean agrees with filepath.Clean.
func TestAppendClean(t *testing.T) {
	for _, p := range []string{"", ".", "..", "/", "//", "/..", "/../a", "a/..", "a/../..", "../../a/b/../c",
		"/a//b", "/a/./b", "/a/x/../b", "/a/b/", "a/b/c/../../..", "./a", "/./", "a//b/./c/..", "../a/../..", "/a/b/../../../c"} {
		check(t, p)
	}
}

func FuzzAppendClean(f *testing.F) {
	for _, p := range []string{"/a//b", "../x/./../y", "/."} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) { check(t, p) })
}

func check(t *testing.T, p string) {
	t.Helper()
	prefix := []byte("keep")
	got := appendClean(prefix, []byte(p))
	if want := filepath.Clean(p); string(got) != "keep"+want {
		t.Errorf("appendClean(%q) = %q, want %q", p, got[4:], want)
	}
}
