// Command typing allocates objects whose types only the program's own data
// says: values in a sync.Pool (one of them allocated statically, by
// `var p = &sync.Pool{}`), closures stored in interfaces and the variables
// they capture, closures held only as unsafe.Pointers, objects reached only
// through interior pointers or a statically allocated struct, a goroutine's
// local slice's backing array and an inlined function's local array; and
// the runtime's idle GC workers' nodes, which only tagged pointers reach;
// values held only by a map of many groups; buffered channels of
// pointer-free elements, whose buffer shares the channel's object; timers,
// which the runtime allocates as its own runtime.timeTimer from Go 1.23; and the runtime's itab table,
// allocated longer than its type once the program's itabs (itabs.go) have
// outgrown the one in data. It runs a GC, prints the counts of each type as "truth
// count.TYPE N" lines with the runtime's MemStats and kills itself with
// SIGABRT, so that with GOTRACEBACK=crash the kernel writes a core file.
//
// It runs exactly one GC after filling the pool, so that the pool's
// values are in its victim cache (sync.oldPools) when the core is written.
package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"testprog/progkit"
)

// Pooled values are kept in a sync.Pool by pointer.
type Pooled struct {
	ID  int
	Buf [40]byte
	Ref *Captured
}

// PooledVal values are kept in a sync.Pool by value (boxed copies).
type PooledVal struct{ A, B, C int64 }

// Captured is captured by closures stored in interfaces.
type Captured struct {
	N    int
	Name string
}

// Handler is implemented by HandlerFunc, a named func type.
type Handler interface{ Serve(int) int }

// HandlerFunc is a func type with a method, as net/http's.
type HandlerFunc func(int) int

// Serve implements Handler.
func (f HandlerFunc) Serve(x int) int { return f(x) }

// Holder is reached only through a pointer to its Inner field.
type Holder struct {
	Tag   int64
	Pad   [3]int64
	Inner Inner
}

// Inner is embedded in Holder.
type Inner struct{ X, Y int64 }

// Rx mimics regexp/syntax.Regexp: Rune points into Rune0.
type Rx struct {
	Op    int
	Flags int
	Rune  []rune
	Rune0 [2]rune
	Sub   []*Rx
	Name  string
}

// StaticPooled values are kept in a sync.Pool the compiler allocates
// statically (no variable of its own describes it).
type StaticPooled struct {
	ID  int
	Tag string
}

// Registry is allocated statically too; its items are held only by it.
type Registry struct {
	Name  string
	Items []*RegItem
}

// RegItem is held only by the static Registry's slice.
type RegItem struct {
	Seq  int64
	Data [5]int64
}

// MapVal is held only by maps of two groups (swiss tables whose groups
// array is small enough to have no malloc header).
type MapVal struct {
	K    int
	Name string
}

// Tick is a pointer-free channel element.
type Tick struct{ At, Seq int64 }

// Waiter holds a buffered channel of Ticks.
type Waiter struct {
	C  chan Tick
	ID int
}

// Frame is held only by a goroutine's local slice (noscan: nothing
// else says what its backing array holds).
type Frame struct {
	Seq  int64
	Data [3]int64
}

// Cell is held only by a slice local to a function inlined into the
// goroutine's function.
type Cell struct{ V [4]int64 }

const (
	nPool    = 50
	nPoolVal = 30
	nAnyFunc = 40
	nHandler = 35
	nHolder  = 60
	nRx      = 45
	nFrame   = 32 // 32 Frames of 32 bytes fill a 1024-byte size class
	nCell    = 32
	nWorkers = 2
	nHidden  = 25
	nStatic  = 20
	nRegItem = 15
	nMaps    = 10
	nMapVal  = 12 // per map: more than one group's 8 slots
	nWaiter  = 20
	nTimer   = 10
)

var (
	pool    sync.Pool
	valPool sync.Pool
	// staticPool and registry point to values in data, not the heap.
	staticPool = &sync.Pool{}
	registry   = &Registry{Name: "static"}
	mapVals    []map[int]*MapVal
	waiters    []*Waiter
	timers     []*time.Timer
	anyFuncs   []any
	handlers   []Handler
	inners     []*Inner
	runes      [][]rune
	// hidden holds closures as unsafe.Pointers: only their first word,
	// their function's entry, says what they are.
	hidden []unsafe.Pointer

	// cellCount is a variable so that hold's slice, of a size the
	// compiler cannot see, is allocated on the heap.
	cellCount = nCell

	ready = make(chan int)
	block = make(chan int)
)

// fill puts values in the pools and stores closures and interior pointers.
func fill() {
	shared := &Captured{N: -1, Name: "shared"}
	for i := 0; i < nPool; i++ {
		pool.Put(&Pooled{ID: i, Ref: shared})
	}
	for i := 0; i < nStatic; i++ {
		staticPool.Put(&StaticPooled{ID: i, Tag: "s"})
	}
	for i := 0; i < nRegItem; i++ {
		registry.Items = append(registry.Items, &RegItem{Seq: int64(i)})
	}
	for i := 0; i < nMaps; i++ {
		m := map[int]*MapVal{}
		for j := 0; j < nMapVal; j++ {
			m[j] = &MapVal{K: j, Name: "v"}
		}
		mapVals = append(mapVals, m)
	}
	for i := 0; i < nWaiter; i++ {
		w := &Waiter{C: make(chan Tick, 3), ID: i}
		w.C <- Tick{Seq: int64(i)}
		waiters = append(waiters, w)
	}
	for i := 0; i < nTimer; i++ {
		timers = append(timers, time.NewTimer(time.Hour))
	}
	for i := 0; i < nPoolVal; i++ {
		valPool.Put(PooledVal{A: int64(i)})
	}
	for i := 0; i < nAnyFunc; i++ {
		c := &Captured{N: i, Name: "c" + strconv.Itoa(i)}
		var h Handler = HandlerFunc(func(x int) int { return x })
		anyFuncs = append(anyFuncs, func() int { return c.N + h.Serve(i) })
	}
	for i := 0; i < nHandler; i++ {
		c := &Captured{N: i}
		handlers = append(handlers, HandlerFunc(func(x int) int { c.N += x; return c.N }))
	}
	for i := 0; i < nHolder; i++ {
		h := &Holder{Tag: int64(i)}
		inners = append(inners, &h.Inner)
	}
	for i := 0; i < nRx; i++ {
		re := &Rx{Op: i, Name: "rx"}
		re.Rune0[0] = rune('a' + i%26)
		re.Rune = re.Rune0[:1]
		runes = append(runes, re.Rune)
	}
}

// hide stores closures as unsafe.Pointers. They capture an int, so that
// Go 1.22, whose DWARF does not say where captured variables are, types
// them as fully as later versions.
//
//go:noinline
func hide() {
	for i := 0; i < nHidden; i++ {
		n := i
		f := func() int { return n }
		hidden = append(hidden, *(*unsafe.Pointer)(unsafe.Pointer(&f)))
	}
}

// worker keeps frames in a local slice only.
//
//go:noinline
func worker(n int) {
	frames := make([]Frame, n)
	for i := range frames {
		frames[i].Seq = int64(i)
	}
	ready <- 1
	<-block
	runtime.KeepAlive(frames)
}

// hold is inlined into the goroutines' functions; its local slice holds
// the Cells.
func hold(n int) {
	cells := make([]Cell, n)
	cells[0].V[0] = 1
	ready <- 1
	<-block
	runtime.KeepAlive(cells)
}

var out = make([]byte, 0, 4096)

func truth(key string, v uint64) {
	out = append(out, "truth "...)
	out = append(out, key...)
	out = append(out, ' ')
	out = strconv.AppendUint(out, v, 10)
	out = append(out, '\n')
}

func main() {
	os.Stdout.Write([]byte("typing: building\n")) // the first write may allocate
	debug.SetGCPercent(-1)                        // no GC but ours: the pools keep their values
	fill()
	hide()
	makeItabs()
	for i := 0; i < nWorkers; i++ {
		go worker(nFrame)
		<-ready
		go func() { hold(cellCount) }()
		<-ready
	}

	truth("count.main.Pooled", nPool)
	truth("count.main.PooledVal", nPoolVal)
	truth("count.main.StaticPooled", nStatic)
	truth("count.main.RegItem", nRegItem)
	truth("count.main.MapVal", nMaps*nMapVal)
	truth("count.runtime.itabTableType", 1)
	truth("buffered_chans", nWaiter) // of type "chan main.Tick"
	truth("timers", nTimer)
	truth("count.main.Captured", nAnyFunc+nHandler+1)
	truth("hidden_closures", nHidden) // of type "closure main.hide.func1"
	truth("count.main.Holder", nHolder)
	truth("count.main.Rx", nRx)
	truth("count.[32]main.Frame", nWorkers)
	truth("count.[32]main.Cell", nWorkers)
	truth("junk.objects", 0)
	truth("junk.bytes", 0)

	var ms runtime.MemStats
	progkit.Quiesce()
	runtime.GC() // moves the pools' values to their victim caches
	for i := 0; i < 1000; i++ {
		runtime.Gosched() // lets every GC worker park on the worker pool
	}
	runtime.ReadMemStats(&ms)
	// One background mark worker per P, parked on the worker pool.
	truth("gc_workers", uint64(runtime.GOMAXPROCS(0)))
	truth("HeapAlloc", ms.HeapAlloc)
	truth("HeapObjects", ms.HeapObjects)
	progkit.RawWrite(out)
	progkit.Abort()
}
