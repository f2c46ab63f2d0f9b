package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heapsift/heapsift/warn"
)

// childRun is one run of heapsift in a process of its own.
type childRun struct {
	code           int
	stdout, stderr string
	peakRSS        uint64 // bytes
	took           time.Duration
	timedOut       bool
}

// runChild runs heapsift with args in a child process (the test binary,
// see TestMain), killed after timeout.
func runChild(t *testing.T, timeout time.Duration, args ...string) childRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	status := filepath.Join(t.TempDir(), "status")
	cmd.Env = append(os.Environ(), childEnv+"=1", peakEnv+"="+status, "GOTRACEBACK=single")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := childRun{stdout: out.String(), stderr: errb.String(), took: time.Since(start), timedOut: ctx.Err() != nil}
	if cmd.ProcessState == nil {
		t.Fatalf("running heapsift %q: %v", args, err)
	}
	r.code = cmd.ProcessState.ExitCode()
	r.peakRSS = peakFromStatus(status)
	return r
}

// peakFromStatus reads VmHWM, the peak resident size, from a copy of
// /proc/PID/status, or returns 0.
func peakFromStatus(path string) uint64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// problem returns what is wrong with a run on a hostile input, or "": a
// crash, a Go trace, an internal error, a hang, or a control character on
// stdout or stderr.
func (r childRun) problem() string {
	switch {
	case r.timedOut:
		return "timed out after " + r.took.Round(time.Millisecond).String()
	case r.code < 0 || r.code > exitGrowth:
		return "killed or crashed (exit " + strconv.Itoa(r.code) + ")"
	case strings.Contains(r.stderr, "internal error"), strings.Contains(r.stderr, "panic:"),
		strings.Contains(r.stderr, "fatal error"), traceHeader.MatchString(r.stderr):
		return "crashed: " + firstLine(r.stderr)
	case hasControl(r.stdout) || hasControl(r.stderr):
		return "a control character reached the terminal"
	case repeatedWarning(r.stderr) != "":
		return "repeated warnings not summarized: " + repeatedWarning(r.stderr)
	}
	return ""
}

// numbers matches the numbers and addresses of a warning, which warnings
// of one kind differ in.
var numbers = regexp.MustCompile(`[0-9][0-9a-fx,]*`)

// repeatedWarning returns a warning printed more often, but for its
// numbers, than twice warn.MaxSimilar (warnings of one kind beyond that
// are to be summarized in a line with a count), or "".
func repeatedWarning(stderr string) string {
	kinds := map[string]int{}
	for _, line := range strings.Split(stderr, "\n") {
		if rest, ok := strings.CutPrefix(line, programName+": warning: "); ok {
			k := numbers.ReplaceAllString(rest, "#")
			if kinds[k]++; kinds[k] > 2*warn.MaxSimilar {
				return line
			}
		}
	}
	return ""
}

// traceHeader matches a goroutine's header in a Go traceback, and not
// a warning about "the goroutine list".
var traceHeader = regexp.MustCompile(`goroutine [0-9]+ \[`)

// hasControl reports whether s holds a control byte other than newline
// and tab.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f {
			return true
		}
	}
	return false
}
