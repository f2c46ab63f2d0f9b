package native

import (
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/heap"
	"github.com/heapsift/heapsift/internal/coretest"
	"github.com/heapsift/heapsift/symbolize"
	"github.com/heapsift/heapsift/warn"
)

// leaksCore makes one core of testdata/native/leaks.cpp per test process.
func leaksCore(t *testing.T) (*coretest.Core, string) {
	t.Helper()
	exe := coretest.BuildCXX(t, coretest.Testdata(t, "native", "leaks.cpp"))
	return coretest.MakeCore(t, exe, nil, nil), exe
}

// openNative opens a core's native heap; noDebug hides libc's debug
// file from both the symbolizer and the layout reader.
func openNative(t *testing.T, core, exe string, noDebug bool) *Heap {
	t.Helper()
	return openNativeWith(t, core, exe, noDebug, 0)
}

// openNativeWith is openNative walking regions of splitBytes or more in
// parallel parts (0: the default).
func openNativeWith(t *testing.T, core, exe string, noDebug bool, splitBytes uint64) *Heap {
	t.Helper()
	p, err := dump.Open(core, dump.Options{Exe: exe})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	var dirs []string
	if noDebug {
		dirs = []string{t.TempDir()}
	}
	s, _, err := symbolize.New(p, symbolize.Options{DebugDirs: dirs})
	if err != nil {
		t.Fatal(err)
	}
	h, warns, err := Open(p, s, Options{DebugDirs: dirs, splitBytes: splitBytes})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range warns {
		t.Logf("warning: %v", w)
	}
	return h
}

// requireLibcDebug fails in CI, and skips elsewhere, when libc's debug
// file (Debian's libc6-dbg) is not installed.
func requireLibcDebug(t *testing.T) {
	t.Helper()
	for _, path := range []string{"/lib/x86_64-linux-gnu/libc.so.6", "/lib/aarch64-linux-gnu/libc.so.6", "/usr/lib64/libc.so.6"} {
		f, err := elf.Open(path)
		if err != nil {
			continue
		}
		id := ""
		if sec := f.Section(".note.gnu.build-id"); sec != nil {
			if b, err := sec.Data(); err == nil && len(b) > 16 {
				id = hex.EncodeToString(b[16:])
			}
		}
		f.Close()
		if _, ok := libcDebugFile(path, id, []string{"/usr/lib/debug"}); ok {
			return
		}
		break
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("libc's debug file is not installed; .ci/run installs it with apt-get install libc6-dbg")
	}
	t.Skip("libc's debug file is not installed (apt-get install libc6-dbg)")
}

// totals is the heap's classes by name.
func totals(h *Heap) map[string]*ClassStats {
	out := map[string]*ClassStats{}
	for _, c := range h.Classes() {
		out[c.Name] = &c
	}
	return out
}

// checkLeaks compares a heap with the leaks program's truth.
func checkLeaks(t *testing.T, h *Heap, c *coretest.Core, symbols bool) {
	t.Helper()
	tot := totals(h)
	get := func(name string) *ClassStats {
		if tt := tot[name]; tt != nil {
			return tt
		}
		return &ClassStats{}
	}
	for _, cls := range []string{"Kept", "Big", "ThreadThing"} {
		tt := get(cls)
		if tt.Count != c.Int(t, "count:"+cls) || tt.Bytes != c.Int(t, "bytes:"+cls) {
			t.Errorf("%s: %d objects of %d bytes, want %d of %d", cls, tt.Count, tt.Bytes, c.Int(t, "count:"+cls), c.Int(t, "bytes:"+cls))
		}
		if tt.Leaked != 0 {
			t.Errorf("%s: %d leaked, want none", cls, tt.Leaked)
		}
	}
	for _, cls := range []string{"app::Leaked", "ListNode"} {
		tt := get(cls)
		if tt.Count != c.Int(t, "leaked:"+cls) || tt.Leaked != tt.Count || tt.LeakedBytes != c.Int(t, "leakedbytes:"+cls) {
			t.Errorf("%s: %d objects, %d leaked of %d bytes; want %d leaked of %d bytes",
				cls, tt.Count, tt.Leaked, tt.LeakedBytes, c.Int(t, "leaked:"+cls), c.Int(t, "leakedbytes:"+cls))
		}
	}
	if got, want := get("app::Leaked").LeakRoots, c.Int(t, "leaked:app::Leaked"); got != want {
		t.Errorf("app::Leaked: %d leak roots, want %d (each is dropped alone)", got, want)
	}
	if got := get("ListNode").LeakRoots; got != 1 {
		t.Errorf("ListNode: %d leak roots, want 1 (the list's head)", got)
	}
	if obj, off, ok := h.ObjectAt(c.Hex(t, "list_head")); !ok || off != 0 || !h.LeakRoot(obj) {
		t.Errorf("the list's head %#x is not a leak root", c.Hex(t, "list_head"))
	}
	for _, key := range []string{"freed_tcache", "freed_fastbin", "freed_bin"} {
		if obj, _, ok := h.ObjectAt(c.Hex(t, key)); ok {
			t.Errorf("%s %#x is an object (%s), but it was freed", key, c.Hex(t, key), heap.ObjectTypeName(h, obj))
		}
	}
	if tt := get("Freed"); tt.Count != 0 {
		t.Errorf("%d Freed objects, want none", tt.Count)
	}
	if get("<text>").Count == 0 {
		t.Errorf("no <text> allocation, want the strdup'd string")
	}
	global := ""
	if symbols {
		global = "g_global_only"
	}
	checkRootKind(t, h, c.Hex(t, "addr_GlobalOnly"), heap.RootGlobal, global)
	checkRootKind(t, h, c.Hex(t, "addr_StackOnly"), heap.RootStack, "")
	checkHeld(t, h, c.Hex(t, "addr_HeapOnly"))
	st, a := h.Stats(), h.Allocator()
	if a.Arenas < 2 || a.Heaps < 1 || a.Mmapped < 3 || a.Tcaches < 2 {
		t.Errorf("allocator %+v: want 2 arenas, a heap, 3 mmapped chunks and 2 tcaches", a)
	}
	if st.FreeChunks < 40 {
		t.Errorf("%d free chunks, want at least the 40 freed", st.FreeChunks)
	}
	if a.Version != c.Value(t, "glibc") {
		t.Errorf("glibc version %q, want %q", a.Version, c.Value(t, "glibc"))
	}
}

// checkRootKind checks that the object at addr is held by a root of kind
// (named v, if v is not empty) and by nothing else.
func checkRootKind(t *testing.T, h *Heap, addr uint64, kind heap.RootKind, v string) {
	t.Helper()
	obj, _, ok := h.ObjectAt(addr)
	if !ok {
		t.Fatalf("no object at %#x", addr)
	}
	found := false
	for _, r := range h.Roots() {
		if int(r.Object) == obj {
			found = true
			if r.Kind != kind || v != "" && r.Var != v {
				t.Errorf("%s at %#x held by %s root %q, want %s %q", heap.ObjectTypeName(h, obj), addr, r.Kind, r.Label(), kind, v)
			}
		}
	}
	if !found || !h.Live(obj) {
		t.Errorf("%s at %#x: no root (live %v)", heap.ObjectTypeName(h, obj), addr, h.Live(obj))
	}
}

// checkHeld checks that the object at addr is live, no root holds it, and
// another allocation points to it.
func checkHeld(t *testing.T, h *Heap, addr uint64) {
	t.Helper()
	obj, _, ok := h.ObjectAt(addr)
	if !ok || !h.Live(obj) {
		t.Fatalf("no live object at %#x", addr)
	}
	for _, r := range h.Roots() {
		if int(r.Object) == obj {
			t.Errorf("%#x is held by root %s, want only by another allocation", addr, r.Label())
		}
	}
	for i := 0; i < h.NumObjects(); i++ {
		targets, _ := h.Refs(i)
		for _, j := range targets {
			if int(j) == obj && heap.ObjectTypeName(h, i) == "Holder" {
				return
			}
		}
	}
	t.Errorf("no Holder points to %#x", addr)
}

func TestLeaksWithDebugInfo(t *testing.T) {
	requireLibcDebug(t)
	c, exe := leaksCore(t)
	h := openNative(t, c.Path, exe, false)
	if a := h.Allocator(); a.LayoutFrom != "dwarf" || a.MainArenaFrom != "symbol" {
		t.Errorf("layout from %q, main_arena from %q; want dwarf and symbol", a.LayoutFrom, a.MainArenaFrom)
	}
	checkLeaks(t, h, c, true)
}

// TestLeaksSplitWalk walks every heap region of the core in parallel
// parts, as a large heap's are walked: the same truth.
func TestLeaksSplitWalk(t *testing.T) {
	c, exe := leaksCore(t)
	h := openNativeWith(t, c.Path, exe, false, 4096)
	checkLeaks(t, h, c, true)
}

// TestLeaksStripped runs a stripped copy of the program and reads its
// core without libc's debug file: the same truth, from the reference
// layout and the heap's structure.
func TestLeaksStripped(t *testing.T) {
	exe := coretest.BuildCXX(t, coretest.Testdata(t, "native", "leaks.cpp"))
	stripped := filepath.Join(t.TempDir(), "leaks")
	if out, err := exec.Command("strip", "-o", stripped, exe).CombinedOutput(); err != nil {
		t.Fatalf("strip: %v\n%s", err, out)
	}
	c := coretest.MakeCore(t, stripped, nil, nil)
	h := openNative(t, c.Path, stripped, true)
	if a := h.Allocator(); a.LayoutFrom != "table" || a.MainArenaFrom != "structure" {
		t.Errorf("layout from %q, main_arena from %q; want table and structure", a.LayoutFrom, a.MainArenaFrom)
	}
	checkLeaks(t, h, c, false)
}

// TestCorruptedChunk damages one chunk header of the brk heap in a copy
// of a core: a warning names it, and the rest of the heap is still read.
func TestCorruptedChunk(t *testing.T) {
	c, exe := leaksCore(t)
	h := openNative(t, c.Path, exe, false)
	obj, _, ok := h.ObjectAt(c.Hex(t, "addr_GlobalOnly"))
	if !ok {
		t.Fatal("no GlobalOnly")
	}
	sizeWord := h.Addr(obj) - sizeSz
	m := h.p.FindMapping(dump.Address(sizeWord))
	if m == nil || m.CoreOffset < 0 {
		t.Fatal("the chunk's header is not in the core")
	}
	data, err := os.ReadFile(c.Path)
	if err != nil {
		t.Fatal(err)
	}
	off := m.CoreOffset + int64(sizeWord-uint64(m.Start))
	binary.LittleEndian.PutUint64(data[off:], 0x7fff_ffff_fff3)
	damaged := filepath.Join(t.TempDir(), "core")
	if err := os.WriteFile(damaged, data, 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := dump.Open(damaged, dump.Options{Exe: exe})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s, _, err := symbolize.New(p, symbolize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d, warns, err := Open(p, s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, w := range warns {
		found = found || strings.Contains(w.Message, "corrupted chunk header") && w.Addr == sizeWord-sizeSz
	}
	if !found {
		t.Errorf("no warning about the corrupted chunk at %#x: %v", sizeWord-sizeSz, warns)
	}
	if got, want := totals(d)["Kept"].Count, c.Int(t, "count:Kept"); got != want {
		t.Errorf("%d Kept after the damage, want all %d", got, want)
	}
	if _, _, ok := d.ObjectAt(c.Hex(t, "addr_GlobalOnly")); ok {
		t.Errorf("the damaged chunk is still an object")
	}
}

// TestDisjointRegions: heap regions named twice, or overlapping, as a
// damaged arena ring or heap_info chain names them, are walked once.
func TestDisjointRegions(t *testing.T) {
	o := &opener{warns: &warn.List{}}
	in := []region{{start: 0x1000, end: 0x3000}, {start: 0x1000, end: 0x3000}, {start: 0x2000, end: 0x4000}, {start: 0x3000, end: 0x5000}, {start: 0x1000_0000, end: 0x1000_1000}}
	out := o.disjoint(in)
	if len(out) != 3 || out[0].start != 0x1000 || out[1].start != 0x3000 || out[2].start != 0x1000_0000 {
		t.Errorf("disjoint kept %+v", out)
	}
	msgs := warn.Messages(o.warns.Items())
	if len(msgs) != 2 || !strings.Contains(msgs[0], "overlaps region 0x1000-0x3000") || !strings.Contains(msgs[1], "1 more heap regions") {
		t.Errorf("warnings %q", msgs)
	}
}

// FuzzWalkRegion walks arbitrary bytes as a heap region: every chunk it
// reports lies inside the region, in order, and nothing panics.
func FuzzWalkRegion(f *testing.F) {
	seed := make([]byte, 256)
	binary.LittleEndian.PutUint64(seed[8:], 0x31)
	binary.LittleEndian.PutUint64(seed[0x38:], 0x21)
	binary.LittleEndian.PutUint64(seed[0x58:], 0xa1)
	f.Add(seed, uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, kind uint8) {
		const start = 0x10000
		r := region{start: start, end: start + uint64(len(data))&^15, kind: regionKind(kind % 3), data: data}
		var tab chunkTable
		o := &opener{warns: &warn.List{}, l: &referenceLayout}
		o.walkRegion(&r, &tab)
		last := uint64(0)
		for i, a := range tab.addr {
			if a < r.start || a+tab.sizeAt(i) > r.end || a < last {
				t.Fatalf("chunk %#x+%#x outside %#x-%#x or out of order", a, tab.sizeAt(i), r.start, r.end)
			}
			last = a + tab.sizeAt(i)
		}
	})
}

// FuzzSplitWalk walks arbitrary bytes as a heap region whole and in
// parts: the parts find the same chunks and say the same warnings.
func FuzzSplitWalk(f *testing.F) {
	seed := make([]byte, 1024)
	for a := 0; a < len(seed); a += 0x40 {
		binary.LittleEndian.PutUint64(seed[a+8:], 0x41)
	}
	binary.LittleEndian.PutUint64(seed[0x208:], 0x7fff_fff3)
	f.Add(seed, uint8(0), uint8(2), uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, kind, workers uint8, top uint16) {
		const start = 0x10000
		r := region{start: start, end: start + uint64(len(data))&^15, kind: regionKind(kind % 3), data: data}
		if top != 0 {
			r.top = start + uint64(top)&^15
		}
		whole := &opener{warns: &warn.List{}, l: &referenceLayout, splitBytes: 1 << 62}
		want, wantCls := whole.walkAll([]region{r}, 1)
		split := &opener{warns: &warn.List{}, l: &referenceLayout, splitBytes: 64}
		got, gotCls := split.walkAll([]region{r}, int(workers%8)+1)
		if !slices.Equal(got.addr, want.addr) || !slices.Equal(got.size, want.size) || !maps.Equal(got.big, want.big) || !slices.Equal(got.flags, want.flags) {
			t.Fatalf("split walk found %x %x, whole %x %x", got.addr, got.size, want.addr, want.size)
		}
		if g, w := typeNames(got, gotCls), typeNames(want, wantCls); !slices.Equal(g, w) {
			t.Fatalf("split walk classified %q, whole %q", g, w)
		}
		if g, w := warn.Messages(split.warns.Items()), warn.Messages(whole.warns.Items()); !slices.Equal(g, w) {
			t.Fatalf("split walk warned %q, whole %q", g, w)
		}
	})
}

// TestBigSizes: a chunk of 4 GiB or more (a huge mmapped allocation)
// keeps its size, which the size arrays store apart.
func TestBigSizes(t *testing.T) {
	const start, size = 0x7f00_0000_0000, 5 << 30
	data := make([]byte, 64)
	binary.LittleEndian.PutUint64(data[8:], size|isMmapped)
	r := region{start: start, end: start + size, kind: regionMmap, data: data}
	o := &opener{warns: &warn.List{}, l: &referenceLayout}
	tab, cls := o.walkAll([]region{r}, 2)
	if tab.Len() != 1 || tab.sizeAt(0) != size {
		t.Fatalf("walk found %d chunks, the first of %#x bytes; want one of %#x", tab.Len(), tab.sizeAt(0), uint64(size))
	}
	h := newHeap(o, tab, cls, []region{r})
	if h.NumObjects() != 1 || h.Size(0) != size-2*sizeSz || h.Stats().Bytes != size-2*sizeSz {
		t.Fatalf("%d objects, the first of %#x bytes", h.NumObjects(), h.Size(0))
	}
	if i, off, ok := h.ObjectAt(start + 2*sizeSz + 4<<30); !ok || i != 0 || off != 4<<30 {
		t.Errorf("ObjectAt 4 GiB into it: %d+%#x %v", i, off, ok)
	}
}

// TestMarkBackwardList marks a list whose every node points to the one
// before it in memory, from a root at its last: a sweep in address order
// reaches one node, so that the workers' stacks take over after
// maxSweeps. Every node is live; unrooted, the last is the one leak root.
func TestMarkBackwardList(t *testing.T) {
	const start, nodes, chunk = 0x10000, 200, 0x30
	data := make([]byte, nodes*chunk+0x20)
	for k := 0; k < nodes; k++ {
		a := k * chunk
		binary.LittleEndian.PutUint64(data[a+8:], chunk|prevInUse)
		if k > 0 {
			binary.LittleEndian.PutUint64(data[a+16:], uint64(start+a-chunk+16))
		}
	}
	binary.LittleEndian.PutUint64(data[nodes*chunk+8:], 0x20|prevInUse) // top
	r := region{start: start, end: start + uint64(len(data)), top: start + nodes*chunk, kind: regionBrk, data: data}
	o := &opener{warns: &warn.List{}, l: &referenceLayout}
	heapOf := func() *Heap {
		tab, cls := o.walkAll([]region{r}, 1)
		return newHeap(o, tab, cls, []region{r})
	}
	for _, workers := range []int{1, 3} {
		h := heapOf()
		if h.NumObjects() != nodes {
			t.Fatalf("%d objects, want %d", h.NumObjects(), nodes)
		}
		h.roots = []heap.Root{{Kind: heap.RootGlobal, Object: nodes - 1}}
		h.markWith(workers)
		if st := h.Stats(); st.LiveObjects != nodes || st.Leaked != 0 || st.LeakRoots != 0 {
			t.Errorf("%d workers: %d live, %d leaked, %d leak roots; want all %d live", workers, st.LiveObjects, st.Leaked, st.LeakRoots, nodes)
		}
		h = heapOf()
		h.markWith(workers)
		if st := h.Stats(); st.Leaked != nodes || st.LeakRoots != 1 || !h.LeakRoot(nodes-1) {
			t.Errorf("unrooted, %d workers: %d leaked, %d leak roots (the last node: %v); want %d and 1", workers, st.Leaked, st.LeakRoots, h.LeakRoot(nodes-1), nodes)
		}
	}
}

// typeNames names the types of a table's chunks in use, numbered as
// newHeap numbers them.
func typeNames(t *chunkTable, cls []*classifier) []string {
	n := typeNumbering{cls: cls, ids: make([][]heap.TypeID, len(cls))}
	var out []string
	for i, f := range t.flags {
		if f&chunkInUse != 0 {
			id := n.retag(t.types[i])
			out = append(out, fmt.Sprintf("%d:%s", id, n.names.Name(id)))
		}
	}
	return out
}

// TestReferenceLayout: the table generated by native/internal/genlayout
// is what this machine's libc DWARF says, when it is the same glibc.
func TestReferenceLayout(t *testing.T) {
	requireLibcDebug(t)
	path := "/lib/x86_64-linux-gnu/libc.so.6"
	f, err := elf.Open(path)
	if err != nil {
		t.Skipf("no %s: %v", path, err)
	}
	var b []byte
	if sec := f.Section(".note.gnu.build-id"); sec != nil {
		b, err = sec.Data()
	}
	f.Close()
	if err != nil || len(b) <= 16 {
		t.Fatalf("build ID note: %v", err)
	}
	if data, _ := os.ReadFile(path); glibcVersion(data) != referenceLayout.Glibc {
		t.Skipf("this libc is not glibc %s", referenceLayout.Glibc)
	}
	debug, ok := libcDebugFile(path, hex.EncodeToString(b[16:]), []string{"/usr/lib/debug"})
	if !ok {
		t.Fatal("no debug file")
	}
	l, err := ReadDWARFLayout(debug)
	if err != nil {
		t.Fatal(err)
	}
	l.Glibc = referenceLayout.Glibc
	if *l != referenceLayout {
		t.Errorf("libc's DWARF gives %+v, the table %+v: regenerate it with native/internal/genlayout", *l, referenceLayout)
	}
}
