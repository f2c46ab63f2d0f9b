package pycore

import (
	"debug/dwarf"
	"os"
	"testing"
)

func TestDebugDWARF(t *testing.T) {
	lib, st, path := os.Getenv("PYLIB"), os.Getenv("PYST"), os.Getenv("PYPATH")
	if lib == "" {
		t.Skip()
	}
	data, _ := os.ReadFile(lib)
	ix, err := openDWARF(data)
	if err != nil {
		t.Fatal(err)
	}
	m, ok := ix.field(st, path)
	if !ok {
		t.Fatal("no field")
	}
	t.Logf("off %d size %d type %s", m.off, m.size, m.typ)
	if s, ok := strip(m.typ).(*dwarf.StructType); ok {
		for _, f := range s.Field {
			t.Logf("  %d %s %s", f.ByteOffset, f.Name, f.Type)
		}
	}
	if a, ok := strip(m.typ).(*dwarf.ArrayType); ok {
		t.Logf("array of %s count %d", a.Type, a.Count)
	}
}
