// Package dump gives read access to the memory image of a process: an ELF
// core file (x86-64 or arm64, 64-bit little-endian), a raw file treated as
// flat memory, or a running process (OpenPID).
//
// A core compressed with zstd, lz4, xz or gzip, a core on standard input and
// a live process's memory cannot be mmapped as they are: each is copied
// once into an unlinked sparse temporary file (a live process laid out as
// the kernel would write its core, while ptrace holds it stopped: only the
// pages its page tables say hold data, into one file per copying worker,
// mapped as one image), which is then read like any core file. For a pass that needs each byte of memory
// once (counting words), OpenStreamed reads a compressed core once instead,
// handing its memory to the caller as it is decoded and keeping only the
// headers, notes and the segments that name things (file-backed and
// read-only mappings).
//
// A Process is a set of Mappings (address ranges with permissions and, where
// the core says so, the file mapped there) plus what the core's notes tell
// about the process: threads and their registers, the command line, the
// auxiliary vector and the fatal signal. Memory is read by address straight
// from the mmapped file without copying. Bytes that the core does not hold
// (segments the kernel left out, or a core cut short by a size limit or a
// full disk) are known as missing: reading them returns an error, never
// garbage. Where a file-backed mapping was left out by the kernel's
// coredump_filter and the mapped file is at hand (the executable, shared
// libraries), its bytes are read from that file instead, as gdb does.
//
// Nothing here knows about Go, Python or C++; the layers above do.
package dump
