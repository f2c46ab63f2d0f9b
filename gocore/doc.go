// Package gocore reconstructs the heap of a Go program from a core file.
//
// It reads the runtime's own data structures (runtime.mheap_ and its spans,
// goroutines, module data, type descriptors, maps, channels) through the
// executable's DWARF, by field name, with package gocore/rtread, so that it
// keeps working as the runtime's layouts change between Go versions (1.22
// to 1.26 are tested, with and without the Green Tea collector, PIE or
// not; linux/amd64, and arm64 by the same rules). From them it builds:
//
//   - every allocated heap object, numbered densely in address order
//     (0..NumObjects()-1), with its address and size: the size of its size
//     class, as runtime.MemStats counts it, so that the sizes of all
//     objects add up to HeapAlloc;
//   - the pointer graph: for each object, the objects its pointer words
//     point to and the offsets of those words (Edges, ForEachPointer,
//     EachLiveRefs), read from the runtime's pointer bitmaps and malloc
//     headers whenever they are needed rather than kept;
//   - which objects are reachable from the GC roots (data and bss,
//     finalizer and cleanup records, span specials, goroutine stacks
//     unwound by package gocore/stack), found by a mark phase over the
//     pointer graph, span memory read in address order by one worker per
//     CPU; the rest is garbage the core still holds;
//   - each live object's Go type, from malloc headers and span.largeType
//     first, then propagated from typed roots (globals, stack variables)
//     along typed pointers, slices, strings, interfaces, maps, channels and
//     closures; an object only interior pointers reach takes the one struct
//     type the program can allocate that has the pointers' static types at
//     their offsets, its size class and its pointer bitmap (interior.go),
//     and an object whose first word is a closure function's entry is
//     that function's closure. Typed pointers into data and bss type the
//     statically allocated values there (staticdata.go); a live stack slot
//     DWARF leaves out at the frame's PC takes the type of the variable
//     DWARF puts there at other PCs if their pointer words agree
//     (stack.SlotVars); the GC workers' nodes and the itab table are typed
//     from the runtime's variables (rtobjects.go);
//   - goroutines with their frames, and the roots that hold objects.
//
// Type names are DWARF's, with full import paths ("main.Node[int]",
// "example.com/x/sub.Box[example.com/x/sub.T]"). An object holding several
// values of a type T (a slice's backing array, a map's bucket or group
// array) is one object of type "[N]T", N being how many T fit in it. A
// closure object is "closure F" after its function F. Blocks of the tiny
// allocator, which packs several noscan values under 16 bytes together, are
// TinyBlock. Objects whose type cannot be known stay untyped (NoType);
// Histogram groups them by size class ("<untyped 48>", "<untyped noscan
// 48>"). gocore never names a type it has not read.
//
// Open is the entry point; everything else is a method of the Program it
// returns. Program also exposes the DWARF-typed cursor it reads the runtime
// with (Global, At, Value.Field, ...). Problems that leave the model usable,
// among them runtime constants or fields missing from DWARF and replaced by
// defaults, are warnings (Program.Warnings, and beside the Program from
// Open); only cmd/heapsift prints.
//
// Open builds the model in stages (Program.build), each reading the
// results of those before it: the runtime's layouts and modules, the
// in-use spans, the numbered objects, the types the runtime recorded,
// goroutines and their roots, the other roots, marking, type propagation,
// and a check against the runtime's own accounting. What it keeps per
// object is the type (4 bytes) and a few bits (allocated, live, typed by
// the runtime); addresses, spans and pointers are found again from the
// spans' tables and memory (objects.go, edges.go).
package gocore
