package views

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/pipectl/pipectl/lang"
)

// Graph prints a configuration's dependency graph in Graphviz DOT, the only
// form (`pipectl graph | dot -Tsvg`). Nodes and edges are sorted so that
// the output is stable.
func (v *View) Graph(g lang.Graph) {
	v.out(formatDOT(g))
}

// dotShapes gives each kind of node its shape.
var dotShapes = map[string]string{
	"fleet":     "house",
	"variable":  "note",
	"local":     "note",
	"topic":     "cylinder",
	"predicate": "diamond",
	"transform": "box",
	"converter": "component",
	"source":    "invtrapezium",
	"sink":      "trapezium",
}

func formatDOT(g lang.Graph) string {
	nodes := slices.Clone(g.Nodes)
	slices.SortFunc(nodes, func(a, b lang.GraphNode) int { return cmp.Compare(a.Address, b.Address) })
	edges := slices.Clone(g.Edges)
	slices.SortFunc(edges, func(a, b lang.GraphEdge) int {
		return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
	})
	edges = slices.Compact(edges)

	var sb strings.Builder
	sb.WriteString("digraph pipectl {\n")
	sb.WriteString("  rankdir = \"LR\";\n")
	sb.WriteString("  node [fontname = \"sans-serif\", fontsize = 11];\n")
	if len(nodes) > 0 {
		sb.WriteByte('\n')
	}
	for _, n := range nodes {
		shape := dotShapes[n.Kind]
		if shape == "" {
			shape = "ellipse"
		}
		fmt.Fprintf(&sb, "  %s [label = %s, shape = %q];\n", dotID(n.Address), dotID(n.Address), shape)
	}
	if len(edges) > 0 {
		sb.WriteByte('\n')
	}
	for _, e := range edges {
		fmt.Fprintf(&sb, "  %s -> %s;\n", dotID(e.From), dotID(e.To))
	}
	sb.WriteString("}\n")
	return sb.String()
}

// dotID quotes s as a DOT string: addresses such as
// source.kafka.mirror["orders"] carry quotes.
func dotID(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}
