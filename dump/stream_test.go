package dump

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/heapsift/heapsift/internal/coretest"
	"github.com/heapsift/heapsift/internal/elfcore"
)

// streamed opens path with OpenStreamed and returns the process and the
// bytes visit was given, by segment start.
func streamed(t *testing.T, path string, opts Options) (*Process, map[Address][]byte, error) {
	t.Helper()
	got := map[Address][]byte{}
	var seg Address
	p, err := OpenStreamed(path, opts, func(a Address, b []byte) {
		if len(b) == 0 {
			seg = a
			got[seg] = []byte{}
			return
		}
		if a != seg+Address(len(got[seg])) {
			t.Fatalf("piece at %#x, want %#x", a, seg+Address(len(got[seg])))
		}
		got[seg] = append(got[seg], b...)
	})
	return p, got, err
}

// TestOpenStreamed: every format's core read once hands over exactly the
// bytes Open's mappings hold, keeps the read-only and file-backed ones,
// and fails reads of the others; a plain or cut-short core, and one whose
// segments overlap, are refused with ErrNotStreamed; no temporary file
// outlives Close.
func TestOpenStreamed(t *testing.T) {
	// The sample core's memory with its 8 MiB heap (many blocks of every
	// format), plus a read-only and a file-backed writable segment, which
	// are kept.
	c := sampleCore()
	heap := make([]byte, 8<<20)
	for i := 0; i < len(heap); i += 8 {
		binary.LittleEndian.PutUint64(heap[i:], uint64(i*7/3))
	}
	c.Segments = append(c.Segments, elfcore.Segment{Vaddr: 0x10000000, Flags: elf.PF_R | elf.PF_W, Data: heap},
		elfcore.Segment{Vaddr: 0x500000, Flags: elf.PF_R, Data: elfcore.Words(1, 2, 3)},
		elfcore.Segment{Vaddr: 0x700000, Flags: elf.PF_R | elf.PF_W, Data: elfcore.Words(4, 5, 6)})
	c.Notes[4].Desc = elfcore.FileNote([]elfcore.FileEntry{
		{Start: 0x400000, End: 0x402000, Path: "/no/such/demo"},
		{Start: 0x700000, End: 0x700018, Path: "/no/such/data"}})
	raw := c.Build()
	want, err := Open(writeTemp(t, raw), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer want.Close()
	for _, format := range []string{"zstd", "lz4", "xz", "gzip"} {
		t.Run(format, func(t *testing.T) {
			tmp := t.TempDir()
			path := filepath.Join(t.TempDir(), "core.any")
			if err := os.WriteFile(path, coretest.Compress(t, format, raw), 0o600); err != nil {
				t.Fatal(err)
			}
			p, got, err := streamed(t, path, Options{InputOptions: InputOptions{TempDir: tmp}})
			if err != nil {
				t.Fatal(err)
			}
			if p.Source.Kind != "compressed" || p.Source.Format != format || p.Source.Copied != int64(len(raw)) {
				t.Errorf("source %+v", p.Source)
			}
			if len(p.Mappings()) != len(want.Mappings()) {
				t.Fatalf("%d mappings, want %d", len(p.Mappings()), len(want.Mappings()))
			}
			for i, m := range want.Mappings() {
				g := p.Mappings()[i]
				if d := m.CoreData(); len(d) > 0 && !bytes.Equal(got[m.Start], d) {
					t.Errorf("%s: visited %d bytes, want %d", m, len(got[m.Start]), len(d))
				}
				dropped := m.Perm&PermWrite != 0 && m.File == "" && len(m.CoreData()) > 0
				_, rerr := p.Uint64(m.Start)
				switch {
				case g.String() != m.String():
					t.Errorf("mapping %s, want %s", g, m)
				case dropped && (!g.Streamed() || rerr == nil):
					t.Errorf("%s: streamed %v, read error %v; want its bytes dropped", g, g.Streamed(), rerr)
				case !dropped && (g.Streamed() || !bytes.Equal(g.CoreData(), m.CoreData())):
					t.Errorf("%s: streamed %v, %d bytes kept; want %d", g, g.Streamed(), len(g.CoreData()), len(m.CoreData()))
				}
			}
			held, kept := 0, 0
			for _, m := range p.Mappings() {
				if len(m.CoreData()) > 0 {
					kept++
				}
				if len(m.CoreData()) > 0 || m.Streamed() {
					held++
				}
			}
			if kept != 2 {
				t.Errorf("%d segments kept, want the read-only and the file-backed one", kept)
			}
			if len(got) != held {
				t.Errorf("visited %d segments, want the %d holding bytes", len(got), held)
			}
			p.Close()
			if left := tempFilesLeft(t, tmp); len(left) != 0 {
				t.Errorf("temporary files left after Close: %q", left)
			}
		})
	}
	z := coretest.Compress(t, "zstd", raw)
	cut := filepath.Join(t.TempDir(), "cut.zst")
	if err := os.WriteFile(cut, z[:len(z)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	// Two segments at one address (each with its own bytes): Open keeps
	// the first, a stream would count both.
	c = sampleCore()
	c.Segments = append(c.Segments, c.Segments[1])
	dup := filepath.Join(t.TempDir(), "dup.zst")
	if err := os.WriteFile(dup, coretest.Compress(t, "zstd", c.Build()), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{writeTemp(t, raw), cut, dup, filepath.Join(t.TempDir(), "none")} {
		if p, _, err := streamed(t, path, Options{}); !errors.Is(err, ErrNotStreamed) {
			t.Errorf("%s: process %v, error %v; want ErrNotStreamed", path, p, err)
		}
	}
}

// FuzzCoreStream feeds arbitrary bytes, in pieces of a fuzzed size, to the
// one-pass core reader: nothing may panic, the pieces handed over stay
// inside their announced segment in order, and every byte is passed.
func FuzzCoreStream(f *testing.F) {
	f.Add(sampleCore().Build(), uint16(100))
	full := bigSampleCore()
	f.Add(full[:len(full)/3], uint16(4096))
	f.Add([]byte("\x7fELF\x02\x01\x01"), uint16(1))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, piece uint16) {
		s, err := newSparseFile(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer s.discard()
		var seg, next Address
		cs := &coreStream{path: "fuzz", out: s, visit: func(a Address, b []byte) {
			if len(b) == 0 {
				seg, next = a, a
				return
			}
			if a != next || a < seg {
				t.Fatalf("piece at %#x, want %#x in the segment at %#x", a, next, seg)
			}
			next = a + Address(len(b))
		}}
		n := max(int(piece), 1)
		for rest := data; len(rest) > 0; {
			k := min(n, len(rest))
			if _, err := cs.Write(rest[:k]); err != nil {
				return
			}
			rest = rest[k:]
		}
		if cs.headed && cs.pos != int64(len(data)) {
			t.Fatalf("passed %d bytes of %d", cs.pos, len(data))
		}
	})
}
