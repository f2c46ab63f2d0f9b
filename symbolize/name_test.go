package symbolize

import (
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/heapsift/heapsift/dump"
)

func TestClassifyValue(t *testing.T) {
	cases := []struct {
		v    uint64
		kind Kind
		text string // Name.Text
		str  string // Name.String()
	}{
		{0, KindZero, "", "0"},
		{1, KindSmall, "", "small 1"},
		{42, KindSmall, "", "small 42"},
		{65535, KindSmall, "", "small 65535"},
		{65536, KindOther, "", "other"},
		{^uint64(0), KindNegative, "", "-1"},
		{^uint64(41), KindNegative, "", "-42"},
		{uint64(1) << 63, KindOther, "", "other"}, // a huge "negative" is noise
		{0xffffffff00000000, KindNegative, "", "-4294967296"},
		{0xfffffffeffffffff, KindOther, "", "other"},
		{le("downstre"), KindASCII, "downstre", `ascii "downstre"`},
		{le("abcd\x00\x00\x00\x00"), KindASCII, "abcd", `ascii "abcd"`},
		{le("a \"q\"~\x00\x00"), KindASCII, `a "q"~`, `ascii "a \"q\"~"`},
		{le("abc\x00\x00\x00\x00\x00"), KindOther, "", "other"},          // too short
		{le("abcd\x00ef\x00"), KindOther, "", "other"},                   // text after a NUL
		{le("abcdefg\x01"), KindOther, "", "other"},                      // unprintable byte
		{le("abcd\nefg"), KindOther, "", "other"},                        // newline is not printable
		{le("\x00abcdefg"), KindOther, "", "other"},                      // leading NUL
		{le("       \x7f"), KindOther, "", "other"},                      // DEL
		{0x00007f01104e0c70, KindOther, "", "other"},                     // a pointer, but no process
		{le("\xff\xff\xff\xff\xff\xff\xff\xfe"), KindOther, "", "other"}, // < -2^32
	}
	for _, c := range cases {
		n := classifyValue(c.v)
		if n.Value != c.v || n.Kind != c.kind || n.Text != c.text || n.String() != c.str {
			t.Errorf("classifyValue(%#x) = %#v (%q), want kind %s text %q string %q", c.v, n, n.String(), c.kind, c.text, c.str)
		}
		if got := n.GDB(); got != fmt.Sprintf("No symbol matches %#x.", c.v) {
			t.Errorf("classifyValue(%#x).GDB() = %q", c.v, got)
		}
	}
}

// le packs 8 bytes of text into a word, little-endian.
func le(s string) uint64 {
	if len(s) != 8 {
		panic("le needs 8 bytes: " + s)
	}
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(s[i])
	}
	return v
}

func TestNameStrings(t *testing.T) {
	lib := "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0"
	cases := []struct {
		n        Name
		str, gdb string
	}{
		{Name{Value: 0x7f01104e0c70, Kind: KindSymbol, Symbol: "PyTuple_Type", Module: lib, Section: ".data"},
			"PyTuple_Type", "PyTuple_Type in section .data of " + lib},
		{Name{Value: 0x55d0c0de3d50, Kind: KindSymbol, Symbol: "vtable for Button", Mangled: "_ZTV6Button", Offset: 16, Module: "/tmp/widgets", Section: ".data.rel.ro"},
			"vtable for Button+16", "vtable for Button + 16 in section .data.rel.ro of /tmp/widgets"},
		{Name{Value: 0x401000, Kind: KindSymbol, Symbol: "main.main"},
			"main.main", "main.main"},
		{Name{Value: 0xc000010000, Kind: KindPointer, Mapping: "[heap]", Offset: 0x10000},
			"→ [heap]", "No symbol matches 0xc000010000."},
		{Name{Value: 0x7ffc1000, Kind: KindPointer, Mapping: "[stack tid 7]"},
			"→ [stack tid 7]", "No symbol matches 0x7ffc1000."},
		{Name{Value: 0x7f0000001000, Kind: KindPointer},
			"→ [anon]", "No symbol matches 0x7f0000001000."},
		{Name{Value: 0x7f0000001234, Kind: KindPointer, Mapping: lib, Module: lib, Offset: 0x1d8234},
			"→ libpython3.11.so.1.0+0x1d8234", "No symbol matches 0x7f0000001234."},
		{Name{Value: 0x7f0000001234, Kind: KindPointer, Module: lib, Section: ".bss"},
			"→ libpython3.11.so.1.0 .bss", "No symbol matches 0x7f0000001234."},
	}
	for _, c := range cases {
		if got := c.n.String(); got != c.str {
			t.Errorf("%#v.String() = %q, want %q", c.n, got, c.str)
		}
		if got := c.n.GDB(); got != c.gdb {
			t.Errorf("%#v.GDB() = %q, want %q", c.n, got, c.gdb)
		}
	}
}

// TestDescribeRaw describes words against a raw dump: one anonymous
// mapping and no modules.
func TestDescribeRaw(t *testing.T) {
	path := filepath.Join(t.TempDir(), "raw")
	if err := os.WriteFile(path, make([]byte, 8192), 0o644); err != nil {
		t.Fatal(err)
	}
	const base = 0x10000000
	p, err := dump.Open(path, dump.Options{Raw: true, Base: base})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s, warnings, err := New(p, Options{})
	if err != nil || len(warnings) != 0 {
		t.Fatalf("New = %v, %q", err, warnings)
	}
	cases := []struct {
		v    uint64
		want Name
	}{
		{base, Name{Value: base, Kind: KindPointer}},
		{base + 0x1ff8, Name{Value: base + 0x1ff8, Kind: KindPointer, Offset: 0x1ff8}},
		{base + 0x2000, Name{Value: base + 0x2000, Kind: KindOther}},
		{0, Name{Kind: KindZero}},
		{7, Name{Value: 7, Kind: KindSmall}},
		{le("gettimeo"), Name{Value: le("gettimeo"), Kind: KindASCII, Text: "gettimeo"}},
	}
	for _, c := range cases {
		if got := s.Describe(c.v); got != c.want {
			t.Errorf("Describe(%#x) = %#v, want %#v", c.v, got, c.want)
		}
		if _, ok := s.Symbol(c.v); ok {
			t.Errorf("Symbol(%#x) found a symbol in a raw dump", c.v)
		}
	}
	if n := s.Describe(base + 8); n.String() != "→ [anon]" {
		t.Errorf("Describe(base+8).String() = %q, want → [anon]", n.String())
	}
}

// TestBuildTable checks the symbol ranges on a synthetic table: sized
// symbols, size-0 labels up to the next symbol or their section's end,
// nesting, and the choice among aliases.
func TestBuildTable(t *testing.T) {
	text := section{start: 0x1000, end: 0x2000, name: ".text", index: 1}
	data := section{start: 0x3000, end: 0x3100, name: ".data", index: 2}
	fn := func(name string, v, size uint64, typ elf.SymType, bind elf.SymBind) candidate {
		sec := text
		if v >= 0x3000 {
			sec = data
		}
		return candidate{name: name, value: v, size: size, sec: sec, typ: typ, bind: bind}
	}
	cands := []candidate{
		fn("outer", 0x1000, 0x100, elf.STT_FUNC, elf.STB_GLOBAL),
		fn("inner_label", 0x1040, 0, elf.STT_NOTYPE, elf.STB_LOCAL),
		fn("next", 0x1080, 0x10, elf.STT_FUNC, elf.STB_GLOBAL),
		fn("__libc_malloc", 0x1200, 0x20, elf.STT_FUNC, elf.STB_GLOBAL),
		fn("malloc", 0x1200, 0x20, elf.STT_FUNC, elf.STB_GLOBAL),
		fn("malloc_local", 0x1200, 0x20, elf.STT_FUNC, elf.STB_LOCAL),
		fn("malloc_marker", 0x1200, 0, elf.STT_NOTYPE, elf.STB_GLOBAL),
		fn("last_label", 0x1f00, 0, elf.STT_NOTYPE, elf.STB_GLOBAL),
		fn("table", 0x3000, 0x40, elf.STT_OBJECT, elf.STB_GLOBAL),
		fn("_edata", 0x3100, 0, elf.STT_NOTYPE, elf.STB_GLOBAL),
	}
	syms := buildTable(cands, 0x4000)
	cases := []struct {
		addr uint64
		want string // "" for no symbol
	}{
		{0xfff, ""},
		{0x1000, "outer"},
		{0x103f, "outer"},
		{0x1040, "inner_label"},
		{0x107f, "inner_label"},
		{0x1080, "next"},
		{0x108f, "next"},
		{0x1090, "outer"}, // back in outer after the nested symbols
		{0x10ff, "outer"},
		{0x1100, ""},
		{0x1210, "malloc"},
		{0x1220, ""},
		{0x1f00, "last_label"},
		{0x1fff, "last_label"}, // to the end of .text
		{0x2000, ""},
		{0x3020, "table"},
		{0x3040, ""},
		{0x3100, ""}, // _edata marks the end of .data and names nothing
	}
	for _, c := range cases {
		got := ""
		if i := lookup(syms, c.addr); i >= 0 {
			got = syms[i].name
		}
		if got != c.want {
			t.Errorf("lookup(%#x) = %q, want %q", c.addr, got, c.want)
		}
	}
}

func TestWanted(t *testing.T) {
	sym := func(name string, typ elf.SymType, sec elf.SectionIndex) elf.Symbol {
		return elf.Symbol{Name: name, Info: elf.ST_INFO(elf.STB_GLOBAL, typ), Section: sec, Value: 0x1000}
	}
	cases := []struct {
		s    elf.Symbol
		want bool
	}{
		{sym("f", elf.STT_FUNC, 3), true},
		{sym("o", elf.STT_OBJECT, 3), true},
		{sym("l", elf.STT_NOTYPE, 3), true},
		{sym("i", elf.STT_GNU_IFUNC, 3), true},
		{sym("t", elf.STT_TLS, 3), false},
		{sym(".text", elf.STT_SECTION, 3), false},
		{sym("crt1.o", elf.STT_FILE, elf.SHN_ABS), false},
		{sym("printf", elf.STT_FUNC, elf.SHN_UNDEF), false},
		{sym("abs", elf.STT_OBJECT, elf.SHN_ABS), false},
		{sym("", elf.STT_FUNC, 3), false},
		{sym("$x", elf.STT_NOTYPE, 3), false},
		{sym("$d.12", elf.STT_NOTYPE, 3), false},
		{sym("$xyz", elf.STT_NOTYPE, 3), true},
	}
	for _, c := range cases {
		if got := wanted(c.s); got != c.want {
			t.Errorf("wanted(%q type %v section %v) = %v, want %v", c.s.Name, elf.ST_TYPE(c.s.Info), c.s.Section, got, c.want)
		}
	}
}
