// Package native models the heap of a C, C++ or any other program that
// allocates with glibc's malloc, as a heap.Heap: every chunk in use is an
// object, free chunks are counted apart, and what no root reaches is
// leaked.
//
// Finding malloc's state. main_arena is libc's symbol when its symbol
// table is at hand (libc's .symtab or its debug file by build ID);
// otherwise it is found by the heap's own structure: the chunks of the
// brk heap ([heap]) are walked from its start to its last chunk, the top
// chunk, and main_arena is the word in libc's data equal to that address
// at malloc_state's top offset whose next ring closes; or, from a non-main
// arena's heap_info (at a 64 MiB-aligned address, its malloc_state right
// after it), the member of its ring outside every heap. The ring gives
// every arena; a non-main arena's heaps are found from its top back
// through heap_info.prev. Mmapped chunks are found by their headers
// (page-aligned, IS_MMAPPED alone, a page-multiple size that fits the
// mapping) in anonymous memory outside the heaps.
//
// Layouts. The offsets of malloc_state, heap_info and
// tcache_perthread_struct come from libc's DWARF by member name
// (Debian's libc6-dbg provides it as a debug file by build ID), or else
// from a reference table generated from a build's DWARF by
// native/internal/genlayout (layout_table.go), which the core must then
// confirm: main_arena's top is the brk heap's last chunk and its ring
// closes. The chunk header itself (size word and flag bits, 16-byte
// alignment, 32-byte minimum) is malloc's ABI on 64-bit targets.
//
// Chunks. Inside a heap each chunk's size leads to the next, and the
// next chunk's PREV_INUSE bit says whether this one is in use; chunks in a
// thread's tcache or an arena's fastbins keep that bit set, so those lists
// are followed (undoing safe-linking from glibc 2.32 on) and their chunks
// counted free. A tcache_perthread_struct is recognised by its size, a
// thread's TLS pointing to it (or being first in its heap) and its counts
// agreeing with its entries; it is malloc's own, not an object. A size
// word that breaks the structure is reported as a warning and the walk
// resumes at the next address from which several consistent headers
// follow. Memory stays bounded by the bytes the core holds: regions are
// walked only as far as their bytes are in the core, and tables are sized
// by a counting walk. A large region is walked (both times) in parallel
// parts, each joined exactly to the next or else the region walked whole
// (walkpar.go).
//
// Objects and references. An object is a chunk in use: its address is
// the pointer malloc returned, its size the usable size
// (malloc_usable_size). Its type is the C++ class named by the vtable
// pointer at offset 0 ("vtable for Widget" + 16, or through the vtable's
// typeinfo when the executable is stripped), a CPython type when the
// second word points to a type object, "<text>" for a NUL-terminated
// UTF-8 string, or "<N bytes>". References are conservative: every
// aligned word of an object that points into another object, at its start
// or inside it. Roots are the same scan of every module's data and bss
// (named by the data symbol holding the word), each thread's stack from
// its stack pointer up, its registers and its static TLS. Objects no root
// reaches are leaked (Live false); among them, those no other leaked
// object points to are the leak roots, the heads of leaked structures.
// References are not kept but read from the core again when asked for
// (graph.go): the mark reads each live object once, and `histogram`
// reads nothing more.
package native
