package retain

import (
	"cmp"
	"fmt"
	"slices"
)

// Group is a set of reachable objects of one type reached through the same
// root and the same collapsed label path along the breadth-first tree.
type Group struct {
	// Root is the root label of the path's first edge.
	Root uint32
	// Path holds the collapsed labels of the edges after the root edge,
	// outermost first; empty for objects that are roots themselves.
	Path []uint32
	// Type is the type id shared by the members.
	Type uint32
	// Count and Bytes are the number of members and their total size.
	Count int
	Bytes uint64
	// Retained sums the retained sizes of the members no other member
	// dominates: the bytes freed if all members were freed one by one,
	// each retained byte counted once.
	Retained uint64
	// Example is the member with the largest retained size.
	Example uint32
}

// groupStats accumulates one group while the objects are scanned.
type groupStats struct {
	path, typ uint32
	count     int
	bytes     uint64
	retained  uint64
	example   uint32
	// coverEnd is the end of the dominator-tree interval of the last
	// member counted in retained; members inside it are dominated by it.
	coverEnd uint32
}

// Groups sorts the reachable objects into groups and returns the groups,
// largest retained size first. typeOf gives each object's type id;
// collapse maps the label of every non-root edge to the label to group
// by (slice, array and map index labels to one "[]" label, for instance);
// nil keeps labels as they are.
//
// The label path of an object is interned as a (parent path, label) pair
// along the breadth-first tree, so the cost is O(n) with one hash lookup
// per object, plus the sort of the groups, and 12 bytes per node of
// working memory (scratch) besides the path and group tables.
func Groups(d *Dominators, p *Paths, typeOf []uint32, collapse func(label uint32) uint32) ([]Group, error) {
	var bySource func(from, label uint32) uint32
	if collapse != nil {
		bySource = func(_, label uint32) uint32 { return collapse(label) }
	}
	return GroupsBySource(d, p, typeOf, bySource)
}

// GroupsBySource is Groups with a collapse function that is also given
// the object the edge leaves from, so that a label can be collapsed
// according to that object's type (the index of an array of any length
// to "[]", for instance).
func GroupsBySource(d *Dominators, p *Paths, typeOf []uint32, collapse func(from, label uint32) uint32) ([]Group, error) {
	if len(typeOf) != d.g.n {
		return nil, fmt.Errorf("grouping objects: %d type ids for %d objects", len(typeOf), d.g.n)
	}
	return groupObjects(d, p, func(v int) uint32 { return typeOf[v] }, collapse, groupOptions{})
}

// groupOptions tune groupObjects for FromHeap.
type groupOptions struct {
	// assigned, if set, is called once every object is in its group and
	// the dominator tree is numbered, when neither the types, the sizes
	// nor the paths' order are read any more, so that a caller short of
	// memory can release them.
	assigned func()
	// mem gives the working arrays (nil: the Go heap).
	mem *scratch
	// consumeLabels turns the paths' parent labels into the objects' path
	// ids in place (4 bytes an object less); the paths have no labels
	// afterwards.
	consumeLabels bool
}

// groupObjects is GroupsBySource, with each object's type given by
// typeOf.
func groupObjects(d *Dominators, p *Paths, typeOf func(v int) uint32, collapse func(from, label uint32) uint32, opts groupOptions) ([]Group, error) {
	g := d.g
	if p.g != g {
		return nil, fmt.Errorf("grouping objects: dominators and paths come from different graphs")
	}
	work := opts.mem.sub()
	defer work.release()
	pathOf := p.parentLabel
	if opts.consumeLabels {
		p.parentLabel = nil
		defer opts.mem.free(pathOf)
	} else {
		pathOf = work.uint32s(g.NumNodes())
	}
	groupOf, paths := objectPaths(p, pathOf, collapse)
	stats := assignGroups(g, groupOf, typeOf, d)
	byPre, domEnd := dominatorIntervals(d, p.order, work)
	if opts.assigned != nil {
		opts.assigned()
	}
	countTopMembers(d, groupOf, stats, byPre, domEnd)
	return rankGroups(stats, paths), nil
}

// objectPaths sets each node's path id in pathOf (None for unreachable
// objects), which may be p.parentLabel itself, and returns it and the
// table of paths. The breadth-first order lists every node after its
// parent, so a node's path is known before its children's, and its label
// is read before its path is written.
func objectPaths(p *Paths, pathOf []uint32, collapse func(from, label uint32) uint32) ([]uint32, *pathTable) {
	g := p.g
	paths := newPathTable()
	sr := g.SuperRoot()
	for v, parent := range p.parent {
		if parent == None {
			pathOf[v] = None // unreachable, or the super-root
		}
	}
	pathOf[sr] = 0
	for _, t := range p.order[1:] {
		v, label := p.parent[t], pathOf[t]
		if p.parentLabel != nil {
			label = p.parentLabel[t]
		}
		if v == sr {
			// A root's object: with tiered roots (TieredPaths) the
			// super-root's children come in more than one block.
			pathOf[t] = paths.step(0, label, nil)
			continue
		}
		if collapse != nil {
			label = collapse(v, label)
		}
		pathOf[t] = paths.step(pathOf[v], label, nil)
	}
	return pathOf, paths
}

// assignGroups replaces each reachable object's path id in groupOf with
// its group number and counts members, bytes and the example per group.
func assignGroups(g *Graph, groupOf []uint32, typeOf func(v int) uint32, d *Dominators) []groupStats {
	var stats []groupStats
	ids := newInternTable()
	for v := 0; v < g.n; v++ {
		path := groupOf[v]
		if path == None {
			continue
		}
		typ := typeOf(v)
		key := uint64(path)<<32 | uint64(typ)
		id := ids.lookup(key)
		if id == None {
			id = uint32(len(stats))
			ids.insert(key, id)
			stats = append(stats, groupStats{path: path, typ: typ, example: uint32(v)})
		}
		groupOf[v] = id
		s := &stats[id]
		s.count++
		s.bytes += g.Size(uint32(v))
		if d.Retained(uint32(v)) > d.Retained(s.example) {
			s.example = uint32(v)
		}
	}
	groupOf[g.SuperRoot()] = None
	return stats
}

// dominatorIntervals lists the reachable nodes in a preorder of the
// dominator tree (byPre, the super-root first): node v's dominator
// subtree is the nodes at positions i up to domEnd[v], where byPre[i] is
// v. order must list the reachable nodes with every node after its
// immediate dominator (the breadth-first order does). Subtree node
// counts are summed backwards over order; then, forwards, each node takes
// the next free position inside its dominator's interval. domEnd serves
// as the node count, then as the next free position, and ends as the
// interval end: 8 bytes per node.
func dominatorIntervals(d *Dominators, order []uint32, work *scratch) (byPre, domEnd []uint32) {
	byPre = work.uint32s(len(order))
	domEnd = work.uint32s(len(d.Idom))
	for _, v := range order {
		domEnd[v] = 1
	}
	for i := len(order) - 1; i >= 1; i-- {
		v := order[i]
		domEnd[d.Idom[v]] += domEnd[v]
	}
	root := order[0]
	byPre[0], domEnd[root] = root, 1
	for _, v := range order[1:] {
		u := d.Idom[v]
		slot := domEnd[u]
		domEnd[u] += domEnd[v]
		byPre[slot], domEnd[v] = v, slot+1
	}
	return byPre, domEnd
}

// countTopMembers adds to each group the retained sizes of its members
// that no other member dominates. Walking the dominator tree in preorder,
// a member is dominated by another member of its group exactly when it
// falls inside the interval of the last member counted for that group.
func countTopMembers(d *Dominators, groupOf []uint32, stats []groupStats, byPre, domEnd []uint32) {
	for i, v := range byPre {
		if i == 0 {
			continue // the super-root
		}
		s := &stats[groupOf[v]]
		if uint32(i) >= s.coverEnd {
			s.retained += d.Retained(v)
			s.coverEnd = domEnd[v]
		}
	}
}

// rankGroups turns the statistics into Groups, largest retained size
// first, then largest size, then most members, then by example object.
func rankGroups(stats []groupStats, paths *pathTable) []Group {
	slices.SortFunc(stats, func(a, b groupStats) int {
		if c := cmp.Compare(b.retained, a.retained); c != 0 {
			return c
		}
		if c := cmp.Compare(b.bytes, a.bytes); c != 0 {
			return c
		}
		if c := cmp.Compare(b.count, a.count); c != 0 {
			return c
		}
		return cmp.Compare(a.example, b.example)
	})
	groups := make([]Group, len(stats))
	for i, s := range stats {
		root, below := paths.labels(s.path)
		groups[i] = Group{Root: root, Path: below, Type: s.typ, Count: s.count,
			Bytes: s.bytes, Retained: s.retained, Example: s.example}
	}
	return groups
}
