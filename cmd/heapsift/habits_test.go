package main

import (
	"debug/elf"
	"encoding/json"
	"fmt"
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

// TestFlagsBeforeCommand: flags may come before the command as after it,
// with the same output.
func TestFlagsBeforeCommand(t *testing.T) {
	exe := coretest.BuildGo(t, coretest.Testdata(t, "leaky"), coretest.GoBuild{})
	core := coretest.MakeCore(t, exe, []string{"-requests=100"}, nil)
	_, after, _ := runCLI(t, "histogram", "--exe", exe, "--top", "3", core.Path)
	for _, args := range [][]string{
		{"--exe", exe, "histogram", "--top", "3", core.Path},
		{"--exe", exe, "--top", "3", "histogram", core.Path},
		{"--top=3", "histogram", "--exe", exe, core.Path},
	} {
		code, out, errs := runCLI(t, args...)
		if code != 0 || out != after || !strings.Contains(out, "3 of ") {
			t.Errorf("heapsift %s: exit %d, %q; want the output of heapsift histogram --exe EXE --top 3 CORE:\n%s\ngot:\n%s", strings.Join(args, " "), code, errs, after, out)
		}
	}
}

// TestUnknownCommand: a mistyped command is named, with the command meant.
func TestUnknownCommand(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"histgram", "core"}, `unknown command "histgram" (did you mean histogram?)`},
		{[]string{"--json", "retian", "core"}, `unknown command "retian" (did you mean retain?)`},
		{[]string{"frobnicate", "core"}, `unknown command "frobnicate" (commands: info,`},
	} {
		code, _, errs := runCLI(t, tc.args...)
		if code != exitUsage || !strings.Contains(errs, tc.want) {
			t.Errorf("heapsift %s: exit %d, %q; want %d and %q", strings.Join(tc.args, " "), code, errs, exitUsage, tc.want)
		}
	}
}

// TestTopZeroMeansAll: --top 0 lists every row, in words as elsewhere.
func TestTopZeroMeansAll(t *testing.T) {
	exe := coretest.BuildGo(t, coretest.Testdata(t, "leaky"), coretest.GoBuild{})
	core := coretest.MakeCore(t, exe, []string{"-requests=100"}, nil)
	var def, all, most wordsJSONRows
	runJSON(t, &def, "words", core.Path)
	runJSON(t, &all, "words", "--top", "0", core.Path)
	runJSON(t, &most, "words", "--top", "10000", core.Path)
	if len(def.Words) != 20 || len(all.Words) <= 20 || len(all.Words) != len(most.Words) {
		t.Errorf("words: %d rows by default, %d with --top 0, %d with --top 10000; want 20 and all of them twice", len(def.Words), len(all.Words), len(most.Words))
	}
	var h20, h0 histogramReport
	runJSON(t, &h20, "histogram", "--top", "20", core.Path)
	runJSON(t, &h0, "histogram", "--top", "0", core.Path)
	_, text, _ := runCLI(t, "histogram", "--top", "0", core.Path)
	if len(h20.Types) != 20 || len(h0.Types) <= 20 || strings.Contains(text, "types shown") {
		t.Errorf("histogram: %d rows with --top 20, %d with --top 0; want all:\n%s", len(h20.Types), len(h0.Types), text)
	}
}

// wordsJSONRows is the part of the words report TestTopZeroMeansAll reads.
type wordsJSONRows struct {
	Words []json.RawMessage `json:"words"`
}

// TestMappingVocabulary: info, mappings and their JSON say alike why bytes
// are not read — a PROT_NONE range is reserved (not missing), a mapped data
// file the kernel left out is a file not ELF — and the rows of mappings add
// up to info's totals.
func TestMappingVocabulary(t *testing.T) {
	exe := coretest.BuildGo(t, coretest.Testdata(t, "mapped"), coretest.GoBuild{})
	c := coretest.MakeCore(t, exe, nil, nil)
	var info struct{ Memory memoryReport }
	var maps struct{ Mappings []mappingReport }
	runJSON(t, &info, "info", c.Path)
	runJSON(t, &maps, "mappings", c.Path)
	var sum gapsReport
	data, reserved := false, false
	for _, m := range maps.Mappings {
		sum.Reserved += m.Reserved
		sum.LeftOut += m.LeftOut
		sum.NotELF += m.NotELF
		sum.Missing += m.Missing
		switch {
		case m.File == c.Value(t, "datafile"):
			data = m.NotELF == c.Int(t, "datasize") && m.Missing == 0 && m.LeftOut == 0
		case m.Start == fmt.Sprintf("%#x", c.Hex(t, "reserved")):
			reserved = m.Reserved == c.Int(t, "reservedsize") && m.Missing == 0 && m.Perm == "---"
		}
		if m.Perm == "---" && m.Missing+m.LeftOut+m.NotELF != 0 {
			t.Errorf("mapping %s-%s has no access but is called missing or left out: %+v", m.Start, m.End, m.gapsReport)
		}
	}
	if !data || !reserved {
		t.Errorf("data file mapping said to be a file not ELF: %v; PROT_NONE range said to be reserved: %v\n%+v", data, reserved, maps.Mappings)
	}
	if sum != info.Memory.gapsReport {
		t.Errorf("mappings add up to %+v, info says %+v", sum, info.Memory.gapsReport)
	}
	_, text, _ := runCLI(t, "info", c.Path)
	_, table, _ := runCLI(t, "mappings", c.Path)
	want := size(c.Int(t, "datasize")) + " of files not ELF (not read)"
	if !strings.Contains(text, want) || !strings.Contains(table, want) || !strings.Contains(table, "reserved (no access)") {
		t.Errorf("info and mappings do not both say %q:\n%s\n%s", want, text, table)
	}
}

// TestWhyNotAnObject: why on an address that is no heap object says what
// it is instead, and how to find an object's address.
func TestWhyNotAnObject(t *testing.T) {
	exe := coretest.BuildGo(t, coretest.Testdata(t, "leaky"), coretest.GoBuild{})
	core := coretest.MakeCore(t, exe, []string{"-requests=10"}, nil)
	f, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	text := f.Section(".text").Addr + 16
	f.Close()
	for _, tc := range []struct {
		addr string
		want string
	}{
		{"0xdeadbeef", "0xdeadbeef is not in a heap object: it is in no mapping of the core, so not an address of the process"},
		{fmt.Sprintf("%#x", text), fmt.Sprintf("%#x is not in a heap object: it lies in the mapping of %s", text, filepath.Base(exe))},
	} {
		code, _, errs := runCLI(t, "why", core.Path, tc.addr)
		if code != exitError || !strings.Contains(errs, tc.want) || !strings.Contains(errs, "heapsift objects --type") {
			t.Errorf("why %s: exit %d, %q; want %q and how to find an object", tc.addr, code, errs, tc.want)
		}
	}
}

// TestGcoreSignalNamed: a core gdb's gcore wrote records the SIGSTOP gdb
// stopped the process with, which the kernel sent (no sender process):
// named, and with no sender shown.
func TestGcoreSignalNamed(t *testing.T) {
	gcore, err := exec.LookPath("gcore")
	if err != nil {
		t.Skip("no gcore to dump a running process with")
	}
	sleeper := exec.Command("sleep", "300")
	if err := sleeper.Start(); err != nil {
		t.Fatalf("starting sleep: %v", err)
	}
	defer func() { sleeper.Process.Kill(); sleeper.Wait() }()
	prefix := filepath.Join(t.TempDir(), "core")
	if out, err := exec.Command(gcore, "-o", prefix, strconv.Itoa(sleeper.Process.Pid)).CombinedOutput(); err != nil {
		t.Skipf("gcore cannot dump a process here: %v\n%s", err, out)
	}
	core := fmt.Sprintf("%s.%d", prefix, sleeper.Process.Pid)
	code, out, errs := runCLI(t, "info", core)
	if code != 0 || !strings.Contains(out, "signal      SIGSTOP (19)\n") {
		t.Errorf("info on a gcore core: exit %d, %q; want signal SIGSTOP (19) with no sender:\n%s", code, errs, out)
	}
}

// TestSenderShownWhenAnotherProcess: a process killed by another one (this
// test) names its sender; one that aborted itself does not (golden files).
func TestSenderShownWhenAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	victim := exec.Command("sh", "-c", "ulimit -c unlimited && exec sleep 300")
	victim.Dir = dir
	if err := victim.Start(); err != nil {
		t.Fatalf("starting sleep: %v", err)
	}
	// Signal it once sh has raised its core limit and become sleep.
	comm := fmt.Sprintf("/proc/%d/comm", victim.Process.Pid)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if b, _ := os.ReadFile(comm); strings.TrimSpace(string(b)) == "sleep" {
			break
		}
		if time.Now().After(deadline) {
			victim.Process.Kill()
			t.Fatalf("%s never became sleep", comm)
		}
	}
	if err := victim.Process.Signal(syscall.SIGABRT); err != nil {
		t.Fatalf("kill -ABRT: %v", err)
	}
	victim.Wait()
	cores, _ := filepath.Glob(filepath.Join(dir, "core*"))
	if len(cores) != 1 {
		pattern, _ := os.ReadFile("/proc/sys/kernel/core_pattern")
		t.Fatalf("no core file in %s (core_pattern %q must be a plain name such as core): %v", dir, strings.TrimSpace(string(pattern)), cores)
	}
	code, out, errs := runCLI(t, "info", cores[0])
	want := fmt.Sprintf("signal      SIGABRT (6), sent by pid %d\n", os.Getpid())
	if code != 0 || !strings.Contains(out, want) {
		t.Errorf("info: exit %d, %q; want %q in:\n%s", code, errs, want, out)
	}
}
