package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heapsift/heapsift/internal/coretest"
)

// heapsiftCmd is heapsift as a separate process, this test binary run
// through main (see TestMain), to kill it or feed it standard input.
func heapsiftCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), childEnv+"=main")
	return cmd
}

// startLiveGo runs testdata/live with n items of payload bytes each.
func startLiveGo(t *testing.T, n, payload int) *coretest.Live {
	exe := coretest.BuildGo(t, coretest.Testdata(t, "live"), coretest.GoBuild{})
	// A fixed GOMAXPROCS keeps the runtime from resizing its P array (and
	// so allocating) on its own between the live read and the core.
	return coretest.StartLive(t, exe, []string{"-items", strconv.Itoa(n), "-payload", strconv.Itoa(payload)}, []string{"GOMAXPROCS=2"})
}

func TestLiveGoMatchesCore(t *testing.T) {
	l := startLiveGo(t, 20000, 64)
	pid := strconv.Itoa(l.PID)
	code, live, errs := runCLI(t, "histogram", "--json", "--top", "0", "--pid", pid)
	if code != 0 || errs != "" {
		t.Fatalf("histogram --pid: exit %d, stderr %q", code, errs)
	}
	var info infoReport
	runJSON(t, &info, "info", "--pid", pid)
	if s := info.Source; s.Kind != "pid" || s.PID != l.PID || s.PausedMS == nil || s.Copied == 0 || info.PID != l.PID {
		t.Errorf("info source %+v, pid %d", s, info.PID)
	}
	code, text, errs := runCLI(t, "--pid", pid)
	if code != 0 || !strings.Contains(errs, "pid "+pid+" paused ") || !strings.Contains(text, "running process "+pid) {
		t.Errorf("overview --pid: exit %d, stderr %q, stdout:\n%s", code, errs, text)
	}
	l.AssertRunning(t)
	core := l.Core(t)
	_, fromCore, _ := runCLI(t, "histogram", "--json", "--top", "0", core.Path)
	sameHistogram(t, live, fromCore, l.Truth["items"])
}

// sameHistogram compares the histogram of a live read with that of the
// core taken right after: the same live and garbage objects and bytes, the
// same runtime counters, and the same count and bytes for every type of
// which there are at least 100 objects. A handful of small runtime objects
// may be typed differently, since their types come from goroutine stack
// frames, and the core is written from the crash handler's frames, not
// the idle ones heapsift saw.
func sameHistogram(t *testing.T, liveJSON, coreJSON, items string) {
	t.Helper()
	var live, core histogramReport
	if err := json.Unmarshal([]byte(liveJSON), &live); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(coreJSON), &core); err != nil {
		t.Fatal(err)
	}
	if live.Live != core.Live || live.Garbage != core.Garbage || *live.MemStats != *core.MemStats {
		t.Errorf("live %+v garbage %+v memstats %+v, the core says %+v %+v %+v",
			live.Live, live.Garbage, *live.MemStats, core.Live, core.Garbage, *core.MemStats)
	}
	rows := func(r histogramReport) map[string]typeStatJSON {
		m := map[string]typeStatJSON{}
		for _, ts := range r.Types {
			m[ts.Type] = ts
		}
		return m
	}
	lr, cr := rows(live), rows(core)
	for name, c := range cr {
		if l := lr[name]; (c.Count >= 100 || l.Count >= 100) && (l.Count != c.Count || l.Bytes != c.Bytes) {
			t.Errorf("%s: %d objects, %d bytes live; %d, %d in the core", name, l.Count, l.Bytes, c.Count, c.Bytes)
		}
	}
	if got := strconv.FormatUint(lr["main.Item"].Count, 10); got != items {
		t.Errorf("main.Item: %s live objects, the program keeps %s", got, items)
	}
}

func TestLivePythonMatchesCore(t *testing.T) {
	python, _ := coretest.FindSharedPython(t)
	l := coretest.StartLive(t, python, []string{coretest.Testdata(t, "live", "waiting.py"), "50000"}, nil)
	var live wordsReport
	runJSON(t, &live, "words", "--top", "30", "--pid", strconv.Itoa(l.PID))
	var liveHist histogramReport
	runJSON(t, &liveHist, "histogram", "--top", "0", "--pid", strconv.Itoa(l.PID))
	// Not stopped, not traced; its answering a signal is left to the Go
	// test, since the handler would change the heap before the core.
	l.AssertFree(t)
	core := l.Core(t)
	var fromCore wordsReport
	runJSON(t, &fromCore, "words", "--top", "30", core.Path)
	var coreHist histogramReport
	runJSON(t, &coreHist, "histogram", "--top", "0", core.Path)
	checkSameHistogram(t, &liveHist, &coreHist, l.Truth["tuples"])
	for key, least := range map[string]string{"tuple_type": "tuples", "float_type": "floats", "unicode_type": "strings"} {
		addr, _ := strconv.ParseUint(strings.TrimPrefix(l.Truth[key], "0x"), 16, 64)
		want, _ := strconv.ParseUint(l.Truth[least], 10, 64)
		a, b := findWord(&live, addr), findWord(&fromCore, addr)
		if a == nil || b == nil {
			t.Errorf("%s (%#x) not among the top words: live %v, core %v", key, addr, a, b)
			continue
		}
		if a.Count != b.Count || a.Symbol != b.Symbol || a.Count < want {
			t.Errorf("%s: live %d (%s), core %d (%s), the script made %d", key, a.Count, a.Symbol, b.Count, b.Symbol, want)
		}
	}
}

// waitTraced waits until pid is traced by a thread of process tracer,
// i.e. heapsift is in the middle of reading it. (TracerPid is the tracing
// thread's id.)
func waitTraced(t *testing.T, pid, tracer int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
		_, rest, _ := bytes.Cut(b, []byte("TracerPid:\t"))
		tid, _, _ := bytes.Cut(rest, []byte("\n"))
		if string(tid) != "0" && len(tid) > 0 {
			if _, err := os.Stat("/proc/" + strconv.Itoa(tracer) + "/task/" + string(tid)); err == nil {
				return
			}
		}
		time.Sleep(200 * time.Microsecond)
	}
	t.Fatalf("heapsift (pid %d) never attached to pid %d", tracer, pid)
}

// TestLiveInterrupted stops heapsift in the middle of a read, with SIGINT
// and with SIGKILL: the target runs on either way.
func TestLiveInterrupted(t *testing.T) {
	l := startLiveGo(t, 100000, 2048) // about 200 MiB to copy
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			tmp := t.TempDir()
			cmd := heapsiftCmd("histogram", "--pid", strconv.Itoa(l.PID))
			cmd.Env = append(cmd.Env, "TMPDIR="+tmp)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitTraced(t, l.PID, cmd.Process.Pid)
			cmd.Process.Signal(sig)
			err := cmd.Wait()
			l.AssertRunning(t)
			if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
				t.Errorf("temporary files left: %v", ents)
			}
			if sig == syscall.SIGKILL {
				return
			}
			// SIGINT and SIGTERM are handled: one line says what happened
			// (unless the read had just finished).
			assertNoTrace(t, stderr.String())
			if err != nil && !strings.Contains(stderr.String(), "interrupted while reading pid") {
				t.Errorf("%v: %v, stderr %q", sig, err, stderr.String())
			}
		})
	}
}

// TestLiveErrors: no such process, and a process heapsift may not read.
func TestLiveErrors(t *testing.T) {
	code, _, errs := runCLI(t, "words", "--pid", "999999999")
	if code != exitError || errs != "heapsift: no process with pid 999999999\n" {
		t.Errorf("no such pid: exit %d, stderr %q", code, errs)
	}
	code, _, errs = runCLI(t, "words", "--pid", "1", "core")
	if code != exitUsage || !strings.Contains(errs, "--pid 1 takes the place of a core") {
		t.Errorf("--pid and a core: exit %d, stderr %q", code, errs)
	}
	code, _, errs = runCLI(t, "words", "--no-pause", "core")
	if code != exitUsage || !strings.Contains(errs, "--no-pause goes with --pid") {
		t.Errorf("--no-pause alone: exit %d, stderr %q", code, errs)
	}
	if os.Geteuid() != 0 {
		t.Skip("the permission case runs heapsift as another user, which needs root")
	}
	l := startLiveGo(t, 100, 8)
	// A copy of this binary that user nobody may run, in a directory of
	// its own (t.TempDir's are private).
	dir, err := os.MkdirTemp("", "heapsift-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "heapsift")
	copyFile(t, os.Args[0], bin)
	cmd := exec.Command(bin, "words", "--pid", strconv.Itoa(l.PID))
	cmd.Env = []string{childEnv + "=main", "TMPDIR=/tmp"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitError || len(lines) != 1 ||
		!strings.Contains(lines[0], "pid "+strconv.Itoa(l.PID)) || !strings.Contains(lines[0], "as root") {
		t.Errorf("as nobody: %v, stderr %q", err, stderr.String())
	}
	l.AssertRunning(t)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestCompressedCoresCLI: every compressed format, and the core on standard
// input, give exactly the uncompressed core's words and histogram.
func TestCompressedCoresCLI(t *testing.T) {
	core := leakyCore(t, 2000)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	raw, err := os.ReadFile(core.Path)
	if err != nil {
		t.Fatal(err)
	}
	commands := [][]string{{"words", "--json"}, {"histogram", "--json"}}
	want := map[string]string{}
	for _, c := range commands {
		_, want[c[0]], _ = runCLI(t, append(c, core.Path)...)
	}
	check := func(what, cmdName, got string) {
		t.Helper()
		if got != want[cmdName] {
			t.Errorf("%s: %s differs from the core's:\n%s", what, cmdName, lineDiff(want[cmdName], got))
		}
	}
	for _, format := range []string{"zstd", "lz4", "xz", "gzip"} {
		path := filepath.Join(t.TempDir(), "core."+format)
		if err := os.WriteFile(path, coretest.Compress(t, format, raw), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, c := range commands {
			code, out, errs := runCLI(t, append(c, path)...)
			if code != 0 {
				t.Fatalf("%s %s: exit %d: %s", c[0], path, code, errs)
			}
			check(format, c[0], out)
		}
		var info infoReport
		runJSON(t, &info, "info", path)
		if info.Source.Kind != "compressed" || info.Source.Format != format || info.Source.Copied != int64(len(raw)) {
			t.Errorf("%s: source %+v", format, info.Source)
		}
	}
	zst := coretest.Compress(t, "zstd", raw)
	// Cut short: a warning and the analysis of what there is (words); the
	// Go heap needs runtime data that may be lost, and then fails in one
	// line, as on a truncated core.
	cut := filepath.Join(t.TempDir(), "cut.zst")
	if err := os.WriteFile(cut, zst[:len(zst)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range commands {
		code, out, errs := runCLI(t, c[0], cut)
		assertNoTrace(t, errs)
		if !strings.Contains(errs, "warning: the zstd data is damaged or cut short") ||
			(c[0] == "words" && (code != 0 || !strings.Contains(out, "words counted"))) || code > exitError {
			t.Errorf("%s on a truncated .zst: exit %d, stderr %q", c[0], code, errs)
		}
	}
	for name, input := range map[string][]byte{"plain": raw, "zstd": zst} {
		for _, c := range commands {
			cmd := heapsiftCmd(append(c, "-")...)
			cmd.Stdin = io.MultiReader(bytes.NewReader(input)) // a pipe, not a file
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s on stdin: %v", c[0], err)
			}
			check(name+" on stdin", c[0], string(out))
		}
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("temporary files left in $TMPDIR: %v", ents)
	}
}

// checkSameHistogram: the Python heap read live is the one its core
// holds: the same live totals and the same count of every type, the
// script's tuples among them.
func checkSameHistogram(t *testing.T, live, core *histogramReport, tuples string) {
	t.Helper()
	if live.Language != "python" || live.Live != core.Live {
		t.Errorf("live histogram: %s, live %+v; core: live %+v", live.Language, live.Live, core.Live)
	}
	counts := map[string]uint64{}
	for _, row := range core.Types {
		counts[row.Type] = row.Count
	}
	for _, row := range live.Types {
		if counts[row.Type] != row.Count {
			t.Errorf("%s: %d live, %d in the core", row.Type, row.Count, counts[row.Type])
		}
	}
	if n, _ := strconv.ParseUint(tuples, 10, 64); counts["tuple"] < n {
		t.Errorf("%d tuples in the core, the script made %d", counts["tuple"], n)
	}
}
