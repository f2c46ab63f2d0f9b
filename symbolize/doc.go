// Package symbolize names the 8-byte words found in a dump, the way gdb's
// `info symbol` does, without gdb.
//
// A word that lands inside a symbol of a mapped ELF file (the executable or
// a shared library read from this machine) is named by that symbol, with C++
// and Rust names demangled and the offset into the symbol kept: a C++
// object's first word reads "vtable for Button+16", a CPython type pointer
// "PyTuple_Type". Symbols come from .symtab and .dynsym; a Go binary stripped
// of .symtab still has its function names in .gopclntab. Any other word is
// described by what it looks like: a pointer into some mapping ([heap], a
// thread's stack, anonymous memory, a file), zero, a small or negative
// integer, a few bytes of ASCII text, or other.
//
// Opening the symbolizer reads only each module's ELF headers; its symbol
// table is loaded the first time a word falls into that module, so a core
// with hundreds of libraries stays quick to name when only a few of them
// are referenced.
package symbolize
