package symbolize

import (
	"fmt"
	"path/filepath"
	"strconv"
)

// Kind says what sort of thing a word is.
type Kind string

// The kinds of word Describe tells apart, in the order it tries them.
const (
	KindZero     Kind = "zero"     // 0
	KindSymbol   Kind = "symbol"   // an address inside a symbol of a mapped ELF file
	KindPointer  Kind = "pointer"  // an address inside a mapping, but no symbol
	KindNegative Kind = "negative" // -1 … -2^32 as a signed integer
	KindSmall    Kind = "small"    // 1 … smallLimit-1
	KindASCII    Kind = "ascii"    // printable text, little-endian
	KindOther    Kind = "other"    // none of the above
)

// Limits of the integer kinds. A word with its top bit set is only called
// negative when its magnitude fits in 32 bits: larger "negative" numbers are
// mostly hashes and random bits, and naming them as numbers would mislead.
const (
	smallLimit  = 1 << 16
	negativeMin = -(1 << 32)
	minASCII    = 4 // fewest printable characters for KindASCII
)

// Name is what Describe knows about one word.
type Name struct {
	Value uint64
	Kind  Kind
	// Symbol is the symbol's name, demangled unless Options.NoDemangle
	// (KindSymbol); Mangled is the name as the ELF file spells it, set
	// only when it differs from Symbol.
	Symbol  string
	Mangled string
	// Offset is Value minus the symbol's start for KindSymbol. For
	// KindPointer it is the offset in the mapped file for a file
	// mapping, and Value minus the mapping's start otherwise (minus the
	// module's start when the core lacks the mapping).
	Offset uint64
	// Module is the path, as the core records it, of the ELF file the
	// word points into (KindSymbol, and KindPointer into a module).
	Module string
	// Section is the name of the ELF section holding Value (".data",
	// ".text", ".bss"…), when the module's section headers say.
	Section string
	// Mapping is the name of the mapping Value points into (KindPointer):
	// "[heap]", "[stack]", "[stack tid N]", a file path, or "" for
	// anonymous memory.
	Mapping string
	// Text is the decoded text for KindASCII.
	Text string
}

// String is the short form used in tables: "PyTuple_Type", "vtable for
// Button+16", "→ [heap]", "→ libc.so.6+0x1d8000", `ascii "downstre"`, "-1",
// "small 42", "0", "other".
func (n Name) String() string {
	switch n.Kind {
	case KindSymbol:
		if n.Offset == 0 {
			return n.Symbol
		}
		return fmt.Sprintf("%s+%d", n.Symbol, n.Offset)
	case KindPointer:
		return "→ " + n.where()
	case KindZero:
		return "0"
	case KindNegative:
		return strconv.FormatInt(int64(n.Value), 10)
	case KindSmall:
		return "small " + strconv.FormatUint(n.Value, 10)
	case KindASCII:
		return "ascii " + strconv.Quote(n.Text)
	}
	return string(KindOther)
}

// where names the place a pointer points to.
func (n Name) where() string {
	switch {
	case n.Mapping != "" && n.Mapping[0] == '[':
		return n.Mapping
	case n.Mapping != "":
		return fmt.Sprintf("%s+%#x", filepath.Base(n.Mapping), n.Offset)
	case n.Module != "" && n.Section != "":
		// Anonymous memory inside a module's segments: its .bss.
		return filepath.Base(n.Module) + " " + n.Section
	}
	return "[anon]"
}

// GDB is the long form, worded like gdb's `info symbol`: "PyTuple_Type in
// section .data of /usr/lib/libpython3.11.so.1.0", "vtable for Button + 16
// in section .data.rel.ro of /tmp/widgets", or "No symbol matches 0x2a.".
func (n Name) GDB() string {
	if n.Kind != KindSymbol {
		return fmt.Sprintf("No symbol matches %#x.", n.Value)
	}
	s := n.Symbol
	if n.Offset != 0 {
		s += fmt.Sprintf(" + %d", n.Offset)
	}
	if n.Section != "" {
		s += " in section " + n.Section
	}
	if n.Module != "" {
		s += " of " + n.Module
	}
	return s
}

// classifyValue names a word that points nowhere: zero, a negative or
// small integer, ASCII text, or other.
func classifyValue(v uint64) Name {
	n := Name{Value: v, Kind: KindOther}
	switch {
	case v == 0:
		n.Kind = KindZero
	case int64(v) < 0 && int64(v) >= negativeMin:
		n.Kind = KindNegative
	case v < smallLimit:
		n.Kind = KindSmall
	default:
		if text, ok := asciiText(v); ok {
			n.Kind, n.Text = KindASCII, text
		}
	}
	return n
}

// asciiText decodes v as little-endian text: all eight bytes printable, or
// at least minASCII printable bytes followed only by NULs.
func asciiText(v uint64) (string, bool) { return asciiTextMin(v, minASCII) }
