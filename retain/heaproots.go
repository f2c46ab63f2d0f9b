package retain

import (
	"fmt"
	"sort"
	"strings"

	"github.com/heapsift/heapsift/dump"
	"github.com/heapsift/heapsift/gocore"
)

// RootInfo describes a GC root of a Go heap as heapsift shows it.
type RootInfo struct {
	Kind gocore.RootKind
	// Name is, for a global, the package-level variable
	// ("main.defaultProfiler"); for a stack root, the variable, or
	// gocore's description of an unnamed slot ("main.worker", "defer fn");
	// for the others gocore's description ("finalizer of 0x…").
	Name string
	// Fields is, for a global, the path from the variable to the pointer
	// word, split (["results"], ["shards", "[]"]); empty when the variable
	// is the pointer.
	Fields []string
	// Func, Var and Goroutine say where a stack root is: the function of
	// the frame, the variable if DWARF names it, the goroutine's ID.
	Func      string
	Var       string
	Goroutine int64
	// Addr is where the pointer is stored (for exact roots; the first such
	// root for a group's).
	Addr dump.Address
}

// String names the root in a path: the variable for a global, the
// goroutine, function and variable for a stack root.
func (r RootInfo) String() string {
	if r.Kind != gocore.RootStack {
		return r.Name
	}
	s := fmt.Sprintf("goroutine %d", r.Goroutine)
	if r.Func != "" {
		s += " " + r.Func
	}
	switch {
	case r.Var != "":
		s += " " + r.Var
	case r.Func == "" || r.Name != r.Func:
		s += " " + r.Name
	}
	return s
}

// key identifies the root for grouping.
func (r RootInfo) key() string {
	return fmt.Sprintf("%d\x00%d\x00%s\x00%s\x00%s\x00%s", r.Kind, r.Goroutine, r.Func, r.Var, r.Name, strings.Join(r.Fields, "\x00"))
}

// rootTable gives each distinct root, indices collapsed, a label.
type rootTable struct {
	prog  *gocore.Program
	infos []RootInfo
	ids   map[string]uint32
	// graphRoots are the roots for BuildGraph: globals first, then
	// stacks, finalizers and runtime roots, so that among paths of equal
	// length the breadth-first search prefers a package-level variable.
	graphRoots []Root
}

func newRootTable(prog *gocore.Program) *rootTable {
	roots := prog.Roots()
	rt := &rootTable{prog: prog, ids: map[string]uint32{}}
	order := make([]int, len(roots))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return roots[order[i]].Kind < roots[order[j]].Kind })
	for _, i := range order {
		r := roots[i]
		if r.Object < 0 || uint64(r.Object) >= MaxObjects {
			continue
		}
		info := rt.describe(r, true)
		k := info.key()
		id, ok := rt.ids[k]
		if !ok {
			id = uint32(len(rt.infos))
			rt.ids[k] = id
			rt.infos = append(rt.infos, info)
		}
		rt.graphRoots = append(rt.graphRoots, Root{Object: uint32(r.Object), Label: id})
	}
	return rt
}

func (rt *rootTable) info(label uint32) RootInfo {
	if int(label) < len(rt.infos) {
		return rt.infos[label]
	}
	return RootInfo{Name: "?"}
}

// exact returns the uncollapsed description of a root with label label
// that points to obj.
func (rt *rootTable) exact(label uint32, obj int) RootInfo {
	want := rt.info(label).key()
	for _, r := range rt.prog.Roots() {
		if r.Object != obj {
			continue
		}
		if rt.describe(r, true).key() == want {
			return rt.describe(r, false)
		}
	}
	return rt.info(label)
}

// describe turns a gocore root into a RootInfo; collapse writes indices
// within a global as "[]".
func (rt *rootTable) describe(r gocore.Root, collapse bool) RootInfo {
	info := RootInfo{Kind: r.Kind, Name: r.Name, Func: r.Func, Var: r.Var, Goroutine: r.Goroutine, Addr: r.Addr}
	switch r.Kind {
	case gocore.RootGlobal:
		v, path := splitGlobalName(r.Name)
		info.Name = v
		if p := displayField(path, collapse); p != "*" {
			info.Fields = SplitFieldPath(p)
		}
	case gocore.RootStack:
		if r.Var != "" {
			info.Name = r.Var
		}
	}
	return info
}

// splitGlobalName splits a global root's name into the variable and the
// field path within it: "main.cache.items" is "main.cache" and ".items",
// "net/http.DefaultClient" has no path. Names that are not a variable
// ("global 0x…", compiler symbols such as "pkg..stmp_1+8") stay whole.
func splitGlobalName(name string) (variable, path string) {
	if strings.ContainsAny(name, " +") {
		return name, ""
	}
	pkgEnd := strings.LastIndexByte(name, '/') + 1
	dot := strings.IndexByte(name[pkgEnd:], '.')
	if dot < 0 {
		return name, ""
	}
	start := pkgEnd + dot + 1
	if start >= len(name) || name[start] == '.' {
		return name, ""
	}
	end := strings.IndexAny(name[start:], ".[")
	if end < 0 {
		return name, ""
	}
	return name[:start+end], name[start+end:]
}
