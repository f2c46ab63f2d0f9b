package heap

import (
	"fmt"
	"strconv"
	"strings"
)

// RootKind says what holds a root reference.
type RootKind uint8

// Kinds of roots, common to every language.
const (
	RootGlobal    RootKind = iota // a package- or module-level variable
	RootStack                     // a local variable of a thread's or goroutine's frame
	RootFinalizer                 // a finalizer or cleanup record
	RootRuntime                   // the runtime's or interpreter's own state
	RootOutside                   // references the model sees counted but not held (C extensions)
)

var rootKindNames = [...]string{"global", "stack", "finalizer", "runtime", "outside"}

func (k RootKind) String() string {
	if int(k) < len(rootKindNames) {
		return rootKindNames[k]
	}
	return fmt.Sprintf("RootKind(%d)", uint8(k))
}

// Root is one reference from outside the heap to an object.
type Root struct {
	Kind   RootKind
	Object uint32 // the object referred to
	// Var is the variable: for a global the package- or module-level one
	// ("main.defaultProfiler", "__main__.Profiler"), for a stack root the
	// local variable if it is known.
	Var string
	// Path goes from the variable to the reference (["results"] for
	// main.defaultProfiler.results); empty when the variable is the
	// reference.
	Path Path
	// Func, File and Line are a stack root's frame.
	Func string
	File string
	Line int
	// Thread is the goroutine's or thread's ID of a stack root, and
	// ThreadName its name where the language has one.
	Thread     int64
	ThreadName string
	// ThreadLabel is what a thread is called in this language
	// ("goroutine", "thread").
	ThreadLabel string
	// Name describes a root that is no variable ("finalizer of 0x…",
	// "sys.modules", "held outside Python").
	Name string
	// Addr is where the reference is stored, if it is in memory.
	Addr uint64
	// Unexplained counts, for a RootOutside root, the references the
	// object's count says it has beyond those the model found.
	Unexplained int64
	// Bookkeeping marks a root that belongs to the runtime or to a
	// library's caches rather than to the program (Go's sync.Pool caches,
	// runtime timers, the stacks of the runtime's own goroutines): paths
	// are searched from it last, so that what the program holds is shown
	// held by the program.
	Bookkeeping bool
}

// Tier orders roots for the search of paths: the program's globals,
// then stacks, finalizers, the runtime's state and bookkeeping globals,
// and last what is held from outside.
func (r Root) Tier() int {
	if r.Bookkeeping && r.Kind < RootRuntime {
		return int(RootRuntime)
	}
	return int(r.Kind)
}

// Collapse returns the root with its path collapsed, as grouping sees it.
func (r Root) Collapse() Root {
	r.Path = r.Path.Collapse()
	return r
}

// Label is the root's name in a path: the variable for a global, the
// thread, function and variable for a stack root, the description for
// the rest.
func (r Root) Label() string {
	switch r.Kind {
	case RootGlobal:
		if r.Var != "" {
			return r.Var
		}
	case RootStack:
		return r.threadPrefix() + r.frameWords()
	}
	if r.Name != "" {
		return r.Name
	}
	return r.Var
}

// MergedLabel is the label of n stack roots that differ only by thread
// ("88 goroutines main.serve buf"); other roots keep their Label.
func (r Root) MergedLabel(n int) string {
	if r.Kind != RootStack {
		return r.Label()
	}
	return strconv.Itoa(n) + " " + r.threadWord() + "s" + r.frameWords()
}

// threadWord is what the language calls a thread ("goroutine").
func (r Root) threadWord() string {
	if r.ThreadLabel == "" {
		return "thread"
	}
	return r.ThreadLabel
}

// threadPrefix names a stack root's thread: "goroutine 17", or
// `thread "worker"` where threads have names.
func (r Root) threadPrefix() string {
	if r.ThreadName != "" {
		return r.threadWord() + " " + strconv.Quote(r.ThreadName)
	}
	return r.threadWord() + " " + strconv.FormatInt(r.Thread, 10)
}

// frameWords are a stack root's function and variable, each after a
// space.
func (r Root) frameWords() string {
	s := ""
	if r.Func != "" {
		s += " " + r.Func
	}
	switch {
	case r.Var != "":
		s += " " + r.Var
	case r.Name != "" && r.Name != r.Func:
		s += " " + r.Name
	}
	return s
}

// Key identifies the root for grouping: two roots with one key are the
// same holder. A stack root's thread is part of it, its address is not.
func (r Root) Key() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d\x00%d\x00%s\x00%s\x00%s\x00%s", r.Kind, r.Thread, r.Func, r.Var, r.Name, r.Path.String())
	return sb.String()
}
