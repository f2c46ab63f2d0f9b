package pycore

import (
	"os"
	"testing"
)

func TestDebugOpen(t *testing.T) {
	v := os.Getenv("PYV")
	if v == "" {
		t.Skip()
	}
	h, c := openHeap(t, v)
	t.Logf("%+v", h.Totals())
	counts := map[string]int{}
	for i := 0; i < h.NumObjects(); i++ {
		if h.Live(i) {
			counts[h.TypeName(h.Type(i))]++
		}
	}
	t.Logf("tuples %d WithDict %d WithSlots %d LocalHeld %d Junk %d", counts["tuple"], counts["__main__.WithDict"], counts["__main__.WithSlots"], counts["__main__.LocalHeld"], counts["__main__.Junk"])
	for _, th := range h.Threads() {
		t.Logf("thread %d %q", th.ID, th.Name)
		for _, f := range th.Frames {
			t.Logf("  %s %s:%d %v", f.Func, f.File, f.Line, f.Locals)
		}
	}
	_ = c
}

func TestDebugBig(t *testing.T) {
	v := os.Getenv("PYV")
	if v == "" {
		t.Skip()
	}
	h, c := openHeap(t, v)
	for i := 0; i < h.NumObjects(); i++ {
		if h.Size(i) > 1<<20 {
			t.Logf("%#x %s size %d", h.Addr(i), h.TypeName(h.Type(i)), h.Size(i))
		}
	}
	for k, val := range c.Truth {
		if len(k) > 5 && k[:5] == "addr_" {
			if j, ok := h.Find(c.Hex(t, k)); ok {
				t.Logf("%s %s size %d want %s", k, h.TypeName(h.Type(j)), h.Size(j), c.Truth["sizeof_"+k[5:]])
			} else {
				t.Logf("%s %s not found", k, val)
			}
		}
	}
}

func TestDebugRoots(t *testing.T) {
	v := os.Getenv("PYV")
	if v == "" {
		t.Skip()
	}
	h, _ := openHeap(t, v)
	kinds := map[string]int{}
	types := map[string]int{}
	for _, r := range h.Roots() {
		kinds[r.Kind.String()]++
		if r.Kind.String() == "outside" {
			types[h.TypeName(h.Type(int(r.Object)))]++
		}
	}
	t.Logf("roots %v", kinds)
	t.Logf("outside by type %v", types)
	t.Logf("%+v", h.Totals())
}

func TestDebugOutside(t *testing.T) {
	v := os.Getenv("PYV")
	if v == "" {
		t.Skip()
	}
	h, _ := openHeap(t, v)
	in := make([][]int, h.NumObjects())
	for i := 0; i < h.NumObjects(); i++ {
		tg, _ := h.Refs(i)
		for _, x := range tg {
			in[x] = append(in[x], i)
		}
	}
	n := 0
	for _, r := range h.Roots() {
		if r.Kind.String() != "outside" || h.TypeName(h.Type(int(r.Object))) != os.Getenv("PYT") {
			continue
		}
		o := int(r.Object)
		rc, _ := h.mem.i64(h.Addr(o))
		var from []string
		for _, s := range in[o] {
			from = append(from, h.TypeName(h.Type(s)))
		}
		keys := []string{}
		h.dictEntries(h.Addr(o), func(e dictEntry) bool {
			s, _ := h.readStr(e.key, 30)
			keys = append(keys, s)
			return len(keys) < 5
		})
		t.Logf("%#x rc %d unexplained %d from %v keys %v tracked %v", h.Addr(o), rc, r.Unexplained, from, keys, h.Tracked(o))
		if n++; n > 15 {
			break
		}
	}
}
