package stack

// A pc-value table (runtime symtab.go pcvalue and step) maps ranges of a
// function's PCs to int32 values. It starts at the function's entry with
// value -1 and is a sequence of pairs: a zig-zag uvarint value delta, then a
// uvarint PC delta counted in units of minLC. A value delta of 0 ends the
// table, except as the very first byte.

// PCValue returns the value that the pc-value table at pctab offset off
// gives for pc, and false if the table is absent, corrupt, or does not
// cover pc.
func (t *Table) PCValue(f *Func, off uint32, pc uint64) (int32, bool) {
	if off == 0 || uint64(off) >= uint64(len(t.t.pctab)) || pc < f.Entry {
		return -1, false
	}
	p := t.t.pctab[off:]
	cur := f.Entry
	val := int32(-1)
	first := true
	for {
		var ok bool
		p, ok = t.step(p, &cur, &val, first)
		if !ok {
			return -1, false
		}
		first = false
		if pc < cur {
			return val, true
		}
	}
}

// step decodes one (value delta, pc delta) pair from p. It returns false
// at the end of the table or if p is cut short.
func (t *Table) step(p []byte, pc *uint64, val *int32, first bool) ([]byte, bool) {
	uvdelta, n := uvarint(p)
	if n == 0 || uvdelta == 0 && !first {
		return nil, false
	}
	p = p[n:]
	*val += int32(-(uvdelta & 1) ^ (uvdelta >> 1))
	pcdelta, n := uvarint(p)
	if n == 0 {
		return nil, false
	}
	*pc += uint64(pcdelta) * uint64(t.t.minLC)
	return p[n:], true
}

// uvarint reads a little-endian base-128 number of at most 32 bits from p,
// returning it and the bytes it used (0 if p ends first or it is too long).
func uvarint(p []byte) (uint32, int) {
	var v uint32
	for i, shift := 0, uint(0); i < len(p) && i < 5; i, shift = i+1, shift+7 {
		b := p[i]
		v |= uint32(b&0x7f) << shift
		if b&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0
}

// SPDelta returns how far SP at pc is below SP at f's entry (pcsp), or
// false if f has no usable pcsp table.
func (t *Table) SPDelta(f *Func, pc uint64) (int32, bool) {
	return t.PCValue(f, f.PCSP, pc)
}

// PCData returns the value of f's pc-value table number k (a PCData*
// constant) at pc, or -1 if there is none.
func (t *Table) PCData(f *Func, k uint32, pc uint64) int32 {
	off := t.pcdataOff(f, k)
	v, _ := t.PCValue(f, off, pc)
	return v
}

// FileLine returns the source position of pc in f (runtime funcline1), or
// "?", 0 if the tables do not say.
func (t *Table) FileLine(f *Func, pc uint64) (string, int) {
	fileno, ok1 := t.PCValue(f, f.PCFile, pc)
	line, ok2 := t.PCValue(f, f.PCLn, pc)
	if !ok1 || !ok2 || fileno < 0 || line < 0 {
		return "?", 0
	}
	return t.File(f, fileno), int(line)
}
