package compare

import (
	"slices"
	"testing"
)

// TestDiffGroups: groups match by type and path, a stack root by function
// and variable whatever its goroutine; only groups that grew are listed,
// the largest byte growth first.
func TestDiffGroups(t *testing.T) {
	global := GroupRoot{Name: "main.audit"}
	stack := func(id, fn, v string) GroupRoot {
		return GroupRoot{Name: "goroutine " + id + " " + fn + " " + v, Stack: true, Thread: "goroutine", Func: fn, Var: v}
	}
	older := []GroupTally{
		{Type: "main.Order", Root: global, Path: []string{"orders", "[]"}, Count: 1000, Bytes: 48000},
		{Type: "main.Order", Root: stack("17", "main.worker", "batch"), Path: []string{"[]"}, Count: 10, Bytes: 480},
		{Type: "[]byte", Root: stack("18", "main.handle", ""), Count: 5, Bytes: 500},
		{Type: "main.Customer", Root: GroupRoot{Name: "main.customers"}, Count: 50, Bytes: 3200},
		{Type: "main.Temp", Root: global, Path: []string{"temp"}, Count: 9, Bytes: 90},
	}
	newer := []GroupTally{
		{Type: "main.Order", Root: global, Path: []string{"orders", "[]"}, Count: 2000, Bytes: 96000},
		{Type: "main.Order", Root: stack("4242", "main.worker", "batch"), Path: []string{"[]"}, Count: 30, Bytes: 1440},
		{Type: "[]byte", Root: stack("99", "main.handle", ""), Count: 5, Bytes: 500},
		{Type: "main.Customer", Root: GroupRoot{Name: "main.customers"}, Count: 50, Bytes: 3200},
		{Type: "main.Order", Root: global, Path: []string{"pending", "[]"}, Count: 3, Bytes: 144},
		{Type: "main.Session", Root: GroupRoot{Name: "main.sessions"}, Count: 0, Bytes: 64},
	}
	got := DiffGroups(older, newer)
	want := []GroupDelta{
		{Type: "main.Order", Path: []string{"main.audit", "orders", "[]"}, TallyDelta: TallyDelta{"main.Order", 1000, 2000, 48000, 96000}},
		{Type: "main.Order", Path: []string{"goroutine main.worker batch", "[]"}, TallyDelta: TallyDelta{"main.Order", 10, 30, 480, 1440}},
		{Type: "main.Order", Path: []string{"main.audit", "pending", "[]"}, TallyDelta: TallyDelta{"main.Order", 0, 3, 0, 144}},
		{Type: "main.Session", Path: []string{"main.sessions"}, TallyDelta: TallyDelta{"main.Session", 0, 0, 0, 64}},
	}
	if len(got) != len(want) {
		t.Fatalf("DiffGroups = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].Type != want[i].Type || !slices.Equal(got[i].Path, want[i].Path) || got[i].TallyDelta != want[i].TallyDelta {
			t.Errorf("row %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if c := got[2].Change(); !c.New || c.Gone || c.Ratio != nil {
		t.Errorf("a group only NEW has: change %+v, want new", c)
	}
}

// TestDiffGroupsThreads: stacks of different kinds of thread, or frames of
// different variables, are different roots; a group not on a stack keeps
// its root's name even when it names a goroutine.
func TestDiffGroupsThreads(t *testing.T) {
	older := []GroupTally{
		{Type: "list", Root: GroupRoot{Stack: true, Thread: "thread", Func: "handle", Var: "items"}, Count: 1, Bytes: 56},
	}
	newer := []GroupTally{
		{Type: "list", Root: GroupRoot{Stack: true, Thread: "thread", Func: "handle", Var: "items"}, Count: 1, Bytes: 56},
		{Type: "list", Root: GroupRoot{Stack: true, Thread: "goroutine", Func: "handle", Var: "items"}, Count: 1, Bytes: 56},
		{Type: "list", Root: GroupRoot{Stack: true, Thread: "thread", Func: "handle", Var: "other"}, Count: 1, Bytes: 56},
		{Type: "list", Root: GroupRoot{Name: "goroutine 7 handle items"}, Count: 1, Bytes: 56},
	}
	var paths []string
	for _, g := range DiffGroups(older, newer) {
		paths = append(paths, g.Path[0])
	}
	slices.Sort(paths)
	want := []string{"goroutine 7 handle items", "goroutine handle items", "thread handle other"}
	if !slices.Equal(paths, want) {
		t.Errorf("grown groups' roots %q, want %q", paths, want)
	}
}
