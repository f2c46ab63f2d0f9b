package native

import (
	"bytes"
	"debug/dwarf"
	"debug/elf"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/heapsift/heapsift/internal/dwarfx"
)

// Layout is where glibc keeps what the model reads in its malloc
// structures, in bytes. It comes from libc's DWARF by member name, or from
// a table generated from a reference build's DWARF (layout_table.go, made
// by native/internal/genlayout) and then checked against the core.
type Layout struct {
	// Glibc is the version of the build the layout was read from.
	Glibc string

	// struct malloc_chunk: the size word, and the free-list link fd
	// (where the caller's memory starts).
	ChunkSize, ChunkFd int

	// struct malloc_state.
	StateSize      int
	StateFastbins  int // fastbinsY[]
	StateNFastbins int
	StateTop       int
	StateNext      int
	StateSystemMem int

	// struct _heap_info (heap_info).
	HeapInfoSize  int
	HeapInfoArPtr int
	HeapInfoPrev  int
	HeapInfoSz    int // its size member: the heap's bytes in use

	// struct tcache_perthread_struct; 0 TcacheSize when glibc has no
	// tcache (before 2.26).
	TcacheSize      int
	TcacheCounts    int
	TcacheCountSize int // 1 (char, before 2.30) or 2 (uint16_t)
	TcacheEntries   int
	TcacheBins      int
}

// ReadDWARFLayout reads the layout from a libc (or its debug file) with
// DWARF: the compile unit of malloc/malloc.c and its structs.
func ReadDWARFLayout(path string) (*Layout, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	defer f.Close()
	d, err := f.DWARF()
	if err != nil {
		return nil, fmt.Errorf("reading the DWARF of %s: %w", path, err)
	}
	structs, err := mallocStructs(d)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	l, err := layoutFromStructs(structs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// mallocStructs returns the structs of malloc.c's compile unit by name.
func mallocStructs(d *dwarf.Data) (map[string]*dwarf.StructType, error) {
	want := map[string]bool{"malloc_chunk": true, "malloc_state": true, "_heap_info": true,
		"tcache_perthread_struct": true}
	out := map[string]*dwarf.StructType{}
	r := d.Reader()
	for {
		cu, err := r.Next()
		if err != nil {
			return nil, fmt.Errorf("reading DWARF units: %w", err)
		}
		if cu == nil {
			break
		}
		name, _ := cu.Val(dwarf.AttrName).(string)
		if cu.Tag != dwarf.TagCompileUnit || !strings.HasSuffix(name, "malloc.c") || strings.Contains(name, "dl-") {
			r.SkipChildren()
			continue
		}
		if err := collectStructs(d, r, want, out); err != nil {
			return nil, err
		}
		if len(out) >= 3 {
			return out, nil
		}
	}
	return nil, fmt.Errorf("no malloc.c compile unit with malloc_chunk, malloc_state and _heap_info in the DWARF")
}

// collectStructs reads the top-level struct definitions of the unit r is in.
func collectStructs(d *dwarf.Data, r *dwarf.Reader, want map[string]bool, out map[string]*dwarf.StructType) error {
	for {
		e, err := r.Next()
		if err != nil {
			return fmt.Errorf("reading malloc.c's DWARF: %w", err)
		}
		if e == nil || e.Tag == 0 {
			return nil
		}
		name, _ := e.Val(dwarf.AttrName).(string)
		if e.Tag == dwarf.TagStructType && want[name] && out[name] == nil {
			if decl, _ := e.Val(dwarf.AttrDeclaration).(bool); !decl {
				t, err := d.Type(e.Offset)
				if err != nil {
					return fmt.Errorf("struct %s: %w", name, err)
				}
				if st, ok := t.(*dwarf.StructType); ok {
					out[name] = st
				}
			}
		}
		if e.Children {
			r.SkipChildren()
		}
	}
}

// layoutFromStructs fills a Layout from the structs by member name.
func layoutFromStructs(s map[string]*dwarf.StructType) (*Layout, error) {
	l := &Layout{}
	var errs []string
	field := func(st string, member string, dst *int) *dwarf.StructField {
		t := s[st]
		if t == nil {
			errs = append(errs, "no struct "+st)
			return nil
		}
		if f, ok := dwarfx.Field(t, member); ok {
			*dst = int(f.ByteOffset)
			return f
		}
		errs = append(errs, fmt.Sprintf("struct %s has no member %s", st, member))
		return nil
	}
	field("malloc_chunk", "mchunk_size", &l.ChunkSize)
	field("malloc_chunk", "fd", &l.ChunkFd)
	if f := field("malloc_state", "fastbinsY", &l.StateFastbins); f != nil {
		l.StateNFastbins = dwarfx.ArrayLen(f.Type)
	}
	field("malloc_state", "top", &l.StateTop)
	field("malloc_state", "next", &l.StateNext)
	field("malloc_state", "system_mem", &l.StateSystemMem)
	field("_heap_info", "ar_ptr", &l.HeapInfoArPtr)
	field("_heap_info", "prev", &l.HeapInfoPrev)
	field("_heap_info", "size", &l.HeapInfoSz)
	if t := s["malloc_state"]; t != nil {
		l.StateSize = int(t.ByteSize)
	}
	if t := s["_heap_info"]; t != nil {
		l.HeapInfoSize = int(t.ByteSize)
	}
	if t := s["tcache_perthread_struct"]; t != nil {
		l.TcacheSize = int(t.ByteSize)
		if f := field("tcache_perthread_struct", "counts", &l.TcacheCounts); f != nil {
			l.TcacheBins = dwarfx.ArrayLen(f.Type)
			if at, ok := dwarfx.Strip(f.Type).(*dwarf.ArrayType); ok {
				l.TcacheCountSize = int(at.Type.Size())
			}
		}
		field("tcache_perthread_struct", "entries", &l.TcacheEntries)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("malloc's DWARF: %s", strings.Join(errs, "; "))
	}
	return l, l.check()
}

// check rejects layouts the model cannot read safely with.
func (l *Layout) check() error {
	switch {
	case l.ChunkSize != 8 || l.ChunkFd != 16:
		return fmt.Errorf("malloc_chunk has its size at %d and fd at %d; only 64-bit layouts (8, 16) are supported", l.ChunkSize, l.ChunkFd)
	case l.StateNFastbins <= 0 || l.StateNFastbins > 16:
		return fmt.Errorf("malloc_state has %d fastbins", l.StateNFastbins)
	case l.StateSize <= 0 || l.StateSize > 1<<16 || l.StateTop+8 > l.StateSize || l.StateNext+8 > l.StateSize || l.StateSystemMem+8 > l.StateSize:
		return fmt.Errorf("malloc_state's members lie outside its %d bytes", l.StateSize)
	case l.HeapInfoSize <= 0 || l.HeapInfoSize > 4096 || l.HeapInfoArPtr+8 > l.HeapInfoSize || l.HeapInfoPrev+8 > l.HeapInfoSize || l.HeapInfoSz+8 > l.HeapInfoSize:
		return fmt.Errorf("heap_info's members lie outside its %d bytes", l.HeapInfoSize)
	case l.TcacheSize != 0 && (l.TcacheBins <= 0 || l.TcacheBins > 256 || l.TcacheCountSize < 1 || l.TcacheCountSize > 2 ||
		l.TcacheEntries+8*l.TcacheBins > l.TcacheSize || l.TcacheCounts+l.TcacheCountSize*l.TcacheBins > l.TcacheSize):
		return fmt.Errorf("tcache_perthread_struct's %d bins lie outside its %d bytes", l.TcacheBins, l.TcacheSize)
	}
	return nil
}

// libcDebugFile returns the file with libc's DWARF: libc itself when it
// has a .debug_info section, else its debug file by build ID under dirs.
func libcDebugFile(localPath, buildID string, dirs []string) (string, bool) {
	if localPath != "" && hasDebugInfo(localPath) {
		return localPath, true
	}
	if len(buildID) < 4 {
		return "", false
	}
	for _, dir := range dirs {
		p := filepath.Join(dir, ".build-id", buildID[:2], buildID[2:]+".debug")
		if hasDebugInfo(p) {
			return p, true
		}
	}
	return "", false
}

// hasDebugInfo reports whether the ELF file at path has DWARF.
func hasDebugInfo(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	return f.Section(".debug_info") != nil || f.Section(".zdebug_info") != nil
}

// glibcVersion finds the version in libc's banner ("… release version
// 2.36."), or "".
func glibcVersion(data []byte) string {
	const marker = "release version "
	i := bytes.Index(data, []byte("GNU C Library"))
	if i < 0 {
		return ""
	}
	j := bytes.Index(data[i:min(len(data), i+512)], []byte(marker))
	if j < 0 {
		return ""
	}
	v := data[i+j+len(marker):]
	n := 0
	for n < len(v) && n < 16 && (v[n] >= '0' && v[n] <= '9' || v[n] == '.') {
		n++
	}
	return strings.TrimSuffix(string(v[:n]), ".")
}

// versionAtLeast compares "2.36" with major.minor.
func versionAtLeast(v string, major, minor int) bool {
	var a, b int
	if _, err := fmt.Sscanf(v, "%d.%d", &a, &b); err != nil {
		return false
	}
	return a > major || a == major && b >= minor
}
