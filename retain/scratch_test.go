package retain

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/heapsift/heapsift/heap"
	"github.com/heapsift/heapsift/internal/fakeheap"
)

// listHeap is a heap of n items, each holding a payload, in a list a
// global holds: items retain 48 bytes each.
func listHeap(n int) *fakeheap.Heap {
	h := fakeheap.New()
	head := h.Add("list", 16)
	h.Global("items", head)
	prev := head
	for i := 0; i < n; i++ {
		item := h.Add("item", 32)
		h.Ref(prev, item, heap.Step{Kind: heap.StepField, Name: "next"})
		h.Ref(item, h.Add("payload", 16), heap.Step{Kind: heap.StepField, Name: "payload"})
		prev = item
	}
	return h
}

// scratchMappings counts the mappings of files of dir in this process.
func scratchMappings(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), filepath.Join(dir, "heapsift-scratch-"))
}

// assertEmpty fails unless dir holds no file.
func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Errorf("scratch directory holds %v (%v)", entries, err)
	}
}

// TestScratchDir: with a scratch directory the analysis's arrays are files
// there, mapped until Close and unlinked at once, and its groups are those
// of the analysis in memory; a failed analysis leaves nothing mapped.
func TestScratchDir(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("scratch files are mapped on Linux only")
	}
	const n = 5000
	h := listHeap(n)
	inMemory, err := FromHeap(h, HeapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	a, err := FromHeap(h, HeapOptions{ScratchDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if scratchMappings(t, dir) == 0 {
		t.Errorf("no array is mapped from %s", dir)
	}
	assertEmpty(t, dir)
	if !reflect.DeepEqual(a.Groups(), inMemory.Groups()) {
		t.Errorf("groups with a scratch directory:\n%+v\nin memory:\n%+v", a.Groups(), inMemory.Groups())
	}
	// The first item is one group (list.next), the others another
	// (item.next); the first retains them all.
	var count int
	var bytes, retained uint64
	for _, g := range a.Groups() {
		if a.TypeName(g.Type) == "item" {
			count, bytes, retained = count+g.Count, bytes+g.Bytes, max(retained, g.Retained)
		}
	}
	if count != n || bytes != 32*n || retained != 48*n {
		t.Errorf("%d items of %d bytes retaining %d, want %d retaining %d", count, bytes, retained, n, 48*n)
	}
	a.Close()
	if m := scratchMappings(t, dir); m != 0 {
		t.Errorf("%d scratch mappings after Close", m)
	}

	if _, err := FromHeap(&fickleHeap{Heap: h, calls: map[int]int{}}, HeapOptions{ScratchDir: dir}); err == nil {
		t.Errorf("no error for a heap whose references change")
	}
	if m := scratchMappings(t, dir); m != 0 {
		t.Errorf("%d scratch mappings after a failed analysis", m)
	}
	assertEmpty(t, dir)

	for _, bad := range []string{filepath.Join(dir, "missing"), "/proc/version"} {
		if _, err := FromHeap(h, HeapOptions{ScratchDir: bad}); err == nil || !strings.Contains(err.Error(), "scratch directory") {
			t.Errorf("scratch directory %s: error %v", bad, err)
		}
	}
}

// fickleHeap loses an object's last reference after its first reading.
type fickleHeap struct {
	*fakeheap.Heap
	calls map[int]int
}

func (h *fickleHeap) Refs(obj int) (targets, labels []uint32) {
	targets, labels = h.Heap.Refs(obj)
	h.calls[obj]++
	if h.calls[obj] > 1 && len(targets) > 0 {
		return targets[:len(targets)-1], labels[:len(labels)-1]
	}
	return targets, labels
}
