package symbolize

import (
	"debug/elf"
	"github.com/heapsift/heapsift/warn"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/internal/coretest"
)

// These tests make real cores and check the names against the addresses the
// crashed programs printed.

// openCore opens a core and a symbolizer for it.
func openCore(t *testing.T, c *coretest.Core) *Symbolizer {
	t.Helper()
	p, err := dump.Open(c.Path, dump.Options{})
	if err != nil {
		t.Fatalf("opening core: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	s, warnings, err := New(p, Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	for _, w := range append(p.Warnings(), warnings...) {
		t.Logf("warning: %s", w)
	}
	return s
}

// wantSymbol checks that v is named sym+off in section sec of a module
// whose path satisfies inModule.
func wantSymbol(t *testing.T, s *Symbolizer, key string, v uint64, sym string, off uint64, sec string, inModule func(string) bool) Name {
	t.Helper()
	n := s.Describe(v)
	if n.Kind != KindSymbol || n.Symbol != sym || n.Offset != off || n.Section != sec || !inModule(n.Module) {
		t.Errorf("%s: Describe(%#x) = %#v; want %s+%d in section %s", key, v, n, sym, off, sec)
	} else {
		t.Logf("%s: %s | %s", key, n, n.GDB())
	}
	return n
}

func TestGoCore(t *testing.T) {
	builds := []struct {
		name     string
		opts     coretest.GoBuild
		stripped bool
	}{
		{"default", coretest.GoBuild{}, false},
		{"pie", coretest.GoBuild{PIE: true}, false},
		{"stripped", coretest.GoBuild{LDFlags: "-s -w"}, true},
		{"stripped-pie", coretest.GoBuild{PIE: true, LDFlags: "-s -w"}, true},
		{"go1.22-pie", coretest.GoBuild{Toolchain: "go1.22.12", PIE: true}, false},
		{"go1.22-stripped", coretest.GoBuild{Toolchain: "go1.22.12", LDFlags: "-s -w"}, true},
	}
	for _, b := range builds {
		t.Run(b.name, func(t *testing.T) {
			if b.opts.Toolchain != "" && testing.Short() {
				t.Skip("uses an older Go toolchain; skipped with -short")
			}
			exe := coretest.BuildGo(t, "testdata/gosyms", b.opts)
			c := coretest.MakeCore(t, exe, nil, nil)
			s := openCore(t, c)
			checkExeType(t, exe, b.opts.PIE)
			isExe := func(m string) bool { return m == exe }

			wantSymbol(t, s, "func_work", c.Hex(t, "func_work"), "main.work", 0, ".text", isExe)
			wantSymbol(t, s, "func_work+2", c.Hex(t, "func_work")+2, "main.work", 2, ".text", isExe)
			wantSymbol(t, s, "func_sum", c.Hex(t, "func_sum"), "main.(*Box).Sum", 0, ".text", isExe)
			wantSymbol(t, s, "func_main", c.Hex(t, "func_main"), "main.main", 0, ".text", isExe)

			table, table5, ptrs2 := c.Hex(t, "var_table"), c.Hex(t, "var_table5"), c.Hex(t, "var_ptrs2")
			if !b.stripped {
				wantSymbol(t, s, "var_table", table, "main.table", 0, ".noptrdata", isExe)
				wantSymbol(t, s, "var_table5", table5, "main.table", 40, ".noptrdata", isExe)
				wantSymbol(t, s, "var_ptrs2", ptrs2, "main.ptrs", 16, ".bss", isExe)
			} else {
				// Without .symtab, data has no names, but the pointers
				// still say where they point.
				if n := s.Describe(table5); n.Kind != KindPointer || n.Module != exe || n.Section != ".noptrdata" {
					t.Errorf("stripped var_table5: Describe(%#x) = %#v, want a pointer into %s .noptrdata", table5, n, exe)
				}
			}
			heap := c.Hex(t, "heap_box")
			if n := s.Describe(heap); n.Kind != KindPointer || n.Module != "" || n.Mapping == "" && n.String() != "→ [anon]" {
				t.Errorf("heap_box: Describe(%#x) = %#v (%s), want a pointer into anonymous memory", heap, n, n)
			}
		})
	}
}

// checkExeType makes sure the build made the kind of executable the test
// means to cover (ET_DYN for PIE), so the load bias is really exercised.
func checkExeType(t *testing.T, exe string, pie bool) {
	t.Helper()
	f, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := elf.ET_EXEC
	if pie {
		want = elf.ET_DYN
	}
	if f.Type != want {
		t.Fatalf("%s is %v, want %v", exe, f.Type, want)
	}
}

func TestCXXCore(t *testing.T) {
	exe := coretest.BuildCXX(t, coretest.Testdata(t, "cpp", "widgets.cpp"))
	c := coretest.MakeCore(t, exe, []string{"300", "200", "100"}, nil)
	s := openCore(t, c)
	isExe := func(m string) bool { return m == exe }
	// A vptr points just past the offset-to-top and typeinfo words at the
	// start of the vtable: 16 bytes in on x86-64 and arm64.
	for _, class := range []struct{ key, mangled, want string }{
		{"vtable_Button", "_ZTV6Button", "vtable for Button"},
		{"vtable_shapes::Circle", "_ZTVN6shapes6CircleE", "vtable for shapes::Circle"},
		{"vtable_Box<int>", "_ZTV3BoxIiE", "vtable for Box<int>"},
	} {
		n := wantSymbol(t, s, class.key, c.Hex(t, class.key), class.want, 16, ".data.rel.ro", isExe)
		if n.Mangled != class.mangled {
			t.Errorf("%s: Mangled = %q, want %q", class.key, n.Mangled, class.mangled)
		}
	}
	n := s.Describe(c.Hex(t, "vtable_Button"))
	if got, want := n.String(), "vtable for Button+16"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := n.GDB(), "vtable for Button + 16 in section .data.rel.ro of "+exe; got != want {
		t.Errorf("GDB() = %q, want %q", got, want)
	}

	raw, _, err := New(s.p, Options{NoDemangle: true})
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := raw.Symbol(c.Hex(t, "vtable_Button")); !ok || n.Symbol != "_ZTV6Button" || n.Mangled != "" {
		t.Errorf("NoDemangle: Symbol = %#v, %v; want _ZTV6Button", n, ok)
	}

	first := c.Hex(t, "first_Button")
	if n := s.Describe(first); n.Kind != KindPointer || n.Module != "" || n.Mapping != "[heap]" {
		t.Errorf("first_Button: Describe(%#x) = %#v, want a pointer into [heap], the malloc heap", first, n)
	}
	checkMissingFiles(t, c)

	// The vtable pointer is also what the Button object's first word holds.
	if w, err := s.p.Uint64(dump.Address(first)); err != nil || w != c.Hex(t, "vtable_Button") {
		t.Errorf("first word of the first Button = %#x, %v; want the vtable pointer", w, err)
	}
}

func TestPythonCore(t *testing.T) {
	python, lib := coretest.FindSharedPython(t)
	c := coretest.MakeCore(t, python, []string{coretest.Testdata(t, "python", "profiler.py"), "2000"}, nil)
	s := openCore(t, c)
	isLib := func(m string) bool {
		return m == lib || strings.HasPrefix(filepath.Base(m), "libpython") && filepath.Base(m) == filepath.Base(lib)
	}
	for _, k := range []struct{ key, sym string }{
		{"tuple_type", "PyTuple_Type"},
		{"float_type", "PyFloat_Type"},
		{"unicode_type", "PyUnicode_Type"},
		{"list_type", "PyList_Type"},
	} {
		n := wantSymbol(t, s, k.key, c.Hex(t, k.key), k.sym, 0, ".data", isLib)
		if want := k.sym + " in section .data of " + n.Module; n.GDB() != want {
			t.Errorf("%s: GDB() = %q, want %q", k.key, n.GDB(), want)
		}
	}
}

// checkMissingFiles opens the core without reading any mapped file: every
// module gets one "not found" warning, and addresses in them are described
// as pointers into the file mappings.
func checkMissingFiles(t *testing.T, c *coretest.Core) {
	t.Helper()
	p, err := dump.Open(c.Path, dump.Options{NoFiles: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s, warnings, err := New(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != len(p.Modules()) {
		t.Errorf("%d warnings for %d modules: %q", len(warnings), len(p.Modules()), warnings)
	}
	exeWarning := filepath.Base(c.Exe) + ": not found; its addresses stay unnamed (use --exe)"
	if !slices.Contains(warn.Messages(warnings), exeWarning) {
		t.Errorf("warnings %q lack %q", warnings, exeWarning)
	}
	for _, w := range warn.Messages(warnings) {
		if w != exeWarning && !strings.HasSuffix(w, ": not found; its addresses stay unnamed (use --sysroot or --lib-dir)") {
			t.Errorf("unexpected warning %q", w)
		}
	}
	v := c.Hex(t, "vtable_Button")
	n := s.Describe(v)
	if n.Kind != KindPointer || n.Module != c.Exe || n.Mapping != c.Exe || !strings.HasPrefix(n.String(), "→ "+filepath.Base(c.Exe)+"+0x") {
		t.Errorf("without files, Describe(%#x) = %#v (%s), want a pointer into %s", v, n, n, c.Exe)
	}
}

// TestDebugFile strips the C++ program, installs its symbols as a separate
// debug file under a .build-id directory, and checks that the vtables are
// named from there, and only from there.
func TestDebugFile(t *testing.T) {
	built := coretest.BuildCXX(t, coretest.Testdata(t, "cpp", "widgets.cpp"))
	f, err := elf.Open(built)
	if err != nil {
		t.Fatal(err)
	}
	id := gnuBuildID(f)
	f.Close()
	if id == "" {
		t.Skip("the C++ compiler wrote no GNU build ID")
	}
	dir := t.TempDir()
	exe := filepath.Join(dir, "widgets-stripped")
	debugDir := filepath.Join(dir, "debug")
	debugFile := filepath.Join(debugDir, ".build-id", id[:2], id[2:]+".debug")
	if err := os.MkdirAll(filepath.Dir(debugFile), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"objcopy", "--only-keep-debug", built, debugFile},
		{"strip", "-o", exe, built},
	} {
		if _, err := exec.LookPath(args[0]); err != nil {
			t.Skipf("no %s: %v", args[0], err)
		}
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%q: %v\n%s", args, err, out)
		}
	}
	c := coretest.MakeCore(t, exe, []string{"3", "2", "1"}, nil)
	p, err := dump.Open(c.Path, dump.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	vtable := c.Hex(t, "vtable_shapes::Circle")

	without, _, err := New(p, Options{DebugDirs: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if n := without.Describe(vtable); n.Kind != KindPointer {
		t.Errorf("stripped, no debug file: Describe(%#x) = %#v, want a pointer", vtable, n)
	}
	with, _, err := New(p, Options{DebugDirs: []string{filepath.Join(dir, "elsewhere"), debugDir}})
	if err != nil {
		t.Fatal(err)
	}
	n := with.Describe(vtable)
	if n.Kind != KindSymbol || n.String() != "vtable for shapes::Circle+16" || n.Section != ".data.rel.ro" || n.Module != exe {
		t.Errorf("with debug file: Describe(%#x) = %#v, want vtable for shapes::Circle+16", vtable, n)
	}
	if w := with.Warnings(); len(w) != 0 {
		t.Errorf("warnings: %q", w)
	}
}
