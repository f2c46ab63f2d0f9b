package dump

import (
	"debug/elf"
	"encoding/binary"
	"testing"

	"github.com/heapsift/heapsift/internal/elfcore"
)

// TestARM64Core: an arm64 core's registers are decoded by their arm64 names
// (x0..x30, sp, pc, pstate) and the thread pointer comes from NT_ARM_TLS.
func TestARM64Core(t *testing.T) {
	c := sampleCore()
	c.Machine = elf.EM_AARCH64
	regs := make([]byte, prstatusRegOff+34*8+8)
	le := binary.LittleEndian
	le.PutUint32(regs[32:], 77)
	le.PutUint16(regs[12:], 7)
	for i := 0; i < 34; i++ {
		le.PutUint64(regs[prstatusRegOff+8*i:], uint64(1000+i))
	}
	c.Notes = []elfcore.Note{
		{Name: "CORE", Type: elfcore.NTPRStatus, Desc: regs},
		{Name: "LINUX", Type: elfcore.NTARMTLS, Desc: elfcore.Words(0xabcdef)},
	}
	p, err := Open(writeTemp(t, c.Build()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.Arch != ArchARM64 || len(p.Threads) != 1 {
		t.Fatalf("arch %s, %d threads", p.Arch, len(p.Threads))
	}
	th := p.Threads[0]
	if th.TID != 77 || th.Signal != 7 || th.FP != 1029 || th.SP != 1031 || th.PC != 1032 || th.TLS != 0xabcdef {
		t.Errorf("thread %+v", th)
	}
	if v, ok := th.Reg("x28"); !ok || v != 1028 {
		t.Errorf("x28 = %d %v", v, ok)
	}
}
