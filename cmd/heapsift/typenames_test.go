package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEveryTypeNameAccepted: every name the histogram prints, the untyped
// size classes included, selects objects in `objects --type` and groups in
// `retain --type`, and the counts agree with the histogram's.
func TestEveryTypeNameAccepted(t *testing.T) {
	core := retainCore(t)
	var h histogramReport
	runJSON(t, &h, "histogram", "--top", "0", core.Path)
	var retained retainReport
	runJSON(t, &retained, "retain", "--top", "0", core.Path)
	retainedTypes := map[string]bool{}
	for _, g := range retained.Groups {
		retainedTypes[g.Type] = true
	}
	untyped := 0
	for _, row := range h.Types {
		if !row.Typed {
			untyped++
		}
		var objs objectsReport
		runJSON(t, &objs, "objects", "--type", row.Type, "--limit", "1", core.Path)
		if uint64(objs.Count) != row.Count || len(objs.Objects) != 1 || objs.Objects[0].Type != row.Type {
			t.Errorf("objects --type %q: %d objects (first %+v), the histogram counts %d", row.Type, objs.Count, objs.Objects, row.Count)
		}
		if !retainedTypes[row.Type] {
			continue
		}
		var r retainReport
		runJSON(t, &r, "retain", "--top", "0", "--type", row.Type, core.Path)
		if len(r.Groups) == 0 {
			t.Errorf("retain --type %q matches no group, though retain lists one", row.Type)
		}
	}
	if untyped == 0 {
		t.Error("the histogram shows no untyped size class; the test needs one")
	}
	// The names select what the program made, not only what the
	// histogram says: retainCore makes 20 items and local_count blobs.
	for typ, want := range map[string]uint64{"main.Item": 20, "main.Blob": core.Int(t, "local_count")} {
		var objs objectsReport
		runJSON(t, &objs, "objects", "--type", typ, "--limit", "1", core.Path)
		if uint64(objs.Count) != want {
			t.Errorf("objects --type %s: %d, the program made %d", typ, objs.Count, want)
		}
	}
}

// TestWarningBeforeFailureIsPrinted: a command that fails still prints the
// warnings raised on the way, each once, and JSON documents carry them.
func TestWarningBeforeFailureIsPrinted(t *testing.T) {
	core := retainCore(t)
	other := filepath.Join(t.TempDir(), "true")
	data, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Skipf("no /bin/true to stand for a wrong executable: %v", err)
	}
	if err := os.WriteFile(other, data, 0o755); err != nil {
		t.Fatal(err)
	}
	// An empty --sysroot hides the executable at the path the core
	// records, which a wrong --exe would fall back to.
	nowhere := t.TempDir()
	code, _, errs := runCLI(t, "histogram", "--exe", other, "--sysroot", nowhere, core.Path)
	assertNoTrace(t, errs)
	if code != exitError {
		t.Fatalf("histogram with a wrong --exe: exit %d, want %d; stderr %q", code, exitError, errs)
	}
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	warnings := 0
	for _, l := range lines {
		if strings.Contains(l, "warning:") && strings.Contains(l, "build ID") {
			warnings++
		}
	}
	if warnings != 1 || !strings.Contains(lines[len(lines)-1], "heapsift: ") {
		t.Errorf("want the build ID warning once, then the error; stderr:\n%s", errs)
	}
	var info struct {
		Warnings []string `json:"warnings"`
		Details  []struct {
			Source, Message string
		} `json:"warning_details"`
	}
	runJSON(t, &info, "info", "--exe", other, "--sysroot", nowhere, core.Path)
	if len(info.Warnings) == 0 || len(info.Details) != len(info.Warnings) || info.Details[0].Source != core.Path {
		t.Errorf("info --json warnings %q, details %+v; want the build ID warning from %s", info.Warnings, info.Details, core.Path)
	}
}
