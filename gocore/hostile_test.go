package gocore

import (
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"github.com/heapsift/heapsift/gocore/rtread"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/internal/coretest"
	"github.com/heapsift/heapsift/internal/mutate"
	"github.com/heapsift/heapsift/warn"
)

// Regression tests for hostile cores (issue 14): one field of one mspan
// of a real core damaged, in a copy made at test time.

// TestDamagedSpan: an mspan whose element count does not fit its pages,
// whose page count is absurd, or whose allocation bitmap is unmapped is
// left out (or taken as empty) with a warning naming it, and the rest of
// the heap is read exactly: every other span's objects, no more.
func TestDamagedSpan(t *testing.T) {
	prog, c := openCore(t, "heap", coretest.GoBuild{})
	data, err := os.ReadFile(c.Path)
	if err != nil {
		t.Fatal(err)
	}
	// A small-object span with objects, its mspan in the core.
	si := -1
	for i, s := range prog.heap.spans {
		if s.class != 0 && s.nelems > 8 && s.freeIndex > 0 && mutate.ReadAt(data, uint64(s.addr), make([]byte, prog.spanL.Size)) {
			si = i
			break
		}
	}
	if si < 0 {
		t.Fatal("no small-object span with objects in the core")
	}
	s := prog.heap.spans[si]
	inSpan := int(s.nobj)
	l := prog.spanL
	for _, tc := range []struct {
		name string
		set  map[int64]uint64 // field offset -> value
		want string
	}{
		{"nelems", map[int64]uint64{l.NElems.Off: 1<<(8*l.NElems.Size) - 1}, "elements of"},
		{"npages", map[int64]uint64{l.NPages.Off: 1 << 40}, "bad npages"},
		{"allocBits", map[int64]uint64{l.AllocBits.Off: 0x10, l.FreeIndex.Off: 0}, "reading allocBits"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := append([]byte(nil), data...)
			for off, v := range tc.set {
				size := l.NElems.Size
				switch off {
				case l.NPages.Off:
					size = l.NPages.Size
				case l.AllocBits.Off:
					size = l.AllocBits.Size
				case l.FreeIndex.Off:
					size = l.FreeIndex.Size
				}
				b := binary.LittleEndian.AppendUint64(nil, v)[:size]
				if !mutate.WriteAt(bad, uint64(s.addr)+uint64(off), b) {
					t.Fatal("the mspan is not in the core")
				}
			}
			got, warns := openDamaged(t, bad, c.Exe)
			if len(warn.Matching(warns, tc.want)) == 0 {
				t.Errorf("no warning %q about the span at %#x in %q", tc.want, uint64(s.addr), warn.Messages(warns))
			}
			if n, want := got.NumObjects(), prog.NumObjects()-inSpan; n != want {
				t.Errorf("%d objects, want %d: all but the %d of the damaged span", n, want, inSpan)
			}
		})
	}
}

// openDamaged writes data as a core and opens its Go heap.
func openDamaged(t *testing.T, data []byte, exe string) (*Program, []warn.Warning) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "core")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := dump.Open(path, dump.Options{Exe: exe})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	prog, warns, err := Open(p)
	if err != nil {
		t.Fatalf("gocore.Open: %v", err)
	}
	return prog, warns
}

// TestHugePointerMask: a type descriptor claiming 8 GiB of pointer data
// (its size as large) in a copy of the executable, more than the core
// maps, is not unpacked into a pointer mask of its claimed size (128 MiB):
// opening the heap allocates about what opening the intact one does.
func TestHugePointerMask(t *testing.T) {
	_, c := openCore(t, "heap", coretest.GoBuild{})
	exe, err := os.ReadFile(c.Exe)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(c.Exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	off := descriptorOffset(t, f, "main.Medium")
	dw, err := f.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	ix, err := rtread.NewIndex(dw)
	if err != nil {
		t.Fatal(err)
	}
	typ, err := ix.TypeNamed("internal/abi.Type")
	if err != nil {
		t.Skip("no internal/abi.Type in this toolchain's DWARF:", err)
	}
	medium, err := ix.TypeNamed("main.Medium")
	if err != nil {
		t.Fatal(err)
	}
	st, ok := typ.(*dwarf.StructType)
	if !ok {
		t.Fatalf("internal/abi.Type is a %T", typ)
	}
	for _, fld := range st.Field {
		if fld.Name == "Size_" || fld.Name == "PtrBytes" {
			if got := binary.LittleEndian.Uint64(exe[off+uint64(fld.ByteOffset):]); fld.Name == "Size_" && int64(got) != medium.Size() {
				t.Fatalf("main.Medium's descriptor says size %d, its DWARF %d", got, medium.Size())
			}
			binary.LittleEndian.PutUint64(exe[off+uint64(fld.ByteOffset):], 1<<33)
		}
	}
	patched := filepath.Join(t.TempDir(), "exe")
	if err := os.WriteFile(patched, exe, 0o700); err != nil {
		t.Fatal(err)
	}
	alloc := func(exe string) uint64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		p, err := dump.Open(c.Path, dump.Options{Exe: exe})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if _, _, err := Open(p); err != nil {
			t.Fatalf("gocore.Open with %s: %v", exe, err)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	intact, damaged := alloc(c.Exe), alloc(patched)
	if damaged > intact+32<<20 {
		t.Errorf("opening with the damaged descriptor allocated %d MiB, the intact one %d MiB", damaged>>20, intact>>20)
	}
}

// descriptorOffset returns the file offset in f of the runtime type
// descriptor of the Go type name, which its DWARF entry gives
// (DW_AT_go_runtime_type: an offset from runtime.types in recent
// toolchains, an address in older ones).
func descriptorOffset(t *testing.T, f *elf.File, name string) uint64 {
	t.Helper()
	dw, err := f.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	var types uint64
	if syms, err := f.Symbols(); err == nil {
		for _, s := range syms {
			if s.Name == "runtime.types" {
				types = s.Value
			}
		}
	}
	inSection := func(addr uint64) (uint64, bool) {
		for _, sec := range f.Sections {
			if sec.Type != elf.SHT_NOBITS && sec.Addr != 0 && addr >= sec.Addr && addr < sec.Addr+sec.Size {
				return addr - sec.Addr + sec.Offset, true
			}
		}
		return 0, false
	}
	const atGoRuntimeType = dwarf.Attr(0x2904)
	r := dw.Reader()
	for {
		e, err := r.Next()
		if err != nil || e == nil {
			break
		}
		v, ok := e.Val(atGoRuntimeType).(uint64)
		if !ok || e.Val(dwarf.AttrName) != name {
			continue
		}
		if off, ok := inSection(types + v); ok && types != 0 && v < types {
			return off
		}
		if off, ok := inSection(v); ok {
			return off
		}
	}
	t.Fatalf("no runtime type descriptor of %s in the executable", name)
	return 0
}
