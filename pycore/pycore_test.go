package pycore

import (
	"testing"

	"github.com/heapsift/heapsift/dump"
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
	return h, c
}
