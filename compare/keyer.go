package compare

import (
	"path/filepath"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/symbolize"
)

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
