// Package rtread reads the Go runtime's data structures out of a core file
// by field name, through the executable's DWARF, so that its readers keep
// working as the runtime's layouts change between Go versions.
//
// Its core is a DWARF-typed cursor, Value: a typed location in the core's
// memory that is moved by field name, index and pointer,
//
//	spans := r.Global("runtime.mheap_").Field("allspans")
//	n, err := spans.SliceLen()
//
// carrying the first error along the chain, so that one check at the end
// names the path that failed. Structures read by the thousand (mspan, g,
// abi.Type, _defer) are instead read as raw bytes and decoded through a
// layout of FieldLocs located once by name. On top of these sit the
// readers of the runtime's structures that package gocore models: heap
// spans and the heap's constants (ReadInUseSpans, ReadHeapParams), type
// descriptors and their pointer masks (RTypes), goroutines and their defer
// records (ReadGoroutines, Defers), and the runtime's own heap accounting
// (ReadHeapStats). Index is the name index of the DWARF they all use.
//
// A layout field or runtime constant that a version lacks, and for which
// a reader falls back to a default or leaves something out, is reported as
// a warn.Warning returned beside the result; nothing here prints.
package rtread
