package stack

import (
	"fmt"
	"sync"

	"github.com/heapsift/heapsift/dump"
)

// Memory is the read access to the dead process that this package needs.
// *dump.Process satisfies it. Slices it returns are only read, never
// written; the pclntab slice is kept for the life of the Module.
type Memory interface {
	Slice(a dump.Address, n uint64) ([]byte, error)
	Uint64(a dump.Address) (uint64, error)
}

// Module describes one Go module (an executable, or a plugin or shared
// library built by Go) as the runtime's moduledata does. The caller fills
// the exported fields, normally from the fields of runtime.firstmoduledata
// of the same names (see ModuleFromDWARF, which does exactly that), and
// then uses the module read-only; the parsed function table is built on
// first use and kept in the Module.
//
// A Module must not be copied after first use.
type Module struct {
	// PCLNTab is the module's pclntab, starting at the pcHeader (the
	// contents of the .gopclntab section). When nil, PCLNTabSize bytes
	// are read from memory at PCHeaderAddr on first use.
	PCLNTab      []byte
	PCHeaderAddr uint64 // moduledata.pcHeader
	PCLNTabSize  uint64 // bytes from pcHeader to the end of pclntable

	// Text and EText bound the module's code (moduledata.text, etext);
	// function entries are offsets from Text.
	Text, EText uint64
	// MinPC and MaxPC (moduledata.minpc, maxpc) bound the PCs that have
	// function records. Zero means [Text, EText).
	MinPC, MaxPC uint64
	// TextSects is moduledata.textsectmap, needed only when the linker
	// split the text into several sections (very large binaries on some
	// architectures). Nil or one entry means entries are plain offsets
	// from Text.
	TextSects []TextSect

	// GoFunc is moduledata.gofunc, the base of funcdata offsets.
	GoFunc uint64
	// Rodata is moduledata.rodata, the base of stack object pointer masks.
	Rodata uint64

	// StackObjectRecord is the layout of runtime.stackObjectRecord. The
	// zero value means the layout of Go 1.22–1.26 (DefaultStackObjectLayout).
	StackObjectRecord StackObjectLayout

	// RegArgsSize is the size of internal/abi.RegArgs, the register
	// spill area that reflect.makeFuncStub and reflect.methodValueCall
	// keep in their frames. When zero those frames' register areas are
	// not reported.
	RegArgsSize uint64

	// InlinedCall is the layout of runtime.inlinedCall. The zero value
	// means DefaultInlinedCallLayout.
	InlinedCall InlinedCallLayout

	// UContext locates the interrupted registers in a signal frame, for
	// SignalContext. The zero value means the Linux layout.
	UContext UContextLayout

	once sync.Once
	tab  *table
	err  error
}

// TextSect is one entry of moduledata.textsectmap: the text section that
// holds function offsets [VAddr, End) is loaded at BaseAddr.
type TextSect struct {
	VAddr, End, BaseAddr uint64
}

// StackObjectLayout gives the size of a runtime.stackObjectRecord and the
// byte offsets of its fields (all four are 32-bit).
type StackObjectLayout struct {
	RecordSize uint64
	Off        uint64 // off: offset of the object from varp (<0) or argp (>=0)
	Size       uint64 // size: the object's size
	PtrBytes   uint64 // ptrBytes (1.24+) or _ptrdata (1.22–1.23)
	GCDataOff  uint64 // gcdataoff: the pointer mask is at Rodata+gcdataoff
	// GCProg says that a negative PtrBytes field means the mask is a GC
	// program of -PtrBytes bytes of pointer data (the _ptrdata field of Go
	// 1.22–1.23). It is harmless to set for later versions, where the
	// field is never negative.
	GCProg bool
}

// DefaultStackObjectLayout is the stackObjectRecord layout of Go
// 1.22–1.26 on 64-bit machines: {off, size, ptrBytes int32; gcdataoff
// uint32}.
func DefaultStackObjectLayout() StackObjectLayout {
	return StackObjectLayout{RecordSize: 16, Off: 0, Size: 4, PtrBytes: 8, GCDataOff: 12, GCProg: true}
}

// load parses the pclntab once.
func (m *Module) load(mem Memory) (*table, error) {
	m.once.Do(func() {
		data := m.PCLNTab
		if data == nil {
			if mem == nil {
				m.err = fmt.Errorf("module at text %#x: no pclntab bytes and no memory to read them from", m.Text)
				return
			}
			if m.PCLNTabSize == 0 || m.PCLNTabSize > 1<<32 {
				m.err = fmt.Errorf("module at text %#x: implausible pclntab size %#x", m.Text, m.PCLNTabSize)
				return
			}
			data, m.err = mem.Slice(dump.Address(m.PCHeaderAddr), m.PCLNTabSize)
			if m.err != nil {
				m.err = fmt.Errorf("reading pclntab at %#x: %w", m.PCHeaderAddr, m.err)
				return
			}
		}
		m.tab, m.err = parseTable(data, m)
	})
	return m.tab, m.err
}

// Table returns the module's parsed function table, reading the pclntab
// from mem if the Module holds no bytes for it.
func (m *Module) Table(mem Memory) (*Table, error) {
	t, err := m.load(mem)
	if err != nil {
		return nil, err
	}
	return &Table{t: t, mod: m}, nil
}

// textAddr turns a function entry offset into an address (runtime
// moduledata.textOff).
func (m *Module) textAddr(off uint32) uint64 {
	if len(m.TextSects) > 1 {
		o := uint64(off)
		for i, s := range m.TextSects {
			if o >= s.VAddr && o < s.End || i == len(m.TextSects)-1 && o == s.End {
				return s.BaseAddr + o - s.VAddr
			}
		}
	}
	return m.Text + uint64(off)
}

// textOff is the inverse of textAddr: the entry offset of pc, and whether
// pc lies in the module's text.
func (m *Module) textOff(pc uint64) (uint32, bool) {
	lo, hi := m.MinPC, m.MaxPC
	if lo == 0 && hi == 0 {
		lo, hi = m.Text, m.EText
	}
	if pc < lo || pc >= hi {
		return 0, false
	}
	if len(m.TextSects) > 1 {
		for _, s := range m.TextSects {
			if pc >= s.BaseAddr && pc < s.BaseAddr+(s.End-s.VAddr) {
				return uint32(pc - s.BaseAddr + s.VAddr), true
			}
		}
		return 0, false
	}
	return uint32(pc - m.Text), true
}
