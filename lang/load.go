package lang

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// rootSchema lists the blocks a configuration file may hold.
var rootSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "fleet"},
	{Type: "variable", LabelNames: []string{"name"}},
	{Type: "locals"},
	{Type: "topic", LabelNames: []string{"name"}},
	{Type: "schema", LabelNames: []string{"name"}},
	{Type: "converter", LabelNames: []string{"name"}},
	{Type: "predicate", LabelNames: []string{"name"}},
	{Type: "transform", LabelNames: []string{"name"}},
	{Type: "source", LabelNames: []string{"type", "name"}},
	{Type: "sink", LabelNames: []string{"type", "name"}},
	{Type: "moved"},
	{Type: "import"},
}}

// Load reads every *.hcl file of dir and returns the checked configuration
// with all diagnostics: it keeps going after an error so that one run
// reports every problem. The returned Config is never nil: even with errors
// its Files are set so that diagnostics can be shown with their source.
func Load(dir string, opts Options) (*Config, hcl.Diagnostics) {
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	l := &loader{
		opts:   opts,
		dir:    dir,
		cfg:    &Config{Dir: dir, Files: map[string]*hcl.File{}},
		parser: hclparse.NewParser(),
		nodes:  map[string]*node{},
		values: map[string]cty.Value{},
	}
	l.fns = functions(dir, opts.LookupEnv)
	l.load()
	sortDiagnostics(l.diags)
	for name, f := range l.parser.Files() {
		l.cfg.Files[name] = f
	}
	return l.cfg, l.diags
}

type loader struct {
	opts   Options
	dir    string
	cfg    *Config
	parser *hclparse.Parser
	fns    map[string]function.Function
	diags  hcl.Diagnostics

	nodes  map[string]*node
	order  []*node // declaration order, for stable output
	values map[string]cty.Value

	transforms map[string]*Transform
	predicates map[string]*Predicate
	converters map[string]*Converter

	meta metaBlocks // moved, import and lifecycle blocks (moved.go)

	// origins are where each record expression came from, for the typed
	// checks of the pipelines that run it (shapes.go).
	origins map[*Expr]celOrigin
	// schemas are the schema blocks by name (schemablock.go).
	schemas map[string]*SchemaBlock
}

func (l *loader) load() {
	names, diags := configFiles(l.dir)
	l.diags = append(l.diags, diags...)
	var fleets []*hcl.Block
	for _, name := range names {
		f, d := l.parser.ParseHCLFile(name)
		l.diags = append(l.diags, d...)
		if f == nil || d.HasErrors() {
			continue
		}
		content, d := f.Body.Content(rootSchema)
		l.diags = append(l.diags, d...)
		for _, b := range content.Blocks {
			switch b.Type {
			case "fleet":
				fleets = append(fleets, b)
			case "locals":
				l.declareLocals(b)
			case "moved", "import":
				l.meta.declare(b)
			default:
				l.declareBlock(b)
			}
		}
	}
	if len(names) > 0 && !l.diags.HasErrors() || len(fleets) > 0 {
		l.declareFleet(fleets)
	}
	if l.opts.Plugins == nil {
		l.diags = append(l.diags, errorf(nil, "No plugin registry", "lang.Load needs Options.Plugins; this is a bug in the program that called it."))
		return
	}
	l.resolveVariables()
	l.collectReferences()
	l.evaluate()
	l.decodeMetaBlocks()
	l.finish()
}

// sortDiagnostics orders diagnostics by file and position, those without
// a position first, keeping the order of equal ones.
func sortDiagnostics(diags hcl.Diagnostics) {
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Subject, diags[j].Subject
		switch {
		case a == nil || b == nil:
			return a == nil && b != nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		default:
			return a.Start.Byte < b.Start.Byte
		}
	})
}

// TestFileSuffix ends the name of a test file (pipectl test): such files
// sit beside the configuration but are not part of it.
const TestFileSuffix = ".pipetest.hcl"

// configFiles lists the *.hcl files of dir, sorted, without test files.
func configFiles(dir string) ([]string, hcl.Diagnostics) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, hcl.Diagnostics{errorf(nil, "Cannot read configuration directory",
			"The directory %s cannot be read: %s. Point pipectl at a directory of pipeline files.", dir, unwrapPathError(err))}
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".hcl") || strings.HasSuffix(e.Name(), TestFileSuffix) || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		names = append(names, filepath.Join(dir, e.Name()))
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, hcl.Diagnostics{errorf(nil, "No configuration files",
			"The directory %s has no *.hcl files. Point pipectl at a directory of pipeline files.", dir)}
	}
	return names, nil
}

// node is one referenceable object of the configuration.
type node struct {
	addr  string // var.x, local.x, topic.x, predicate.x, transform.x, converter.x, source.t.n, sink.t.n, fleet
	kind  string // variable, local, topic, predicate, transform, converter, source, sink, fleet
	name  string
	typ   string // source and sink type
	block *hcl.Block
	attr  *hcl.Attribute // locals
	rng   hcl.Range

	refs     []reference
	badRoots map[string]bool // roots of references that failed to resolve
	visited  int             // 0 new, 1 on stack, 2 done
	failed   bool
}

func (n *node) declRange() hcl.Range {
	if n.block != nil {
		return n.block.DefRange
	}
	if n.attr != nil {
		return n.attr.Range
	}
	return n.rng
}

// reference is one traversal from a node to another node.
type reference struct {
	to  string
	rng hcl.Range
}

func (l *loader) addNode(n *node) {
	if prev, dup := l.nodes[n.addr]; dup {
		what := n.kind
		if n.kind == "variable" {
			what = "variable"
		}
		l.diags = append(l.diags, errorf(ptr(n.declRange()), "Duplicate "+what+" "+quoteName(n),
			"A %s named %q was already declared at %s. Names must be unique within a configuration; rename one of them.",
			what, n.name, at(prev.declRange())))
		return
	}
	l.nodes[n.addr] = n
	l.order = append(l.order, n)
}

func quoteName(n *node) string {
	if isPipeline(n.kind) {
		return `"` + n.typ + `" "` + n.name + `"`
	}
	return `"` + n.name + `"`
}

func (l *loader) declareBlock(b *hcl.Block) {
	n := &node{kind: b.Type, block: b, name: b.Labels[len(b.Labels)-1]}
	prefix := b.Type
	if b.Type == "variable" {
		prefix = "var"
	}
	for i, label := range b.Labels {
		if !hclsyntax.ValidIdentifier(label) {
			l.diags = append(l.diags, errorf(ptr(b.LabelRanges[i]), "Invalid name",
				"%q is not a valid name: a name starts with a letter or underscore and holds only letters, digits, underscores and dashes.", label))
			return
		}
	}
	if isPipeline(b.Type) {
		n.typ = b.Labels[0]
		n.addr = b.Type + "." + n.typ + "." + n.name
	} else {
		n.addr = prefix + "." + n.name
	}
	l.addNode(n)
}

func (l *loader) declareLocals(b *hcl.Block) {
	attrs, diags := b.Body.JustAttributes()
	l.diags = append(l.diags, diags...)
	names := make([]string, 0, len(attrs))
	for name := range attrs {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool { return attrs[names[i]].Range.Start.Byte < attrs[names[j]].Range.Start.Byte })
	for _, name := range names {
		l.addNode(&node{addr: "local." + name, kind: "local", name: name, attr: attrs[name]})
	}
}

func (l *loader) declareFleet(blocks []*hcl.Block) {
	if len(blocks) == 0 {
		l.diags = append(l.diags, errorf(nil, "Missing fleet block",
			`A configuration needs one fleet block naming the worker fleet it targets, e.g. fleet { name = "shop" }.`))
		return
	}
	for _, b := range blocks[1:] {
		l.diags = append(l.diags, errorf(ptr(b.DefRange), "Duplicate fleet block",
			"A configuration has exactly one fleet block; another one is at %s. Remove one of them.", at(blocks[0].DefRange)))
	}
	l.addNode(&node{addr: "fleet", kind: "fleet", name: "fleet", block: blocks[0]})
}

// names lists the names of the nodes of one kind.
func (l *loader) names(kind string) []string {
	var out []string
	for _, n := range l.order {
		if n.kind == kind {
			out = append(out, n.name)
		}
	}
	return out
}

// byKind lists the nodes of one kind in declaration order.
func (l *loader) byKind(kind string) []*node {
	var out []*node
	for _, n := range l.order {
		if n.kind == kind {
			out = append(out, n)
		}
	}
	return out
}
