package symbolize

import (
	"bufio"
	"debug/elf"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/heapsift/heapsift/internal/coretest"
)

// objdumpCallEnds disassembles exe's .text with objdump and returns the
// addresses that follow a call instruction: the return addresses.
func objdumpCallEnds(t *testing.T, exe string) map[uint64]bool {
	t.Helper()
	if _, err := exec.LookPath("objdump"); err != nil {
		t.Skip("no objdump to disassemble the executable with")
	}
	out, err := exec.Command("objdump", "-d", "-j", ".text", exe).Output()
	if err != nil {
		t.Fatalf("objdump -d %s: %v", exe, err)
	}
	insn := regexp.MustCompile(`^\s*([0-9a-f]+):\t([0-9a-f ]+?)\s*(?:\t(\S+).*)?$`)
	ends := map[uint64]bool{}
	var lastCall uint64 // address of the call whose bytes may continue on the next line
	var lastEnd uint64
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		m := insn.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		addr, _ := strconv.ParseUint(m[1], 16, 64)
		end := addr + uint64(len(strings.Fields(m[2])))
		switch {
		case m[3] == "": // the bytes of a long instruction, continued
			if lastCall != 0 && addr == lastEnd {
				delete(ends, lastEnd)
				ends[end] = true
				lastEnd = end
			}
		case strings.HasPrefix(m[3], "call"):
			ends[end] = true
			lastCall, lastEnd = addr, end
		default:
			lastCall = 0
		}
	}
	if len(ends) < 100 {
		t.Fatalf("objdump found %d calls in %s", len(ends), exe)
	}
	return ends
}

// TestTextInsteadOfCode: in a non-PIE executable, whose code starts at
// 0x400000, a word of three letters and NULs lands inside a function. It
// is named as text unless it is where a code pointer points — after a call
// instruction, as objdump disassembles the executable — and real return
// addresses stay symbols.
func TestTextInsteadOfCode(t *testing.T) {
	exe := coretest.BuildGo(t, "testdata/gosyms", coretest.GoBuild{})
	c := coretest.MakeCore(t, exe, nil, nil)
	s := openCore(t, c)
	ends := objdumpCallEnds(t, exe)
	f, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	text := f.Section(".text")
	inText := func(v uint64) bool { return v > text.Addr && v < text.Addr+text.Size }

	texts, calls := 0, 0
	for b2 := byte('@'); b2 <= '~'; b2++ {
		for _, b01 := range []string{"in", "ng", "er", "ab", "Zq"} {
			v := uint64(b01[0]) | uint64(b01[1])<<8 | uint64(b2)<<16
			if !inText(v) {
				continue
			}
			n := s.Describe(v)
			switch {
			case ends[v] && n.Kind != KindSymbol:
				t.Errorf("%#x follows a call but is named %s", v, n)
			case !ends[v] && n.Kind == KindSymbol && n.Offset != 0:
				t.Errorf("%#x (%q) is inside %s, after no call, but is named a code pointer", v, string([]byte{b01[0], b01[1], b2}), n)
			case !ends[v] && n.Kind == KindASCII:
				texts++
			}
		}
	}
	for v := range ends {
		if n := s.Describe(v); n.Kind != KindSymbol {
			t.Errorf("return address %#x is named %s, want a symbol", v, n)
		}
		if calls++; calls == 2000 {
			break
		}
	}
	if texts == 0 {
		t.Errorf("no candidate word in .text [%#x, %#x) was named as text", text.Addr, text.Addr+text.Size)
	}
	t.Logf("%d words named as text, %d return addresses checked", texts, calls)
}
