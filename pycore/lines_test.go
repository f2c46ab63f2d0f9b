package pycore

import "testing"

// TestLineTables: each of the three line table formats gives the line of
// an offset, and none for an offset past the table.
func TestLineTables(t *testing.T) {
	// co_lnotab: 6 bytes on line 10, then +1 line; 4 more bytes, then +2.
	if got := lnotabLine([]byte{6, 1, 4, 2}, 10, 8); got != 11 {
		t.Errorf("lnotabLine = %d, want 11", got)
	}
	// 3.10: 6 bytes on line 10+0, 4 bytes on line +1, 2 bytes without.
	tab := []byte{6, 0, 4, 1, 2, 0x80}
	for off, want := range map[int64]int{0: 10, 7: 11, 10: -1, 12: -1} {
		got, ok := linetable310(tab, 10, off)
		if want < 0 && ok || want >= 0 && (!ok || got != want) {
			t.Errorf("linetable310(%d) = %d, %v; want %d", off, got, ok, want)
		}
	}
	// 3.11+: a one-line entry (code 11: +1) of 2 units, a no-column
	// entry (code 13, delta +4) of 1 unit, then no location.
	loc := []byte{0x80 | 11<<3 | 1, 0, 0, 0x80 | 13<<3, 8, 0x80 | 15<<3}
	for unit, want := range map[int64]int{0: 11, 1: 11, 2: 15, 3: -1, 9: -1} {
		got, ok := locationLine(loc, 10, unit)
		if want < 0 && ok || want >= 0 && (!ok || got != want) {
			t.Errorf("locationLine(%d) = %d, %v; want %d", unit, got, ok, want)
		}
	}
}

// FuzzLineTables: a code object's line table is bytes from the core; the
// three walkers take any bytes and offsets without panicking.
func FuzzLineTables(f *testing.F) {
	f.Add([]byte{6, 1, 4, 2}, int64(8))
	f.Add([]byte{6, 0, 4, 1, 2, 0x80}, int64(7))
	f.Add([]byte{0x80 | 14<<3, 0xff, 0xff, 0xff, 0x40}, int64(1))
	f.Fuzz(func(t *testing.T, tab []byte, off int64) {
		lnotabLine(tab, 1, off)
		linetable310(tab, 1, off)
		locationLine(tab, 1, off)
	})
}
