package dump

import (
	"fmt"
	"path/filepath"
)

// A Mapping is one contiguous range of the process's address space,
// [Start, End), as one PT_LOAD segment of a core describes it.
//
// Its bytes come from up to two places, in address order: the core itself
// holds the first len(core) bytes; after those, when the kernel left the rest
// out (a file-backed mapping under the default coredump_filter), the mapped
// file on disk may supply bytes from fileFrom on. Anything else is missing.
type Mapping struct {
	Start, End Address
	Perm       Perm
	// File is the path of the mapped file as the core recorded it (NT_FILE),
	// "" for anonymous memory. FileOffset is the offset in File of Start.
	File       string
	FileOffset uint64
	// Name is what a person calls this mapping: the file path, "[heap]",
	// "[stack]", "[stack tid N]", "[vdso]", or "" for anonymous memory.
	Name string
	// CoreOffset is the offset in the dump of the mapping's first byte, or -1
	// when the dump holds none of it.
	CoreOffset int64
	// Omitted counts the bytes the kernel chose not to write (p_memsz >
	// p_filesz); Truncated counts bytes the core should hold but does not,
	// because the file ends early.
	Omitted, Truncated uint64

	core     []byte // bytes held in the dump, starting at Start
	fileData []byte // bytes from the mapped file, starting at Start+fileFrom
	fileFrom uint64
	notELF   bool // the mapped file is at hand but is not an ELF file, so it is not read
	streamed bool // the core was read once (OpenStreamed) and these bytes were not kept
}

// Size is the length of the mapping in bytes.
func (m *Mapping) Size() uint64 { return uint64(m.End - m.Start) }

// Contains reports whether a lies in the mapping.
func (m *Mapping) Contains(a Address) bool { return a >= m.Start && a < m.End }

// CoreData returns the bytes the dump itself holds for this mapping,
// starting at Start. It is a view of the mmapped dump: do not modify it.
func (m *Mapping) CoreData() []byte { return m.core }

// Streamed reports whether the core's bytes of this mapping were handed
// to OpenStreamed's caller as the core was decompressed, and not kept.
func (m *Mapping) Streamed() bool { return m.streamed }

// FromFile reports how many bytes of the mapping are read from the mapped
// file on disk rather than from the dump.
func (m *Mapping) FromFile() uint64 { return uint64(len(m.fileData)) }

// Missing is the number of bytes of the mapping that cannot be read.
func (m *Mapping) Missing() uint64 {
	return m.Size() - uint64(len(m.core)) - uint64(len(m.fileData))
}

// Gaps says why the bytes of a mapping that cannot be read are not there,
// in the words info, mappings and their JSON share.
type Gaps struct {
	// Reserved: address space with no access (PROT_NONE), which the
	// process could not read either and no core holds.
	Reserved uint64
	// LeftOut: bytes the kernel left out of the core (coredump_filter: a
	// file-backed or shared mapping) that no file at hand supplies.
	LeftOut uint64
	// NotELF: left out of a mapped file that is at hand but is not an ELF
	// file (a locale archive, a data file), which heapsift does not read.
	NotELF uint64
	// Missing: bytes the core should hold but does not (it is truncated).
	Missing uint64
}

// Gaps splits the bytes that cannot be read (Missing) by why.
func (m *Mapping) Gaps() Gaps {
	n := m.Missing()
	if m.Perm == 0 {
		return Gaps{Reserved: n}
	}
	g := Gaps{Missing: min(m.Truncated, n)}
	if m.notELF {
		g.NotELF = n - g.Missing
	} else {
		g.LeftOut = n - g.Missing
	}
	return g
}

// Anonymous reports whether no file is mapped here.
func (m *Mapping) Anonymous() bool { return m.File == "" }

// slice returns the n bytes at a from a single source without copying, or
// ok=false when they are not all available from one source.
func (m *Mapping) slice(a Address, n uint64) ([]byte, bool) {
	off := uint64(a - m.Start)
	if off+n <= uint64(len(m.core)) {
		return m.core[off : off+n], true
	}
	if off >= m.fileFrom && off+n-m.fileFrom <= uint64(len(m.fileData)) {
		o := off - m.fileFrom
		return m.fileData[o : o+n], true
	}
	return nil, false
}

// available returns how many bytes are readable from a onward inside this
// mapping, and the bytes from a single source starting at a.
func (m *Mapping) available(a Address) []byte {
	off := uint64(a - m.Start)
	if off < uint64(len(m.core)) {
		return m.core[off:]
	}
	if off >= m.fileFrom && off-m.fileFrom < uint64(len(m.fileData)) {
		return m.fileData[off-m.fileFrom:]
	}
	return nil
}

// whyMissing explains why the byte at a cannot be read.
func (m *Mapping) whyMissing(a Address) string {
	off := uint64(a - m.Start)
	if m.streamed {
		return "the compressed core was read once and these bytes were not kept"
	}
	if m.Truncated > 0 && off < uint64(len(m.core))+m.Truncated {
		return "the core is truncated there"
	}
	if m.File != "" && m.notELF {
		return fmt.Sprintf("left out of the core, and %s is not an ELF file, which heapsift does not read", filepath.Base(m.File))
	}
	if m.File != "" {
		return fmt.Sprintf("left out of the core and %s is not at hand", filepath.Base(m.File))
	}
	return "left out of the core"
}

func (m *Mapping) String() string {
	name := m.Name
	if name == "" {
		name = "[anon]"
	}
	return fmt.Sprintf("%#x-%#x %s %s", uint64(m.Start), uint64(m.End), m.Perm, name)
}
