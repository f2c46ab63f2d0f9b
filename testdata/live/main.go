// Command live is the test program for heapsift --pid: it builds a known
// heap, prints its ground truth as "truth KEY VALUE" lines and then keeps
// running, idle, so that heapsift can read it in place. It answers SIGUSR1
// with the line "alive" on stdout (without allocating), so that a test can
// tell that it runs on after heapsift let go of it; SIGABRT (with
// GOTRACEBACK=crash) ends it with a core of the same heap.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"testprog/progkit"
)

// Item is the object the test counts.
type Item struct {
	ID      int64
	Name    string
	Payload []byte
	Next    *Item
}

var items []*Item

func main() {
	n := flag.Int("items", 20000, "Items to keep alive")
	payload := flag.Int("payload", 256, "bytes of non-zero payload per Item")
	flag.Parse()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	for i := 0; i < *n; i++ {
		it := &Item{ID: int64(i), Name: fmt.Sprintf("item-%d", i), Payload: make([]byte, *payload)}
		for j := range it.Payload {
			it.Payload[j] = byte(i + j | 1)
		}
		if i > 0 {
			it.Next = items[i-1]
		}
		items = append(items, it)
	}
	runtime.GC()
	runtime.GC()
	fmt.Printf("truth items %d\n", len(items))
	fmt.Printf("truth pid %d\n", os.Getpid())
	fmt.Printf("truth ready 1\n")
	alive := []byte("alive\n")
	for range sig {
		progkit.RawWrite(alive)
	}
}
