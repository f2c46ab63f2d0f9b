package pycore

import "fmt"

// Dicts. A PyDictObject points to a keys object: a hash index (1, 2, 4 or
// 8 bytes an entry) followed by the entries in insertion order. 3.6-3.10
// size the index by dk_size and have one entry layout (hash, key, value);
// 3.11+ give dk_log2_size and dk_log2_index_bytes and two entry layouts by
// dk_kind: general (hash, key, value) and unicode (key, value). A split
// table (instances' dicts sharing their class's keys) keeps its values in
// ma_values, in entry order; 3.13 puts a small header before them.

// Keys kinds (3.11+, Objects/dict-common.h).
const (
	dictKeysGeneral = 0
	dictKeysUnicode = 1
	dictKeysSplit   = 2
)

// dictEntry is one entry of a dict: its index in the entries, key and
// value (value 0 when the slot is empty).
type dictEntry struct {
	index      int
	key, value uint64
}

// keysInfo is a decoded keys object.
type keysInfo struct {
	addr               uint64
	refcnt             int64
	size               int64 // slots in the index
	indexBytes         int64 // bytes of the index
	nentries, usable   int64
	entries            uint64 // address of the first entry
	entrySize, keyOff  int64
	valueOff           int64
	kind               int
	bytesIncludingBody int64 // what _PyDict_KeysSize counts
}

// readKeys decodes the keys object at a.
func (h *Heap) readKeys(a uint64) (keysInfo, error) {
	d := &h.l.Dict
	k := keysInfo{addr: a, entrySize: d.EntrySize, keyOff: d.EntryKey, valueOff: d.EntryValue}
	var err error
	if k.refcnt, err = h.mem.i64(a + uint64(d.DkRefcnt)); err != nil {
		return k, fmt.Errorf("reading dict keys at %#x: %w", a, err)
	}
	if k.nentries, err = h.mem.i64(a + uint64(d.DkNentries)); err != nil {
		return k, fmt.Errorf("reading dict keys at %#x: %w", a, err)
	}
	if k.usable, err = h.mem.i64(a + uint64(d.DkUsable)); err != nil {
		return k, fmt.Errorf("reading dict keys at %#x: %w", a, err)
	}
	if d.DkSize != absent {
		if k.size, err = h.mem.i64(a + uint64(d.DkSize)); err != nil {
			return k, fmt.Errorf("reading dict keys at %#x: %w", a, err)
		}
		// The index lies in mapped memory: so much bounds dk_size.
		if k.size <= 0 || uint64(k.size) > h.mem.mapped(a) {
			return k, fmt.Errorf("dict keys at %#x: %d slots run past mapped memory", a, k.size)
		}
		k.indexBytes = k.size * indexWidth(k.size)
		k.kind = dictKeysGeneral
	} else {
		hdr, err := h.mem.bytes(a+uint64(d.DkLog2Size), d.DkKind-d.DkLog2Size+1)
		if err != nil {
			return k, fmt.Errorf("reading dict keys at %#x: %w", a, err)
		}
		log2Size, log2Index := hdr[0], hdr[d.DkLog2IndexBytes-d.DkLog2Size]
		if log2Size > 40 || log2Index > 43 {
			return k, fmt.Errorf("dict keys at %#x: implausible size 2**%d", a, log2Size)
		}
		k.size, k.indexBytes = 1<<log2Size, 1<<log2Index
		k.kind = int(hdr[d.DkKind-d.DkLog2Size])
		if k.kind != dictKeysGeneral {
			k.entrySize, k.keyOff, k.valueOff = d.UEntrySize, d.UEntryKey, d.UEntryValue
		}
	}
	usableMax := 2 * k.size / 3
	if k.size <= 0 || k.nentries < 0 || k.nentries > usableMax+1 {
		return k, fmt.Errorf("dict keys at %#x: %d entries for %d slots", a, k.nentries, k.size)
	}
	k.entries = a + uint64(d.DkIndices) + uint64(k.indexBytes)
	k.bytesIncludingBody = d.KeysSize + k.indexBytes + usableMax*k.entrySize
	if uint64(k.nentries*k.entrySize) > h.mem.mapped(k.entries) {
		return k, fmt.Errorf("dict keys at %#x: entries run past mapped memory", a)
	}
	return k, nil
}

// indexWidth is the bytes of one index slot of a 3.6-3.10 keys object.
func indexWidth(size int64) int64 {
	switch {
	case size <= 0xff:
		return 1
	case size <= 0xffff:
		return 2
	case size <= 0xffffffff:
		return 4
	}
	return 8
}

// dictInfo is a decoded dict object.
type dictInfo struct {
	used   int64
	keys   keysInfo
	values uint64 // address of the split values array, 0 for a combined table
	split  bool
}

// readDict decodes the dict at a.
func (h *Heap) readDict(a uint64) (dictInfo, error) {
	d := &h.l.Dict
	var di dictInfo
	b, err := h.mem.bytes(a, d.Size)
	if err != nil {
		return di, fmt.Errorf("reading dict at %#x: %w", a, err)
	}
	di.used = int64(le64(b[d.Used:]))
	keys := le64(b[d.Keys:])
	values := le64(b[d.Values:])
	if di.keys, err = h.readKeys(keys); err != nil {
		return di, err
	}
	if values != 0 {
		di.split = true
		di.values = values + uint64(d.ValuesArray)
	}
	return di, nil
}

// dictEntries calls fn for each filled entry of the dict at a until fn
// returns false. A damaged dict yields what could be read.
func (h *Heap) dictEntries(a uint64, fn func(dictEntry) bool) error {
	di, err := h.readDict(a)
	if err != nil {
		return err
	}
	return h.entriesOf(di.keys, di.values, fn)
}

// entriesOf calls fn for the entries of keys, with values from a split
// values array when values is not 0.
func (h *Heap) entriesOf(k keysInfo, values uint64, fn func(dictEntry) bool) error {
	n := k.nentries
	raw, err := h.mem.bytes(k.entries, n*k.entrySize)
	if err != nil {
		return fmt.Errorf("reading dict entries at %#x: %w", k.entries, err)
	}
	var vals []byte
	if values != 0 {
		if vals, err = h.mem.wordBytes(values, n); err != nil {
			return fmt.Errorf("reading split dict values at %#x: %w", values, err)
		}
	}
	for i := int64(0); i < n; i++ {
		e := raw[i*k.entrySize:]
		key := le64(e[k.keyOff:])
		var value uint64
		if values != 0 {
			value = le64(vals[8*i:])
		} else {
			value = le64(e[k.valueOff:])
		}
		if key == 0 || value == 0 {
			continue
		}
		if !fn(dictEntry{index: int(i), key: key, value: value}) {
			break
		}
	}
	return nil
}

// dictEntryAt returns entry i of the dict at a, for naming a reference.
func (h *Heap) dictEntryAt(a uint64, i int) (dictEntry, bool) {
	di, err := h.readDict(a)
	if err != nil || i < 0 || int64(i) >= di.keys.nentries {
		return dictEntry{}, false
	}
	k := di.keys
	key, err := h.mem.u64(k.entries + uint64(int64(i)*k.entrySize+k.keyOff))
	if err != nil {
		return dictEntry{}, false
	}
	return dictEntry{index: i, key: key}, true
}

// dictSize is sys.getsizeof of the dict at a, without the GC header.
func (h *Heap) dictSize(a uint64, basicsize int64) int64 {
	di, err := h.readDict(a)
	if err != nil {
		return basicsize
	}
	res := basicsize
	k := di.keys
	if di.split {
		switch {
		case h.l.Minor >= 11:
			res += (k.nentries + k.usable) * 8
		default:
			res += 2 * k.size / 3 * 8
		}
	}
	if k.refcnt == 1 {
		res += k.bytesIncludingBody
	}
	return res
}

func le64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}
