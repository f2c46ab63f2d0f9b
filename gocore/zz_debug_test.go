package gocore

import (
	"os"
	"strings"
	"testing"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/gocore/stack"
)

func TestZZDebugVars(t *testing.T) {
	core := os.Getenv("ZZCORE")
	if core == "" {
		t.Skip()
	}
	p, err := dump.Open(core, dump.Options{})
	if err != nil {
		t.Fatal(err)
	}
	prog, _, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	sc := prog.newStackScanner(&rootSet{h: &prog.heap})
	for _, g := range prog.goroutines {
		for _, f := range g.Frames {
			if !strings.Contains(f.Func, os.Getenv("ZZFUNC")) {
				continue
			}
			vars, err := sc.vars.ForPC(f.PC)
			t.Logf("g%d %s pc %#x sp %#x err %v", g.ID, f.Func, f.PC, f.SP, err)
			for _, v := range vars {
				t.Logf("   %s %s off %d size %d piece %d", v.Func, v.Name, v.Offset, v.Size, v.PieceOffset)
			}
		}
		_ = stack.Var{}
	}
}
