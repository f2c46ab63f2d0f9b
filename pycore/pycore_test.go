package pycore

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/heap"
	"github.com/heapsift/heapsift/internal/coretest"
	"github.com/heapsift/heapsift/symbolize"
)

// openHeap makes a core of the heapmodel program under CPython version
// and opens its heap.
func openHeap(t *testing.T, version string) (*Heap, *coretest.Core) {
	t.Helper()
	python := coretest.PyenvPython(t, version)
	c := coretest.MakeCore(t, python, []string{coretest.Testdata(t, "python", "heapmodel", "heapmodel.py"), "20000"}, nil)
	p, err := dump.Open(c.Path, dump.Options{Exe: python})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	s, _, err := symbolize.New(p, symbolize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h, warns, err := Open(p, s)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range warns {
		t.Logf("warning: %v", w)
	}
	// Without symbols, libpython's DWARF locates the same statics.
	h2, _, err := Open(p, nil)
	if err != nil {
		t.Errorf("Open without a symbolizer: %v", err)
	} else if h2.NumObjects() != h.NumObjects() {
		t.Errorf("Open without a symbolizer found %d objects, with one %d", h2.NumObjects(), h.NumObjects())
	}
	return h, c
}

// TestHeapModel checks the heap of the heapmodel program under every
// CPython version against the ground truth it printed.
func TestHeapModel(t *testing.T) {
	for _, v := range coretest.PyenvVersions {
		t.Run(v, func(t *testing.T) {
			h, c := openHeap(t, v)
			if got, want := h.Version(), c.Value(t, "python_version"); !strings.HasPrefix(want, got+".") {
				t.Errorf("Version() = %q, core is of %s", got, want)
			}
			checkCounts(t, h, c)
			checkSizes(t, h, c)
			checkProfilerPath(t, h, c)
			checkLocalRoot(t, h, c)
			checkEvalStacks(t, h, c)
			checkClosure(t, h, c)
			checkRootsReachLive(t, h)
			checkNamedPaths(t, h, c)
			checkStacks(t, h, c)
			checkDebugOffsetsBite(t, h)
		})
	}
}

// checkCounts compares the live objects of the program's classes and
// the garbage Junk with the truth.
func checkCounts(t *testing.T, h *Heap, c *coretest.Core) {
	t.Helper()
	live, garbage := map[string]int{}, map[string]int{}
	for i := 0; i < h.NumObjects(); i++ {
		name := h.TypeName(h.Type(i))
		if h.Live(i) {
			live[name]++
		} else {
			garbage[name]++
		}
	}
	for key := range c.Truth {
		if name, ok := strings.CutPrefix(key, "count_"); ok {
			if got, want := live[name], int(c.Int(t, key)); got != want {
				t.Errorf("live %s: %d, want %d", name, got, want)
			}
		}
	}
	const junk = "__main__.Junk"
	if got, want := garbage[junk], int(c.Int(t, "garbage_"+junk)); got != want {
		t.Errorf("garbage %s: %d, want %d", junk, got, want)
	}
	if live[junk] != 0 {
		t.Errorf("%d %s live, want none", live[junk], junk)
	}
	for name, n := range garbage {
		if name != junk && name != "dict" {
			t.Errorf("%d garbage %s objects; only Junk and their dicts are garbage", n, name)
		}
	}
	tracked := map[string]int{}
	for i := 0; i < h.NumObjects(); i++ {
		if h.Tracked(i) {
			tracked[h.TypeName(h.Type(i))]++
		}
	}
	for _, name := range []string{"WithDict", "WithSlots", "Junk"} {
		if got, want := tracked["__main__."+name], int(c.Int(t, "gc_objects_"+name)); got != want {
			t.Errorf("tracked %s: %d, gc.get_objects() had %d", name, got, want)
		}
	}
	for _, name := range []string{"tuple", "list", "dict", "function"} {
		t.Logf("tracked %s: %d, gc.get_objects() had %s shortly before", name, tracked[name], c.Value(t, "gc_objects_"+name))
	}
	if tot := h.Totals(); tot.Garbage != garbage[junk]+garbage["dict"] || tot.Live+tot.Garbage != tot.Objects {
		t.Errorf("Totals %+v disagree with Live", tot)
	}
}

// checkSizes compares Size with sys.getsizeof of representative objects.
func checkSizes(t *testing.T, h *Heap, c *coretest.Core) {
	t.Helper()
	for key := range c.Truth {
		what, ok := strings.CutPrefix(key, "addr_")
		if !ok {
			continue
		}
		obj, ok := h.Find(c.Hex(t, key))
		if !ok {
			t.Errorf("no object at %s = %s", key, c.Truth[key])
			continue
		}
		if got, want := h.Size(obj), c.Int(t, "sizeof_"+what); got != want {
			t.Errorf("Size(%s %s) = %d, want sys.getsizeof %d", what, h.TypeName(h.Type(obj)), got, want)
		}
	}
}

// checkProfilerPath follows the global __main__.Profiler, its attribute
// results and the list's elements to the leaked tuples.
func checkProfilerPath(t *testing.T, h *Heap, c *coretest.Core) {
	t.Helper()
	var class = -1
	for _, r := range h.Roots() {
		if r.Kind == heap.RootGlobal && r.Var == "__main__.Profiler" {
			class = int(r.Object)
		}
	}
	if class < 0 {
		t.Fatal("no root __main__.Profiler")
	}
	if got, want := h.Addr(class), c.Hex(t, "profiler_class"); got != want {
		t.Errorf("root __main__.Profiler is %#x, want %#x", got, want)
	}
	list := -1
	targets, labels := h.Refs(class)
	for i, tg := range targets {
		if p := h.RefPath(class, labels[i]); p.String() == ".results" {
			list = int(tg)
		}
	}
	if list < 0 || h.Addr(list) != c.Hex(t, "results_list") {
		t.Fatalf("__main__.Profiler has no .results reference to the list at %s", c.Truth["results_list"])
	}
	tuples := map[uint32]bool{}
	targets, labels = h.Refs(list)
	for i, tg := range targets {
		p := h.RefPath(list, labels[i])
		if len(p) != 1 || p[0].Kind != heap.StepIndex || p[0].Index != int64(i) {
			t.Fatalf("reference %d of the list is named %q", i, p.String())
		}
		if heap.ObjectTypeName(h, int(tg)) == "tuple" && h.Live(int(tg)) {
			tuples[tg] = true
		}
		if i == 0 {
			if got := h.RefClass(h.Type(list), labels[0]); got != h.RefClass(h.Type(list), labels[len(labels)-1]) {
				t.Errorf("list elements have different reference classes")
			}
		}
	}
	if got, want := len(tuples), int(c.Int(t, "tuples")); got != want {
		t.Errorf("__main__.Profiler.results[] reaches %d live tuples, want %d", got, want)
	}
}

// checkLocalRoot finds the worker thread's local `mine` and what it holds.
func checkLocalRoot(t *testing.T, h *Heap, c *coretest.Core) {
	t.Helper()
	ident := int64(c.Int(t, "local_thread"))
	for _, r := range h.Roots() {
		if r.Kind != heap.RootStack || r.Var != c.Value(t, "local_var") || r.Func != c.Value(t, "local_func") {
			continue
		}
		if r.Thread != ident || r.ThreadName != c.Value(t, "thread_name") || !strings.HasSuffix(r.File, "heapmodel.py") || r.Line <= 0 {
			t.Errorf("root %q: thread %d %q, file %s:%d; want thread %d %q in heapmodel.py",
				r.Label(), r.Thread, r.ThreadName, r.File, r.Line, ident, c.Value(t, "thread_name"))
		}
		held := 0
		targets, _ := h.Refs(int(r.Object))
		for _, tg := range targets {
			if heap.ObjectTypeName(h, int(tg)) == "__main__.LocalHeld" {
				held++
			}
		}
		if want := int(c.Int(t, "count___main__.LocalHeld")); held != want {
			t.Errorf("local %s holds %d LocalHeld, want %d", r.Var, held, want)
		}
		return
	}
	t.Errorf("no stack root %s in %s", c.Value(t, "local_var"), c.Value(t, "local_func"))
}

// checkEvalStacks checks that what only evaluation stacks hold is held
// by them: the suspended generator's for-loop iterator (every version)
// and, from 3.11, the list on main's stack.
func checkEvalStacks(t *testing.T, h *Heap, c *coretest.Core) {
	t.Helper()
	drain, ok := h.Find(c.Hex(t, "drain_generator"))
	if !ok {
		t.Fatalf("no generator at %s", c.Truth["drain_generator"])
	}
	const genHeld = "__main__.GenStackHeld"
	if got, want := countReachable(h, drain, genHeld), int(c.Int(t, "count_"+genHeld)); got != want {
		t.Errorf("the generator DRAIN reaches %d %s, want %d", got, genHeld, want)
	}
	if h.l.Minor < 11 {
		return // a running frame's stack depth is not recorded
	}
	const stackHeld = "__main__.StackHeld"
	for _, r := range h.Roots() {
		if r.Kind == heap.RootStack && r.Name == evalStackName && r.Func == c.Value(t, "stack_func") &&
			heap.ObjectTypeName(h, int(r.Object)) == "list" {
			if got, want := countReachable(h, int(r.Object), stackHeld), int(c.Int(t, "count_"+stackHeld)); got != want {
				t.Errorf("the list on %s's stack reaches %d %s, want %d", r.Func, got, stackHeld, want)
			}
			return
		}
	}
	t.Errorf("no root on %s's evaluation stack holds a list", c.Value(t, "stack_func"))
}

// countReachable counts the objects of type name reachable from obj.
func countReachable(h *Heap, obj int, name string) int {
	seen := map[int]bool{obj: true}
	queue, n := []int{obj}, 0
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if heap.ObjectTypeName(h, cur) == name {
			n++
		}
		targets, _ := h.Refs(cur)
		for _, tg := range targets {
			if !seen[int(tg)] {
				seen[int(tg)] = true
				queue = append(queue, int(tg))
			}
		}
	}
	return n
}

// checkClosure checks that the object only a closure holds is live and
// held by a cell's contents.
func checkClosure(t *testing.T, h *Heap, c *coretest.Core) {
	t.Helper()
	obj, ok := h.Find(c.Hex(t, "closure_held"))
	if !ok || !h.Live(obj) {
		t.Fatalf("the closure's object %s is missing or not live", c.Truth["closure_held"])
	}
	for i := 0; i < h.NumObjects(); i++ {
		targets, labels := h.Refs(i)
		for k, tg := range targets {
			if int(tg) == obj && heap.ObjectTypeName(h, i) == "cell" && h.RefPath(i, labels[k]).String() == ".cell_contents" {
				return
			}
		}
	}
	t.Errorf("no cell refers to the closure's object")
}

// checkRootsReachLive checks that the roots reach every live object, as
// retain needs.
func checkRootsReachLive(t *testing.T, h *Heap) {
	t.Helper()
	seen := make([]bool, h.NumObjects())
	var stack []int
	for _, r := range h.Roots() {
		if r.Kind == heap.RootOutside && r.Unexplained < 0 {
			t.Errorf("outside root with %d unexplained references", r.Unexplained)
		}
		if !seen[r.Object] {
			seen[r.Object] = true
			stack = append(stack, int(r.Object))
		}
	}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		targets, _ := h.Refs(i)
		for _, tg := range targets {
			if !seen[tg] {
				seen[tg] = true
				stack = append(stack, int(tg))
			}
		}
	}
	for i := 0; i < h.NumObjects(); i++ {
		if h.Live(i) && !seen[i] {
			t.Errorf("live %s at %#x is not reachable from the roots", heap.ObjectTypeName(h, i), h.Addr(i))
			return
		}
	}
}

// global returns the object the module global name refers to.
func global(t *testing.T, h *Heap, name string) int {
	t.Helper()
	for _, r := range h.Roots() {
		if r.Kind == heap.RootGlobal && r.Var == name {
			return int(r.Object)
		}
	}
	t.Fatalf("no root %s", name)
	return -1
}

// refNamed returns the object obj refers to by path, or -1.
func refNamed(h *Heap, obj int, path string) int {
	targets, labels := h.Refs(obj)
	for i, tg := range targets {
		if h.RefPath(obj, labels[i]).String() == path {
			return int(tg)
		}
	}
	return -1
}

// checkNamedPaths checks how references read: dict values by key,
// attributes from a __dict__ (or inline values) and from __slots__, and
// a deque's elements.
func checkNamedPaths(t *testing.T, h *Heap, c *coretest.Core) {
	t.Helper()
	registry := global(t, h, "__main__.REGISTRY")
	wd := refNamed(h, registry, "['d0']")
	if wd < 0 || h.Addr(wd) != c.Hex(t, "addr_withdict") {
		t.Fatalf("__main__.REGISTRY['d0'] is not the WithDict at %s", c.Truth["addr_withdict"])
	}
	// (Its .index is a small int: static from 3.11 on, not in the heap.)
	if refNamed(h, wd, ".label") < 0 || refNamed(h, wd, ".__class__") < 0 {
		t.Errorf("WithDict has no .label and .__class__ references")
	}
	tuple, ok := h.Find(c.Hex(t, "addr_tuple"))
	if !ok {
		t.Fatal("no tuple at addr_tuple")
	}
	second := h.Addr(tuple) + uint64(h.Layout().Tuple.Item) + 8
	if o, off, ok := h.ObjectAt(second); !ok || o != tuple || h.PathAt(o, off).String() != "[1]" {
		t.Errorf("ObjectAt(tuple's second item) = %d, %d, %v; PathAt = %q", o, off, ok, h.PathAt(o, off).String())
	}
	ws := refNamed(h, registry, "['s0']")
	if ws < 0 {
		t.Fatal("no __main__.REGISTRY['s0']")
	}
	if p := refNamed(h, ws, ".payload"); p < 0 || h.Addr(p) != c.Hex(t, "addr_slots_payload") {
		t.Errorf("WithSlots .payload does not refer to the list at %s", c.Truth["addr_slots_payload"])
	}
	if !reaches(h, global(t, h, "__main__.GEN"), ".gi_frame.held", "__main__.GenHeld") {
		t.Errorf("__main__.GEN .gi_frame.held does not reach the GenHeld object")
	}
	// C subclasses of dict hold their items as a dict does.
	if !reaches(h, global(t, h, "__main__.LRU"), "['k0']", "__main__.CacheEntry") {
		t.Errorf("__main__.LRU['k0'] is not a CacheEntry")
	}
	if !reaches(h, global(t, h, "__main__.BY_KEY"), "['g'][0]", "__main__.Grouped") {
		t.Errorf("__main__.BY_KEY['g'][0] is not a Grouped")
	}
	for _, r := range h.Roots() {
		if name := heap.ObjectTypeName(h, int(r.Object)); r.Kind == heap.RootOutside && strings.HasPrefix(name, "__main__.") {
			t.Errorf("a %s at %#x is held outside Python; the program holds each of its objects", name, h.Addr(int(r.Object)))
		}
	}
	checkStaticTypeDicts(t, h, c)
	// The interpreter's state holds the codec search functions.
	found := false
	for _, r := range h.Roots() {
		if r.Kind == heap.RootRuntime && strings.HasSuffix(r.Name, "search_path") {
			found = found || reachesType(h, int(r.Object), "__main__.CodecHeld", 4)
		}
	}
	if !found {
		t.Errorf("no interpreter root named ...search_path reaches the CodecHeld object")
	}
	queue := global(t, h, "__main__.QUEUE")
	targets, labels := h.Refs(queue)
	items := 0
	for i, tg := range targets {
		if heap.ObjectTypeName(h, int(tg)) == "__main__.QueueItem" && h.RefPath(queue, labels[i]).String() == "["+strconv.Itoa(items)+"]" {
			items++
		}
	}
	if want := int(c.Int(t, "count___main__.QueueItem")); items != want {
		t.Errorf("__main__.QUEUE holds %d QueueItems by index, want %d", items, want)
	}
}

// checkStaticTypeDicts checks that the dict of every type defined in C is
// held by its type (a runtime root), not by something outside Python.
func checkStaticTypeDicts(t *testing.T, h *Heap, c *coretest.Core) {
	t.Helper()
	outside := map[int]bool{}
	for _, r := range h.Roots() {
		if r.Kind == heap.RootOutside {
			outside[int(r.Object)] = true
		}
	}
	addrs := strings.Split(c.Value(t, "static_type_dicts"), ",")
	if len(addrs) < 50 {
		t.Fatalf("the program listed only %d static types' dicts", len(addrs))
	}
	bad := 0
	for _, s := range addrs {
		a, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
		if err != nil {
			t.Fatalf("static_type_dicts: %v", err)
		}
		obj, ok := h.Find(a)
		if !ok || outside[obj] {
			if bad++; bad <= 3 {
				t.Errorf("the dict of a static type at %#x: found %v, held outside Python %v", a, ok, ok && outside[obj])
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d static types' dicts are not found or held outside Python", bad, len(addrs))
	}
}

// checkStacks checks the threads' names, frames, lines and locals.
func checkStacks(t *testing.T, h *Heap, c *coretest.Core) {
	t.Helper()
	src, err := os.ReadFile(coretest.Testdata(t, "python", "heapmodel", "heapmodel.py"))
	if err != nil {
		t.Fatal(err)
	}
	lineOf := func(text string) int {
		for i, l := range strings.Split(string(src), "\n") {
			if strings.TrimSpace(l) == text {
				return i + 1
			}
		}
		t.Fatalf("no line %q in heapmodel.py", text)
		return 0
	}
	want := map[string]struct {
		thread string
		line   int
		local  string
		repr   string
	}{
		"worker": {c.Value(t, "thread_name"), lineOf("stop.wait()"), "count", "50"},
		"main":   {"MainThread", lineOf("keep([StackHeld() for _ in range(STACK_HELD)], finish(truth))"), "junk_pairs", "40"},
	}
	native := c.Int(t, "local_native_thread") // 0 before 3.8
	for _, th := range h.Threads() {
		if th.ID == c.Int(t, "local_thread") && native != 0 && th.NativeID != native {
			t.Errorf("thread %d: native id %d, want %d", th.ID, th.NativeID, native)
		}
		for _, f := range th.Frames {
			w, ok := want[f.Func]
			if !ok || !strings.HasSuffix(f.File, "heapmodel.py") {
				continue
			}
			delete(want, f.Func)
			if th.Name != w.thread || f.Line != w.line {
				t.Errorf("frame %s: thread %q line %d, want thread %q line %d", f.Func, th.Name, f.Line, w.thread, w.line)
			}
			found := false
			for _, l := range f.Locals {
				if l.Name == w.local {
					found = true
					if l.Repr != w.repr {
						t.Errorf("frame %s local %s = %q, want %q", f.Func, l.Name, l.Repr, w.repr)
					}
				}
			}
			if !found {
				t.Errorf("frame %s has no local %s", f.Func, w.local)
			}
		}
	}
	for fn := range want {
		t.Errorf("no frame of %s", fn)
	}
}

// TestNotPython opens the core of a shell: Open must say it is no
// CPython process.
func TestNotPython(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	c := coretest.MakeCore(t, sh, []string{"-c", "kill -ABRT $$"}, nil)
	p, err := dump.Open(c.Path, dump.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s, _, err := symbolize.New(p, symbolize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = Open(p, s)
	if !errors.Is(err, ErrNotPython) {
		t.Fatalf("Open of a shell's core: %v, want an error wrapping ErrNotPython", err)
	}
	t.Logf("Open: %v", err)
}

// reachesType reports whether an object of type typ is within depth
// references of obj.
func reachesType(h *Heap, obj int, typ string, depth int) bool {
	if heap.ObjectTypeName(h, obj) == typ {
		return true
	}
	if depth == 0 {
		return false
	}
	targets, _ := h.Refs(obj)
	for _, tg := range targets {
		if reachesType(h, int(tg), typ, depth-1) {
			return true
		}
	}
	return false
}

// reaches reports whether a path of at most three references from obj
// that reads path leads to an object of type typ.
func reaches(h *Heap, obj int, path, typ string) bool {
	var walk func(o int, prefix string, depth int) bool
	walk = func(o int, prefix string, depth int) bool {
		if prefix == path {
			return heap.ObjectTypeName(h, o) == typ
		}
		if depth == 3 || !strings.HasPrefix(path, prefix) {
			return false
		}
		targets, labels := h.Refs(o)
		for i, tg := range targets {
			if walk(int(tg), prefix+h.RefPath(o, labels[i]).String(), depth+1) {
				return true
			}
		}
		return false
	}
	return walk(obj, "", 0)
}

// checkDebugOffsetsBite checks that a layout that disagrees with the
// core's _Py_DebugOffsets (3.13+) is refused.
func checkDebugOffsetsBite(t *testing.T, h *Heap) {
	t.Helper()
	if _, ok := h.l.debugOffsets[debugCookie]; !ok {
		return
	}
	saved := h.l.State.InterpThreads
	defer func() { h.l.State.InterpThreads = saved }()
	h.l.State.InterpThreads += 8
	if err := h.checkDebugOffsets(h.runtime); err == nil || !strings.Contains(err.Error(), "threads_head") {
		t.Errorf("a layout off by 8 in threads_head passes the _Py_DebugOffsets check: %v", err)
	}
}
