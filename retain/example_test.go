package retain_test

import (
	"fmt"

	"github.com/heapsift/heapsift/retain"
)

// A cache (object 0) holds two entries (1, 2), each with a buffer (3, 4);
// a session (5) shares entry 2 with the cache. Labels: root names
// 0 "cache" and 1 "session"; fields 10 "[i]", 11 "buf", 12 "entry".
func Example() {
	names := map[uint32]string{0: "cache", 1: "session", 10: "[i]", 11: "buf", 12: "entry"}
	sizes := []uint64{64, 32, 32, 4096, 1024, 48}
	roots := []retain.Root{{Object: 0, Label: 0}, {Object: 5, Label: 1}}
	edges := func(emit func(from, to, label uint32)) {
		emit(0, 1, 10)
		emit(0, 2, 10)
		emit(1, 3, 11)
		emit(2, 4, 11)
		emit(5, 2, 12)
	}
	g, err := retain.BuildGraph(len(sizes), sizes, roots, edges)
	if err != nil {
		fmt.Println(err)
		return
	}
	d := retain.ComputeDominators(g)
	for _, obj := range d.TopDominators(3) {
		fmt.Printf("object %d retains %d bytes\n", obj, d.Retained(obj))
	}
	for _, step := range retain.ShortestPaths(g).PathTo(4) {
		fmt.Printf("-> %s: object %d\n", names[step.Label], step.Object)
	}
	// Output:
	// object 0 retains 4192 bytes
	// object 2 retains 1056 bytes
	// object 5 retains 48 bytes
	// -> cache: object 0
	// -> [i]: object 2
	// -> buf: object 4
}
