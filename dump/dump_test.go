package dump

import (
	"debug/elf"
	"errors"
	"github.com/heapsift/heapsift/warn"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heapsift/heapsift/internal/elfcore"
)

func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "core")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSyntheticCore(t *testing.T) {
	p, err := Open(writeTemp(t, sampleCore().Build()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.Kind != "core" || p.Arch != ArchAMD64 {
		t.Errorf("kind %q arch %q", p.Kind, p.Arch)
	}
	if len(p.Threads) != 2 || p.Threads[0].TID != 42 || p.Threads[0].Signal != 11 ||
		p.Threads[0].PC != 0x401000 || p.Threads[0].SP != 0x7ffffff0 || p.Threads[0].TLS != 0x777000 {
		t.Errorf("threads: %+v", p.Threads)
	}
	if p.Info == nil || p.Info.PID != 42 || p.Info.Command != "demo" || p.Info.Args != "./demo --flag" {
		t.Errorf("info: %+v", p.Info)
	}
	if p.Signal == nil || p.Signal.Signo != 11 || p.Signal.Addr != 0xbad {
		t.Errorf("signal: %+v", p.Signal)
	}
	if v, _ := p.Uint64(0x600008); v != 0x2222 {
		t.Errorf("heap word = %#x, want 0x2222", v)
	}
	if v, _ := p.Uint64(0x7ffffff0 + 8); v != 0xbeef {
		t.Errorf("stack word = %#x", v)
	}
	// The heap segment's tail is omitted (memsz > filesz), the text
	// mapping's file is absent: both are missing, with reasons.
	var me *MissingError
	if _, err := p.Uint64(0x600100); !errors.As(err, &me) {
		t.Errorf("read past filesz: %v", err)
	}
	if _, err := p.Uint64(0x400000); !errors.As(err, &me) || !strings.Contains(err.Error(), "demo") {
		t.Errorf("read of absent file mapping: %v", err)
	}
	if _, err := p.Uint64(0x10); !errors.As(err, &me) {
		t.Errorf("unmapped read: %v", err)
	}
	if exe := p.Executable(); exe == nil || exe.Path != "/no/such/demo" || exe.LocalPath != "" {
		t.Errorf("executable: %+v", exe)
	}
	names := map[string]bool{}
	for _, m := range p.Mappings() {
		names[m.Name] = true
	}
	if !names["[stack]"] || !names["/no/such/demo"] {
		t.Errorf("mapping names: %v", names)
	}
	if len(p.Warnings()) != 0 {
		t.Errorf("unexpected warnings: %v", p.Warnings())
	}
}

func TestTruncatedCore(t *testing.T) {
	full := sampleCore().Build()
	cut := full[:len(full)-4096+100] // loses most of the stack segment
	p, err := Open(writeTemp(t, cut), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	w := strings.Join(warn.Messages(p.Warnings()), "\n")
	if !strings.Contains(w, "truncated") || !strings.Contains(w, "3.9 KiB") {
		t.Errorf("want a truncation warning with the missing size, got %q", w)
	}
	if tot := p.Totals(); tot.Truncated != 4096-100 {
		t.Errorf("truncated bytes = %d", tot.Truncated)
	}
	if v, err := p.Uint64(0x600000); err != nil || v != 0x1111 {
		t.Errorf("intact data: %#x %v", v, err)
	}
	_, err = p.Uint64(0x7ffffff0)
	if err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("read of the lost part: %v", err)
	}
	// Partly there: ReadAt returns what it has.
	b := make([]byte, 200)
	n, err := p.ReadAt(b, 0x7ffff000)
	if n != 100 || err == nil {
		t.Errorf("ReadAt across the cut: n=%d err=%v", n, err)
	}
}

func TestRaw(t *testing.T) {
	data := elfcore.Words(1, 2, 3)
	p, err := Open(writeTemp(t, data), Options{Raw: true, Base: 0x1000})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if v, err := p.Uint64(0x1010); err != nil || v != 3 {
		t.Errorf("raw word: %d %v", v, err)
	}
	if _, err := p.Uint64(0x1014); err == nil {
		t.Error("read past the end succeeded")
	}
}

func TestBadInputs(t *testing.T) {
	dir := t.TempDir()
	hdrOnly := sampleCore().Build()[:64]
	corrupt := sampleCore().Build()
	corrupt[56], corrupt[57] = 0xfe, 0x7f // absurd program header count
	exe := sampleCore()
	exe.Type = elf.ET_EXEC
	cases := []struct {
		name string
		path string
		data []byte
		want string
	}{
		{"empty", "", []byte{}, "empty file"},
		{"random", "", []byte("this is not a core at all, just text\n"), "not an ELF core"},
		{"header only", "", hdrOnly, "program headers"},
		{"corrupted header", "", corrupt, "program headers"},
		{"tiny ELF", "", []byte("\x7fELF\x02\x01"), "cut short"},
		{"32-bit", "", append([]byte("\x7fELF\x01\x01"), make([]byte, 100)...), "64-bit"},
		{"executable", "", exe.Build(), "not a core"},
		{"directory", dir, nil, "directory"},
		{"missing", filepath.Join(dir, "nope"), nil, "no such file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := c.path
			if c.data != nil {
				path = writeTemp(t, c.data)
			}
			p, err := Open(path, Options{})
			if err == nil {
				p.Close()
				t.Fatalf("no error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

func TestNeverWritesInput(t *testing.T) {
	path := writeTemp(t, sampleCore().Build())
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	p, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Error("the core changed")
	}
}
