package stack

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// zigzag encodes a value delta as pc-value tables do.
func zigzag(v int32) uint32 { return uint32(v<<1) ^ uint32(v>>31) }

func appendUvarint(b []byte, v uint32) []byte { return binary.AppendUvarint(b, uint64(v)) }

// pcTable encodes (value, until-pc-offset) pairs as a pc-value table with
// the given quantum.
func pcTable(quantum uint32, pairs ...[2]int32) []byte {
	var b []byte
	val, pc := int32(-1), int32(0)
	for _, p := range pairs {
		b = appendUvarint(b, zigzag(p[0]-val))
		b = appendUvarint(b, uint32(p[1]-pc)/quantum)
		val, pc = p[0], p[1]
	}
	return append(b, 0)
}

// synthTable builds a minimal pclntab with one function at 0x1000 of
// length 0x40 whose pcsp table is pcsp.
func synthTable(t *testing.T, minLC byte, pcsp []byte) (*Table, Func) {
	t.Helper()
	mod := &Module{PCLNTab: synthPCLNTab(minLC, pcsp), Text: 0x1000, EText: 0x1040}
	tab, err := mod.Table(nil)
	if err != nil {
		t.Fatal(err)
	}
	f, ok := tab.FuncForPC(0x1010)
	if !ok {
		t.Fatal("no function at 0x1010")
	}
	return tab, f
}

// synthPCLNTab encodes the table synthTable uses.
func synthPCLNTab(minLC byte, pcsp []byte) []byte {
	le := binary.LittleEndian
	names := []byte("main.f\x00")
	cutab := make([]byte, 4) // file 0 → filetab offset 0
	filetab := []byte("f.go\x00")
	pctab := append([]byte{0}, pcsp...) // offset 0 means "no table"
	pcln := len(pctab)
	pctab = append(pctab, pcTable(uint32(minLC), [2]int32{10, 0x20}, [2]int32{11, 0x40})...)
	fn := make([]byte, funcSize+4)      // one pcdata offset
	le.PutUint32(fn[16:], 1)            // pcsp
	le.PutUint32(fn[20:], uint32(pcln)) // pcfile: reuse, values 10/11 are out of cutab → "?"
	le.PutUint32(fn[24:], uint32(pcln)) // pcln
	le.PutUint32(fn[28:], 1)            // npcdata
	le.PutUint32(fn[funcSize:], 1)      // pcdata[0] = the pcsp table
	ftab := make([]byte, 2*ftabEntry)
	le.PutUint32(ftab[4:], uint32(len(ftab)))
	le.PutUint32(ftab[8:], 0x40)
	pclntable := append(ftab, fn...)

	hdr := make([]byte, pcHeaderSize)
	le.PutUint32(hdr, Magic)
	hdr[6], hdr[7] = minLC, 8
	le.PutUint64(hdr[8:], 1)
	off := uint64(pcHeaderSize)
	var data []byte
	for i, part := range [][]byte{names, cutab, filetab, pctab, pclntable} {
		le.PutUint64(hdr[32+8*i:], off)
		data = append(data, part...)
		off += uint64(len(part))
	}
	return append(hdr, data...)
}

func TestPCValue(t *testing.T) {
	for _, minLC := range []byte{1, 4} {
		tab, f := synthTable(t, minLC, pcTable(uint32(minLC), [2]int32{0, 4}, [2]int32{24, 0x30}, [2]int32{0, 0x40}))
		if f.Name != "main.f" || f.Entry != 0x1000 || f.End != 0x1040 {
			t.Fatalf("func %+v", f)
		}
		for _, c := range []struct {
			pc   uint64
			want int32
			ok   bool
		}{{0x1000, 0, true}, {0x1003, 0, true}, {0x1004, 24, true}, {0x102f, 24, true}, {0x1030, 0, true}, {0x103f, 0, true}, {0x1040, -1, false}, {0xfff, -1, false}} {
			got, ok := tab.SPDelta(&f, c.pc)
			if got != c.want || ok != c.ok {
				t.Errorf("minLC %d: SPDelta(%#x) = %d, %v; want %d, %v", minLC, c.pc, got, ok, c.want, c.ok)
			}
		}
		if v := tab.PCData(&f, 0, 0x1010); v != 24 {
			t.Errorf("PCData(0) = %d, want 24", v)
		}
		if v := tab.PCData(&f, 1, 0x1010); v != -1 {
			t.Errorf("PCData(1) = %d, want -1 (no such table)", v)
		}
		if _, line := tab.FileLine(&f, 0x1030); line != 11 {
			t.Errorf("line at 0x1030 = %d, want 11", line)
		}
		if _, ok := tab.FuncForPC(0x1040); ok {
			t.Errorf("FuncForPC(end) found a function")
		}
	}
}

func TestExpandGCProg(t *testing.T) {
	for _, c := range []struct {
		name  string
		prog  []byte
		nword uint64
		want  []byte
	}{
		{"literal", []byte{0x03, 0b101, 0}, 3, []byte{0b101}},
		// 1 then repeat the last bit 9 times: 10 ones.
		{"repeat one bit", []byte{0x01, 0b1, 0x81, 9, 0}, 10, []byte{0xff, 0x03}},
		// 01 then repeat those 2 bits 3 times: 01010101.
		{"repeat pattern", []byte{0x02, 0b10, 0x82, 3, 0}, 8, []byte{0b10101010}},
		// Repeat length given as a varint (n = 0 in the opcode).
		{"varint length", []byte{0x02, 0b01, 0x80, 2, 2, 0}, 6, []byte{0b010101}},
		// Output capped at nword bits.
		{"capped", []byte{0x01, 0b1, 0x81, 100, 0}, 4, []byte{0x0f}},
	} {
		got, err := expandGCProg(c.prog, c.nword)
		if err != nil || !bytes.Equal(got, c.want) {
			t.Errorf("%s: %08b, %v; want %08b", c.name, got, err, c.want)
		}
	}
	for _, bad := range [][]byte{{0x10, 0xff}, {0x81}, {0x81, 5, 0}, {0x80}} {
		if _, err := expandGCProg(bad, 64); err == nil {
			t.Errorf("expandGCProg(%x) succeeded", bad)
		}
	}
}

func TestDecodeLocExpr(t *testing.T) {
	for _, c := range []struct {
		name string
		expr []byte
		want []piece
		ok   bool
	}{
		{"fbreg", []byte{opFbreg, 0x68}, []piece{{onStack: true, cfaOff: -24}}, true},
		{"cfa", []byte{opCallFrameCFA}, []piece{{onStack: true}}, true},
		{"cfa+consts", []byte{opCallFrameCFA, opConsts, 0x10, opPlus}, []piece{{onStack: true, cfaOff: 16}}, true},
		{"register", []byte{opReg0 + 3}, []piece{{}}, true},
		{"pieces", []byte{opFbreg, 0x50, opPiece, 8, opReg0, opPiece, 8, opFbreg, 0x60, opPiece, 8},
			[]piece{{onStack: true, cfaOff: -48, size: 8}, {size: 8, pieceOff: 8}, {onStack: true, cfaOff: -32, size: 8, pieceOff: 16}}, true},
		{"absent piece", []byte{opPiece, 8, opFbreg, 0x70, opPiece, 8}, []piece{{size: 8}, {onStack: true, cfaOff: -16, size: 8, pieceOff: 8}}, true},
		{"addr", []byte{opAddr, 1, 2, 3, 4, 5, 6, 7, 8}, nil, false},
		{"stack value", []byte{opConsts, 1, opStackValue}, nil, false},
		{"truncated", []byte{opFbreg}, nil, false},
		{"plus on empty", []byte{opPlus}, nil, false},
	} {
		got, ok := decodeLocExpr(c.expr)
		if ok != c.ok || ok && !equalPieces(got, c.want) {
			t.Errorf("%s: %+v, %v; want %+v, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

func equalPieces(a, b []piece) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestLocLists(t *testing.T) {
	le := binary.LittleEndian
	expr := []byte{opFbreg, 0x68}
	// DWARF 4: a base address selection entry, one range, the end.
	var v4 []byte
	v4 = le.AppendUint64(v4, ^uint64(0))
	v4 = le.AppendUint64(v4, 0x401000)
	v4 = le.AppendUint64(v4, 0x10)
	v4 = le.AppendUint64(v4, 0x20)
	v4 = le.AppendUint16(v4, uint16(len(expr)))
	v4 = append(v4, expr...)
	v4 = le.AppendUint64(v4, 0)
	v4 = le.AppendUint64(v4, 0)
	// DWARF 5: base_addressx 1, offset_pair, end.
	v5 := []byte{lleBaseAddressx, 1, lleOffsetPair, 0x10, 0x20, byte(len(expr))}
	v5 = append(v5, expr...)
	v5 = append(v5, lleEndOfList)
	addr := le.AppendUint64(le.AppendUint64(make([]byte, 8), 0xdead), 0x401000) // addr_base 8, index 1

	ll := &locLists{loc: v4, loclists: v5, addr: addr}
	want := []locRange{{lo: 0x401010, hi: 0x401020, pieces: []piece{{onStack: true, cfaOff: -24}}}}
	for _, cu := range []*cuInfo{{lowPC: 0x400000}, {addrBase: 8, dwarf5: true}} {
		got, err := ll.read(cu, 0)
		if err != nil || len(got) != 1 || got[0].lo != want[0].lo || got[0].hi != want[0].hi || !equalPieces(got[0].pieces, want[0].pieces) {
			t.Errorf("dwarf5=%v: %+v, %v; want %+v", cu.dwarf5, got, err, want)
		}
	}
	for _, cu := range []*cuInfo{{}, {dwarf5: true}} {
		if _, err := ll.read(cu, 5); err == nil && !cu.dwarf5 {
			t.Errorf("dwarf5=%v: reading from the middle succeeded", cu.dwarf5)
		}
		if _, err := ll.read(cu, 1<<20); err == nil {
			t.Errorf("dwarf5=%v: reading past the end succeeded", cu.dwarf5)
		}
	}
}

func TestVarAt(t *testing.T) {
	vars := []Var{{Name: "a", Offset: -24, Size: 8}, {Name: "s", Offset: -48, Size: 16, PieceOffset: 8}}
	cfa := uint64(0x1000)
	for _, c := range []struct {
		addr uint64
		name string
		off  uint64
		ok   bool
	}{{0x1000 - 24, "a", 0, true}, {0x1000 - 17, "a", 7, true}, {0x1000 - 16, "", 0, false}, {0x1000 - 40, "s", 16, true}, {0x1000 - 49, "", 0, false}} {
		v, off, ok := VarAt(vars, cfa, c.addr)
		if ok != c.ok || v.Name != c.name || off != c.off {
			t.Errorf("VarAt(%#x) = %q+%d, %v; want %q+%d, %v", c.addr, v.Name, off, ok, c.name, c.off, c.ok)
		}
	}
}

func FuzzParseTable(f *testing.F) {
	f.Add([]byte{})
	hdr := make([]byte, pcHeaderSize)
	binary.LittleEndian.PutUint32(hdr, Magic)
	hdr[6], hdr[7] = 1, 8
	f.Add(hdr)
	f.Add(synthPCLNTab(1, pcTable(1, [2]int32{0, 4}, [2]int32{24, 0x30}, [2]int32{0, 0x40})))
	f.Fuzz(func(t *testing.T, data []byte) {
		mod := &Module{PCLNTab: data, Text: 0x1000, EText: 0x100000}
		tab, err := mod.Table(nil)
		if err != nil {
			return
		}
		for i := 0; i < tab.NumFuncs() && i < 64; i++ {
			fn, err := tab.FuncAt(i)
			if err != nil {
				continue
			}
			for _, pc := range []uint64{fn.Entry, fn.Entry + 1, fn.End} {
				tab.SPDelta(&fn, pc)
				tab.FileLine(&fn, pc)
				tab.PCData(&fn, PCDataStackMapIndex, pc)
				tab.FuncDataAddr(&fn, FuncDataLocalsPointerMaps)
			}
		}
		for pc := uint64(0xff0); pc < 0x1100; pc += 7 {
			tab.FuncForPC(pc)
		}
	})
}

func FuzzDecodeLocExpr(f *testing.F) {
	f.Add([]byte{opFbreg, 0x68, opPiece, 8, opReg0, opPiece, 8})
	f.Fuzz(func(t *testing.T, expr []byte) {
		decodeLocExpr(expr)
		ll := &locLists{loc: expr, loclists: expr, addr: expr}
		ll.read(&cuInfo{}, 0)
		ll.read(&cuInfo{dwarf5: true}, 0)
	})
}

func FuzzExpandGCProg(f *testing.F) {
	f.Add([]byte{0x01, 0b1, 0x81, 9, 0}, uint16(10))
	f.Fuzz(func(t *testing.T, prog []byte, nword uint16) {
		out, err := expandGCProg(prog, uint64(nword))
		if err == nil && uint64(len(out)) != (uint64(nword)+7)/8 {
			t.Fatalf("%d bytes for %d words", len(out), nword)
		}
	})
}
