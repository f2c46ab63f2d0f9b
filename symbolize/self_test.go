package symbolize

import (
	"bufio"
	"debug/elf"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/heapsift/heapsift/dump"
)

// These tests name addresses of the running test binary (a Go executable)
// through its own ELF file, checking the names against the runtime's.

type selfTestType struct{ n int }

//go:noinline
func (s *selfTestType) method() int { return s.n + 1 }

//go:noinline
func selfTestFunc(a, b int) int { return a*b + 7 }

// selfModule opens the test binary as the module mapped into this process.
func selfModule(t *testing.T) *module {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Skipf("no executable: %v", err)
	}
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Skipf("reading %s: %v", exe, err)
	}
	base := selfBase(t, exe)
	mods := &dump.Module{Path: exe, Start: dump.Address(base), End: dump.Address(base) + 1,
		Mappings: []*dump.Mapping{{Start: dump.Address(base), End: dump.Address(base) + 4096, File: exe}}}
	mod, err := openModule(mods, data, nil)
	if err != nil {
		t.Fatalf("opening %s: %v", exe, err)
	}
	return mod
}

// selfBase finds where the test binary's file offset 0 is mapped, from
// /proc/self/maps.
func selfBase(t *testing.T, exe string) uint64 {
	t.Helper()
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		t.Skipf("no /proc/self/maps: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[5] != exe || fields[2] != "00000000" {
			continue
		}
		lo, _, _ := strings.Cut(fields[0], "-")
		base, err := strconv.ParseUint(lo, 16, 64)
		if err != nil {
			t.Fatalf("bad maps line %q", sc.Text())
		}
		return base
	}
	t.Skipf("%s is not in /proc/self/maps", exe)
	return 0
}

func selfSymbolizer(t *testing.T) *Symbolizer {
	return &Symbolizer{mods: []*module{selfModule(t)}}
}

func funcAddr(f any) uint64 { return uint64(reflect.ValueOf(f).Pointer()) }

func TestSelfFunctions(t *testing.T) {
	s := selfSymbolizer(t)
	if s.mods[0].syms != nil || s.mods[0].file == nil {
		t.Fatalf("symbols loaded before the first lookup")
	}
	for _, pc := range []uint64{
		funcAddr(selfTestFunc),
		funcAddr((*selfTestType).method),
		funcAddr(fmt.Sprintf),
		funcAddr(strconv.Itoa),
		funcAddr(TestSelfFunctions),
	} {
		want := runtime.FuncForPC(uintptr(pc)).Name()
		for _, off := range []uint64{0, 1, 5} {
			n, ok := s.Symbol(pc + off)
			if !ok {
				t.Errorf("Symbol(%#x) (%s+%d) found nothing", pc+off, want, off)
				continue
			}
			if n.Symbol != want || n.Offset != off || n.Section != ".text" || n.Kind != KindSymbol || n.Mangled != "" {
				t.Errorf("Symbol(%#x) = %#v, want %s+%d in .text", pc+off, n, want, off)
			}
		}
	}
	if s.mods[0].syms == nil || s.mods[0].file != nil {
		t.Errorf("symbols not loaded (or file kept) after lookups")
	}
}

func TestSelfPclntab(t *testing.T) {
	mod := selfModule(t)
	funcs, err := goFunctions(mod.file)
	if err != nil {
		t.Fatal(err)
	}
	if len(funcs) < 1000 {
		t.Fatalf("only %d functions in .gopclntab", len(funcs))
	}
	syms := buildTable(funcs, mod.vaddrEnd)
	for _, pc := range []uint64{funcAddr(selfTestFunc), funcAddr((*selfTestType).method), funcAddr(fmt.Sprintf)} {
		want := runtime.FuncForPC(uintptr(pc)).Name()
		i := lookup(syms, pc+3-mod.bias)
		if i < 0 || syms[i].name != want || syms[i].start != pc-mod.bias {
			got := "nothing"
			if i >= 0 {
				got = fmt.Sprintf("%s at %#x", syms[i].name, syms[i].start)
			}
			t.Errorf("pclntab lookup of %s+3 found %s", want, got)
		}
	}
}

func TestSelfLoadBias(t *testing.T) {
	mod := selfModule(t)
	f, err := elf.Open(mustExecutable(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Type == elf.ET_EXEC && mod.bias != 0 {
		t.Errorf("ET_EXEC test binary got load bias %#x", mod.bias)
	}
	pc := funcAddr(selfTestFunc)
	if !mod.contains(pc) {
		t.Errorf("module %#x-%#x does not contain %#x", mod.start, mod.end, pc)
	}
}

func mustExecutable(t *testing.T) string {
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	return exe
}

// TestSelfConcurrent looks up symbols from several goroutines at once, so
// that go test -race checks the lazy loading.
func TestSelfConcurrent(t *testing.T) {
	s := selfSymbolizer(t)
	pc := funcAddr(selfTestFunc)
	want := runtime.FuncForPC(uintptr(pc)).Name()
	errs := make(chan string, 8)
	for range 8 {
		go func() {
			n, ok := s.Symbol(pc)
			if !ok || n.Symbol != want {
				errs <- fmt.Sprintf("Symbol(%#x) = %#v, %v", pc, n, ok)
				return
			}
			errs <- ""
		}()
	}
	for range 8 {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
}
