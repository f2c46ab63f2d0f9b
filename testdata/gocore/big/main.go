// Command big builds a large heap (about 18 million objects and 2 GB with
// the default -n) for benchmarking the heap reconstruction, prints its
// MemStats as truth lines and kills itself with SIGABRT.
package main

import (
	"flag"
	"os"
	"runtime"
	"strconv"
	"syscall"
)

// Item is a list node with a name.
type Item struct {
	ID    int
	Name  string
	Next  *Item
	Attrs map[string]int
}

// Blob holds a byte slice.
type Blob struct {
	Data []byte
	Tags []string
}

var (
	items []*Item
	index map[int]*Item
	blobs []*Blob
	ifs   []any
)

func main() {
	n := flag.Int("n", 3_000_000, "items")
	flag.Parse()
	index = make(map[int]*Item)
	var prev *Item
	for i := 0; i < *n; i++ {
		it := &Item{ID: i, Name: "item-name-" + strconv.Itoa(i), Next: prev}
		if i%100 == 0 {
			it.Attrs = map[string]int{"a": i, "b": i + 1}
		}
		prev = it
		if i%4 == 0 {
			items = append(items, it)
		}
		if i%3 == 0 {
			index[i] = it
		}
		if i%2 == 0 {
			blobs = append(blobs, &Blob{Data: make([]byte, 64+i%200), Tags: []string{"x", strconv.Itoa(i)}})
		}
		if i%5 == 0 {
			ifs = append(ifs, i, float64(i), it)
		}
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	out := make([]byte, 0, 256)
	out = append(out, "truth HeapAlloc "...)
	out = strconv.AppendUint(out, ms.HeapAlloc, 10)
	out = append(out, "\ntruth HeapObjects "...)
	out = strconv.AppendUint(out, ms.HeapObjects, 10)
	out = append(out, '\n')
	os.Stdout.Write(out)
	syscall.Kill(syscall.Getpid(), syscall.SIGABRT)
	select {}
}
