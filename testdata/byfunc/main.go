// Command byfunc is the test program of heapsift retain's merging of
// goroutines running the same function: -workers goroutines of
// main.serve each hold a local buffer of -size bytes (a size class, so
// that the buffer's type is [size]uint8) and nothing else holds them. It
// prints what it made as "truth KEY VALUE" lines and kills itself with
// SIGABRT (run it with GOTRACEBACK=crash) so that the kernel writes a
// core.
//
// Each goroutine also keeps, in its argument sh, a pointer to the one
// Shared object the global main.shared points to: it is reached from one
// global root and -workers stack roots.
//
// Truth keys: workers, size, bytes (their buffers' bytes together), func,
// var, type; shared (hex address of the Shared object).
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"

	"testprog/progkit"
)

var never = make(chan int)

// Shared is held by a global and by every goroutine of main.serve.
type Shared struct{ p *int }

var shared *Shared

// serve holds its buffer until the process dies.
//
//go:noinline
func serve(size int, ready chan<- int, sh *Shared) {
	buf := make([]byte, size)
	buf[0] = 1
	ready <- 1
	<-never
	runtime.KeepAlive(buf)
	runtime.KeepAlive(sh)
}

func main() {
	workers := flag.Int("workers", 8, "goroutines running main.serve")
	size := flag.Int("size", 4096, "bytes of each buffer (a size class)")
	flag.Parse()
	ready := make(chan int)
	shared = &Shared{p: new(int)} // on the heap: a static one would be no heap object
	for i := 0; i < *workers; i++ {
		go serve(*size, ready, shared)
		<-ready
	}
	runtime.GC()
	fmt.Printf("truth workers %d\n", *workers)
	fmt.Printf("truth size %d\n", *size)
	fmt.Printf("truth bytes %d\n", *workers**size)
	fmt.Printf("truth func main.serve\n")
	fmt.Printf("truth var buf\n")
	fmt.Printf("truth type [%d]uint8\n", *size)
	fmt.Printf("truth shared %p\n", shared)
	os.Stdout.Sync()
	progkit.Abort()
}
