package histogram

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/symbolize"
)

// Comparing two dumps of the same program.
//
// Named totals (Go types with their object counts and bytes) are compared
// by name: DiffTallies.
//
// Words are compared by what they mean, not by their value: two runs of a
// program load its libraries at different addresses, so the same type
// pointer has a different value in each dump. A Keyer turns a word of one
// dump into a WordKey (module base name + symbol + offset for a symbol,
// module base name + offset for a pointer into a module, the value itself
// otherwise) and back into every word of its dump with that key.
//
// DiffWords counts the top words of each dump (Count), keys them, and
// takes the union of the keys. The two top lists do not cover each other's
// keys, so for every key each dump's count is completed exactly: the words
// of that dump with the key that its own top list lacks are counted in one
// more pass (CountValues). Every count in the result is exact.

// Tally is one named total of a dump: a type's live objects and bytes.
type Tally struct {
	Name  string
	Count uint64
	Bytes uint64
}

// TallyDelta compares one name's totals in two dumps.
type TallyDelta struct {
	Name               string
	OldCount, NewCount uint64
	OldBytes, NewBytes uint64
}

// DeltaCount is NewCount - OldCount.
func (d TallyDelta) DeltaCount() int64 { return int64(d.NewCount - d.OldCount) }

// DeltaBytes is NewBytes - OldBytes.
func (d TallyDelta) DeltaBytes() int64 { return int64(d.NewBytes - d.OldBytes) }

// DiffTallies compares two lists of tallies by name (a name listed twice
// is summed) and returns one row per name of either list, the largest
// byte growth first, then the largest count growth, then the most bytes
// in NEW, then by name.
func DiffTallies(older, newer []Tally) []TallyDelta {
	index := map[string]int{}
	var rows []TallyDelta
	row := func(name string) *TallyDelta {
		i, ok := index[name]
		if !ok {
			i = len(rows)
			index[name] = i
			rows = append(rows, TallyDelta{Name: name})
		}
		return &rows[i]
	}
	for _, t := range older {
		r := row(t.Name)
		r.OldCount += t.Count
		r.OldBytes += t.Bytes
	}
	for _, t := range newer {
		r := row(t.Name)
		r.NewCount += t.Count
		r.NewBytes += t.Bytes
	}
	slices.SortFunc(rows, func(a, b TallyDelta) int {
		return cmp.Or(cmp.Compare(b.DeltaBytes(), a.DeltaBytes()),
			cmp.Compare(b.DeltaCount(), a.DeltaCount()), cmp.Compare(b.NewBytes, a.NewBytes), cmp.Compare(a.Name, b.Name))
	})
	return rows
}

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
	Regions []Region
	Keyer   Keyer
}

// DefaultDiffTop is the number of most frequent words of each dump that
// DiffWords keys when WordDiffOptions.Top is 0.
const DefaultDiffTop = 4096

// WordDiffOptions tune DiffWords.
type WordDiffOptions struct {
	Top      int  // most frequent words keyed in each dump; DefaultDiffTop when 0, at most MaxTop
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

// WordDiff is the outcome of DiffWords.
type WordDiff struct {
	// Rows has one row per key of either top list, the largest growth
	// first, then the larger NEW count, then by key.
	Rows []WordDelta
	// OldWords and NewWords are the aligned words examined in each dump.
	OldWords, NewWords uint64
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
	oldCounts, oldValues := completeCounts(older, o, keys, opts)
	newCounts, newValues := completeCounts(newer, n, keys, opts)
	d := &WordDiff{OldWords: o.words, NewWords: n.words, OldLeftOut: o.leftOut, NewLeftOut: n.leftOut}
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

// topWords counts a dump's most frequent words and keys them.
func topWords(s WordSide, top int, opts WordDiffOptions) (*sideCounts, error) {
	res, err := Count(s.Regions, Options{Top: top, SkipZero: opts.SkipZero, Workers: opts.Workers})
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
func completeCounts(s WordSide, c *sideCounts, keys []WordKey, opts WordDiffOptions) ([]uint64, [][]uint64) {
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
	counted := CountValues(s.Regions, missing, opts.Workers)
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
	return counts, values
}

func compareKeys(a, b WordKey) int {
	return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Module, b.Module),
		cmp.Compare(a.Symbol, b.Symbol), cmp.Compare(a.Offset, b.Offset), cmp.Compare(a.Value, b.Value))
}

// KeyOptions choose which words a SymbolKeyer compares.
type KeyOptions struct {
	// Pointers keys pointers into the heap, stacks and other memory
	// outside modules by value; by default they are left out, since their
	// values mean nothing in another process.
	Pointers bool
	// SymbolsOnly keeps only words that are symbols.
	SymbolsOnly bool
}

// SymbolKeyer keys the words of one dump with its symbolizer: symbols by
// module, symbol and offset; pointers into a module by module and offset
// from its base; other pointers by value or not at all (KeyOptions); any
// other word by value.
type SymbolKeyer struct {
	sym    *symbolize.Symbolizer
	byPath map[string]*dump.Module   // path as the core records it
	byBase map[string][]*dump.Module // base name of that path
	opts   KeyOptions
}

// NewSymbolKeyer returns the keyer of p's words, named by s.
func NewSymbolKeyer(p *dump.Process, s *symbolize.Symbolizer, opts KeyOptions) *SymbolKeyer {
	k := &SymbolKeyer{sym: s, byPath: map[string]*dump.Module{}, byBase: map[string][]*dump.Module{}, opts: opts}
	for _, m := range p.Modules() {
		k.byPath[m.Path] = m
		base := filepath.Base(m.Path)
		k.byBase[base] = append(k.byBase[base], m)
	}
	return k
}

// Key implements Keyer.
func (k *SymbolKeyer) Key(v uint64) (WordKey, symbolize.Name, bool) {
	n := k.sym.Describe(v)
	switch {
	case n.Kind == symbolize.KindSymbol:
		ref := symbolize.RefOf(n)
		return WordKey{Kind: KeySymbol, Module: ref.Module, Symbol: ref.Symbol, Offset: ref.Offset}, n, true
	case k.opts.SymbolsOnly:
		return WordKey{}, n, false
	case n.Kind == symbolize.KindPointer && k.byPath[n.Module] != nil:
		m := k.byPath[n.Module]
		return WordKey{Kind: KeyModule, Module: filepath.Base(m.Path), Offset: v - uint64(m.Base())}, n, true
	case n.Kind == symbolize.KindPointer && !k.opts.Pointers:
		return WordKey{}, n, false
	}
	return WordKey{Kind: KeyValue, Value: v}, n, true
}

// Values implements Keyer. Every word returned maps back to its key.
func (k *SymbolKeyer) Values(keys []WordKey) [][]uint64 {
	out := make([][]uint64, len(keys))
	var refs []symbolize.SymbolRef
	var refKey []int
	for i, key := range keys {
		switch key.Kind {
		case KeySymbol:
			refs = append(refs, symbolize.SymbolRef{Module: key.Module, Symbol: key.Symbol, Offset: key.Offset})
			refKey = append(refKey, i)
		case KeyModule:
			for _, m := range k.byBase[key.Module] {
				out[i] = k.appendIfKey(out[i], uint64(m.Base())+key.Offset, key)
			}
		case KeyValue:
			out[i] = k.appendIfKey(out[i], key.Value, key)
		}
	}
	for j, addrs := range k.sym.Addresses(refs) {
		out[refKey[j]] = addrs
	}
	return out
}

// appendIfKey appends v to vs if v's key is key.
func (k *SymbolKeyer) appendIfKey(vs []uint64, v uint64, key WordKey) []uint64 {
	if got, _, ok := k.Key(v); ok && got == key {
		vs = append(vs, v)
	}
	return vs
}
