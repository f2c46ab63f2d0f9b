package main

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// TestRetainScratch: --scratch gives the groups and dominators retain gives
// in memory, the program's own, and leaves no file behind, whether the
// command succeeds or fails.
func TestRetainScratch(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("--scratch maps files on Linux only")
	}
	core := retainCore(t)
	dir := t.TempDir()
	// The files are unlinked at once, so what tells they are released is
	// this process's mappings (the commands run in it).
	empty := func(after string) {
		t.Helper()
		if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
			t.Errorf("after %s the scratch directory holds %v (%v)", after, entries, err)
		}
		maps, err := os.ReadFile("/proc/self/maps")
		if n := strings.Count(string(maps), "heapsift-scratch-"); err != nil || n != 0 {
			t.Errorf("after %s %d scratch files are still mapped (%v)", after, n, err)
		}
	}
	var inMemory, inFiles retainReport
	runJSON(t, &inMemory, "retain", "--top", "0", core.Path)
	runJSON(t, &inFiles, "retain", "--top", "0", "--scratch", dir, core.Path)
	empty("retain")
	if !reflect.DeepEqual(inFiles, inMemory) {
		t.Errorf("retain --scratch: %d groups %+v\nin memory: %d groups %+v", len(inFiles.Groups), inFiles.Groups, len(inMemory.Groups), inMemory.Groups)
	}
	g := findGroup(&inFiles, "main.Blob", "goroutine "+core.Value(t, "local_goroutine")+" "+core.Value(t, "local_func")+" "+core.Value(t, "local_var"), "[]")
	if n := core.Int(t, "local_count"); g == nil || uint64(g.Count) != n || g.Bytes != n*core.Int(t, "local_blob_size") {
		t.Errorf("retain --scratch: main.Blob group %+v; the goroutine keeps %d", g, n)
	}

	var why whyReport
	runJSON(t, &why, "why", "--scratch", dir, core.Path, core.Value(t, "diamond_bottom"))
	empty("why")
	if got, want := why.Object.Retained, core.Int(t, "retained_diamond_bottom"); got != want {
		t.Errorf("why --scratch: retains %d, want %d", got, want)
	}
	var doms []string
	for _, d := range why.Dominators {
		doms = append(doms, d.Addr)
	}
	if want := dominatorChain(t, core, "diamond_bottom"); !reflect.DeepEqual(doms, want) {
		t.Errorf("why --scratch: dominators %v, want %v", doms, want)
	}

	code, _, stderr := runCLI(t, "retain", "--scratch", dir, "--type", "main.Nothing", core.Path)
	if code != exitError || !strings.Contains(stderr, "main.Nothing") {
		t.Errorf("retain --scratch --type main.Nothing: exit %d, %q", code, stderr)
	}
	empty("a failed retain")
	for _, bad := range []string{filepath.Join(dir, "missing"), core.Path} {
		code, _, stderr := runCLI(t, "retain", "--scratch", bad, core.Path)
		if code != exitError || !strings.Contains(stderr, "scratch directory") {
			t.Errorf("retain --scratch %s: exit %d, %q", bad, code, stderr)
		}
		assertNoTrace(t, stderr)
	}
	empty("retain with a bad scratch directory")
}
