package pycore

// Line numbers from a code object's line table, for the byte offset of
// the instruction a frame executes. Three formats: co_lnotab (3.6-3.9),
// the 3.10 co_linetable of (bytes, line delta) pairs, and the 3.11+
// location table (Objects/locations.md).

// maxLineTable bounds a line table read from the core.
const maxLineTable = 1 << 20

// lineOf returns the source line of byte offset off in code.
func (h *Heap) lineOf(code uint64, off int64) (int, bool) {
	c := &h.l.Code
	first, err := h.mem.u32(code + uint64(c.Firstlineno))
	if err != nil || off < 0 {
		return 0, false
	}
	tableOff := c.Linetable
	if h.l.Minor <= 9 {
		tableOff = c.Lnotab
	}
	if tableOff == absent {
		return 0, false
	}
	table, ok := h.bytesObject(code + uint64(tableOff))
	if !ok {
		return 0, false
	}
	line := int(int32(first))
	switch {
	case h.l.Minor <= 9:
		return lnotabLine(table, line, off), true
	case h.l.Minor == 10:
		return linetable310(table, line, off)
	default:
		return locationLine(table, line, off/2)
	}
}

// bytesObject reads the contents of the bytes object pointed to from at.
func (h *Heap) bytesObject(at uint64) ([]byte, bool) {
	b, err := h.mem.u64(at)
	if err != nil || b == 0 {
		return nil, false
	}
	n, err := h.mem.i64(b + uint64(h.l.ObSize))
	if err != nil || n < 0 || n > maxLineTable {
		return nil, false
	}
	data, err := h.mem.bytes(b+uint64(h.l.Bytes.Sval), n)
	return data, err == nil
}

// lnotabLine walks a co_lnotab of (address delta, signed line delta) pairs.
func lnotabLine(tab []byte, line int, off int64) int {
	var addr int64
	for i := 0; i+1 < len(tab); i += 2 {
		addr += int64(tab[i])
		if addr > off {
			break
		}
		line += int(int8(tab[i+1]))
	}
	return line
}

// linetable310 walks a 3.10 co_linetable of (byte length, signed line
// delta) pairs; a delta of -128 marks bytes without a line.
func linetable310(tab []byte, line int, off int64) (int, bool) {
	var end int64
	for i := 0; i+1 < len(tab); i += 2 {
		start := end
		end += int64(tab[i])
		cur := -1
		if d := int8(tab[i+1]); d != -128 {
			line += int(d)
			cur = line
		}
		if off >= start && off < end {
			return cur, cur >= 0
		}
	}
	return 0, false
}

// locationLine walks a 3.11+ location table to code unit unit.
func locationLine(tab []byte, line int, unit int64) (int, bool) {
	var addr int64
	for i := 0; i < len(tab); {
		b := tab[i]
		i++
		code := int(b>>3) & 15
		length := int64(b&7) + 1
		cur := line
		switch {
		case code == 15: // no location
			cur = -1
		case code == 14: // long form: line delta, end line, columns
			var d int64
			d, i = svarint(tab, i)
			line += int(d)
			cur = line
			for k := 0; k < 3; k++ {
				_, i = varint(tab, i)
			}
		case code == 13: // no column
			var d int64
			d, i = svarint(tab, i)
			line += int(d)
			cur = line
		case code >= 10: // one line: delta code-10, two column bytes
			line += code - 10
			cur = line
			i += 2
		default: // short form: one column byte
			i++
		}
		if unit >= addr && unit < addr+length {
			return cur, cur >= 0
		}
		addr += length
		// Skip to the next entry start (bit 7 set).
		for i < len(tab) && tab[i]&0x80 == 0 {
			i++
		}
	}
	return 0, false
}

// varint reads a location table varint: 6-bit chunks, 0x40 continues.
func varint(tab []byte, i int) (int64, int) {
	var v int64
	var shift uint
	for i < len(tab) && shift < 63 {
		b := tab[i]
		i++
		v |= int64(b&63) << shift
		shift += 6
		if b&64 == 0 {
			break
		}
	}
	return v, i
}

// svarint reads a signed varint: the low bit is the sign.
func svarint(tab []byte, i int) (int64, int) {
	v, i := varint(tab, i)
	if v&1 != 0 {
		return -(v >> 1), i
	}
	return v >> 1, i
}
