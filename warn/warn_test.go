package warn

import "testing"

func TestListDropsRepeatsKeepsOrder(t *testing.T) {
	var l List
	l.Addf("dump", "core truncated: %d bytes missing", 4096)
	l.Add(At("gocore", 0xc000010000, "span class %d out of range", 99))
	l.Addf("dump", "core truncated: %d bytes missing", 4096)
	l.Addf("symbolize", "no symbols in %s", "/lib/x.so")
	got := l.Items()
	if len(got) != 3 {
		t.Fatalf("got %d warnings, want 3: %v", len(got), got)
	}
	want := []string{
		"dump: core truncated: 4096 bytes missing",
		"gocore: span class 99 out of range (at 0xc000010000)",
		"symbolize: no symbols in /lib/x.so",
	}
	for i, w := range got {
		if w.String() != want[i] {
			t.Errorf("warning %d = %q, want %q", i, w.String(), want[i])
		}
	}
	var nilList *List
	if nilList.Len() != 0 || nilList.Items() != nil {
		t.Error("a nil list must be empty")
	}
}

// TestListSummarizesSimilar: thousands of warnings differing only in their
// numbers keep MaxSimilar and one count.
func TestListSummarizesSimilar(t *testing.T) {
	var l List
	for i := range 10000 {
		l.Addf("core", "segment %#x-%#x overlaps another; ignoring it", 0x1000*i, 0x1000*i+0x2000)
	}
	l.Addf("core", "no symbols in %s", "/lib/x.so")
	if got := l.Len(); got != MaxSimilar+1 {
		t.Errorf("kept %d warnings, want %d", got, MaxSimilar+1)
	}
	s := l.Summaries()
	if len(s) != 1 {
		t.Fatalf("summaries %v, want one", s)
	}
	want := `core: 9,995 more warnings like "core: segment 0x5000-0x7000 overlaps another; ignoring it"`
	if s[0].String() != want {
		t.Errorf("summary %q, want %q", s[0].String(), want)
	}
}

func TestMatching(t *testing.T) {
	ws := []Warning{New("a", "one thing"), New("b", "another thing"), New("c", "else")}
	if got := Matching(ws, "thing"); len(got) != 2 || got[0] != "one thing" || got[1] != "another thing" {
		t.Errorf("Matching(thing) = %q", got)
	}
	if got := Matching(ws, "nothing"); len(got) != 0 {
		t.Errorf("Matching(nothing) = %q", got)
	}
}
