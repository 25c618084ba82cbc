package connectimport

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// block is an HCL block to write: comments above it, its header, its
// attributes in order and its nested blocks.
type block struct {
	comments []string
	header   string // sink "file" "orders"
	attrs    []attr
	blocks   []*block
	// trailer are comments inside the block, after its content: the
	// settings that could not be mapped.
	trailer []string
}

// attr is one attribute: name = expr, expr already HCL syntax.
type attr struct {
	name, expr string
	comments   []string
}

func (b *block) set(name, expr string, comments ...string) {
	b.attrs = append(b.attrs, attr{name: name, expr: expr, comments: comments})
}

func (b *block) write(sb *strings.Builder, indent string) {
	for _, c := range b.comments {
		writeComment(sb, indent, c)
	}
	sb.WriteString(indent + b.header + " {\n")
	in := indent + "  "
	for _, a := range b.attrs {
		for _, c := range a.comments {
			writeComment(sb, in, c)
		}
		sb.WriteString(in + a.name + " = " + a.expr + "\n")
	}
	for _, nb := range b.blocks {
		nb.write(sb, in)
	}
	for _, c := range b.trailer {
		writeComment(sb, in, c)
	}
	sb.WriteString(indent + "}\n")
}

// writeComment writes one comment line per line of c; a comment never ends
// a line early, whatever c holds.
func writeComment(sb *strings.Builder, indent, c string) {
	for _, line := range strings.Split(c, "\n") {
		line = strings.TrimRight(strings.ReplaceAll(line, "\r", ""), " \t")
		if line == "" {
			sb.WriteString(indent + "#\n")
			continue
		}
		sb.WriteString(indent + "# " + line + "\n")
	}
}

// quote is s as an HCL quoted string: no interpolation or directive runs.
func quote(s string) string {
	var sb strings.Builder
	sb.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			sb.WriteString(`\"`)
		case '\\':
			sb.WriteString(`\\`)
		case '\n':
			sb.WriteString(`\n`)
		case '\r':
			sb.WriteString(`\r`)
		case '\t':
			sb.WriteString(`\t`)
		case '$', '%':
			sb.WriteByte(c)
			if i+1 < len(s) && s[i+1] == '{' {
				sb.WriteByte(c) // $${ and %%{ are literal
			}
		default:
			if c < 0x20 || c == 0x7f {
				fmt.Fprintf(&sb, `\u%04x`, c)
			} else {
				sb.WriteByte(c)
			}
		}
	}
	sb.WriteByte('"')
	return sb.String()
}

// list is an HCL list of quoted strings.
func list(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// object is an HCL object of quoted keys and values given as HCL
// expressions, in the given key order.
func object(keys []string, vals map[string]string) string {
	if len(keys) == 0 {
		return "{}"
	}
	var sb strings.Builder
	sb.WriteString("{\n")
	for _, k := range keys {
		sb.WriteString(quote(k) + " = " + vals[k] + "\n")
	}
	sb.WriteString("}")
	return sb.String()
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// ident turns a Kafka Connect name into a block label: letters, digits,
// underscores and dashes, starting with a letter or underscore.
func ident(s string) string {
	if identRE.MatchString(s) {
		return s
	}
	var sb strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			sb.WriteRune(r)
		default:
			sb.WriteByte('_')
		}
	}
	out := sb.String()
	if out == "" || !(out[0] == '_' || out[0] >= 'a' && out[0] <= 'z' || out[0] >= 'A' && out[0] <= 'Z') {
		out = "c_" + out
	}
	return out
}

// celString is s as a CEL string literal.
func celString(s string) string {
	var sb strings.Builder
	sb.WriteByte('\'')
	for _, r := range s {
		switch r {
		case '\'':
			sb.WriteString(`\'`)
		case '\\':
			sb.WriteString(`\\`)
		case '\n':
			sb.WriteString(`\n`)
		case '\r':
			sb.WriteString(`\r`)
		case '\t':
			sb.WriteString(`\t`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&sb, `\x%02x`, r)
			} else {
				sb.WriteRune(r)
			}
		}
	}
	sb.WriteByte('\'')
	return sb.String()
}

var celIdentRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// celReserved are words CEL does not accept as a field selected with a dot.
var celReserved = map[string]bool{
	"as": true, "break": true, "const": true, "continue": true, "else": true,
	"false": true, "for": true, "function": true, "if": true, "import": true,
	"in": true, "let": true, "loop": true, "package": true, "namespace": true,
	"null": true, "return": true, "true": true, "var": true, "void": true, "while": true,
}

// celField is the CEL expression selecting field f of root (value or key).
func celField(root, f string) string {
	if celIdentRE.MatchString(f) && !celReserved[f] {
		return root + "." + f
	}
	return root + "[" + celString(f) + "]"
}

// celOptField is field f of root, or null when root has no such field.
func celOptField(root, f string) string {
	if celIdentRE.MatchString(f) && !celReserved[f] {
		return root + ".?" + f + ".orValue(null)"
	}
	return "dyn(" + root + "[?" + celString(f) + "].orValue(null))"
}

// celList is a CEL list of string literals.
func celList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = celString(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// splitList splits a Kafka Connect LIST setting: comma-separated, trimmed,
// empty items left out.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
