package main

import (
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heapsift/heapsift/internal/coretest"
)

// TestBadInputs: every kind of broken input gives one clear line on stderr
// and a non-zero exit, never a Go trace.
func TestBadInputs(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	random := make([]byte, 1<<16)
	rand.New(rand.NewSource(7)).Read(random)
	elfHeaderOnly := append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 57)...)
	elfHeaderOnly[16] = 4 // ET_CORE
	elfHeaderOnly[18] = 62
	corrupt := append([]byte{}, elfHeaderOnly...)
	corrupt[32], corrupt[56] = 0x40, 0xff // program headers far past the end
	cases := map[string]string{
		"empty":            write("empty", nil),
		"random":           write("random", random),
		"header-only":      write("header", elfHeaderOnly[:40]),
		"corrupted-header": write("corrupt", corrupt),
		"directory":        dir,
		"missing":          filepath.Join(dir, "no-such-core"),
		"executable":       os.Args[0],
	}
	for name, path := range cases {
		for _, cmd := range [][]string{{}, {"words"}, {"info"}, {"mappings"}} {
			t.Run(name+"/"+strings.Join(cmd, ""), func(t *testing.T) {
				code, stdout, stderr := runCLI(t, append(cmd, path)...)
				if code != 1 {
					t.Errorf("exit %d, want 1 (stdout %q)", code, stdout)
				}
				lines := strings.Split(strings.TrimSpace(stderr), "\n")
				if len(lines) != 1 || !strings.HasPrefix(lines[0], "heapsift: ") {
					t.Errorf("want one 'heapsift: ' line on stderr, got %q", stderr)
				}
				assertNoTrace(t, stderr)
			})
		}
	}
}

// TestUsageErrors exit 2 with a hint.
func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"words"}, {"--no-such-flag", "x"}, {"symbol", "core"}, {"symbol", "core", "zzz"}, {"words", "--top", "-3", "x"}, {"help", "nope"}} {
		code, _, stderr := runCLI(t, args...)
		if code != 2 {
			t.Errorf("heapsift %q: exit %d, want 2 (%s)", args, code, stderr)
		}
		assertNoTrace(t, stderr)
	}
	for _, cmd := range commands() {
		code, out, _ := runCLI(t, cmd.name, "--help")
		if cmd.name == "" {
			code, out, _ = runCLI(t, "--help")
		}
		if code != 0 || !strings.Contains(out, "Example:") {
			t.Errorf("%q --help: exit %d, no example:\n%s", cmd.name, code, out)
		}
	}
}

// TestTruncatedCore: a core cut short still gets analysed, with one warning
// that says how much is missing.
func TestTruncatedCore(t *testing.T) {
	exe := coretest.BuildGo(t, coretest.Testdata(t, "leaky"), coretest.GoBuild{})
	core := coretest.MakeCore(t, exe, []string{"-requests", "2000"}, nil)
	data, err := os.ReadFile(core.Path)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "core.cut")
	if err := os.WriteFile(cut, data[:len(data)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"words", "info"} {
		code, out, stderr := runCLI(t, cmd, cut)
		if code != 0 {
			t.Errorf("%s on a truncated core: exit %d: %s", cmd, code, stderr)
		}
		if n := strings.Count(stderr, "core is truncated: "); n != 1 || !strings.Contains(stderr, "missing") {
			t.Errorf("%s: want one truncation warning saying what is missing, got %q", cmd, stderr)
		}
		if out == "" {
			t.Errorf("%s printed nothing", cmd)
		}
		assertNoTrace(t, stderr)
	}
}
