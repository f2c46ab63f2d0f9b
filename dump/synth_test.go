package dump

import (
	"debug/elf"

	"github.com/heapsift/heapsift/internal/elfcore"
)

// sampleCore is a two-thread core with a heap segment, a stack, a file
// mapping the kernel left out, and every note kind. Tests change it and
// build it with Build.
func sampleCore() *elfcore.Core {
	heap := elfcore.Words(0x1111, 0x2222, 0x3333, 0x4444)
	stack := make([]byte, 4096)
	copy(stack[4096-16:], elfcore.Words(0xdead, 0xbeef))
	return &elfcore.Core{
		Segments: []elfcore.Segment{
			{Vaddr: 0x400000, Flags: elf.PF_R | elf.PF_X, Data: nil, Memsz: 0x2000},
			{Vaddr: 0x600000, Flags: elf.PF_R | elf.PF_W, Data: heap, Memsz: 0x1000},
			{Vaddr: 0x7ffff000, Flags: elf.PF_R | elf.PF_W, Data: stack},
		},
		Notes: []elfcore.Note{
			{Name: "CORE", Type: elfcore.NTPRStatus, Desc: elfcore.PRStatusAMD64(42, 11, 0x401000, 0x7ffffff0, 0x777000)},
			{Name: "CORE", Type: elfcore.NTPRPSInfo, Desc: elfcore.PRPSInfo(42, "demo", "./demo --flag")},
			{Name: "CORE", Type: elfcore.NTSigInfo, Desc: elfcore.SigInfo(11, 0xbad)},
			{Name: "CORE", Type: elfcore.NTAuxv, Desc: elfcore.Auxv(elfcore.ATPhdr, 0x400040, elfcore.ATEntry, 0x401000)},
			{Name: "CORE", Type: elfcore.NTFile, Desc: elfcore.FileNote([]elfcore.FileEntry{{Start: 0x400000, End: 0x402000, Offset: 0, Path: "/no/such/demo"}})},
			{Name: "CORE", Type: elfcore.NTPRStatus, Desc: elfcore.PRStatusAMD64(43, 0, 0x401008, 0x600010, 0)},
		},
	}
}
