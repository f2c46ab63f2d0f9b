// Command goroutines parks goroutines in known functions, each holding a
// heap object only through a local variable, prints the ground truth as
// "truth KEY VALUE" lines and then crashes (run it with GOTRACEBACK=crash)
// so that a core file shows every goroutine blocked where the truth says.
//
// Truth keys:
//
//	held_<name> ADDR  heap object held only by the local variable of the
//	                  function named by func_<name>
//	var_<name> NAME   the name of that variable
//	func_<name> FUNC  the function whose frame holds it
//	depth N           frames of main.recurse on the recursing goroutine
//	held_stackobj ADDR heap object referenced only from a stack object
//	                   (a local struct whose address is taken) in
//	                   main.stackObjWorker
//	inlined_<name> F  the variable belongs to F, inlined into func_<name>
//	held_bigobj ADDR  the same for the last element of a large array of
//	                  pointers in main.bigStackObjWorker (see bigLen)
//	held_spin1 ADDR   heap objects held by two spinning goroutines (run
//	held_spin2 ADDR   with STACKTEST_SPIN=1): with GOMAXPROCS=1 at least one
//	                  of them is asynchronously preempted when main crashes,
//	                  so its frame is scanned conservatively
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
	"unsafe"
)

type payload struct {
	tag  int
	next *payload
	pad  [5]uintptr
}

//go:noinline
func newPayload(tag int) *payload {
	return &payload{tag: tag}
}

func addr(p *payload) uintptr { return uintptr(unsafe.Pointer(p)) }

var (
	ready   sync.WaitGroup
	never   = make(chan int)
	never2  = make(chan int)
	mu      sync.Mutex
	printMu sync.Mutex
)

func truth(key string, value any) {
	printMu.Lock()
	defer printMu.Unlock()
	switch v := value.(type) {
	case uintptr:
		fmt.Printf("truth %s %#x\n", key, v)
	default:
		fmt.Printf("truth %s %v\n", key, v)
	}
}

//go:noinline
func chanWorker() {
	cache := newPayload(1)
	truth("held_chan", addr(cache))
	truth("var_chan", "cache")
	truth("func_chan", "main.chanWorker")
	ready.Done()
	<-never
	runtime.KeepAlive(cache)
}

//go:noinline
func selectWorker() {
	table := newPayload(2)
	truth("held_select", addr(table))
	truth("var_select", "table")
	truth("func_select", "main.selectWorker")
	ready.Done()
	select {
	case <-never:
	case <-never2:
	}
	runtime.KeepAlive(table)
}

//go:noinline
func sleepWorker() {
	session := newPayload(3)
	truth("held_sleep", addr(session))
	truth("var_sleep", "session")
	truth("func_sleep", "main.sleepWorker")
	ready.Done()
	time.Sleep(time.Hour)
	runtime.KeepAlive(session)
}

//go:noinline
func mutexWorker() {
	lockedOut := newPayload(4)
	truth("held_mutex", addr(lockedOut))
	truth("var_mutex", "lockedOut")
	truth("func_mutex", "main.mutexWorker")
	ready.Done()
	mu.Lock()
	runtime.KeepAlive(lockedOut)
}

const depth = 37

//go:noinline
func recurse(n int, bottom *payload) int {
	if n == 1 {
		ready.Done()
		<-never
		runtime.KeepAlive(bottom)
		return 0
	}
	return recurse(n-1, bottom) + 1
}

//go:noinline
func recurseWorker() {
	deep := newPayload(5)
	truth("held_recurse", addr(deep))
	truth("var_recurse", "deep")
	truth("func_recurse", "main.recurseWorker")
	truth("depth", depth)
	recurse(depth, nil)
	runtime.KeepAlive(deep)
}

// holder is a stack object: its address is taken, so the compiler keeps it
// in memory in the frame and describes it with FUNCDATA_StackObjects.
type holder struct {
	n   int
	ptr *payload
	x   [3]int
}

//go:noinline
func fill(h *holder) {
	h.ptr = newPayload(6)
	truth("held_stackobj", addr(h.ptr))
}

// blockWith keeps h, a pointer into its caller's frame, live while it
// blocks. The caller no longer uses h itself, so the GC finds the stack
// object h, and the payload it points to, only through this pointer.
//
//go:noinline
func blockWith(h *holder) {
	ready.Done()
	<-never
	runtime.KeepAlive(h)
}

//go:noinline
func stackObjWorker() {
	var h holder
	fill(&h)
	truth("func_stackobj", "main.stackObjWorker")
	truth("var_stackobj", "h")
	blockWith(&h)
}

//go:noinline
func blockWithBig(b *[bigLen]*payload) {
	ready.Done()
	<-never
	runtime.KeepAlive(b)
}

//go:noinline
func bigStackObjWorker() {
	var big [bigLen]*payload
	big[bigLen-1] = newPayload(8)
	truth("held_bigobj", addr(big[bigLen-1]))
	truth("func_bigobj", "main.bigStackObjWorker")
	truth("var_bigobj", "big")
	blockWithBig(&big)
}

// inlineSeed hands holdAndWait its object; holdAndWait takes it over, so
// that afterwards only its local variable kept holds it.
var inlineSeed *payload

// holdAndWait is small enough to be inlined into inlineWorker, so kept is a
// variable of an inlined call living in inlineWorker's frame.
func holdAndWait() {
	kept := inlineSeed
	inlineSeed = nil
	ready.Done()
	<-never
	runtime.KeepAlive(kept)
}

//go:noinline
func inlineWorker() {
	holdAndWait()
}

var spinSink uintptr

//go:noinline
func spinWorker(key string) {
	obj := newPayload(7)
	truth(key, addr(obj))
	ready.Done()
	x := uintptr(0)
	for i := 0; ; i++ {
		x += uintptr(obj.tag) + uintptr(i)
		if x == 42 {
			spinSink = x
		}
	}
}

func main() {
	mu.Lock()
	inlineSeed = newPayload(9)
	truth("held_inline", addr(inlineSeed))
	truth("var_inline", "kept")
	truth("func_inline", "main.inlineWorker")
	truth("inlined_inline", "main.holdAndWait")
	workers := []func(){inlineWorker, chanWorker, selectWorker, sleepWorker, mutexWorker, recurseWorker, stackObjWorker, bigStackObjWorker}
	ready.Add(len(workers))
	for _, w := range workers {
		go w()
	}
	ready.Wait()
	if os.Getenv("STACKTEST_SPIN") != "" {
		runtime.GOMAXPROCS(1)
		ready.Add(2)
		go spinWorker("held_spin1")
		go spinWorker("held_spin2")
		ready.Wait()
	}
	time.Sleep(300 * time.Millisecond)
	truth("done", 1)
	panic("stack test: crashing on purpose")
}
