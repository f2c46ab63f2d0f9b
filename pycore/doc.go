// Package pycore is heapsift's model of a CPython heap: it reads the
// objects of a dead CPython 3.6-3.13 process from its core file and gives
// them as a heap.Heap, so that the language-neutral algorithms (retain,
// compare) can say who holds what: "100,000 tuples held by
// __main__.Profiler → results → []".
//
// # Layouts
//
// Nothing about CPython's structs is hard-coded: a Layout holds the sizes
// and member offsets pycore reads (PyObject, PyTypeObject, tuples, lists,
// every dict layout from 3.6's combined and split tables to 3.11's
// unicode keys and 3.13's inline values, sets, strs, ints, frames, the
// runtime, interpreter and thread states, the collector's state), filled
// by member name from libpython's DWARF (or a statically linked
// interpreter's, or its separate debug file, found by build ID in the
// symbolizer's debug directories). Without DWARF (a stripped build such
// as Debian's python3.11 without python3.11-dbg), the layout is one of
// the generated table's (layouts_gen.go, written by internal/layoutgen
// from reference builds' DWARF with this package's reader; `go generate`
// remakes it), for the interpreter's minor version, overridden on 3.13+
// by the core's _Py_DebugOffsets; the first that fits is used, and a
// warning says which. Open checks any layout against objects whose
// contents are known (type(type) is type; the types at PyTuple_Type and
// PyDict_Type read "tuple" and "dict" with their basic sizes; the
// interpreter's modules, sys dict and builtins are dicts; the collector's
// lists start with objects) before trusting it.
//
// # Objects
//
// The objects are every object in the collector's generation lists (the
// tracked ones: containers, instances, classes, functions), and every
// object reachable from them or from the roots by following references
// the way each type's tp_traverse would (plus the strong references it
// leaves out, such as a class's name): tuple and list elements, dict keys
// and values, set members, an instance's __class__, __slots__ and
// attributes (its __dict__, or the values 3.11+ keep without one), a
// class's dict, bases and MRO, the object members of C structs named in
// the DWARF (functions, cells, methods, code, frames, generators and
// their 3.11+ embedded frames, descriptors), deque blocks. Objects of
// unknown C types are scanned conservatively within their basic size; one
// whose base is known (collections.OrderedDict and defaultdict are dicts)
// is read as its base, the members it adds scanned conservatively.
// Objects in libpython's own memory (static types, None, 3.12+'s small
// ints) are not heap objects. Objects are numbered by address; their
// references are read from the core when asked for (the build keeps them
// only while it decides liveness), labelled so that RefPath can name
// them as Python would: ".results", "[7]", "['alice']", "{}". A dict
// that only its owner (an instance, class or module) refers to is folded
// into the owner: its entries are the owner's attributes.
//
// Size is what sys.getsizeof reports, per type and version: the
// __sizeof__ of tuples, lists, dicts, sets, strs, ints, deques,
// bytearrays, OrderedDicts, code objects (with their extras and 3.8-3.10
// opcache), frames and generators (3.11+: from their code's slots), plus
// the GC header and the 3.11+ pre-header. Other C types count their basic
// size and ob_size items, as object.__sizeof__ does.
//
// # Live and garbage
//
// Liveness follows CPython's collector: for each tracked object, gc_refs
// is its refcount minus the references from other tracked objects; the
// objects left with gc_refs > 0 are referred to from outside (C code,
// frames) and are alive with all they reach, as are the roots' objects.
// The rest is garbage that gc.collect() would free now. References an
// object's refcount counts but nothing seen explains become RootOutside
// roots ("held outside Python") with Unexplained set.
//
// # Roots and threads
//
// Roots are each module global in sys.modules ("__main__.Profiler"),
// each local variable of each thread's Python frames, and the
// interpreter's own references (sys.modules, builtins, sys's dict, the
// static types' dicts, MROs and subclass lists: every static type that
// object's subclasses reach, whether or not an object of it exists; the
// object members of the interpreter's and each thread's C state, from
// DWARF, but free lists, caches and borrowed ones, as "interpreter
// codec_search_path" or "thread N state context"; and C modules' copies
// of their dicts, "module posix definition's m_copy"). Threads lists the threads with their frames
// (function, file, line from the version's line table) and locals, the
// data of a stacks command.
package pycore
