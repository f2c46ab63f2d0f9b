package report

import (
	"fmt"

	"github.com/dustin/go-humanize"
	"github.com/heapsift/heapsift/heap"
	"github.com/heapsift/heapsift/retain"
	"github.com/heapsift/heapsift/suspects"
)

// Limits that keep the report aggregate: a few thousand elements at most
// whatever the heap's size.
const (
	// MaxTypes is the number of types the histogram lists.
	MaxTypes = 1000
	// MaxFlameGroups is the number of retention groups the icicle graph
	// draws; the rest are one frame.
	MaxFlameGroups = 2000
)

// Frame is one frame of the icicle graph: a root, a step of a path or,
// at the leaves, a type. Value is the bytes of the objects held through
// it (each object counted once, in its group), Count their number.
type Frame struct {
	Name     string   `json:"n"`
	Value    uint64   `json:"v"`
	Count    uint64   `json:"c"`
	Children []*Frame `json:"k,omitempty"`
	index    map[string]*Frame
}

func (f *Frame) child(name string) *Frame {
	if c, ok := f.index[name]; ok {
		return c
	}
	c := &Frame{Name: name, index: map[string]*Frame{}}
	f.index[name] = c
	f.Children = append(f.Children, c)
	return c
}

// FlameTree arranges the retention groups as a tree root → path steps →
// type, each group's own bytes at its leaf, at most MaxFlameGroups of
// them (the largest retained first); the rest are one frame.
func FlameTree(a *retain.Analysis) *Frame {
	top := &Frame{Name: "live heap", index: map[string]*Frame{}}
	var rest *Frame
	for i, g := range a.Groups() {
		leaf := top
		if i >= MaxFlameGroups {
			if rest == nil {
				rest = top.child("(other groups)")
			}
			leaf = rest
		} else {
			root := a.GroupRoot(g)
			leaf = leaf.child(root.Label() + " (" + root.Kind.String() + ")")
			for _, s := range root.Path {
				leaf = leaf.child(heap.Path{s}.String())
			}
			for _, l := range a.GroupLabels(g) {
				leaf = leaf.child(l.String())
			}
			leaf = leaf.child(a.TypeName(g.Type))
		}
		leaf.Value += g.Bytes
		leaf.Count += uint64(g.Count)
	}
	top.sum()
	return top
}

// sum makes every frame's value and count the sums of its own and its
// children's.
func (f *Frame) sum() {
	for _, c := range f.Children {
		c.sum()
		f.Value += c.Value
		f.Count += c.Count
	}
}

// Types lists the live objects by type, at most MaxTypes of the largest.
func Types(h heap.Heap) ([]TypeRow, int) {
	stats := heap.Histogram(h)
	var total uint64
	for _, s := range stats {
		total += s.Bytes
	}
	rows := make([]TypeRow, 0, min(len(stats), MaxTypes))
	for _, s := range stats[:min(len(stats), MaxTypes)] {
		rows = append(rows, TypeRow{Name: s.Name, Count: s.Count, Bytes: s.Bytes, Share: share(s.Bytes, total)})
	}
	return rows, len(stats)
}

// DominatorTree returns the top objects of the dominator tree and, down
// to depth levels, the fanout largest objects each dominates: one pass
// over the objects per level.
func DominatorTree(a *retain.Analysis, top, depth, fanout int) []DomNode {
	h, total := a.Heap(), a.ReachableBytes()
	node := func(obj int) DomNode {
		return DomNode{Label: fmt.Sprintf("%s %#x", heap.ObjectTypeName(h, obj), h.Addr(obj)), Retained: a.Retained(obj), Share: share(a.Retained(obj), total)}
	}
	objs := a.TopDominators(top)
	nodes := make([]*DomNode, len(objs))
	roots := make([]DomNode, len(objs))
	for i, o := range objs {
		roots[i] = node(o)
		nodes[i] = &roots[i]
	}
	for level := 1; level < depth && len(objs) > 0; level++ {
		var nextObjs []int
		var nextNodes []*DomNode
		for i, children := range a.DominatedOf(objs, fanout) {
			parent := nodes[i]
			parent.Children = make([]DomNode, len(children))
			for j, c := range children {
				parent.Children[j] = node(c)
				nextObjs = append(nextObjs, c)
				nextNodes = append(nextNodes, &parent.Children[j])
			}
		}
		objs, nodes = nextObjs, nextNodes
	}
	return roots
}

// Suspects converts the suspects of an analysis.
func Suspects(a *retain.Analysis, found []suspects.Suspect) []Suspect {
	h := a.Heap()
	out := make([]Suspect, 0, len(found))
	for _, s := range found {
		r := Suspect{Sentence: s.Explanation, Kind: string(s.Kind), Retained: s.Retained, Share: s.Share,
			Root: s.Root.Label() + " (" + s.Root.Kind.String() + ")", Path: s.Expr}
		if s.Accumulation >= 0 {
			r.Accumulation = fmt.Sprintf("%s at %#x, retaining %s, %s references", s.AccType, h.Addr(s.Accumulation),
				humanize.IBytes(s.AccRetained), humanize.Comma(int64(s.AccRefs)))
		}
		if s.Members.Count > 0 {
			r.Members = fmt.Sprintf("%s %s, %s, e.g. %#x", humanize.Comma(int64(s.Members.Count)), s.Members.Type,
				humanize.IBytes(s.Members.Bytes), h.Addr(s.Members.Example))
		}
		out = append(out, r)
	}
	return out
}

// Growth converts suspects ranked by growth.
func Growth(a *retain.Analysis, grown []suspects.Growth) []Suspect {
	plain := make([]suspects.Suspect, len(grown))
	for i, g := range grown {
		plain[i] = g.Suspect
	}
	out := Suspects(a, plain)
	for i := range out {
		out[i].Growth = grown[i].Growth
	}
	return out
}

func share(part, total uint64) float64 {
	if total == 0 {
		return 0
	}
	return float64(part) / float64(total)
}
