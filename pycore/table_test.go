package pycore

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/heap"
	"github.com/heapsift/heapsift/internal/coretest"
	"github.com/heapsift/heapsift/symbolize"
	"github.com/heapsift/heapsift/warn"
)

// pyenvLibpython returns the shared libpython of pyenv version.
func pyenvLibpython(t *testing.T, version string) (lib string, minor int) {
	t.Helper()
	python := coretest.PyenvPython(t, version)
	if _, err := fmt.Sscanf(version, "3.%d.", &minor); err != nil {
		t.Fatalf("version %q: %v", version, err)
	}
	libs, _ := filepath.Glob(filepath.Join(filepath.Dir(filepath.Dir(python)), "lib", fmt.Sprintf("libpython3.%d*.so.1.0", minor)))
	if len(libs) != 1 {
		t.Fatalf("pyenv %s has %d libpython3.%d, want one", version, len(libs), minor)
	}
	return libs[0], minor
}

// checkTableRow checks that the table has the layout the DWARF of file
// gives for CPython version, under that version.
func checkTableRow(t *testing.T, file, version string, minor int) {
	t.Helper()
	want, err := ReadLayout(file, minor)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range layoutTable {
		if !slices.Contains(row.versions, version) {
			continue
		}
		if !layoutsEqual(&row.layout, want) {
			t.Errorf("the table's layout of %s differs from the DWARF of %s (%s): run go generate ./pycore", version, file, layoutDiff(&row.layout, want))
		}
		return
	}
	t.Errorf("the layout table has no layout of CPython %s: run go generate ./pycore", version)
}

// layoutDiff names the first lines where two layouts' sources differ.
func layoutDiff(a, b *Layout) string {
	var ba, bb bytes.Buffer
	if err := writeValue(&ba, reflect.ValueOf(*a)); err != nil {
		return err.Error()
	}
	if err := writeValue(&bb, reflect.ValueOf(*b)); err != nil {
		return err.Error()
	}
	la, lb := strings.Split(ba.String(), "\n"), strings.Split(bb.String(), "\n")
	var diffs []string
	for i := 0; i < len(la) && i < len(lb) && len(diffs) < 5; i++ {
		if la[i] != lb[i] {
			diffs = append(diffs, fmt.Sprintf("line %d: table %q, DWARF %q", i+1, la[i], lb[i]))
		}
	}
	if len(diffs) == 0 {
		return fmt.Sprintf("%d lines against %d", len(la), len(lb))
	}
	return strings.Join(diffs, "; ")
}

// TestLayoutTableFresh checks that the generated table holds the layout
// each reference build's DWARF gives today, so that a stale table fails.
func TestLayoutTableFresh(t *testing.T) {
	for _, v := range coretest.PyenvVersions {
		t.Run(v, func(t *testing.T) {
			lib, minor := pyenvLibpython(t, v)
			checkTableRow(t, lib, v, minor)
		})
	}
	t.Run("debian", func(t *testing.T) {
		d := coretest.DebianPython(t)
		checkTableRow(t, d.DebugFile, d.Version, 11)
	})
}

// TestLayoutTableSource checks that the table's source is what the
// generator writes for its own rows: formatting the rows again gives the
// file's table, byte for byte.
func TestLayoutTableSource(t *testing.T) {
	var rows []*tableLayout
	for i := range layoutTable {
		rows = append(rows, &layoutTable[i])
	}
	src, err := formatTable([]byte("package pycore\n\n"), rows)
	if err != nil {
		t.Fatal(err)
	}
	_, table, _ := bytes.Cut(src, []byte("var layoutTable"))
	file, err := os.ReadFile("layouts_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(file, table) {
		t.Errorf("layouts_gen.go's table is not as the generator writes its rows: run go generate ./pycore")
	}
}

// openProfiler makes a core of testdata/python/profiler.py with n
// results under python and opens it.
func openProfiler(t *testing.T, python string, n int, sopts symbolize.Options, cfg openConfig) (*Heap, []warn.Warning, *coretest.Core) {
	t.Helper()
	c := coretest.MakeCore(t, python, []string{coretest.Testdata(t, "python", "profiler.py"), fmt.Sprint(n)}, nil)
	p, err := dump.Open(c.Path, dump.Options{Exe: python})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	s, _, err := symbolize.New(p, sopts)
	if err != nil {
		t.Fatal(err)
	}
	h, warns, err := open(p, s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h, warns, c
}

// checkResults checks that root __main__.Profiler holds, through its
// attribute results, the list the program made and all its live tuples.
func checkResults(t *testing.T, h *Heap, c *coretest.Core) {
	t.Helper()
	class := -1
	for _, r := range h.Roots() {
		if r.Kind == heap.RootGlobal && r.Var == "__main__.Profiler" {
			class = int(r.Object)
		}
	}
	if class < 0 {
		t.Fatal("no root __main__.Profiler")
	}
	list := -1
	targets, labels := h.Refs(class)
	for i, tg := range targets {
		if h.RefPath(class, labels[i]).String() == ".results" {
			list = int(tg)
		}
	}
	if list < 0 || h.Addr(list) != c.Hex(t, "results_list") {
		t.Fatalf("__main__.Profiler has no .results reference to the list at %s", c.Truth["results_list"])
	}
	tuples := 0
	targets, _ = h.Refs(list)
	for _, tg := range targets {
		if heap.ObjectTypeName(h, int(tg)) == "tuple" && h.Live(int(tg)) {
			tuples++
		}
	}
	if want := int(c.Int(t, "tuples")); tuples != want {
		t.Errorf("__main__.Profiler.results[] reaches %d live tuples, want %d", tuples, want)
	}
	if len(targets) > 0 && h.Addr(int(targets[0])) != c.Hex(t, "first_tuple") {
		t.Errorf("results[0] is %#x, want %s", h.Addr(int(targets[0])), c.Truth["first_tuple"])
	}
}

// tableWarning returns the warning that says which table layout was used.
func tableWarning(warns []warn.Warning) string {
	for _, w := range warns {
		if strings.Contains(w.Message, "pycore's table layout") {
			return w.Message
		}
	}
	return ""
}

// TestTableLayouts opens a core of every pyenv version with its DWARF
// ignored: the table's layout (and 3.13's _Py_DebugOffsets) must find
// the same heap.
func TestTableLayouts(t *testing.T) {
	const n = 3000
	for _, v := range coretest.PyenvVersions {
		t.Run(v, func(t *testing.T) {
			python := coretest.PyenvPython(t, v)
			h, warns, c := openProfiler(t, python, n, symbolize.Options{}, openConfig{noDWARF: true})
			w := tableWarning(warns)
			if h.ix != nil || w == "" || !strings.Contains(w, v) {
				t.Errorf("with DWARF ignored, the layout is not from the table's %s (warning %q)", v, w)
			}
			if strings.HasPrefix(v, "3.13.") && !strings.Contains(w, "_Py_DebugOffsets") {
				t.Errorf("3.13's layout does not say it took the core's _Py_DebugOffsets: %q", w)
			}
			t.Log(w)
			checkResults(t, h, c)
			p, err := dump.Open(c.Path, dump.Options{Exe: python})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			hd, _, err := Open(p, nil)
			if err != nil {
				t.Fatal(err)
			}
			if hd.NumObjects() != h.NumObjects() || hd.Totals() != h.Totals() {
				t.Errorf("from the table: %d objects %+v; from DWARF: %d objects %+v", h.NumObjects(), h.Totals(), hd.NumObjects(), hd.Totals())
			}
			checkTableMisfit(t, p, v)
		})
	}
}

// checkTableMisfit checks that the table's layouts of another minor
// version are refused on version's core, with an error naming each.
func checkTableMisfit(t *testing.T, p *dump.Process, version string) {
	t.Helper()
	mod, minor, err := findLibpython(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := openDWARF(mod.FileData())
	if err != nil {
		t.Fatal(err)
	}
	syms, err := findSymbols(nil, mod, ix, mod.FileData())
	if err != nil {
		t.Fatal(err)
	}
	other := 8 // 3.8's layouts differ from every other version's
	if minor == 8 {
		other = 12
	}
	_, err = tableHeap(p, mod, other, syms, errors.New("no DWARF (test)"))
	if err == nil || !strings.Contains(err.Error(), "fits this core") || !strings.Contains(err.Error(), fmt.Sprintf("CPython 3.%d", other)) {
		t.Errorf("the table's 3.%d layouts on a core of %s: %v, want none to fit", other, version, err)
	}
}

// TestDebugOffsetsOverrideTable checks that on 3.13 the core's
// _Py_DebugOffsets override a table layout that is wrong where they say.
func TestDebugOffsetsOverrideTable(t *testing.T) {
	python := coretest.PyenvPython(t, "3.13.0")
	h, _, _ := openProfiler(t, python, 10, symbolize.Options{}, openConfig{noDWARF: true})
	l := *h.l
	l.State.ThreadNext += 8
	l.Tuple.Item += 8
	h2 := newHeap(h.p, &dump.Module{Path: h.lib}, &l)
	changed, found, err := h2.adoptDebugOffsets(h.runtime)
	if err != nil || !found {
		t.Fatalf("adoptDebugOffsets: found %v, %v", found, err)
	}
	slices.Sort(changed)
	if want := []string{"thread_state.next", "tuple_object.ob_item"}; !slices.Equal(changed, want) {
		t.Errorf("adoptDebugOffsets changed %q, want %q", changed, want)
	}
	if l.State.ThreadNext != h.l.State.ThreadNext || l.Tuple.Item != h.l.Tuple.Item {
		t.Errorf("after adoptDebugOffsets, thread_state.next is %d and ob_item %d, want %d and %d", l.State.ThreadNext, l.Tuple.Item, h.l.State.ThreadNext, h.l.Tuple.Item)
	}
}

// TestDebianPython reads cores of Debian's stripped python3.11, with its
// build-ID debug file and with the debug directory empty, when the
// layout comes from the table.
func TestDebianPython(t *testing.T) {
	d := coretest.DebianPython(t)
	const n = 5000
	t.Run("dwarf", func(t *testing.T) {
		h, warns, c := openProfiler(t, d.Exe, n, symbolize.Options{DebugDirs: []string{d.DebugDir}}, openConfig{})
		if h.ix == nil || tableWarning(warns) != "" {
			t.Errorf("with the debug file, the layout is not from its DWARF: %q", tableWarning(warns))
		}
		checkResults(t, h, c)
	})
	t.Run("table", func(t *testing.T) {
		h, warns, c := openProfiler(t, d.Exe, n, symbolize.Options{DebugDirs: []string{t.TempDir()}}, openConfig{})
		w := tableWarning(warns)
		if h.ix != nil || !strings.Contains(w, "3.11") {
			t.Errorf("without the debug file, the layout is not from the table's 3.11: %q", w)
		}
		t.Log(w)
		checkResults(t, h, c)
	})
}

// TestStripped36 reads a 3.6 core as if libpython were stripped to its
// .dynsym: no DWARF, and no interp_head or generations, which are static;
// the interpreter is found through _PyThreadState_Current and the
// collector's lists through _PyGC_generation0.
func TestStripped36(t *testing.T) {
	python := coretest.PyenvPython(t, "3.6.15")
	c := coretest.MakeCore(t, python, []string{coretest.Testdata(t, "python", "profiler.py"), "2000"}, nil)
	p, err := dump.Open(c.Path, dump.Options{Exe: python})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	mod, minor, err := findLibpython(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := openDWARF(mod.FileData())
	if err != nil {
		t.Fatal(err)
	}
	syms, err := findSymbols(nil, mod, ix, mod.FileData())
	if err != nil {
		t.Fatal(err)
	}
	if syms.tstateCurrent == 0 || syms.gen0 == 0 {
		t.Fatalf("3.6's libpython does not name _PyThreadState_Current or _PyGC_generation0: %+v", syms)
	}
	syms.interpHead, syms.generations, syms.subtypeDealloc = 0, 0, 0
	resolveGenerations(p, &syms)
	if syms.generations == 0 {
		t.Fatal("no generations through _PyGC_generation0")
	}
	h, err := tableHeap(p, mod, minor, syms, errors.New("stripped (test)"))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.build(syms); err != nil {
		t.Fatal(err)
	}
	checkResults(t, h, c)
}
