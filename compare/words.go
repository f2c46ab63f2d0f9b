package compare

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/heapsift/heapsift/histogram"
	"github.com/heapsift/heapsift/symbolize"
)

// Words are compared by what they mean, not by their value: two runs of a
// program load its libraries at different addresses, so the same type
// pointer has a different value in each dump. A Keyer turns a word of one
// dump into a WordKey (module base name + symbol + offset for a symbol,
// module base name + offset for a pointer into a module, the value itself
// otherwise) and back into every word of its dump with that key.
//
// DiffWords counts the top words of each dump (histogram.Count), keys
// them, and takes the union of the keys. The two top lists do not cover each other's
// keys, so for every key each dump's count is completed exactly: the words
// of that dump with the key that its own top list lacks are counted in one
// more pass (histogram.CountValues). Every count in the result is exact.

// KeyKind says how a WordKey identifies words.
type KeyKind uint8

// Kinds of WordKey.
const (
	// KeyValue: the word itself (numbers, text, and with
	// KeyOptions.Pointers pointers outside modules).
	KeyValue KeyKind = iota
	// KeySymbol: a module's symbol plus an offset.
	KeySymbol
	// KeyModule: an offset from the base of a module (where its file
	// offset 0 is mapped), for pointers into a module but no symbol.
	KeyModule
)

// WordKey is what a word means, the same in every dump of one program.
type WordKey struct {
	Kind   KeyKind
	Module string // KeySymbol, KeyModule: base name of the module's path
	Symbol string // KeySymbol: as the ELF file spells it
	Offset uint64 // KeySymbol: into the symbol; KeyModule: from the module's base
	Value  uint64 // KeyValue: the word
}

// A Keyer maps the words of one dump to WordKeys and back.
type Keyer interface {
	// Key says what word v means, with its description; false leaves v
	// out of the comparison.
	Key(v uint64) (WordKey, symbolize.Name, bool)
	// Values returns, for each key, every word of this dump that Key
	// maps to it (none when the dump has no such word).
	Values(keys []WordKey) [][]uint64
}

// WordSide is one of the two dumps of a word comparison.
type WordSide struct {
	Regions []histogram.Region
	Keyer   Keyer
}

// DefaultDiffTop is the number of most frequent words of each dump that
// DiffWords keys when WordDiffOptions.Top is 0.
const DefaultDiffTop = 4096

// WordDiffOptions tune DiffWords.
type WordDiffOptions struct {
	Top      int  // most frequent words keyed in each dump; DefaultDiffTop when 0, at most histogram.MaxTop
	SkipZero bool // leave the word 0 out
	Workers  int  // goroutines; 0 = one per CPU
}

// WordDelta compares the words of one key in two dumps.
type WordDelta struct {
	Key WordKey
	// Name describes a word of this key: NEW's when NEW lists the key
	// among its top words, OLD's otherwise.
	Name                 symbolize.Name
	OldCount, NewCount   uint64   // exact
	OldValues, NewValues []uint64 // the words with this key in each dump
}

// Delta is NewCount - OldCount.
func (d WordDelta) Delta() int64 { return int64(d.NewCount - d.OldCount) }

// Change says how d changed, its ratio being of the counts (words have
// no size).
func (d WordDelta) Change() Change {
	return changeOf(d.OldCount, d.NewCount, d.OldCount, d.NewCount)
}

// Label is what the row is called, in reports and by word:NAME limits:
// the symbol and offset ("vtable for Button+16"), a module and offset
// ("→ libc.so.6+0x1d8000"), or the word's description, after its value
// when the description alone does not identify it.
func (d WordDelta) Label() string {
	switch d.Key.Kind {
	case KeySymbol:
		return d.Name.String()
	case KeyModule:
		return fmt.Sprintf("→ %s+%#x", d.Key.Module, d.Key.Offset)
	}
	if d.Name.Kind == symbolize.KindOther || d.Name.Kind == symbolize.KindPointer {
		return fmt.Sprintf("0x%016x %s", d.Key.Value, d.Name.String())
	}
	return d.Name.String()
}

// WordDiff is the outcome of DiffWords.
type WordDiff struct {
	// Rows has one row per key of either top list, the largest growth
	// first, then the larger NEW count, then by key.
	Rows []WordDelta
	// OldWords and NewWords are the aligned words examined in each dump.
	OldWords, NewWords uint64
	// OldBytes and NewBytes are the bytes of each dump's regions.
	OldBytes, NewBytes uint64
	// OldLeftOut and NewLeftOut count the occurrences of top words that
	// the keyer left out.
	OldLeftOut, NewLeftOut uint64
}

// sideCounts is one dump's top words, keyed.
type sideCounts struct {
	known   map[uint64]uint64          // value -> exact count, for the top words
	byKey   map[WordKey][]uint64       // key -> its top words
	names   map[WordKey]symbolize.Name // key -> description of one of them
	words   uint64
	leftOut uint64
}

// DiffWords compares the words of two dumps by meaning. See the comment at
// the top of this file.
func DiffWords(older, newer WordSide, opts WordDiffOptions) (*WordDiff, error) {
	top := cmp.Or(opts.Top, DefaultDiffTop)
	o, err := topWords(older, top, opts)
	if err != nil {
		return nil, fmt.Errorf("counting OLD's words: %w", err)
	}
	n, err := topWords(newer, top, opts)
	if err != nil {
		return nil, fmt.Errorf("counting NEW's words: %w", err)
	}
	keys := unionKeys(o, n)
	oldCounts, oldValues, err := completeCounts(older, o, keys, opts)
	if err != nil {
		return nil, fmt.Errorf("counting OLD's words: %w", err)
	}
	newCounts, newValues, err := completeCounts(newer, n, keys, opts)
	if err != nil {
		return nil, fmt.Errorf("counting NEW's words: %w", err)
	}
	d := &WordDiff{OldWords: o.words, NewWords: n.words, OldBytes: regionBytes(older.Regions), NewBytes: regionBytes(newer.Regions),
		OldLeftOut: o.leftOut, NewLeftOut: n.leftOut}
	for i, k := range keys {
		name, ok := n.names[k]
		if !ok {
			name = o.names[k]
		}
		d.Rows = append(d.Rows, WordDelta{Key: k, Name: name,
			OldCount: oldCounts[i], NewCount: newCounts[i], OldValues: oldValues[i], NewValues: newValues[i]})
	}
	slices.SortFunc(d.Rows, func(a, b WordDelta) int {
		return cmp.Or(cmp.Compare(b.Delta(), a.Delta()), cmp.Compare(b.NewCount, a.NewCount), compareKeys(a.Key, b.Key))
	})
	return d, nil
}

func regionBytes(regions []histogram.Region) uint64 {
	var n uint64
	for _, r := range regions {
		n += uint64(len(r.Data))
	}
	return n
}

// topWords counts a dump's most frequent words and keys them.
func topWords(s WordSide, top int, opts WordDiffOptions) (*sideCounts, error) {
	res, err := histogram.Count(s.Regions, histogram.Options{Top: top, SkipZero: opts.SkipZero, Workers: opts.Workers})
	if err != nil {
		return nil, err
	}
	c := &sideCounts{known: map[uint64]uint64{}, byKey: map[WordKey][]uint64{},
		names: map[WordKey]symbolize.Name{}, words: res.Words}
	for _, r := range res.Rows {
		if r.Value == 0 && opts.SkipZero {
			continue
		}
		k, name, ok := s.Keyer.Key(r.Value)
		if !ok {
			c.leftOut += r.Count
			continue
		}
		c.known[r.Value] = r.Count
		if _, seen := c.byKey[k]; !seen {
			c.names[k] = name
		}
		c.byKey[k] = append(c.byKey[k], r.Value)
	}
	return c, nil
}

// unionKeys lists the keys of both top lists, each once, in a fixed order.
func unionKeys(a, b *sideCounts) []WordKey {
	keys := make([]WordKey, 0, len(a.byKey)+len(b.byKey))
	for k := range a.byKey {
		keys = append(keys, k)
	}
	for k := range b.byKey {
		if _, dup := a.byKey[k]; !dup {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, compareKeys)
	return keys
}

// completeCounts returns the exact count of every key in one dump, and the
// words with each key: counts of its top words are known, the other words
// with the key are counted in one pass.
func completeCounts(s WordSide, c *sideCounts, keys []WordKey, opts WordDiffOptions) ([]uint64, [][]uint64, error) {
	values := s.Keyer.Values(keys)
	var missing []uint64
	for i, k := range keys {
		vs := append(slices.Clone(values[i]), c.byKey[k]...)
		slices.Sort(vs)
		values[i] = slices.Compact(vs)
		for _, v := range values[i] {
			if _, ok := c.known[v]; !ok && !(v == 0 && opts.SkipZero) {
				missing = append(missing, v)
			}
		}
	}
	slices.Sort(missing)
	missing = slices.Compact(missing)
	counted, err := histogram.CountValues(s.Regions, missing, opts.Workers)
	if err != nil {
		return nil, nil, err
	}
	extra := make(map[uint64]uint64, len(missing))
	for i, v := range missing {
		extra[v] = counted[i]
	}
	counts := make([]uint64, len(keys))
	for i := range keys {
		var kept []uint64
		for _, v := range values[i] {
			n, ok := c.known[v]
			if !ok {
				n = extra[v]
			}
			counts[i] += n
			if n > 0 {
				kept = append(kept, v)
			}
		}
		values[i] = kept
	}
	return counts, values, nil
}

func compareKeys(a, b WordKey) int {
	return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Module, b.Module),
		cmp.Compare(a.Symbol, b.Symbol), cmp.Compare(a.Offset, b.Offset), cmp.Compare(a.Value, b.Value))
}

// Total compares all the memory of the two dumps: words examined and bytes.
func (d *WordDiff) Total() TallyDelta {
	return TallyDelta{Name: "the memory in the core", OldCount: d.OldWords, NewCount: d.NewWords,
		OldBytes: d.OldBytes, NewBytes: d.NewBytes}
}

// Growth returns what limits measure in d: the total and every row, a
// symbol also by its bare name. Only the total has a size.
func (d *WordDiff) Growth() Growth {
	g := Growth{kind: ByWord, measures: []measure{{scope: "total", TallyDelta: d.Total(), bytes: true}}}
	for _, w := range d.Rows {
		m := measure{scope: "value", TallyDelta: TallyDelta{Name: w.Label(), OldCount: w.OldCount, NewCount: w.NewCount}}
		if w.Key.Kind != KeyValue {
			m.scope = "word"
		}
		if w.Key.Kind == KeySymbol {
			m.alias = w.Name.Symbol
		}
		g.measures = append(g.measures, m)
	}
	return g
}
