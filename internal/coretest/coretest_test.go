package coretest

import (
	"debug/buildinfo"
	"debug/elf"
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func TestParseTruth(t *testing.T) {
	got, err := parseTruth("hello\ntruth a 1\r\ntruth vtable_Box<int> 0x10\ntruth name two words\nnot truth x 1\n")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "1", "vtable_Box<int>": "0x10", "name": "two words"}
	if len(got) != len(want) {
		t.Fatalf("parseTruth = %q, want %q", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("truth %s = %q, want %q", k, got[k], v)
		}
	}
	for _, bad := range []string{"truth a 1\ntruth a 2\n", "truth lonely\n", "truth k \n"} {
		if _, err := parseTruth(bad); err == nil {
			t.Errorf("parseTruth(%q) succeeded, want an error", bad)
		}
	}
}

// checkCore checks that c is an x86-64/host ELF core file and that each of
// addrs lies in a segment whose contents the core holds.
func checkCore(t *testing.T, c *Core, addrs map[string]uint64) {
	t.Helper()
	f, err := elf.Open(c.Path)
	if err != nil {
		t.Fatalf("opening core: %v", err)
	}
	defer f.Close()
	if f.Type != elf.ET_CORE {
		t.Fatalf("%s has ELF type %v, want ET_CORE", c.Path, f.Type)
	}
	exe, err := elf.Open(c.Exe)
	if err != nil {
		t.Fatalf("opening executable: %v", err)
	}
	defer exe.Close()
	if f.Machine != exe.Machine {
		t.Errorf("core machine %v, executable machine %v", f.Machine, exe.Machine)
	}
	var notes, loads int
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_NOTE:
			notes++
		case elf.PT_LOAD:
			loads++
		}
	}
	if notes == 0 || loads == 0 {
		t.Fatalf("core has %d PT_NOTE and %d PT_LOAD segments, want some of each", notes, loads)
	}
	for name, a := range addrs {
		found := false
		for _, p := range f.Progs {
			if p.Type == elf.PT_LOAD && a >= p.Vaddr && a < p.Vaddr+p.Filesz {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("truth %s = %#x is not in any dumped PT_LOAD segment of the core", name, a)
		}
	}
}

func wantInt(t *testing.T, c *Core, key string, want uint64) {
	t.Helper()
	if got := c.Int(t, key); got != want {
		t.Errorf("truth %s = %d, want %d", key, got, want)
	}
}

func TestGoCore(t *testing.T) {
	src := Testdata(t, "leaky")
	exe := BuildGo(t, src, GoBuild{})
	if again := BuildGo(t, src, GoBuild{}); again != exe {
		t.Errorf("second BuildGo returned %s, want the cached %s", again, exe)
	}
	c := MakeCore(t, exe, nil, nil)
	wantInt(t, c, "timings", 200000)
	wantInt(t, c, "sessions", 5000)
	if objs := c.Int(t, "heap_objects"); objs < 2*200000 {
		t.Errorf("truth heap_objects = %d, want at least two per timing", objs)
	}
	if ha := c.Int(t, "heap_alloc"); ha < 200000*c.Int(t, "sizeof_Timing") {
		t.Errorf("truth heap_alloc = %d, too small for the timings", ha)
	}
	checkCore(t, c, map[string]uint64{
		"default_profiler": c.Hex(t, "default_profiler"),
		"results_array":    c.Hex(t, "results_array"),
	})
}

func TestGoCoreOldToolchainPIE(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads and uses go1.22.12; skipped with -short")
	}
	const tc = "go1.22.12"
	exe := BuildGo(t, Testdata(t, "leaky"), GoBuild{Toolchain: tc, PIE: true})
	bi, err := buildinfo.ReadFile(exe)
	if err != nil {
		t.Fatalf("reading build info: %v", err)
	}
	if bi.GoVersion != tc {
		t.Errorf("built with %s, want %s", bi.GoVersion, tc)
	}
	f, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	if f.Type != elf.ET_DYN {
		t.Errorf("PIE build has ELF type %v, want ET_DYN", f.Type)
	}
	f.Close()
	c := MakeCore(t, exe, []string{"-requests=3000", "-sessions=100"}, nil)
	wantInt(t, c, "timings", 3000)
	wantInt(t, c, "sessions", 100)
	if v := c.Value(t, "go_version"); v != tc {
		t.Errorf("truth go_version = %s, want %s", v, tc)
	}
	checkCore(t, c, map[string]uint64{"default_profiler": c.Hex(t, "default_profiler")})
}

func TestCXXCore(t *testing.T) {
	src := Testdata(t, "cpp", "widgets.cpp")
	exe := BuildCXX(t, src)
	if again := BuildCXX(t, src); again != exe {
		t.Errorf("second BuildCXX returned %s, want the cached %s", again, exe)
	}
	c := MakeCore(t, exe, nil, nil)
	wantInt(t, c, "Button", 30000)
	wantInt(t, c, "shapes::Circle", 20000)
	wantInt(t, c, "Box<int>", 10000)
	wantInt(t, c, "widgets", 60000)
	addrs := map[string]uint64{"first_Button": c.Hex(t, "first_Button")}
	seen := map[uint64]string{}
	for _, class := range []string{"Button", "shapes::Circle", "Box<int>"} {
		key := "vtable_" + class
		v := c.Hex(t, key)
		addrs[key] = v
		if other, dup := seen[v]; dup {
			t.Errorf("%s and %s have the same vtable %#x", other, key, v)
		}
		seen[v] = key
	}
	checkCore(t, c, addrs)
}

func TestPythonCore(t *testing.T) {
	python, lib := FindSharedPython(t)
	t.Logf("python %s with %s", python, lib)
	if !strings.HasPrefix(filepath.Base(lib), "libpython") {
		t.Errorf("libpython path %s does not name a libpython", lib)
	}
	const n = 100000
	c := MakeCore(t, python, []string{Testdata(t, "python", "profiler.py"), strconv.Itoa(n)}, nil)
	wantInt(t, c, "tuples", n)
	wantInt(t, c, "floats", 2*n)
	wantInt(t, c, "strings", n)
	addrs := map[string]uint64{}
	for _, k := range []string{"tuple_type", "float_type", "unicode_type", "list_type", "results_list", "first_tuple"} {
		addrs[k] = c.Hex(t, k)
	}
	checkCore(t, c, addrs)
}

// fatalRecorder is a testing.TB whose Fatalf records the message and ends
// the goroutine, so MakeCore's failure reports can be checked.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func failureOf(t *testing.T, f func(tb testing.TB)) string {
	r := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r.msg
}

func TestMakeCoreFailures(t *testing.T) {
	skipShort(t) // MakeCore would skip inside failureOf's goroutine
	for _, tc := range []struct {
		name, script, want string
	}{
		{"exits", "echo oops >&2; exit 0", "exited normally"},
		{"exit code", "echo oops >&2; exit 3", "instead of being killed by a signal"},
		{"no core", "echo oops >&2; kill -KILL $$", "no core file appeared"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := failureOf(t, func(tb testing.TB) {
				MakeCore(tb, "/bin/sh", []string{"-c", tc.script}, nil)
			})
			t.Log(msg)
			if !strings.Contains(msg, tc.want) || !strings.Contains(msg, "oops") {
				t.Errorf("MakeCore failure = %q, want it to mention %q and the stderr", msg, tc.want)
			}
		})
	}
}

// TestMissingToolFailsInCI: in CI a missing tool is a failure that says how
// .ci/run provides it, not a skip.
func TestMissingToolFailsInCI(t *testing.T) {
	t.Setenv("CI", "true")
	msg := failureOf(t, func(tb testing.TB) {
		missing(tb, "g++ is not installed", "apt-get install g++")
	})
	if !strings.Contains(msg, "g++ is not installed") || !strings.Contains(msg, "apt-get install g++") || !strings.Contains(msg, "CI=true") {
		t.Errorf("missing tool in CI: failure %q, want one naming the tool, CI and the fix", msg)
	}
	for _, v := range []string{"", "0", "false"} {
		t.Setenv("CI", v)
		if inCI() {
			t.Errorf("CI=%q counts as CI", v)
		}
	}
}
