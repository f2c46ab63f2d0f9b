package compare

import "github.com/heapsift/heapsift/warn"

// source names this package in its warnings.
const source = "compare"

// Kind says how two dumps were compared; the report names it.
type Kind string

// Kinds of comparison.
const (
	// ByType compares named totals of live objects (two heaps read by a
	// language's heap model).
	ByType Kind = "types"
	// ByWord compares words by meaning (any two dumps).
	ByWord Kind = "words"
)

// ChooseKind says how to compare two dumps: by type when both are
// programs of lang whose heap heapsift reads (oldHeap, newHeap) and words
// were not asked for, by word otherwise, with a warning when only one of
// them is such a program.
func ChooseKind(oldHeap, newHeap, wordsAsked bool, lang string) (Kind, []warn.Warning) {
	if oldHeap && newHeap && !wordsAsked {
		return ByType, nil
	}
	if oldHeap == newHeap || wordsAsked {
		return ByWord, nil
	}
	which := "NEW"
	if oldHeap {
		which = "OLD"
	}
	return ByWord, []warn.Warning{warn.New(source, "only %s is a %s program heapsift can read; comparing words", which, lang)}
}

// Executable is the program file a dump came from, as its core records it.
type Executable struct {
	Path    string
	BuildID string // "" when the core holds none
}

// SameExecutable warns when the two dumps come from different
// executables, by build ID when both cores hold one, else by path. A nil
// executable is unknown and compares with anything.
func SameExecutable(eo, en *Executable) []warn.Warning {
	switch {
	case eo == nil || en == nil:
		return nil
	case eo.BuildID != "" && en.BuildID != "" && eo.BuildID != en.BuildID:
		return []warn.Warning{warn.New(source, "OLD and NEW come from different executables (build IDs %s and %s); comparing by name anyway", eo.BuildID, en.BuildID)}
	case (eo.BuildID == "" || en.BuildID == "") && eo.Path != en.Path:
		return []warn.Warning{warn.New(source, "OLD and NEW come from different executables (%s and %s); comparing by name anyway", eo.Path, en.Path)}
	}
	return nil
}
