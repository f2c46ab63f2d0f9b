package main

import (
	"fmt"
	"io"
	"strings"
)

// `heapsift retain --format dot`: the paths from the roots to the groups
// shown, in the manner of objgraph: a box per root, an ellipse per path
// prefix listing the groups reached there (type, objects, bytes,
// retained), an arrow per pointer labelled with the field. Render it with
// Graphviz: `dot -Tsvg`.

func writeRetainDot(w io.Writer, r *retainReport) error {
	var sb strings.Builder
	sb.WriteString("digraph retain {\n")
	sb.WriteString("  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n")
	ids := 0
	var walk func(n *treeNode, parent string, depth int)
	walk = func(n *treeNode, parent string, depth int) {
		ids++
		id := fmt.Sprintf("n%d", ids)
		lines := []string{}
		for _, g := range n.groups {
			lines = append(lines, fmt.Sprintf("%s\n%s objects, %s, retains %s", g.Type, count(uint64(g.Count)), size(g.Bytes), size(g.Retained)))
		}
		label := strings.Join(lines, "\n")
		switch {
		case depth == 0:
			label = strings.Join(append([]string{n.label}, lines...), "\n")
			fmt.Fprintf(&sb, "  %s [shape=box, style=filled, fillcolor=\"#dde8f5\", label=%s];\n", id, dotQuote(label))
		case len(lines) == 0:
			fmt.Fprintf(&sb, "  %s [shape=point, label=\"\"];\n", id)
		default:
			fmt.Fprintf(&sb, "  %s [shape=ellipse, label=%s];\n", id, dotQuote(label))
		}
		if depth > 0 {
			fmt.Fprintf(&sb, "  %s -> %s [label=%s];\n", parent, id, dotQuote(n.label))
		}
		for _, c := range n.children {
			walk(c, id, depth+1)
		}
	}
	for _, c := range groupTree(r.Groups).children {
		walk(c, "", 0)
	}
	sb.WriteString("}\n")
	_, err := io.WriteString(w, sb.String())
	return err
}

// dotQuote quotes s as a Graphviz string; newlines become \n line breaks.
func dotQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}
