package main

import (
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/internal/coretest"
)

// TestPythonTypeHistogram is the seed's hunt: on a CPython core the top words
// are the type pointers of the leaked tuples, floats and strings, named from
// libpython, with exact counts.
func TestPythonTypeHistogram(t *testing.T) {
	python, _ := coretest.FindSharedPython(t)
	const n = 100000
	core := coretest.MakeCore(t, python, []string{coretest.Testdata(t, "python", "profiler.py"), strconv.Itoa(n)}, nil)
	types := map[string]struct {
		key   string
		least uint64
	}{
		"PyTuple_Type":   {"tuple_type", core.Int(t, "tuples")},
		"PyFloat_Type":   {"float_type", core.Int(t, "floats")},
		"PyUnicode_Type": {"unicode_type", core.Int(t, "strings")},
	}
	var addrs []uint64
	for _, ty := range types {
		addrs = append(addrs, core.Hex(t, ty.key))
	}
	truth := naiveCoreCounts(t, core.Path, addrs...)

	var r wordsReport
	runJSON(t, &r, "words", "--top", "30", core.Path)
	for sym, ty := range types {
		addr := core.Hex(t, ty.key)
		row := findWord(&r, addr)
		if row == nil {
			t.Errorf("%s (%#x) is not among the top 30 words", sym, addr)
			continue
		}
		if row.Symbol != sym || row.Kind != "symbol" || !strings.Contains(filepath.Base(row.Module), "libpython") {
			t.Errorf("%#x named %q kind %q in %q, want %s in libpython", addr, row.Symbol, row.Kind, row.Module, sym)
		}
		if row.Count != truth[addr] {
			t.Errorf("%s count %d, an independent count of the core says %d", sym, row.Count, truth[addr])
		}
		if row.Count < ty.least {
			t.Errorf("%s count %d, but the script made %d such objects", sym, row.Count, ty.least)
		}
	}
	// The words table shows them too, by name; the overview, which reads
	// the Python heap, by the names Python gives the types.
	code, out, errs := runCLI(t, "words", core.Path)
	if code != 0 {
		t.Fatalf("words: exit %d: %s", code, errs)
	}
	for sym := range types {
		if !strings.Contains(out, sym) {
			t.Errorf("words lacks %s:\n%s", sym, out)
		}
	}
	code, out, errs = runCLI(t, core.Path)
	if code != 0 {
		t.Fatalf("overview: exit %d: %s", code, errs)
	}
	for _, name := range []string{"  tuple\n", "  float\n", "  str\n"} {
		if !strings.Contains(out, name) {
			t.Errorf("overview lacks the type %q:\n%s", strings.TrimSpace(name), out)
		}
	}
	// heapsift symbol answers like gdb's info symbol.
	code, out, _ = runCLI(t, "symbol", core.Path, fmt.Sprintf("%#x", core.Hex(t, "tuple_type")))
	if code != 0 || !strings.Contains(out, "PyTuple_Type in section .data of ") || !strings.Contains(out, "libpython") {
		t.Errorf("symbol: exit %d, %q", code, out)
	}
}

// TestCXXVtables: a polymorphic object's first word is its vtable pointer,
// named "vtable for Class+16", counted at least once per object.
func TestCXXVtables(t *testing.T) {
	exe := coretest.BuildCXX(t, coretest.Testdata(t, "cpp", "widgets.cpp"))
	core := coretest.MakeCore(t, exe, nil, nil)
	var r wordsReport
	runJSON(t, &r, "words", "--top", "40", core.Path)
	for _, class := range []string{"Button", "shapes::Circle", "Box<int>"} {
		key := "vtable_" + class
		if _, ok := core.Truth[key]; !ok {
			t.Fatalf("the program printed no %q truth line (have %v)", key, core.Truth)
		}
		vt := core.Hex(t, key)
		row := findWord(&r, vt)
		if row == nil {
			t.Errorf("vtable of %s (%#x) is not among the top words", class, vt)
			continue
		}
		if !strings.HasPrefix(row.Name, "vtable for "+class+"+") {
			t.Errorf("%#x named %q, want vtable for %s+…", vt, row.Name, class)
		}
		if want := core.Int(t, class); row.Count < want {
			t.Errorf("vtable for %s counted %d times, the program made %d objects", class, row.Count, want)
		}
	}
}

// TestRawMatchesOd: on a flat file, the word histogram equals od | sort |
// uniq -c exactly, whole.
func TestRawMatchesOd(t *testing.T) {
	if _, err := exec.LookPath("od"); err != nil {
		t.Skip("od not installed")
	}
	rng := rand.New(rand.NewSource(1))
	pool := make([]uint64, 5000)
	for i := range pool {
		pool[i] = rng.Uint64() >> uint(rng.Intn(64))
	}
	words := make([]byte, 0, 8*200000)
	for i := 0; i < 200000; i++ {
		var v uint64
		switch r := rng.Intn(10); {
		case r < 4:
			v = 0
		case r < 7:
			v = uint64(rng.Intn(50)) // heavy small values
		default:
			v = pool[rng.Intn(len(pool))]
		}
		for k := 0; k < 8; k++ {
			words = append(words, byte(v>>(8*k)))
		}
	}
	words = append(words, 1, 2, 3) // a trailing partial word is not counted
	path := filepath.Join(t.TempDir(), "mem.bin")
	if err := os.WriteFile(path, words, 0o600); err != nil {
		t.Fatal(err)
	}
	// od pads a trailing partial word with zeros; heapsift ignores it, so
	// od is shown only the whole words.
	out, err := exec.Command("sh", "-c", fmt.Sprintf("head -c %d %s | od -A n -t x8 -v -w8 | sort | uniq -c", len(words)-3, path)).Output()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		c, _ := strconv.ParseUint(f[0], 10, 64)
		want["0x"+f[1]] = c
	}
	var r wordsReport
	runJSON(t, &r, "words", "--raw", "--top", "10000", path)
	if !r.Complete {
		t.Fatalf("histogram of a small file is not complete")
	}
	if len(r.Words) != len(want) {
		t.Errorf("%d distinct words, od says %d", len(r.Words), len(want))
	}
	for _, w := range r.Words {
		if want[w.Value] != w.Count {
			t.Errorf("%s: %d, od says %d", w.Value, w.Count, want[w.Value])
		}
	}
}

// TestStreamedWords: words on a zstd-compressed Go core, counted as it is
// decompressed (nothing of its heap written to a temporary file), lists
// exactly what words lists on the uncompressed core, and the counts of its
// top rows are those of an independent count of the core's segments.
func TestStreamedWords(t *testing.T) {
	core := leakyCore(t, 2000)
	raw, err := os.ReadFile(core.Path)
	if err != nil {
		t.Fatal(err)
	}
	zst := filepath.Join(t.TempDir(), "core.zst")
	if err := os.WriteFile(zst, coretest.Compress(t, "zstd", raw), 0o600); err != nil {
		t.Fatal(err)
	}
	e := &env{stdout: io.Discard, stderr: io.Discard}
	o := &options{top: 20}
	got, ok, err := streamWords(zst, o, e)
	if err != nil || !ok {
		t.Fatalf("streamWords: ok %v, error %v", ok, err)
	}
	p, err := dump.Open(core.Path, dump.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	want, err := countWords(p, o, e)
	if err != nil {
		t.Fatal(err)
	}
	if got.TotalWords != want.TotalWords || got.Complete != want.Complete || !reflect.DeepEqual(got.Words, want.Words) {
		t.Errorf("streamed: %d words, complete %v\n%+v\nwant %d, %v\n%+v", got.TotalWords, got.Complete, got.Words, want.TotalWords, want.Complete, want.Words)
	}
	var values []uint64
	for _, w := range got.Words {
		v, err := strconv.ParseUint(w.Value, 0, 64)
		if err != nil {
			t.Fatal(err)
		}
		values = append(values, v)
	}
	counts := naiveCoreCounts(t, core.Path, values...)
	for i, w := range got.Words {
		if counts[values[i]] != w.Count {
			t.Errorf("%s counted %d times, the core's segments hold it %d times", w.Value, w.Count, counts[values[i]])
		}
	}
	// --all counts file offsets, which a stream does not: not streamed.
	if _, ok, _ := streamWords(zst, &options{top: 20, all: true}, e); ok {
		t.Errorf("--all streamed")
	}
}
