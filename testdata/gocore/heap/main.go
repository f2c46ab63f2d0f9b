// Command heap allocates known numbers of objects of its own types, reached in
// many different ways (pointer slices, map keys and values, interfaces,
// buffered channels, generic types, closures, finalizers and a goroutine's
// local variable), runs a GC, then allocates some garbage (Junk) that
// nothing reaches, prints the counts and the runtime's MemStats as "truth
// KEY VALUE" lines and kills itself with SIGABRT, so that with
// GOTRACEBACK=crash the kernel writes a core file.
//
// After ReadMemStats nothing may allocate, or the core holds objects the
// printed MemStats do not count: the output is built in a buffer allocated
// beforehand, and the program quiesces first (see progkit.Quiesce).
package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"

	"testprog/progkit"
	"testprog/sub"
)

// Small is a 24-byte pointerful object: no malloc header, span heap bits.
type Small struct {
	A, B int
	Next *Small
}

// Noscan is a 24-byte object without pointers, typed only through pointers.
type Noscan struct{ X, Y, Z int64 }

// Medium is larger than 512 bytes and has pointers: it carries a malloc header.
type Medium struct {
	Name string
	Vals [80]int
	Link *Small
}

// Big is a large object typed by its span's largeType.
type Big struct{ Ptrs [5000]*Small }

// Elem lives only inside slice backing arrays.
type Elem struct {
	ID  int
	Ref *Small
}

// MKey and MVal are reached through a map's keys and values.
type MKey struct {
	K   int
	Tag string
}

// MVal is a map value.
type MVal struct {
	V   [4]int
	Ref *Small
}

// Shape is implemented by *Square and by Circle (boxed by value).
type Shape interface{ Area() int }

// Square is stored in interfaces as a pointer.
type Square struct {
	Side int
	Ref  *Small
}

// Area implements Shape.
func (s *Square) Area() int { return s.Side * s.Side }

// Circle is stored in interfaces by value, so each is a separate heap copy.
type Circle struct{ R, Pad int64 }

// Area implements Shape.
func (c Circle) Area() int { return int(3 * c.R * c.R) }

// Msg travels through buffered channels.
type Msg struct {
	Seq  int
	Body *Small
}

// Node is a generic linked-list node.
type Node[T any] struct {
	Val  T
	Next *Node[T]
}

// Local objects are reachable only from a goroutine's local variable.
type Local struct {
	Buf  [6]int
	Self *Local
}

// Fin objects have finalizers.
type Fin struct {
	N int
	P *Small
}

// Counter is captured by closures.
type Counter struct{ N, M int }

// Junk is allocated after the last GC and dropped: garbage the core still
// holds (MemStats counts it) but nothing reaches.
type Junk struct {
	Prev *Junk
	Ref  *Small
	Pad  [6]int
}

var (
	smalls  []*Small
	noscans []*Noscan
	mediums []*Medium
	bigs    []*Big
	elems   []Elem
	few     []Elem
	table   map[*MKey]*MVal
	byName  map[string]Msg
	shapes  []Shape
	ptrMsgs chan *Msg
	valMsgs chan Msg
	ints    *Node[int]
	strs    *Node[string]
	fins    []*Fin
	funcs   []func() int
	boxes   *sub.Box[*Small]

	ready = make(chan int)
	block = make(chan int)
)

const (
	nSmall   = 1000
	nNoscan  = 700
	nMedium  = 60
	nBig     = 5
	nElems   = 2000
	nMap     = 400
	nByName  = 300
	nSquare  = 300
	nCircle  = 200
	nPtrMsg  = 100
	nValMsg  = 40
	nIntNode = 300
	nStrNode = 200
	nLocal   = 150
	nFin     = 10
	nFunc    = 30
	nBox     = 120
	nJunk    = 1000
)

func build() {
	for i := 0; i < nSmall; i++ {
		s := &Small{A: i}
		if i > 0 {
			s.Next = smalls[i-1]
		}
		smalls = append(smalls, s)
	}
	some := func(i int) *Small { return smalls[i%nSmall] }
	for i := 0; i < nNoscan; i++ {
		noscans = append(noscans, &Noscan{X: int64(i)})
	}
	for i := 0; i < nMedium; i++ {
		mediums = append(mediums, &Medium{Name: "medium", Link: some(i)})
	}
	for i := 0; i < nBig; i++ {
		b := &Big{}
		b.Ptrs[i] = some(i)
		bigs = append(bigs, b)
	}
	elems = make([]Elem, nElems)
	for i := range elems {
		elems[i] = Elem{ID: i, Ref: some(i)}
	}
	few = make([]Elem, 3)
	table = make(map[*MKey]*MVal)
	for i := 0; i < nMap; i++ {
		table[&MKey{K: i, Tag: "key-" + strconv.Itoa(i)}] = &MVal{Ref: some(i)}
	}
	byName = make(map[string]Msg)
	for i := 0; i < nByName; i++ {
		byName["name-"+strconv.Itoa(i)] = Msg{Seq: i, Body: some(i)}
	}
	for i := 0; i < nSquare; i++ {
		shapes = append(shapes, &Square{Side: i, Ref: some(i)})
	}
	for i := 0; i < nCircle; i++ {
		shapes = append(shapes, Circle{R: int64(i) + 1000})
	}
	ptrMsgs = make(chan *Msg, 128)
	for i := 0; i < nPtrMsg; i++ {
		ptrMsgs <- &Msg{Seq: i, Body: some(i)}
	}
	valMsgs = make(chan Msg, 50)
	for i := 0; i < nValMsg; i++ {
		valMsgs <- Msg{Seq: i, Body: some(i)}
	}
	for i := 0; i < nIntNode; i++ {
		ints = &Node[int]{Val: i, Next: ints}
	}
	for i := 0; i < nStrNode; i++ {
		strs = &Node[string]{Val: "node-" + strconv.Itoa(i), Next: strs}
	}
	for i := 0; i < nFin; i++ {
		f := &Fin{N: i, P: some(i)}
		runtime.SetFinalizer(f, func(*Fin) {})
		fins = append(fins, f)
	}
	boxes = sub.Chain(nBox, some)
	for i := 0; i < nFunc; i++ {
		c := &Counter{N: i}
		funcs = append(funcs, func() int { c.M++; return c.N + c.M })
	}
}

// worker keeps a list of Local objects in a local variable only.
func worker() {
	var head *Local
	for i := 0; i < nLocal; i++ {
		head = &Local{Buf: [6]int{i}, Self: head}
	}
	ready <- 1
	<-block
	runtime.KeepAlive(head)
}

// makeJunk allocates a chain of nJunk Junk objects and drops it.
//
//go:noinline
func makeJunk() {
	var prev *Junk
	for i := 0; i < nJunk; i++ {
		prev = &Junk{Prev: prev, Ref: smalls[i%nSmall]}
	}
	junkSink = prev
	junkSink = nil
}

var junkSink *Junk

var out = make([]byte, 0, 4096)

func truth(key string, v uint64) {
	out = append(out, "truth "...)
	out = append(out, key...)
	out = append(out, ' ')
	out = strconv.AppendUint(out, v, 10)
	out = append(out, '\n')
}

func main() {
	os.Stdout.Write([]byte("heap: building\n")) // the first write may allocate
	build()
	go worker()
	<-ready

	truth("count.main.Small", nSmall)
	truth("count.main.Noscan", nNoscan)
	truth("count.main.Medium", nMedium)
	truth("count.main.Big", nBig)
	truth("count.main.Elem", 0)
	truth("count.main.MKey", nMap)
	truth("count.main.MVal", nMap)
	truth("count.main.Square", nSquare)
	truth("count.main.Circle", nCircle)
	truth("count.main.Msg", nPtrMsg)
	truth("count.main.Node[int]", nIntNode)
	truth("count.main.Node[string]", nStrNode)
	truth("count.main.Local", nLocal)
	truth("count.main.Fin", nFin)
	truth("count.main.Counter", nFunc)
	truth("count.testprog/sub.Box[*main.Small]", nBox)

	truth("junk.objects", nJunk)
	truth("junk.bytes", nJunk*64) // Junk is 64 bytes, a size class of its own

	var ms runtime.MemStats
	progkit.Quiesce()
	runtime.GC()
	debug.SetGCPercent(-1) // keep the junk until the core is written
	makeJunk()
	runtime.ReadMemStats(&ms)
	truth("HeapAlloc", ms.HeapAlloc)
	truth("HeapObjects", ms.HeapObjects)
	progkit.RawWrite(out)
	progkit.Abort()
}
