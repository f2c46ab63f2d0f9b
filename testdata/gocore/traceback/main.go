// Command traceback parks a few hundred goroutines in varied states —
// blocked in channel operations, select, sleep, a mutex, a condition
// variable; inside calls the compiler inlines and inside a generic
// function; started by main and by other goroutines — then panics, so that
// with GOTRACEBACK=crash its stderr holds the runtime's own traceback of
// every goroutine and its core file the same goroutines, for heapsift's
// goroutine list to be compared with, frame by frame. Truth keys:
//
//	numgoroutine N  runtime.NumGoroutine: the goroutines not the runtime's own
//	workers N       goroutines of each kind main starts
//	gc_before T     runtime nanotime before and after the collections that
//	gc_after T      ran while every worker was waiting
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
	_ "unsafe" // for go:linkname
)

// nanotime is the runtime's clock, the one g.waitsince is measured with.
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64

var (
	ready   sync.WaitGroup
	never   = make(chan int)
	never2  = make(chan int)
	mu      sync.Mutex
	cond    = sync.NewCond(&sync.Mutex{})
	sink    []any
	sinkMu  sync.Mutex
	workers = 60
)

// wait is small enough to be inlined into its callers.
func wait(c chan int) int { return <-c }

// relay is inlined too, and calls wait, inlined in turn.
func relay(c chan int) int { return wait(c) + 1 }

//go:noinline
func chanWorker(n int) {
	buf := make([]byte, 64+n)
	sinkAdd(buf)
	ready.Done()
	relay(never)
}

//go:noinline
func selectWorker() {
	ready.Done()
	select {
	case <-never:
	case <-never2:
	}
}

//go:noinline
func sleepWorker() {
	ready.Done()
	time.Sleep(time.Hour)
}

//go:noinline
func mutexWorker() {
	ready.Done()
	mu.Lock()
	mu.Unlock()
}

//go:noinline
func condWorker() {
	cond.L.Lock()
	ready.Done()
	cond.Wait()
	cond.L.Unlock()
}

type box[T any] struct{ v T }

//go:noinline
func genericWorker[T any](v T) {
	b := &box[T]{v: v}
	sinkAdd(b)
	ready.Done()
	<-never2
}

//go:noinline
func spawner(n int) {
	for i := 0; i < n; i++ {
		ready.Add(1)
		go chanWorker(i)
	}
	ready.Done()
	<-never
}

//go:noinline
func recurse(n int) {
	if n == 0 {
		ready.Done()
		<-never
		return
	}
	recurse(n - 1)
}

func sinkAdd(v any) {
	sinkMu.Lock()
	sink = append(sink, v)
	sinkMu.Unlock()
}

func main() {
	mu.Lock()
	for i := 0; i < workers; i++ {
		ready.Add(6)
		go chanWorker(i)
		go selectWorker()
		go sleepWorker()
		go mutexWorker()
		go condWorker()
		if i%2 == 0 {
			go genericWorker(i)
		} else {
			go genericWorker("s")
		}
	}
	ready.Add(3)
	go spawner(20)
	go recurse(30)
	go recurse(200) // deeper than the 100 frames a traceback prints
	ready.Wait()
	// A collection records when each waiting goroutine began to wait
	// (g.waitsince, the collection's start): between these two times.
	// (The first collection of a process does not: two are run.)
	gcBefore := nanotime()
	runtime.GC()
	runtime.GC()
	gcAfter := nanotime()
	time.Sleep(100 * time.Millisecond)
	if len(os.Args) > 1 {
		return
	}
	// Ground truth for which goroutines the runtime counts as its own:
	// NumGoroutine leaves them out.
	fmt.Printf("truth numgoroutine %d\n", runtime.NumGoroutine())
	fmt.Printf("truth workers %d\n", workers)
	fmt.Printf("truth gc_before %d\n", gcBefore)
	fmt.Printf("truth gc_after %d\n", gcAfter)
	panic("traceback test: crashing on purpose")
}
