package compare

import (
	"fmt"

	"github.com/heapsift/heapsift/warn"
)

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

// Module is a file mapped into a dump, as Reliable sees it: Resolved says
// its names (symbols, types) could be read from the file; Why says why not.
type Module struct {
	Name     string // the file's base name
	Resolved bool
	Why      string
}

// Reliable reports whether rows named in the two dumps can be matched: a
// module both dumps map, whose names one side could resolve and the other
// could not, keys its words by name on one side and by offset on the
// other, so that every named row looks new (or gone) and growth measured
// by name is meaningless. reason says which module and why.
func Reliable(oldMods, newMods []Module) (ok bool, reason string) {
	byName := make(map[string]Module, len(oldMods))
	for _, m := range oldMods {
		byName[m.Name] = m
	}
	for _, n := range newMods {
		o, found := byName[n.Name]
		if !found || o.Resolved == n.Resolved {
			continue
		}
		which, bad := "OLD", o
		if !n.Resolved {
			which, bad = "NEW", n
		}
		return false, fmt.Sprintf("%s's names in %s could not be resolved (%s) while the other dump's were, so its rows cannot be matched by name", bad.Name, which, bad.Why)
	}
	return true, ""
}
