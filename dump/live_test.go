package dump

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// The live tests read a helper process: this test binary run again with
// HEAPSIFT_LIVE_HELPER set to a mode (startHelperProc), which fills a
// buffer with a known pattern, maps a region of sparse pages (sparsePages)
// and what the mode asks for, keeps one goroutine spinning, prints the
// addresses and waits for its standard input to close.

func TestMain(m *testing.M) {
	if mode := os.Getenv("HEAPSIFT_LIVE_HELPER"); mode != "" {
		liveHelper(mode)
		return
	}
	os.Exit(m.Run())
}

// helperPattern is the helper's buffer: 8 MiB of non-zero bytes.
func helperPattern() []byte {
	b := make([]byte, 8<<20)
	for i := range b {
		b[i] = byte(i*7 + i>>12 | 1)
	}
	return b
}

// sparsePages is the helper's private anonymous mapping of this many
// pages: page i is written (with byte i+1 at its start and end) when i%3
// is 0, only read (so that the kernel maps its zero page there) when i%3
// is 1, and never touched, so that it has no page table entry, when i%3
// is 2.
const sparsePages = 48

// pastEOFPages is the size of the helper's private mapping of a one-page
// file (made with the "past-eof" mode): its other pages cannot be read.
const pastEOFPages = 4

func liveHelper(mode string) {
	var cow string
	switch mode {
	case "past-eof":
		mapPastEOF()
	case "cow":
		a, b := mapCopyOnWrite(os.Getenv("HEAPSIFT_LIVE_DIR"))
		cow = fmt.Sprintf(" cow %#x %#x", a, b)
	}
	buf := helperPattern()
	sparse, err := syscall.Mmap(-1, 0, sparsePages*pageSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS)
	if err != nil {
		panic(err)
	}
	var sum byte
	for i := 0; i < sparsePages; i++ {
		switch i % 3 {
		case 0:
			sparse[i*pageSize] = byte(i + 1)
			sparse[(i+1)*pageSize-1] = byte(i + 1)
		case 1:
			sum += sparse[i*pageSize]
		}
	}
	var spins atomic.Uint64
	go func() {
		for {
			spins.Add(1)
		}
	}()
	fmt.Printf("addr %#x sparse %#x%s\n", uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&sparse[0])), cow)
	io.Copy(io.Discard, os.Stdin)
	fmt.Fprintln(os.Stderr, len(buf), spins.Load(), sum)
}

// mapPastEOF maps pastEOFPages pages of a deleted one-page file.
func mapPastEOF() {
	f, err := os.CreateTemp("", "heapsift-eof-*")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	os.Remove(f.Name())
	if _, err := f.Write(bytes.Repeat([]byte{0xee}, pageSize)); err != nil {
		panic(err)
	}
	if _, err := syscall.Mmap(int(f.Fd()), 0, pastEOFPages*pageSize, syscall.PROT_READ, syscall.MAP_PRIVATE); err != nil {
		panic(err)
	}
}

// mapCopyOnWrite maps a two-page file of 0xaa bytes in dir twice,
// private and writable, and returns where: the process writes 0xbb over
// the second page of the first mapping (which then holds a copy of its
// own) and only reads that of the second.
func mapCopyOnWrite(dir string) (uintptr, uintptr) {
	path := filepath.Join(dir, "cow.bin")
	if err := os.WriteFile(path, bytes.Repeat([]byte{0xaa}, 2*pageSize), 0o600); err != nil {
		panic(err)
	}
	f, err := os.Open(path)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	var at [2][]byte
	for i := range at {
		if at[i], err = syscall.Mmap(int(f.Fd()), 0, 2*pageSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE); err != nil {
			panic(err)
		}
	}
	for i := pageSize; i < 2*pageSize; i++ {
		at[0][i] = 0xbb
	}
	if at[1][pageSize] != 0xaa {
		panic("the file does not read back")
	}
	return uintptr(unsafe.Pointer(&at[0][0])), uintptr(unsafe.Pointer(&at[1][0]))
}

// liveHelperProc is a running helper: its pid and addresses.
type liveHelperProc struct {
	pid            int
	pattern, pages Address    // helperPattern's bytes, the sparsePages
	cow            [2]Address // mapCopyOnWrite's mappings
}

// startHelper runs the helper and returns its pid and the pattern's address.
func startHelper(t *testing.T) (int, Address) {
	h := startHelperProc(t, "plain")
	return h.pid, h.pattern
}

// startHelperProc runs the helper in mode "plain", "past-eof" (with
// mapPastEOF's mapping) or "cow" (with mapCopyOnWrite's).
func startHelperProc(t *testing.T, mode string) liveHelperProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "HEAPSIFT_LIVE_HELPER="+mode, "HEAPSIFT_LIVE_DIR="+t.TempDir())
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("helper: %v", err)
	}
	h := liveHelperProc{pid: cmd.Process.Pid}
	format, args := "addr %v sparse %v", []any{(*uint64)(&h.pattern), (*uint64)(&h.pages)}
	if mode == "cow" {
		format, args = format+" cow %v %v", append(args, (*uint64)(&h.cow[0]), (*uint64)(&h.cow[1]))
	}
	if _, err := fmt.Sscanf(line, format, args...); err != nil {
		t.Fatalf("helper said %q: %v", line, err)
	}
	return h
}

// assertRunning fails unless pid runs on: not stopped, not traced.
func assertRunning(t *testing.T, pid int) {
	t.Helper()
	st, err := procStatus(pid)
	if err != nil {
		t.Fatal(err)
	}
	if s := st["State"]; strings.HasPrefix(s, "t") || strings.HasPrefix(s, "T") || st["TracerPid"] != "0" {
		t.Errorf("pid %d is not running freely: State %s, TracerPid %s", pid, s, st["TracerPid"])
	}
}

func TestOpenPID(t *testing.T) {
	pid, addr := startHelper(t)
	tmp := t.TempDir()
	p, err := OpenPID(context.Background(), pid, Options{InputOptions: InputOptions{TempDir: tmp}}, LiveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	assertRunning(t, pid)
	if s := p.Source; s.Kind != "pid" || s.PID != pid || s.Paused <= 0 || s.Copied < 8<<20 {
		t.Errorf("source %+v", s)
	}
	if p.Info == nil || p.Info.PID != pid || !strings.Contains(p.Info.Args, "-test.run") {
		t.Errorf("info %+v", p.Info)
	}
	if len(p.Threads) < 2 || p.Threads[0].TID != pid {
		t.Fatalf("threads: %d, first %+v", len(p.Threads), p.Threads[0])
	}
	for _, th := range p.Threads {
		if th.PC == 0 || th.SP == 0 || th.TLS == 0 {
			t.Errorf("thread %d: pc %#x sp %#x tls %#x", th.TID, th.PC, th.SP, th.TLS)
		}
	}
	exe := p.Executable()
	self, _ := filepath.EvalSymlinks(os.Args[0])
	if exe == nil || exe.LocalPath != self || exe.BuildID == "" || exe.BuildID != exe.FileBuildID {
		t.Errorf("executable %+v, want %s with matching build IDs", exe, self)
	}
	got, err := p.Slice(addr, 8<<20)
	if err != nil || !bytes.Equal(got, helperPattern()) {
		t.Errorf("the pattern at %#x does not read back (err %v)", addr, err)
	}
	if ws := p.Warnings(); len(ws) != 0 {
		t.Errorf("warnings: %v", ws)
	}
	p.Close()
	if left := tempFilesLeft(t, tmp); len(left) != 0 {
		t.Errorf("temporary files left: %q", left)
	}
}

func TestOpenPIDNoPause(t *testing.T) {
	pid, addr := startHelper(t)
	p, err := OpenPID(context.Background(), pid, Options{}, LiveOptions{NoPause: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if ws := p.Warnings(); len(ws) != 1 || !strings.Contains(ws[0].Message, "without pausing") {
		t.Errorf("warnings %v", ws)
	}
	if len(p.Threads) != 0 || p.Source.Paused != 0 || !p.Source.NoPause {
		t.Errorf("threads %d, source %+v", len(p.Threads), p.Source)
	}
	if got, err := p.Slice(addr, 8<<20); err != nil || !bytes.Equal(got, helperPattern()) {
		t.Errorf("the pattern does not read back (err %v)", err)
	}
}

func TestOpenPIDCancelledResumes(t *testing.T) {
	pid, _ := startHelper(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	_, err := OpenPID(ctx, pid, Options{}, LiveOptions{})
	if err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Errorf("cancelled read: err %v", err)
	}
	assertRunning(t, pid)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a cancelled read took %v", d)
	}
}

func TestOpenPIDNoSuchProcess(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no true command")
	}
	_, err := OpenPID(context.Background(), cmd.Process.Pid, Options{}, LiveOptions{})
	if err == nil || err.Error() != fmt.Sprintf("no process with pid %d", cmd.Process.Pid) {
		t.Errorf("err %v", err)
	}
	if _, err := OpenPID(context.Background(), os.Getpid(), Options{}, LiveOptions{}); err == nil {
		t.Error("reading heapsift itself: no error")
	}
}

// TestLiveLayoutManyMappings: past 65535 program headers the image keeps
// their count in section header 0, as the kernel does, and reads back.
func TestLiveLayoutManyMappings(t *testing.T) {
	li := &liveImage{arch: ArchAMD64, info: &ProcessInfo{PID: 7, Command: "many"}}
	const n = 70000
	for i := 0; i < n; i++ {
		start := Address(0x10000000 + i*2*pageSize)
		li.maps = append(li.maps, procMapping{Start: start, End: start + pageSize}) // no access: nothing copied
	}
	head, segs, size := li.layout()
	if len(segs) != n || size < uint64(len(head)) {
		t.Fatalf("%d segments, size %d", len(segs), size)
	}
	p, err := newProcess("many", head, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Mappings()) != n || p.Info == nil || p.Info.Command != "many" {
		t.Errorf("%d mappings, info %+v", len(p.Mappings()), p.Info)
	}
}

func TestMapsLineAndCopySize(t *testing.T) {
	for _, c := range []struct {
		line, path string
		anon, copy uint64
	}{
		{"00400000-00402000 r-xp 00000000 fd:01 1234 /usr/bin/my prog", "/usr/bin/my prog", 0, pageSize},
		{"00402000-00404000 r--p 00002000 fd:01 1234 /usr/bin/my prog", "/usr/bin/my prog", 0, 0},
		{"00404000-00406000 rw-p 00004000 fd:01 1234 /usr/bin/my prog", "/usr/bin/my prog", 4096, 0x2000},
		{"7f0000000000-7f0000004000 r-xp 00000000 fd:01 99 /tmp/lib.so (deleted)", "/tmp/lib.so (deleted)", 0, 0x4000},
		{"7f0000004000-7f0000008000 rw-p 00000000 00:00 0 ", "", 0, 0x4000},
		{"7f0000008000-7f000000c000 ---p 00000000 00:00 0", "", 0, 0},
		{"7f000000c000-7f000000e000 rw-s 00000000 00:05 7 /dev/dri/card0", "/dev/dri/card0", 0, 0},
		{"7ffc00000000-7ffc00004000 r--p 00000000 00:00 0 [vvar]", "[vvar]", 0, 0x4000},
	} {
		m, err := parseMapsLine(c.line)
		if err != nil {
			t.Fatalf("%q: %v", c.line, err)
		}
		m.Modified = c.anon > 0
		if m.Path != c.path || m.copySize() != c.copy {
			t.Errorf("%q: path %q copy %#x, want %q %#x", c.line, m.Path, m.copySize(), c.path, c.copy)
		}
	}
	if _, err := parseMapsLine("garbage"); err == nil {
		t.Error("a malformed line parsed")
	}
}
