// Package coretest makes real Linux core files for heapsift's tests.
//
// It is a normal package, but it is meant to be imported only from _test.go
// files of other heapsift packages. It builds the programs under testdata/
// (Go programs with their own throw-away module, C++ programs with g++, Python
// scripts run by a CPython that links libpython as a shared library), runs
// them with core dumps enabled until they kill themselves with a signal, and
// returns the core file together with the ground truth the program printed on
// stdout as "truth KEY VALUE" lines.
//
// Every function takes a testing.TB and reports problems itself. Making a
// core is slow, so MakeCore (and FindSharedPython, which only core tests
// use) skip the test under go test -short: -short runs the unit tests that
// need no core. A missing tool (g++, a shared-library Python) skips the test
// on a developer's machine but fails it in CI (the environment variable CI
// set, as .ci/run does), naming what is missing and how .ci/run provides it;
// anything else that prevents a core from being made (a core_pattern that is
// not a plain file name, a zero core size limit) always fails the test with a
// message saying why.
// Temporary files live in t.TempDir; built executables are cached for the
// life of the test process (see BuildGo).
package coretest

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Core is a core file made by MakeCore.
type Core struct {
	// Path is the core file. It lives in a t.TempDir of the test that made it.
	Path string
	// Exe is the executable that was run (for Python, the interpreter).
	Exe string
	// Args are the arguments the executable was run with.
	Args []string
	// Stdout and Stderr are everything the program wrote before it died.
	Stdout string
	Stderr string
	// Truth holds the program's "truth KEY VALUE" lines: Truth[KEY] = VALUE.
	Truth map[string]string
}

// runTimeout bounds one run of a test program, including writing its core.
const runTimeout = 3 * time.Minute

// MakeCore runs exe with args in a fresh temporary directory with
// RLIMIT_CORE raised to unlimited and GOTRACEBACK=crash in the environment
// (plus env, whose entries win over inherited ones), waits for the program to
// be killed by a signal, and returns the core file the kernel wrote into that
// directory along with the truth lines the program printed.
//
// The test fails if the program exits normally, times out, or dies without
// leaving a core file; the message includes the tail of its stderr and, when
// the cause is the machine's set-up (kernel.core_pattern, the hard core size
// limit), says what to change.
func MakeCore(t testing.TB, exe string, args []string, env []string) *Core {
	t.Helper()
	skipShort(t)
	if msg := corePatternProblem(); msg != "" {
		t.Fatalf("coretest: cannot make core files on this machine: %s", msg)
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_CORE, &lim); err == nil &&
		lim.Max == 0 && os.Geteuid() != 0 {
		t.Fatalf("coretest: the hard RLIMIT_CORE is 0 and we are not root, so no core can be written; raise it (ulimit -H -c unlimited) before running the tests")
	}

	// Stat file arguments (a Python script, say) so that go test's result
	// cache, which tracks files the test process looks at, notices edits.
	for _, a := range args {
		if filepath.IsAbs(a) {
			os.Stat(a)
		}
	}

	dir := t.TempDir()
	// The shell raises the soft limit (to the hard limit if it cannot reach
	// unlimited) and then becomes the program, so the program's death is
	// what Wait reports.
	script := `ulimit -c unlimited 2>/dev/null || ulimit -c "$(ulimit -H -c)"; exec "$@"`
	shArgs := append([]string{"-c", script, "sh", exe}, args...)

	timeout := runTimeout
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if dl, ok := d.Deadline(); ok {
			if left := time.Until(dl) - 10*time.Second; left < timeout {
				timeout = max(left, time.Second)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	cmd := exec.CommandContext(ctx, "/bin/sh", shArgs...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "GOTRACEBACK=crash"), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr

	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	name := filepath.Base(exe)
	if len(args) > 0 && strings.HasPrefix(filepath.Base(exe), "python") {
		name += " " + filepath.Base(args[0])
	}
	describe := func() string {
		return fmt.Sprintf("%s %q in %s\nstdout tail:\n%s\nstderr tail:\n%s",
			exe, args, dir, tail(stdout.String(), 20), tail(stderr.String(), 40))
	}

	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("coretest: %s did not die within %v: running %s", name, timeout, describe())
	case err == nil:
		t.Fatalf("coretest: %s exited normally; it must kill itself with a signal (abort, GOTRACEBACK=crash panic): running %s", name, describe())
	case !errors.As(err, &ee):
		t.Fatalf("coretest: running %s: %v", describe(), err)
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		t.Fatalf("coretest: %s exited with %v instead of being killed by a signal: running %s", name, err, describe())
	}

	path, err := findCore(dir)
	if err != nil {
		dumped := "the kernel reported a core dump"
		if !ws.CoreDump() {
			dumped = "the kernel reported no core dump (SIGKILL, SIGTERM and the like never dump)"
		}
		t.Fatalf("coretest: %s died of signal %d (%v) and %s, and %v; %s; running %s",
			name, int(ws.Signal()), ws.Signal(), dumped, err, coreLimitHint(), describe())
	}
	truth, err := parseTruth(stdout.String())
	if err != nil {
		t.Fatalf("coretest: %s: bad truth output: %v; running %s", name, err, describe())
	}
	if fi, err := os.Stat(path); err == nil {
		// Cores are sparse (the kernel skips all-zero pages), so say both.
		disk := "?"
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			disk = fmt.Sprintf("%.1f", float64(st.Blocks*512)/(1<<20))
		}
		t.Logf("coretest: %s died of signal %d (%v) after %v; core %s is %.1f MiB (%s MiB on disk), %d truth lines",
			name, int(ws.Signal()), ws.Signal(), elapsed.Round(time.Millisecond), path,
			float64(fi.Size())/(1<<20), disk, len(truth))
	}
	return &Core{
		Path:   path,
		Exe:    exe,
		Args:   append([]string(nil), args...),
		Stdout: stdout.String(),
		Stderr: stderr.String(),
		Truth:  truth,
	}
}

// Value returns the truth value for key, failing the test if the program did
// not print it.
func (c *Core) Value(t testing.TB, key string) string {
	t.Helper()
	v, ok := c.Truth[key]
	if !ok {
		t.Fatalf("coretest: %s printed no %q truth line (have %s)", filepath.Base(c.Exe), key, c.keys())
	}
	return v
}

// Int returns the truth value for key parsed as a decimal unsigned integer,
// failing the test if it is missing or malformed.
func (c *Core) Int(t testing.TB, key string) uint64 {
	t.Helper()
	v := c.Value(t, key)
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		t.Fatalf("coretest: truth %s = %q is not a decimal integer: %v", key, v, err)
	}
	return n
}

// Hex returns the truth value for key parsed as a hexadecimal unsigned
// integer (with or without a 0x prefix), failing the test if it is missing or
// malformed.
func (c *Core) Hex(t testing.TB, key string) uint64 {
	t.Helper()
	v := c.Value(t, key)
	s := strings.TrimPrefix(strings.TrimPrefix(v, "0x"), "0X")
	n, err := strconv.ParseUint(s, 16, 64)
	if err != nil || s == "" {
		t.Fatalf("coretest: truth %s = %q is not a hexadecimal integer", key, v)
	}
	return n
}

func (c *Core) keys() string {
	if len(c.Truth) == 0 {
		return "none"
	}
	ks := make([]string, 0, len(c.Truth))
	for k := range c.Truth {
		ks = append(ks, k)
	}
	return strings.Join(ks, ", ")
}

// parseTruth collects "truth KEY VALUE" lines. VALUE is the rest of the line
// and may contain spaces. A key printed twice is an error in the program.
func parseTruth(out string) (map[string]string, error) {
	truth := make(map[string]string)
	for i, line := range strings.Split(out, "\n") {
		line = strings.TrimRight(line, "\r")
		rest, ok := strings.CutPrefix(line, "truth ")
		if !ok {
			continue
		}
		key, val, ok := strings.Cut(strings.TrimLeft(rest, " "), " ")
		val = strings.TrimSpace(val)
		if !ok || key == "" || val == "" {
			return nil, fmt.Errorf("line %d %q: want \"truth KEY VALUE\"", i+1, line)
		}
		if old, dup := truth[key]; dup {
			return nil, fmt.Errorf("line %d: truth %s printed twice (%q, then %q)", i+1, key, old, val)
		}
		truth[key] = val
	}
	return truth, nil
}

// findCore returns the ELF core file in dir. With the expected
// core_pattern it is named "core", but any core file the kernel wrote there
// (core.PID, core.%e...) is accepted, since dir is fresh.
func findCore(dir string) (string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", dir, err)
	}
	var seen []string
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		seen = append(seen, e.Name())
		if isCoreFile(p) {
			return p, nil
		}
	}
	if len(seen) == 0 {
		return "", fmt.Errorf("no core file appeared in %s", dir)
	}
	return "", fmt.Errorf("no ELF core file among %q in %s", seen, dir)
}

func isCoreFile(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	return f.Type == elf.ET_CORE
}

// corePatternProblem returns why kernel.core_pattern keeps cores from being
// written into the dying process's working directory, or "" if it does not.
func corePatternProblem() string {
	b, err := os.ReadFile("/proc/sys/kernel/core_pattern")
	if err != nil {
		return "" // not Linux-like enough to tell; let the run show what happens
	}
	p := strings.TrimSpace(string(b))
	switch {
	case strings.HasPrefix(p, "|"):
		return fmt.Sprintf("/proc/sys/kernel/core_pattern is %q, which pipes cores to a helper program (systemd-coredump, apport...) instead of writing them into the process's directory; set it to a plain file name with `sysctl -w kernel.core_pattern=core` (as root)", p)
	case strings.Contains(p, "/"):
		return fmt.Sprintf("/proc/sys/kernel/core_pattern is %q, which writes cores into another directory, not the process's working directory; set it to a plain file name with `sysctl -w kernel.core_pattern=core` (as root)", p)
	case p == "":
		return "/proc/sys/kernel/core_pattern is empty, which disables core dumps; set it with `sysctl -w kernel.core_pattern=core` (as root)"
	}
	return ""
}

// coreLimitHint describes the settings that decide whether a core is written.
func coreLimitHint() string {
	pat, _ := os.ReadFile("/proc/sys/kernel/core_pattern")
	hint := fmt.Sprintf("kernel.core_pattern is %q", strings.TrimSpace(string(pat)))
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_CORE, &lim); err == nil {
		hard := "unlimited"
		if lim.Max != ^uint64(0) {
			hard = strconv.FormatUint(lim.Max, 10)
		}
		hint += fmt.Sprintf(", the hard RLIMIT_CORE is %s", hard)
	}
	if fs, err := os.ReadFile("/proc/sys/fs/suid_dumpable"); err == nil {
		hint += fmt.Sprintf(", fs.suid_dumpable is %s", strings.TrimSpace(string(fs)))
	}
	return hint
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return "  (empty)"
	}
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("  ... (%d lines before)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// skipShort skips the calling test under go test -short.
func skipShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("makes a core: skipped in -short")
	}
}

// inCI reports whether the tests run in CI: the environment variable CI is
// set to anything but "", "0" or "false" (.ci/run exports CI=true).
func inCI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v != "" && v != "0" && v != "false"
}

// missing reports that a tool the test needs is not installed: the test is
// skipped on a developer's machine, but fails in CI, where .ci/run is
// supposed to have provided the tool (ci says how it does).
func missing(t testing.TB, what, ci string) {
	t.Helper()
	if inCI() {
		t.Fatalf("coretest: %s, and CI=%s requires it: %s", what, os.Getenv("CI"), ci)
	}
	t.Skipf("coretest: %s (in CI this fails the test: %s)", what, ci)
}
