package stack

import (
	"debug/dwarf"
	"debug/elf"
	"debug/gosym"
	"testing"

	"github.com/heapsift/heapsift/internal/coretest"
)

// exeModule builds the test program and describes its module from the
// ELF file alone: the .gopclntab section and the runtime.text and
// runtime.etext symbols.
func exeModule(t *testing.T, build coretest.GoBuild) (*elf.File, *Module) {
	t.Helper()
	exe := coretest.BuildGo(t, coretest.Testdata(t, "stack", "goroutines"), build)
	ef, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ef.Close() })
	sec := ef.Section(".gopclntab")
	if sec == nil {
		t.Fatal("no .gopclntab")
	}
	data, err := sec.Data()
	if err != nil {
		t.Fatal(err)
	}
	syms, err := ef.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	mod := &Module{PCLNTab: data}
	for _, s := range syms {
		switch s.Name {
		case "runtime.text":
			mod.Text = s.Value
		case "runtime.etext":
			mod.EText = s.Value
		}
	}
	if mod.Text == 0 || mod.EText <= mod.Text {
		t.Fatalf("runtime.text %#x, runtime.etext %#x", mod.Text, mod.EText)
	}
	return ef, mod
}

// TestTableAgainstGosym compares the function table, and file and line
// for a few PCs of every function, with the standard library's
// debug/gosym reading the same pclntab, for each toolchain and for arm64
// (pc quantum 4).
func TestTableAgainstGosym(t *testing.T) {
	builds := []coretest.GoBuild{
		{Env: []string{"GOARCH=arm64"}},
		{Toolchain: "go1.22.12", Env: []string{"GOARCH=arm64"}},
	}
	for _, tc := range toolchains {
		builds = append(builds, coretest.GoBuild{Toolchain: tc})
	}
	for _, b := range builds {
		t.Run(b.String(), func(t *testing.T) {
			_, mod := exeModule(t, b)
			tab, err := mod.Table(nil)
			if err != nil {
				t.Fatal(err)
			}
			st, err := gosym.NewTable(nil, gosym.NewLineTable(mod.PCLNTab, mod.Text))
			if err != nil {
				t.Fatal(err)
			}
			if tab.NumFuncs() != len(st.Funcs) {
				t.Fatalf("%d functions, gosym has %d", tab.NumFuncs(), len(st.Funcs))
			}
			for i, want := range st.Funcs {
				f, err := tab.FuncAt(i)
				if err != nil {
					t.Fatal(err)
				}
				if f.Entry != want.Entry || f.End != want.End || f.Name != want.Name {
					t.Fatalf("function %d: %s [%#x,%#x), gosym says %s [%#x,%#x)", i, f.Name, f.Entry, f.End, want.Name, want.Entry, want.End)
				}
				for _, pc := range []uint64{f.Entry, (f.Entry + f.End) / 2, f.End - 1} {
					g, ok := tab.FuncForPC(pc)
					if !ok || g.Index != i {
						t.Fatalf("FuncForPC(%#x) = %d %s, %v; want %d %s", pc, g.Index, g.Name, ok, i, f.Name)
					}
					file, line := tab.FileLine(&f, pc)
					wfile, wline, _ := st.PCToLine(pc)
					if wline <= 0 || f.PCLn == 0 {
						// A function without a line table (go:textfipsstart),
						// or padding after the code, which the tables do not
						// cover; gosym returns garbage there.
						if line != 0 {
							t.Errorf("%s at %#x: %s:%d in padding", f.Name, pc, file, line)
						}
						continue
					}
					if file != wfile || line != wline {
						t.Errorf("%s at %#x: %s:%d, gosym says %s:%d", f.Name, pc, file, line, wfile, wline)
					}
				}
			}
			for _, pc := range []uint64{mod.Text - 1, mod.EText, 0, ^uint64(0)} {
				if f, ok := tab.FuncForPC(pc); ok {
					t.Errorf("FuncForPC(%#x) = %s, want none", pc, f.Name)
				}
			}
		})
	}
}

// TestRecordLayoutsMatchDWARF checks the pclntab layouts this package
// takes as fixed by the magic number against runtime._func and
// runtime.pcHeader as each toolchain's DWARF describes them.
func TestRecordLayoutsMatchDWARF(t *testing.T) {
	wantFunc := map[string]uint64{"entryOff": 0, "nameOff": 4, "args": 8, "deferreturn": 12, "pcsp": 16,
		"pcfile": 20, "pcln": 24, "npcdata": 28, "cuOffset": 32, "startLine": 36, "funcID": 40, "flag": 41, "nfuncdata": 43, "": funcSize}
	wantHeader := map[string]uint64{"magic": 0, "minLC": 6, "ptrSize": 7, "nfunc": 8, "nfiles": 16,
		"funcnameOffset": 32, "cuOffset": 40, "filetabOffset": 48, "pctabOffset": 56, "pclnOffset": 64, "": pcHeaderSize}
	for _, tc := range toolchains {
		t.Run(coretest.GoBuild{Toolchain: tc}.String(), func(t *testing.T) {
			ef, _ := exeModule(t, coretest.GoBuild{Toolchain: tc})
			d, err := ef.DWARF()
			if err != nil {
				t.Fatal(err)
			}
			ents, err := findNamed(d, map[string]dwarf.Tag{"runtime._func": dwarf.TagStructType, "runtime.pcHeader": dwarf.TagStructType})
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range map[string]map[string]uint64{"runtime._func": wantFunc, "runtime.pcHeader": wantHeader} {
				got := mustFields(t, d, ents, name)
				for f, off := range want {
					if g, ok := got[f]; !ok || g != off {
						t.Errorf("%s.%s at %d (present %v), want %d", name, f, g, ok, off)
					}
				}
			}
		})
	}
}

func BenchmarkFuncForPC(b *testing.B) {
	exe := coretest.BuildGo(b, coretest.Testdata(b, "stack", "goroutines"), coretest.GoBuild{})
	ef, err := elf.Open(exe)
	if err != nil {
		b.Fatal(err)
	}
	defer ef.Close()
	data, err := ef.Section(".gopclntab").Data()
	if err != nil {
		b.Fatal(err)
	}
	text := ef.Section(".text")
	mod := &Module{PCLNTab: data, Text: text.Addr, EText: text.Addr + text.Size}
	tab, err := mod.Table(nil)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		pc := text.Addr + uint64(i*7919)%text.Size
		f, ok := tab.FuncForPC(pc)
		if ok {
			tab.SPDelta(&f, pc)
		}
	}
}
