package dump

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/heapsift/heapsift/internal/coretest"
	"github.com/heapsift/heapsift/internal/elfcore"
)

// bigSampleCore is sampleCore with an 8 MiB heap segment, every other
// page zero (holes in the temporary copy), the others counting words, so
// that compressed it spans many blocks of every format.
func bigSampleCore() []byte {
	c := sampleCore()
	heap := make([]byte, 8<<20)
	for off := 0; off < len(heap); off += 2 * pageSize {
		for i := 0; i < pageSize; i += 8 {
			binary.LittleEndian.PutUint64(heap[off+i:], uint64(off*7+i*13))
		}
	}
	c.Segments = append(c.Segments, elfcore.Segment{Vaddr: 0x10000000, Flags: elf.PF_R | elf.PF_W, Data: heap})
	return c.Build()
}

// sameImage checks that two processes hold the same mappings and bytes.
func sameImage(t *testing.T, want, got *Process) {
	t.Helper()
	if len(want.Mappings()) != len(got.Mappings()) {
		t.Fatalf("%d mappings, want %d", len(got.Mappings()), len(want.Mappings()))
	}
	for i, m := range want.Mappings() {
		g := got.Mappings()[i]
		if m.String() != g.String() || !bytes.Equal(m.CoreData(), g.CoreData()) {
			t.Errorf("mapping %s differs from %s", g, m)
		}
	}
	if len(want.Threads) != len(got.Threads) || want.Info.Args != got.Info.Args {
		t.Errorf("threads or info differ: %d %+v, want %d %+v", len(got.Threads), got.Info, len(want.Threads), want.Info)
	}
}

// tempFilesLeft lists heapsift temporary files in dir, on disk or still
// mapped by this process.
func tempFilesLeft(t *testing.T, dir string) []string {
	t.Helper()
	var left []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		left = append(left, e.Name())
	}
	maps, _ := os.ReadFile("/proc/self/maps")
	for _, line := range strings.Split(string(maps), "\n") {
		if strings.Contains(line, dir) {
			left = append(left, line)
		}
	}
	return left
}

func TestCompressedCores(t *testing.T) {
	raw := bigSampleCore()
	plain := writeTemp(t, raw)
	want, err := Open(plain, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer want.Close()
	for _, format := range []string{"zstd", "lz4", "xz", "gzip"} {
		t.Run(format, func(t *testing.T) {
			tmp := t.TempDir()
			z := coretest.Compress(t, format, raw)
			path := filepath.Join(t.TempDir(), "core.any") // detected by content, not name
			if err := os.WriteFile(path, z, 0o600); err != nil {
				t.Fatal(err)
			}
			p, err := Open(path, Options{InputOptions: InputOptions{TempDir: tmp}})
			if err != nil {
				t.Fatal(err)
			}
			if left := tempFilesLeft(t, tmp); len(left) != 1 || !strings.Contains(left[0], "(deleted)") {
				t.Errorf("while open, want only the deleted temporary file mapped, got %q", left)
			}
			if p.Source.Kind != "compressed" || p.Source.Format != format || p.Source.Copied != int64(len(raw)) {
				t.Errorf("source %+v", p.Source)
			}
			if len(p.Warnings()) != len(want.Warnings()) {
				t.Errorf("warnings %v, want %v", p.Warnings(), want.Warnings())
			}
			sameImage(t, want, p)
			p.Close()
			if left := tempFilesLeft(t, tmp); len(left) != 0 {
				t.Errorf("temporary files left after Close: %q", left)
			}

			// The same through standard input.
			s, err := Open("-", Options{InputOptions: InputOptions{TempDir: tmp, Stdin: bytes.NewReader(z)}})
			if err != nil {
				t.Fatal(err)
			}
			sameImage(t, want, s)
			s.Close()

			// Cut short: a warning and what there is, not an error.
			cut := writeTemp(t, z[:len(z)*2/3])
			c, err := Open(cut, Options{InputOptions: InputOptions{TempDir: tmp}})
			if err != nil {
				t.Fatalf("truncated %s: %v", format, err)
			}
			ws := c.Warnings()
			if len(ws) == 0 || !strings.Contains(ws[0].Message, "cut short") {
				t.Errorf("truncated %s: warnings %v", format, ws)
			}
			t.Logf("%s cut to %d of %d bytes: %d of %d bytes of core", format, len(z)*2/3, len(z), c.Source.Copied, len(raw))
			if c.Source.Copied >= int64(len(raw)) || !bytes.Equal(c.FileData(), raw[:len(c.FileData())]) {
				t.Errorf("truncated %s: %d bytes, not a prefix of the core", format, c.Source.Copied)
			}
			c.Close()
			if left := tempFilesLeft(t, tmp); len(left) != 0 {
				t.Errorf("temporary files left: %q", left)
			}
		})
	}
}

func TestStdinPlainCore(t *testing.T) {
	raw := bigSampleCore()
	want, err := Open(writeTemp(t, raw), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer want.Close()
	p, err := Open("-", Options{InputOptions: InputOptions{TempDir: t.TempDir(), Stdin: bytes.NewReader(raw)}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.Source.Kind != "stdin" {
		t.Errorf("source %+v", p.Source)
	}
	sameImage(t, want, p)
	if _, err := Open("-", Options{}); err == nil {
		t.Error("- without standard input: no error")
	}
}

func TestSparseFileHoles(t *testing.T) {
	s, err := newSparseFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4<<20)
	b[2<<20+5] = 7
	b[len(b)-1] = 9
	w := newSparseWriter(s)
	if _, err := w.ReadFrom(bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(s.f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	if used := st.Blocks * 512; used > 64<<10 {
		t.Errorf("4 MiB with two non-zero pages uses %d bytes on disk, want holes", used)
	}
	data, err := s.finish(-1)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(data)
	if !bytes.Equal(data, b) {
		t.Error("the file's bytes differ from what was written")
	}
}
