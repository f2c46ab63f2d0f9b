package coretest

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Live is a test program left running (for heapsift --pid): it has printed
// its truth lines and waits. Its core can be taken afterwards with Core.
type Live struct {
	PID   int
	Truth map[string]string
	exe   string
	dir   string
	cmd   *exec.Cmd
	lines chan string // stdout lines after the truth
	done  chan struct{}
}

// StartLive runs exe with args (env added to the environment, GOTRACEBACK=
// crash and an unlimited core size, as MakeCore does) until it prints the
// truth line "truth ready 1", and returns it running. The program must
// answer SIGUSR1 with the line "alive" and dump core on SIGABRT. It is
// killed when the test ends.
func StartLive(t testing.TB, exe string, args []string, env []string) *Live {
	t.Helper()
	skipShort(t)
	dir := t.TempDir()
	script := `ulimit -c unlimited 2>/dev/null || ulimit -c "$(ulimit -H -c)"; exec "$@"`
	cmd := exec.Command("/bin/sh", append([]string{"-c", script, "sh", exe}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "GOTRACEBACK=crash"), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("coretest: starting %s: %v", exe, err)
	}
	l := &Live{PID: cmd.Process.Pid, exe: exe, dir: dir, cmd: cmd, lines: make(chan string, 100), done: make(chan struct{})}
	t.Cleanup(func() {
		l.cmd.Process.Kill()
		<-l.done
	})
	var truth strings.Builder
	ready := make(chan error, 1)
	go func() {
		defer close(l.done)
		sc := bufio.NewScanner(out)
		sent := false
		for sc.Scan() {
			if !sent {
				truth.WriteString(sc.Text() + "\n")
				if sc.Text() == "truth ready 1" {
					ready <- nil
					sent = true
				}
				continue
			}
			l.lines <- sc.Text()
		}
		if !sent {
			ready <- fmt.Errorf("exited before printing 'truth ready 1'")
		}
		l.cmd.Wait()
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatalf("coretest: %s: %v; its output:\n%s", exe, err, truth.String())
		}
	case <-time.After(runTimeout):
		t.Fatalf("coretest: %s did not get ready within %v", exe, runTimeout)
	}
	if l.Truth, err = parseTruth(truth.String()); err != nil {
		t.Fatalf("coretest: %s: %v", exe, err)
	}
	l.waitAsleep()
	return l
}

// waitAsleep waits, for a few seconds at most, until the program's main
// thread sleeps: on a loaded machine it may still be running the few
// statements between printing "ready" and waiting, which change its heap.
func (l *Live) waitAsleep() {
	stat := fmt.Sprintf("/proc/%d/stat", l.PID)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		b, err := os.ReadFile(stat)
		if err != nil {
			return
		}
		// The state follows the command name's closing parenthesis.
		if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) && b[i+2] == 'S' {
			return
		}
	}
}

// AssertFree fails the test unless the program is neither stopped nor
// traced.
func (l *Live) AssertFree(t testing.TB) {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", l.PID))
	if err != nil {
		t.Fatalf("coretest: the program is gone: %v", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		k, v, _ := strings.Cut(line, ":")
		v = strings.TrimSpace(v)
		if (k == "State" && (strings.HasPrefix(v, "t") || strings.HasPrefix(v, "T"))) || (k == "TracerPid" && v != "0") {
			t.Errorf("coretest: pid %d is not running freely: %s %s", l.PID, k, v)
		}
	}
}

// AssertRunning fails the test unless the program runs freely: not stopped,
// not traced, and it answers SIGUSR1 within a few seconds.
func (l *Live) AssertRunning(t testing.TB) {
	t.Helper()
	l.AssertFree(t)
	if err := syscall.Kill(l.PID, syscall.SIGUSR1); err != nil {
		t.Fatalf("coretest: signalling pid %d: %v", l.PID, err)
	}
	select {
	case line := <-l.lines:
		if line != "alive" {
			t.Errorf("coretest: pid %d answered %q, want alive", l.PID, line)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("coretest: pid %d did not answer SIGUSR1 within 10 s: it is not running", l.PID)
	}
}

// Core ends the program with SIGABRT and returns the core it leaves.
func (l *Live) Core(t testing.TB) *Core {
	t.Helper()
	if err := syscall.Kill(l.PID, syscall.SIGABRT); err != nil {
		t.Fatalf("coretest: signalling pid %d: %v", l.PID, err)
	}
	select {
	case <-l.done:
	case <-time.After(runTimeout):
		t.Fatalf("coretest: pid %d did not die of SIGABRT within %v", l.PID, runTimeout)
	}
	path, err := findCore(l.dir)
	if err != nil {
		t.Fatalf("coretest: pid %d left no core: %v; %s", l.PID, err, coreLimitHint())
	}
	return &Core{Path: path, Exe: l.exe, Truth: l.Truth}
}
