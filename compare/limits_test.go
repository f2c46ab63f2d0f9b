package compare

import (
	"math"
	"strings"
	"testing"
)

func TestParseLimit(t *testing.T) {
	good := []struct {
		spec, scope, name, unit string
		value                   float64
	}{
		{"10MiB", "total", "", "bytes", 10 << 20},
		{"512KB", "total", "", "bytes", 512000},
		{"total=1GiB", "total", "", "bytes", 1 << 30},
		{" each = 64 KiB ", "each", "", "bytes", 64 << 10},
		{"1_000KiB", "total", "", "bytes", 1000 << 10},
		{"5%", "total", "", "percent", 5},
		{"0%", "total", "", "percent", 0},
		{"each=2.5%", "each", "", "percent", 2.5},
		{"1000", "total", "", "count", 1000},
		{"1,000", "total", "", "count", 1000},
		{"each=0", "each", "", "count", 0},
		{"type:main.Order=1000", "type", "main.Order", "count", 1000},
		{"type:main.Order=5%", "type", "main.Order", "percent", 5},
		{"type:map[string]*main.Session=1KiB", "type", "map[string]*main.Session", "bytes", 1024},
		{`type:struct { X int "k=v" }=3`, "type", `struct { X int "k=v" }`, "count", 3},
		{"word:PyTuple_Type=20000", "word", "PyTuple_Type", "count", 20000},
		{"word:vtable for Button+16=50%", "word", "vtable for Button+16", "percent", 50},
	}
	for _, g := range good {
		l, err := ParseLimit(g.spec)
		if err != nil || l.Spec != g.spec || l.Scope != g.scope || l.Name != g.name || l.Unit != g.unit || l.Value != g.value {
			t.Errorf("ParseLimit(%q) = %+v, %v; want %s %q %v %s", g.spec, l, err, g.scope, g.name, g.value, g.unit)
		}
	}
	bad := []struct{ spec, err string }{
		{"", `bad limit ""`},
		{"abc", `bad limit "abc"`},
		{"=5", `unknown scope ""`},
		{"total=", `bad limit ""`},
		{"foo=3", `unknown scope "foo"`},
		{"type:=3", `unknown scope "type:"`},
		{"type=3", `unknown scope "type"`},
		{"word=3", `unknown scope "word"`},
		{"each:x=3", `unknown scope "each:x"`},
		{"-5%", `bad limit "-5%"`},
		{"5%%", `bad limit "5%%"`},
		{"nan%", `bad limit "nan%"`},
		{"inf%", `bad limit "inf%"`},
		{"-1000", `bad limit "-1000"`},
		{"99999999999999999999", `bad limit "99999999999999999999"`},
		{"10 apples", `bad limit "10 apples"`},
	}
	for _, b := range bad {
		if l, err := ParseLimit(b.spec); err == nil || err.Error() != b.err {
			t.Errorf("ParseLimit(%q) = %+v, %v; want error %q", b.spec, l, err, b.err)
		}
	}
}

func TestParseLimits(t *testing.T) {
	ls, err := ParseLimits([]string{"10MiB", "type:main.Order=1000"})
	if err != nil || len(ls) != 2 || ls[0].Unit != "bytes" || ls[1].Name != "main.Order" {
		t.Errorf("ParseLimits = %+v, %v", ls, err)
	}
	_, err = ParseLimits([]string{"5%", "lots"})
	want := `"lots": bad limit "lots" (want [total=|each=|type:NAME=|word:NAME=]LIMIT, LIMIT like 10MiB, 5% or 1000)`
	if err == nil || err.Error() != want {
		t.Errorf("ParseLimits error %v, want %s", err, want)
	}
}

// typeGrowth: main.Order doubles (1,000 → 2,000 objects, 48 KB → 96 KB),
// main.Session is new, main.Customer stays, the total is their sum.
func typeGrowth() Growth {
	return DiffTypes(
		[]Tally{{"main.Order", 1000, 48000}, {"main.Customer", 50, 3200}},
		[]Tally{{"main.Order", 2000, 96000}, {"main.Customer", 50, 3200}, {"main.Session", 10, 4800}},
	).Growth()
}

// wordGrowth: 1,000 → 1,500 words (8,000 → 12,000 bytes); PyTuple_Type
// in two rows (+100 and +50 at offsets 0 and 8), a module pointer (+30),
// the value 7 (+400, by value, so no each: candidate), PyFloat_Type new.
func wordGrowth() Growth {
	sym := func(name string, off uint64, old, new uint64) WordDelta {
		d := WordDelta{Key: WordKey{Kind: KeySymbol, Module: "libpython3.11.so", Symbol: name, Offset: off}, OldCount: old, NewCount: new}
		d.Name.Kind, d.Name.Symbol, d.Name.Offset = "symbol", name, off
		return d
	}
	d := &WordDiff{OldWords: 1000, NewWords: 1500, OldBytes: 8000, NewBytes: 12000, Rows: []WordDelta{
		sym("PyTuple_Type", 0, 200, 300),
		sym("PyTuple_Type", 8, 10, 60),
		{Key: WordKey{Kind: KeyModule, Module: "libc.so.6", Offset: 0x1d8000}, OldCount: 100, NewCount: 130},
		{Key: WordKey{Kind: KeyValue, Value: 7}, OldCount: 100, NewCount: 500},
		sym("PyFloat_Type", 0, 0, 20),
	}}
	for i := range d.Rows {
		if d.Rows[i].Key.Kind == KeyValue {
			d.Rows[i].Name.Kind, d.Rows[i].Name.Value = "small", 7
		}
	}
	return d.Growth()
}

func TestCheck(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		spec     string
		words    bool
		what     string
		growth   float64 // inf: nil in the result
		exceeded bool
		detail   string
	}{
		// types: total and each in every unit
		{"total=50KB", false, "the live heap", 52800, true, "the live heap grew by 52 KiB (limit 49 KiB)"},
		{"1MiB", false, "the live heap", 52800, false, "the live heap grew by 52 KiB (limit 1.0 MiB)"},
		{"1000", false, "the live heap", 1010, true, "the live heap grew by 1,010 objects (limit 1,000 objects)"},
		{"100%", false, "the live heap", 100 * 52800.0 / 51200, true, "the live heap grew by 103.1% (limit 100%)"},
		{"each=1000", false, "main.Order", 1000, false, "main.Order grew by 1,000 objects (limit 1,000 objects)"},
		{"each=999", false, "main.Order", 1000, true, "main.Order grew by 1,000 objects (limit 999 objects)"},
		{"each=40KiB", false, "main.Order", 48000, true, "main.Order grew by 47 KiB (limit 40 KiB)"},
		{"each=500%", false, "main.Session", inf, true, "main.Session grew by ∞% (from nothing) (limit 500%)"},
		// type:NAME
		{"type:main.Order=2000", false, "main.Order", 1000, false, "main.Order grew by 1,000 objects (limit 2,000 objects)"},
		{"type:main.Order=99%", false, "main.Order", 100, true, "main.Order grew by 100% (limit 99%)"},
		{"type:main.Customer=0", false, "main.Customer", 0, false, "main.Customer grew by 0 objects (limit 0 objects)"},
		{"type:main.Customer=1B", false, "main.Customer", 0, false, "main.Customer grew by 0 B (limit 1 B)"},
		{"type:main.Missing=1", false, "", 0, false, "main.Missing is in neither dump"},
		// words: total in bytes, counts and percent
		{"4KB", true, "the memory in the core", 4000, false, "the memory in the core grew by 3.9 KiB (limit 3.9 KiB)"},
		{"total=1000", true, "the memory in the core", 500, false, "the memory in the core grew by 500 words (limit 1,000 words)"},
		{"total=49%", true, "the memory in the core", 50, true, "the memory in the core grew by 50% (limit 49%)"},
		// each: symbols and module pointers, not values
		{"each=100", true, "PyTuple_Type", 100, false, "PyTuple_Type grew by 100 occurrences (limit 100 occurrences)"},
		{"each=50", true, "PyTuple_Type", 100, true, "PyTuple_Type grew by 100 occurrences (limit 50 occurrences)"},
		{"each=400%", true, "PyFloat_Type", inf, true, "PyFloat_Type grew by ∞% (from nothing) (limit 400%)"},
		// word:NAME by symbol (rows summed) or by label
		{"word:PyTuple_Type=149", true, "PyTuple_Type", 150, true, "PyTuple_Type grew by 150 occurrences (limit 149 occurrences)"},
		{"word:PyTuple_Type+8=50", true, "PyTuple_Type+8", 50, false, "PyTuple_Type+8 grew by 50 occurrences (limit 50 occurrences)"},
		{"word:→ libc.so.6+0x1d8000=10%", true, "→ libc.so.6+0x1d8000", 30, true, "→ libc.so.6+0x1d8000 grew by 30% (limit 10%)"},
		{"word:small 7=300", true, "small 7", 400, true, "small 7 grew by 400 occurrences (limit 300 occurrences)"},
		{"word:PyFloat_Type=1%", true, "PyFloat_Type", inf, true, "PyFloat_Type grew by ∞% (from nothing) (limit 1%)"},
		{"word:PyList_Type=1", true, "", 0, false, "PyList_Type is not among the words compared"},
	}
	for _, tt := range tests {
		l, err := ParseLimit(tt.spec)
		if err != nil {
			t.Fatalf("ParseLimit(%q): %v", tt.spec, err)
		}
		g := typeGrowth()
		if tt.words {
			g = wordGrowth()
		}
		cs, err := Check([]Limit{l}, g)
		if err != nil || len(cs) != 1 {
			t.Errorf("Check(%q) = %+v, %v", tt.spec, cs, err)
			continue
		}
		c := cs[0]
		okGrowth := (math.IsInf(tt.growth, 1) && c.Growth == nil) || (c.Growth != nil && math.Abs(*c.Growth-tt.growth) < 1e-9)
		if !okGrowth || c.What != tt.what || c.Exceeded != tt.exceeded || c.Detail != tt.detail {
			t.Errorf("Check(%q) = what %q growth %v exceeded %v detail %q;\nwant what %q growth %v exceeded %v detail %q",
				tt.spec, c.What, fmtGrowth(c.Growth), c.Exceeded, c.Detail, tt.what, tt.growth, tt.exceeded, tt.detail)
		}
		if c.Limit != l.Spec || c.Scope != l.Scope || c.Name != l.Name || c.Unit != l.Unit || c.Max != l.Value {
			t.Errorf("Check(%q) = %+v, does not restate the limit %+v", tt.spec, c, l)
		}
	}
}

func fmtGrowth(g *float64) any {
	if g == nil {
		return "nil"
	}
	return *g
}

// TestCheckOrder: one result per limit, in the order given.
func TestCheckOrder(t *testing.T) {
	ls, err := ParseLimits([]string{"type:main.Order=100", "64KiB", "1GiB"})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := Check(ls, typeGrowth())
	if err != nil || len(cs) != 3 || !cs[0].Exceeded || cs[1].Exceeded || cs[2].Exceeded || cs[1].Limit != "64KiB" {
		t.Errorf("Check = %+v, %v; want 3 results, only the first exceeded", cs, err)
	}
	if cs, err := Check(nil, typeGrowth()); err != nil || len(cs) != 0 || cs == nil {
		t.Errorf("Check with no limits = %#v, %v; want an empty list", cs, err)
	}
}

func TestCheckMisapplied(t *testing.T) {
	tests := []struct {
		spec  string
		words bool
		err   string
	}{
		{"type:main.Order=1", true, `"type:main.Order=1": type: limits need two Go cores`},
		{"word:PyTuple_Type=1", false, `"word:PyTuple_Type=1": word: limits apply to word comparisons`},
		{"each=1MiB", true, `"each=1MiB": words have no size`},
		{"word:PyTuple_Type=1KiB", true, `"word:PyTuple_Type=1KiB": words have no size`},
	}
	for _, tt := range tests {
		l, err := ParseLimit(tt.spec)
		if err != nil {
			t.Fatalf("ParseLimit(%q): %v", tt.spec, err)
		}
		g := typeGrowth()
		if tt.words {
			g = wordGrowth()
		}
		if cs, err := Check([]Limit{l}, g); err == nil || !strings.HasPrefix(err.Error(), tt.err) {
			t.Errorf("Check(%q) = %+v, %v; want an error starting %q", tt.spec, cs, err, tt.err)
		}
	}
}
