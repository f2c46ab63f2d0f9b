package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/heapsift/heapsift/internal/coretest"
)

// TestGoroutinesAllAndGroup checks the goroutine list against what the
// traceback test program and the runtime say: by default exactly the
// goroutines runtime.NumGoroutine counts, with --all every goroutine of the
// runtime's GOTRACEBACK=crash traceback, and with --group one group holding
// the program's select workers, counted.
func TestGoroutinesAllAndGroup(t *testing.T) {
	exe := coretest.BuildGo(t, coretest.Testdata(t, "gocore", "traceback"), coretest.GoBuild{})
	c := coretest.MakeCore(t, exe, nil, nil)
	user, err := strconv.Atoi(c.Truth["numgoroutine"])
	if err != nil {
		t.Fatalf("truth numgoroutine: %v", err)
	}
	workers, _ := strconv.Atoi(c.Truth["workers"])
	all := len(regexp.MustCompile(`(?m)^goroutine \d+ .*\]:$`).FindAllString(c.Stderr, -1))

	var def, every goroutinesReport
	runJSON(t, &def, "goroutines", c.Path)
	runJSON(t, &every, "goroutines", "--all", c.Path)
	if len(def.Goroutines) != user || def.HiddenRuntime != all-user {
		t.Errorf("goroutines: %d shown, %d hidden; runtime.NumGoroutine says %d of the traceback's %d", len(def.Goroutines), def.HiddenRuntime, user, all)
	}
	if len(every.Goroutines) != all || every.HiddenRuntime != 0 {
		t.Errorf("goroutines --all: %d shown, %d hidden; the runtime's traceback lists %d", len(every.Goroutines), every.HiddenRuntime, all)
	}

	var info struct{ Go goInfoReport }
	runJSON(t, &info, "info", c.Path)
	if info.Go.Goroutines != all || info.Go.RuntimeGs != all-user {
		t.Errorf("info: %d goroutines, %d the runtime's own; want %d and %d", info.Go.Goroutines, info.Go.RuntimeGs, all, all-user)
	}

	var grouped goroutinesReport
	runJSON(t, &grouped, "goroutines", "--group", c.Path)
	found, total := false, 0
	for _, g := range grouped.Groups {
		total += g.Count
		for _, f := range g.Frames {
			if f.Func == "main.selectWorker" {
				found = found || g.Count == workers && g.States["select"] == workers && len(g.IDs) == workers
			}
		}
	}
	if !found || total != user || len(grouped.Goroutines) != 0 {
		t.Errorf("goroutines --group: %d goroutines in %d groups, select workers grouped: %v; want %d goroutines, %d select workers in one group", total, len(grouped.Groups), found, user, workers)
	}
	code, out, _ := runCLI(t, "goroutines", "--group", c.Path)
	if code != 0 || !strings.Contains(out, strconv.Itoa(workers)+" goroutines [select]:") {
		t.Errorf("goroutines --group: exit %d, no %d select workers in:\n%s", code, workers, out)
	}
}
