package main

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"io"
	"regexp"
	"strings"
	"testing"
)

// runCLI runs heapsift in-process and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &env{stdout: &out, stderr: &errb})
	return code, out.String(), errb.String()
}

// runJSON runs heapsift with --json and decodes its output into v.
func runJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	code, out, errs := runCLI(t, append(args, "--json")...)
	if code != 0 {
		t.Fatalf("heapsift %s: exit %d: %s", strings.Join(args, " "), code, errs)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("heapsift %s: bad JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// naiveCoreCounts counts, independently of heapsift's packages, how often
// each of the wanted values occurs as an aligned word in the core's PT_LOAD
// segments.
func naiveCoreCounts(t *testing.T, core string, want ...uint64) map[uint64]uint64 {
	t.Helper()
	f, err := elf.Open(core)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	counts := map[uint64]uint64{}
	for _, v := range want {
		counts[v] = 0
	}
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD || p.Filesz == 0 {
			continue
		}
		data, err := io.ReadAll(p.Open())
		if err != nil {
			t.Fatalf("reading segment at %#x: %v", p.Vaddr, err)
		}
		skip := (8 - p.Vaddr%8) % 8
		for i := skip; i+8 <= uint64(len(data)); i += 8 {
			v := binary.LittleEndian.Uint64(data[i:])
			if _, ok := counts[v]; ok {
				counts[v]++
			}
		}
	}
	return counts
}

// findWord returns the row for value v.
func findWord(r *wordsReport, v uint64) *wordRow {
	for i := range r.Words {
		if r.Words[i].Value == hexWord(v) {
			return &r.Words[i]
		}
	}
	return nil
}

// goTrace matches what a Go panic or fatal error prints.
var goTrace = regexp.MustCompile(`goroutine \d+ \[|panic: |fatal error: |\.go:\d+`)

func assertNoTrace(t *testing.T, stderr string) {
	t.Helper()
	if m := goTrace.FindString(stderr); m != "" {
		t.Fatalf("stderr shows a Go trace (%q):\n%s", m, stderr)
	}
}
