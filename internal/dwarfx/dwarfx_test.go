package dwarfx

import (
	"bufio"
	"bytes"
	"debug/dwarf"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// buildLayout compiles testdata/layout.c with debugging information
// (extra gcc flags pick its DWARF version) and returns its DWARF and the
// offsets the program itself prints.
func buildLayout(t *testing.T, flags ...string) (*dwarf.Data, map[string]int64) {
	t.Helper()
	cc, err := exec.LookPath("gcc")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("gcc is missing; .ci/run installs it")
		}
		t.Skip("needs gcc")
	}
	bin := filepath.Join(t.TempDir(), "layout")
	if out, err := exec.Command(cc, append(append([]string{"-g", "-O0"}, flags...), "-o", bin, "testdata/layout.c")...).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	out, err := exec.Command(bin).Output()
	if err != nil {
		t.Fatalf("running layout: %v", err)
	}
	truth := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		name, val, _ := strings.Cut(sc.Text(), " ")
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil {
			t.Fatalf("layout printed %q", sc.Text())
		}
		truth[name] = n
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := f.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	return d, truth
}

// typedefNamed finds the typedef called name in d.
func typedefNamed(t *testing.T, d *dwarf.Data, name string) dwarf.Type {
	t.Helper()
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil || e == nil {
			t.Fatalf("no typedef %s (%v)", name, err)
		}
		if e.Tag == dwarf.TagTypedef && e.Val(dwarf.AttrName) == name {
			typ, err := d.Type(e.Offset)
			if err != nil {
				t.Fatal(err)
			}
			return typ
		}
	}
}

func TestMembersMatchTheCompiler(t *testing.T) {
	d, truth := buildLayout(t)
	outer := typedefNamed(t, d, "outer_t")
	if got := Strip(outer).Size(); got != truth["size"] {
		t.Errorf("size %d, the compiler says %d", got, truth["size"])
	}
	for _, path := range []string{"count", "ptr", "hi", "in.b", "items"} {
		m, ok := MemberPath(outer, path)
		if !ok {
			t.Errorf("member %s not found", path)
			continue
		}
		if m.Offset != truth[path] {
			t.Errorf("%s at %d, the compiler says %d", path, m.Offset, truth[path])
		}
	}
	items, _ := MemberPath(outer, "items")
	if got := ArrayLen(items.Type); int64(got) != truth["items_len"] {
		t.Errorf("items has %d elements, the compiler says %d", got, truth["items_len"])
	}
	if _, ok := Strip(mustMember(t, outer, "count").Type).(*dwarf.IntType); !ok {
		t.Errorf("count's type %v is not an integer once the typedef and const are stripped", mustMember(t, outer, "count").Type)
	}
	if _, ok := MemberPath(outer, "in.nothing"); ok {
		t.Error("found a member that does not exist")
	}
	if _, ok := Field(outer, "hi"); ok {
		t.Error("Field found hi, which is a member of an anonymous struct, not of outer itself")
	}
	if _, ok := Field(outer, "in"); !ok {
		t.Error("Field did not find in")
	}
}

// TestBitFields checks each bit field's position against the bit the
// compiled program sets, in DWARF 5 (data_bit_offset) and in DWARF 4
// (bit_offset from the unit's top, 0 for the field that fills it).
func TestBitFields(t *testing.T) {
	for _, dwarfVersion := range []string{"-gdwarf-5", "-gdwarf-4"} {
		t.Run(dwarfVersion, func(t *testing.T) {
			d, truth := buildLayout(t, dwarfVersion)
			outer := typedefNamed(t, d, "outer_t")
			for _, name := range []string{"kind", "compact", "ascii", "rest", "top"} {
				m := mustMember(t, outer, name)
				if got, want := 8*m.Offset+m.BitOffset, truth["bit_"+name]; m.BitSize == 0 || got != want {
					t.Errorf("%s: bit %d (size %d), the program sets bit %d", name, got, m.BitSize, want)
				}
			}
		})
	}
}

// TestStripEndsOnALoop: a typedef chain that loops (a damaged debug
// file) must not hang Strip.
func TestStripEndsOnALoop(t *testing.T) {
	a := &dwarf.TypedefType{}
	b := &dwarf.TypedefType{Type: a}
	a.Type = b
	_ = Strip(a)
}

func mustMember(t *testing.T, typ dwarf.Type, path string) Member {
	t.Helper()
	m, ok := MemberPath(typ, path)
	if !ok {
		t.Fatalf("member %s not found", path)
	}
	return m
}
