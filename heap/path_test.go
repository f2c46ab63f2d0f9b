package heap

import (
	"reflect"
	"testing"
)

func TestPathRendering(t *testing.T) {
	tests := []struct {
		path      Path
		str       string
		words     []string
		collapsed string
	}{
		{Path{Field("results"), Index(7)}, ".results[7]", []string{"results", "[7]"}, ".results[]"},
		{Path{Field("slots"), Index(3), Field("elem")}, ".slots[3].elem", []string{"slots", "[3]", "elem"}, ".slots[].elem"},
		{Path{{Kind: StepDeref}}, "*", []string{"*"}, "*"},
		{Path{Field("p"), {Kind: StepDeref}}, ".p.*", []string{"p", "*"}, ".p.*"},
		{Path{Attr("__dict__"), {Kind: StepValue, Name: "'alice'"}}, ".__dict__['alice']", []string{"__dict__", "['alice']"}, ".__dict__[]"},
		{Path{{Kind: StepKey}, {Kind: StepElem}, {Kind: StepOffset, Index: 16}}, "[key]{}+16", []string{"[key]", "{}", "+16"}, "[key]{}+16"},
		{nil, "", []string{}, ""},
	}
	for _, tt := range tests {
		if got := tt.path.String(); got != tt.str {
			t.Errorf("String() = %q, want %q", got, tt.str)
		}
		if got := tt.path.Words(); !reflect.DeepEqual(got, tt.words) {
			t.Errorf("%q Words() = %q, want %q", tt.str, got, tt.words)
		}
		if got := tt.path.Collapse().String(); got != tt.collapsed {
			t.Errorf("%q Collapse() = %q, want %q", tt.str, got, tt.collapsed)
		}
	}
}

func TestCollapseDoesNotAlias(t *testing.T) {
	p := Path{Index(4)}
	_ = p.Collapse()
	if p[0].Index != 4 {
		t.Fatal("Collapse changed its receiver")
	}
}

func TestRootLabelAndKey(t *testing.T) {
	g := Root{Kind: RootGlobal, Var: "__main__.Profiler", Path: Path{Attr("results")}}
	if g.Label() != "__main__.Profiler" {
		t.Errorf("global label = %q", g.Label())
	}
	s := Root{Kind: RootStack, ThreadLabel: "goroutine", Thread: 7, Func: "main.holder", Var: "keep"}
	if s.Label() != "goroutine 7 main.holder keep" {
		t.Errorf("stack label = %q", s.Label())
	}
	a := Root{Kind: RootGlobal, Var: "main.x", Path: Path{Field("items"), Index(1)}}
	b := Root{Kind: RootGlobal, Var: "main.x", Path: Path{Field("items"), Index(2)}}
	if a.Key() == b.Key() || a.Collapse().Key() != b.Collapse().Key() {
		t.Error("keys must differ by index and agree once collapsed")
	}
	if RootOutside.String() != "outside" || RootKind(99).String() != "RootKind(99)" {
		t.Error("RootKind names")
	}
}

func TestRootTier(t *testing.T) {
	program := Root{Kind: RootGlobal, Var: "main.cache"}
	pool := Root{Kind: RootGlobal, Var: "sync.oldPools", Bookkeeping: true}
	stack := Root{Kind: RootStack}
	outside := Root{Kind: RootOutside}
	if !(program.Tier() < stack.Tier() && stack.Tier() < pool.Tier() && pool.Tier() < outside.Tier()) {
		t.Errorf("tiers: program %d, stack %d, bookkeeping %d, outside %d", program.Tier(), stack.Tier(), pool.Tier(), outside.Tier())
	}
	if pool.Tier() != int(RootRuntime) {
		t.Errorf("a bookkeeping global's tier is %d, want the runtime's %d", pool.Tier(), RootRuntime)
	}
}

func TestWordsText(t *testing.T) {
	for _, c := range []struct {
		words []string
		want  string
	}{
		{[]string{"main.p", "results", "[]"}, "main.p.results[]"},
		{[]string{"main.shapes", "[0]", ".(*main.Square)"}, "main.shapes[0].(*main.Square)"},
		{[]string{"main.table", "{key}"}, "main.table{key}"},
		{[]string{"x", "+16"}, "x+16"},
		{nil, ""},
	} {
		if got := WordsText(c.words); got != c.want {
			t.Errorf("WordsText(%q) = %q, want %q", c.words, got, c.want)
		}
	}
}
