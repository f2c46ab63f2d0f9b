// Command retain is the test program of heapsift's retention analysis
// (retain, why, dominators). It builds small heaps whose dominators,
// retained sizes and paths from the roots are known by hand, prints them
// as "truth KEY VALUE" lines, and crashes (run it with GOTRACEBACK=crash)
// so that the kernel writes a core.
//
// Every object below is a pointerful struct whose size is exactly one of
// the runtime's size classes (and at most 512 bytes, so it has no malloc
// header): its size in the heap is unsafe.Sizeof, and retained sizes are
// plain sums. The objects are made by functions that return nothing, so
// that no stack slot of main still points to them.
//
//   - Diamond: the global diamond → top; top → left, right; left → bottom;
//     right → bottom; bottom → leaf. idom(left) = idom(right) =
//     idom(bottom) = top, idom(leaf) = bottom. Retained: top = all five,
//     left and right themselves, bottom = bottom + leaf.
//   - Cycle: the global cycle → a; a → b → c → a; c → d. idom(b) = a,
//     idom(c) = b, idom(d) = c. Retained: a = a+b+c+d, b = b+c+d,
//     c = c+d, d = d.
//   - Registry: the global registry (a struct in bss) holds items
//     []*Item; why_target is items[whyIndex], its path from the root
//     main.registry .items [whyIndex], its only dominator the backing array.
//   - Local: a goroutine running main.holder keeps -blobs *Blob in its
//     local variable keep ([]*Blob) and nothing else holds them.
//
// Truth keys: diamond_{top,left,right,bottom,leaf} and cycle_{a,b,c,d}
// (hex addresses), retained_<same> (bytes), idom_<same> (hex address of the
// immediate dominator, 0x0 for objects only the roots dominate);
// why_target, why_array (hex), why_index, why_path (words joined by
// spaces); held_by_local (hex address of the first Blob), local_count,
// local_blob_size, local_func, local_var, local_goroutine; go_version, pid.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"unsafe"
)

type (
	DTop struct {
		left  *DLeft
		right *DRight
		pad   [48]byte
	} // 64 bytes
	DLeft struct {
		bottom *DBottom
		pad    [88]byte
	} // 96
	DRight struct {
		bottom *DBottom
		pad    [120]byte
	} // 128
	DBottom struct {
		leaf *DLeaf
		pad  [248]byte
	} // 256
	DLeaf struct {
		self *DLeaf
		pad  [40]byte
	} // 48
)

type (
	CycA struct {
		next *CycB
		pad  [24]byte
	} // 32
	CycB struct {
		next *CycC
		pad  [72]byte
	} // 80
	CycC struct {
		back *CycA
		out  *CycD
		pad  [96]byte
	} // 112
	CycD struct {
		self *CycD
		pad  [136]byte
	} // 144
)

// Item is an entry of the registry.
type Item struct {
	Name  *string
	Owner *Item
	pad   [16]byte
} // 32

// Registry is a package-level struct value (not a pointer).
type Registry struct {
	count int
	items []*Item
}

// Blob is what the goroutine keeps.
type Blob struct {
	next *Blob
	id   int
	pad  [48]byte
} // 64

var (
	diamond  *DTop
	cycle    *CycA
	registry Registry
	never    = make(chan struct{})
)

const whyIndex = 7

func addr[T any](p *T) string { return fmt.Sprintf("%#x", uintptr(unsafe.Pointer(p))) }

func truth(key string, value any) { fmt.Printf("truth %s %v\n", key, value) }

func size[T any]() uintptr {
	var v T
	return unsafe.Sizeof(v)
}

//go:noinline
func buildDiamond() {
	bottom := &DBottom{leaf: &DLeaf{}}
	diamond = &DTop{left: &DLeft{bottom: bottom}, right: &DRight{bottom: bottom}}
}

//go:noinline
func buildCycle() {
	a, b, c, d := &CycA{}, &CycB{}, &CycC{}, &CycD{}
	a.next, b.next, c.back, c.out = b, c, a, d
	cycle = a
}

//go:noinline
func buildRegistry(n int) {
	for i := 0; i < n; i++ {
		// 18 bytes or more: not packed into the tiny allocator's shared
		// blocks, so that each item alone retains its name.
		name := fmt.Sprintf("registry-item-%04d", i)
		registry.items = append(registry.items, &Item{Name: &name})
	}
	registry.count = n
}

//go:noinline
func makeBlobs(n int) []*Blob {
	keep := make([]*Blob, 0, n)
	for i := 0; i < n; i++ {
		keep = append(keep, &Blob{id: i})
	}
	return keep
}

// goroutineID reads the calling goroutine's ID from its stack trace.
func goroutineID() int64 {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	f := bytes.Fields(bytes.TrimPrefix(buf, []byte("goroutine ")))
	id, _ := strconv.ParseInt(string(f[0]), 10, 64)
	return id
}

//go:noinline
func holder(n int, ready chan<- []string) {
	keep := makeBlobs(n)
	ready <- []string{
		"held_by_local " + addr(keep[0]),
		fmt.Sprintf("local_count %d", len(keep)),
		fmt.Sprintf("local_goroutine %d", goroutineID()),
	}
	<-never
	runtime.KeepAlive(keep)
}

func printDiamond() {
	top, left, right := diamond, diamond.left, diamond.right
	bottom, leaf := left.bottom, left.bottom.leaf
	sLeaf, sBottom := size[DLeaf](), size[DBottom]()
	sLeft, sRight, sTop := size[DLeft](), size[DRight](), size[DTop]()
	for _, r := range []struct {
		name, addr, idom string
		retained         uintptr
	}{
		{"top", addr(top), "0x0", sTop + sLeft + sRight + sBottom + sLeaf},
		{"left", addr(left), addr(top), sLeft},
		{"right", addr(right), addr(top), sRight},
		{"bottom", addr(bottom), addr(top), sBottom + sLeaf},
		{"leaf", addr(leaf), addr(bottom), sLeaf},
	} {
		truth("diamond_"+r.name, r.addr)
		truth("idom_diamond_"+r.name, r.idom)
		truth("retained_diamond_"+r.name, r.retained)
	}
}

func printCycle() {
	a, b, c, d := cycle, cycle.next, cycle.next.next, cycle.next.next.out
	sa, sb, sc, sd := size[CycA](), size[CycB](), size[CycC](), size[CycD]()
	for _, r := range []struct {
		name, addr, idom string
		retained         uintptr
	}{
		{"a", addr(a), "0x0", sa + sb + sc + sd},
		{"b", addr(b), addr(a), sb + sc + sd},
		{"c", addr(c), addr(b), sc + sd},
		{"d", addr(d), addr(c), sd},
	} {
		truth("cycle_"+r.name, r.addr)
		truth("idom_cycle_"+r.name, r.idom)
		truth("retained_cycle_"+r.name, r.retained)
	}
}

func main() {
	debug.SetTraceback("crash")
	items := flag.Int("items", 20, "registry items (more than 7)")
	blobs := flag.Int("blobs", 1000, "objects the goroutine keeps")
	flag.Parse()
	if *items <= whyIndex || *blobs < 1 {
		fmt.Fprintln(os.Stderr, "retain: -items must be above 7 and -blobs positive")
		os.Exit(2)
	}
	buildDiamond()
	buildCycle()
	buildRegistry(*items)
	ready := make(chan []string)
	go holder(*blobs, ready)
	local := <-ready
	runtime.GC()
	runtime.GC()

	printDiamond()
	printCycle()
	truth("why_target", addr(registry.items[whyIndex]))
	truth("why_array", addr(&registry.items[0]))
	truth("why_index", whyIndex)
	truth("why_path", strings.Join([]string{"main.registry", "items", fmt.Sprintf("[%d]", whyIndex)}, " "))
	for _, l := range local {
		fmt.Println("truth " + l)
	}
	truth("local_blob_size", size[Blob]())
	truth("local_func", "main.holder")
	truth("local_var", "keep")
	truth("go_version", runtime.Version())
	truth("pid", os.Getpid())
	os.Stdout.Sync()
	panic("retain: crashing on purpose to leave a core file")
}
