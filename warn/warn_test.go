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
