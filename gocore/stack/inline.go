package stack

import (
	"encoding/binary"

	"github.com/heapsift/heapsift/dump"
)

// Inlined calls (runtime symtabinl.go): FUNCDATA_InlTree is an array of
// inlinedCall records {funcID uint8; _ [3]byte; nameOff, parentPc,
// startLine int32}, and PCDATA_InlTreeIndex gives, for each PC, the index
// of the innermost inlined call it belongs to (-1 for none). A record's
// parentPc is an offset from the function entry whose position is the call
// site in the caller, and whose tree index names the next call outward.

// LogicalFrame is a function call as the source shows it. A physical
// Frame holds one LogicalFrame per call inlined at its PC, then the
// function itself.
type LogicalFrame struct {
	Func string
	File string // the position in Func: of CallPC for the innermost, of the inlined call for the others
	Line int
}

// InlinedCallLayout is the layout of runtime.inlinedCall: the record size
// and the byte offsets of nameOff and parentPc (both int32).
type InlinedCallLayout struct {
	Size, NameOff, ParentPC uint64
}

// DefaultInlinedCallLayout is the inlinedCall layout of Go 1.22–1.26.
func DefaultInlinedCallLayout() InlinedCallLayout {
	return InlinedCallLayout{Size: 16, NameOff: 4, ParentPC: 8}
}

// maxInlineDepth bounds the walk up a corrupt inline tree.
const maxInlineDepth = 1000

// logicalFrames expands the calls inlined at fr.CallPC (runtime
// inlineUnwinder). It stops at the first record it cannot read, ending with
// the physical function either way.
func (u *unwinder) logicalFrames(fr *Frame, f *Func) []LogicalFrame {
	pc := fr.CallPC
	tree, ok := u.tab.FuncDataAddr(f, FuncDataInlTree)
	lay := u.mod.InlinedCall
	if lay.Size == 0 {
		lay = DefaultInlinedCallLayout()
	}
	var out []LogicalFrame
	for depth := 0; ok && depth < maxInlineDepth; depth++ {
		idx := u.tab.PCData(f, PCDataInlTreeIndex, pc)
		if idx < 0 {
			break
		}
		rec, err := u.mem.Slice(dump.Address(tree+uint64(idx)*lay.Size), lay.Size)
		if err != nil {
			break
		}
		file, line := u.tab.FileLine(f, pc)
		nameOff := int32(binary.LittleEndian.Uint32(rec[lay.NameOff:]))
		out = append(out, LogicalFrame{Func: cString(u.tab.t.funcnames, int64(nameOff)), File: file, Line: line})
		parent := int32(binary.LittleEndian.Uint32(rec[lay.ParentPC:]))
		if parent < 0 {
			break
		}
		pc = f.Entry + uint64(parent)
	}
	file, line := u.tab.FileLine(f, pc)
	return append(out, LogicalFrame{Func: f.Name, File: file, Line: line})
}
