// Command mapped maps a data file (not an ELF file) privately and read-only,
// which the kernel's default coredump_filter leaves out of the core, and a
// range of address space with no access, then crashes. Its truth lines name
// both:
//
//	datafile PATH  the data file
//	datasize N     its size, all of it mapped
//	reserved ADDR  start of the PROT_NONE range
//	reservedsize N its size
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"unsafe"
)

func main() {
	const size = 256 << 10
	path, err := filepath.Abs("data.bin")
	if err != nil {
		panic(err)
	}
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i * 7)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		panic(err)
	}
	f, err := os.Open(path)
	if err != nil {
		panic(err)
	}
	m, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_PRIVATE)
	if err != nil {
		panic(err)
	}
	sum := 0
	for i := 0; i < size; i += 4096 {
		sum += int(m[i])
	}
	const rsize = 3 << 20
	r, err := syscall.Mmap(-1, 0, rsize, syscall.PROT_NONE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		panic(err)
	}
	fmt.Printf("truth datafile %s\n", path)
	fmt.Printf("truth datasize %d\n", size)
	fmt.Printf("truth reserved %#x\n", uintptr(unsafe.Pointer(&r[0])))
	fmt.Printf("truth reservedsize %d\n", rsize)
	fmt.Printf("truth sum %d\n", sum)
	panic("mapped: crashing on purpose")
}
