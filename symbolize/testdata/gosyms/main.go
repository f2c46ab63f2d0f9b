// gosyms: a Go program whose core lets symbolize's tests check Go symbol
// names. It prints the addresses of a few functions and package-level
// variables as "truth KEY VALUE" lines, then panics (run with
// GOTRACEBACK=crash, so the runtime aborts and the kernel writes a core).
package main

import (
	"fmt"
	"os"
	"reflect"
	"runtime"
	"unsafe"
)

// Box has a method whose address the test names.
type Box struct{ items []int }

//go:noinline
func (b *Box) Sum() int {
	s := 0
	for _, v := range b.items {
		s += v
	}
	return s
}

//go:noinline
func work(n int) int { return n*n + 1 }

var (
	table = [16]uint64{1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987} // .noptrdata
	ptrs  [4]*Box                                                                     // .bss
	heap  *Box
)

func addr[T any](p *T) uintptr { return uintptr(unsafe.Pointer(p)) }

func main() {
	heap = &Box{items: []int{1, 2, 3}}
	ptrs[2] = heap
	fmt.Printf("truth func_work %#x\n", funcPC(work))
	fmt.Printf("truth func_sum %#x\n", funcPC((*Box).Sum))
	fmt.Printf("truth func_main %#x\n", funcPC(main))
	fmt.Printf("truth var_table %#x\n", addr(&table))
	fmt.Printf("truth var_table5 %#x\n", addr(&table[5]))
	fmt.Printf("truth var_ptrs2 %#x\n", addr(&ptrs[2]))
	fmt.Printf("truth heap_box %#x\n", addr(heap))
	fmt.Printf("truth go_version %s\n", runtime.Version())
	fmt.Printf("truth check %d\n", work(len(os.Args))+heap.Sum()+int(table[3]))
	os.Stdout.Sync()
	panic("gosyms: crashing on purpose for a core")
}

// funcPC returns the entry address of a function value.
func funcPC(f any) uintptr { return reflect.ValueOf(f).Pointer() }
