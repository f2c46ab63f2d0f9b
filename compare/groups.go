package compare

import "strings"

// Retention groups: the objects a heap model groups by the root that holds
// them, the path from that root (fields, indices collapsed) and their type.
// Groups of two dumps are the same group when their type and path are the
// same; a root on a stack is the same when its function and variable are,
// whatever the goroutine or thread it was found on, since those IDs differ
// from run to run.

// GroupRoot is where a group's path starts.
type GroupRoot struct {
	// Name is the root as text ("main.sessions", "goroutine 17
	// main.worker buf"); it identifies every root but a stack's.
	Name string
	// Stack marks a root on a stack, identified by Thread, Func and Var.
	Stack bool
	// Thread is what runs on the stack ("goroutine", "thread"); Func and
	// Var are the frame's function and variable ("" when unnamed).
	Thread, Func, Var string
}

// GroupTally is one retention group of a dump.
type GroupTally struct {
	Type  string
	Root  GroupRoot
	Path  []string // after the root: fields and collapsed indices ("results", "[]")
	Count uint64
	Bytes uint64
}

// GroupDelta compares one group in two dumps.
type GroupDelta struct {
	Type string
	// Path is the group's path as words, the root first: its Name, or for
	// a stack "THREAD FUNC VAR" without the thread's ID.
	Path []string
	TallyDelta
}

// rootWord is the root as it identifies the group.
func (r GroupRoot) rootWord() string {
	if r.Stack {
		return strings.TrimSpace(r.Thread + " " + r.Func + " " + r.Var)
	}
	return r.Name
}

// DiffGroups matches the groups of two dumps and returns those that grew
// (in bytes or objects), the largest byte growth first as DiffTallies
// orders them.
func DiffGroups(older, newer []GroupTally) []GroupDelta {
	oldTallies, oldPaths := groupTallies(older)
	newTallies, newPaths := groupTallies(newer)
	var rows []GroupDelta
	for _, t := range DiffTallies(oldTallies, newTallies) {
		if t.DeltaBytes() <= 0 && t.DeltaCount() <= 0 {
			continue
		}
		row, ok := newPaths[t.Name]
		if !ok {
			row = oldPaths[t.Name]
		}
		row.TallyDelta = t
		row.Name = row.Type // not the identity key
		rows = append(rows, row)
	}
	return rows
}

// groupTallies turns groups into tallies named by their identity, and
// returns each identity's type and path.
func groupTallies(groups []GroupTally) ([]Tally, map[string]GroupDelta) {
	tallies := make([]Tally, 0, len(groups))
	rows := make(map[string]GroupDelta, len(groups))
	for _, g := range groups {
		path := append([]string{g.Root.rootWord()}, g.Path...)
		name := g.Type + "\x00" + strings.Join(path, "\x00")
		tallies = append(tallies, Tally{Name: name, Count: g.Count, Bytes: g.Bytes})
		if _, ok := rows[name]; !ok {
			rows[name] = GroupDelta{Type: g.Type, Path: path}
		}
	}
	return tallies, rows
}
