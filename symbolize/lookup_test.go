package symbolize

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/heapsift/heapsift/internal/coretest"
)

// TestAddresses looks up the vtable pointers the C++ program printed by
// what they mean (module, mangled symbol, offset) and gets them back.
func TestAddresses(t *testing.T) {
	exe := coretest.BuildCXX(t, coretest.Testdata(t, "cpp", "widgets.cpp"))
	c := coretest.MakeCore(t, exe, []string{"30", "20", "10"}, nil)
	s := openCore(t, c)
	var refs []SymbolRef
	var want []uint64
	for _, class := range []string{"Button", "shapes::Circle", "Box<int>"} {
		v := c.Hex(t, "vtable_"+class)
		n := s.Describe(v)
		ref := RefOf(n)
		if n.Kind != KindSymbol || ref.Module != filepath.Base(exe) || ref.Symbol != n.Mangled || ref.Offset != 16 {
			t.Fatalf("vtable of %s: RefOf(%#v) = %+v", class, n, ref)
		}
		refs, want = append(refs, ref), append(want, v)
		if got, ok := s.Address(ref.Module, ref.Symbol, ref.Offset); !ok || got != v {
			t.Errorf("Address(%+v) = %#x, %v; want %#x", ref, got, ok, v)
		}
	}
	got := s.Addresses(refs)
	for i := range refs {
		if !slices.Equal(got[i], []uint64{want[i]}) {
			t.Errorf("Addresses(%+v) = %#x, want [%#x]", refs[i], got[i], want[i])
		}
	}
	// Names that Symbol would never give map to no address.
	button := refs[0]
	for _, ref := range []SymbolRef{
		{Module: "no-such-module.so", Symbol: button.Symbol, Offset: button.Offset},
		{Module: button.Module, Symbol: "vtable for Button", Offset: button.Offset}, // demangled: not the file's spelling
		{Module: button.Module, Symbol: "_ZTV9NoSuchCls", Offset: 0},
		{Module: button.Module, Symbol: button.Symbol, Offset: 1 << 20}, // far past the symbol's end
	} {
		if a := s.Addresses([]SymbolRef{ref})[0]; len(a) != 0 {
			t.Errorf("Addresses(%+v) = %#x, want none", ref, a)
		}
		if _, ok := s.Address(ref.Module, ref.Symbol, ref.Offset); ok {
			t.Errorf("Address(%+v) found an address", ref)
		}
	}
}
