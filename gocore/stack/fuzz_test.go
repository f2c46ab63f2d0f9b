package stack

import (
	"encoding/binary"
	"testing"
)

// FuzzLocList feeds arbitrary bytes as .debug_loc, .debug_loclists and
// .debug_addr to the location-list readers of both DWARF versions, and as
// a location expression to its decoder. Nothing may panic.
func FuzzLocList(f *testing.F) {
	le := binary.LittleEndian
	// DWARF 4: one range [0x10, 0x20) holding DW_OP_fbreg -8, then the end.
	loc4 := le.AppendUint64(le.AppendUint64(nil, 0x10), 0x20)
	loc4 = append(le.AppendUint16(loc4, 2), opFbreg, 0x78)
	loc4 = append(loc4, make([]byte, 16)...)
	f.Add(loc4, int64(0), false, []byte(nil))
	// DWARF 5: DW_LLE_offset_pair 0x10 0x20, expression, DW_LLE_end_of_list;
	// DW_LLE_startx_length 0 0x10 with .debug_addr entry 0.
	loc5 := []byte{0x04, 0x10, 0x20, 0x02, opFbreg, 0x78, 0x03, 0x00, 0x10, 0x01, opCallFrameCFA, 0x00}
	f.Add(loc5, int64(0), true, le.AppendUint64(nil, 0x401000))
	f.Add([]byte{opReg0, opPiece, 8, opFbreg, 0x10, opPiece, 8}, int64(3), false, []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte, off int64, dwarf5 bool, addr []byte) {
		l := &locLists{loc: data, loclists: data, addr: addr}
		cu := &cuInfo{lowPC: 0x1000, addrBase: 0, dwarf5: dwarf5}
		l.read(cu, off)
		cu.addrBase = uint64(off)
		l.read(cu, 0)
		decodeLocExpr(data)
		uleb(data)
		sleb(data)
	})
}
