package lang

import (
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/lang/expr"
)

// static attributes of a pipeline, decoded from the syntax.
var pipelineStatic = []string{"transforms", "key_converter", "value_converter", "for_each"}

func (l *loader) decodePipeline(n *node) {
	kind := configschema.Kind(n.kind)
	schema, ok := l.opts.Plugins.Schema(kind, n.typ)
	if !ok {
		types := l.opts.Plugins.Types(kind)
		l.diags = append(l.diags, errorf(ptr(n.block.LabelRanges[0]), "Unknown "+n.kind+" type",
			"There is no %s type %q. The %s types are %s.%s", n.kind, n.typ, n.kind, configschema.Alternatives(types), configschema.DidYouMean(n.typ, types)))
		return
	}
	var common []configschema.Attribute
	for _, a := range CommonAttributes(kind) {
		if a.Name != "transforms" && a.Name != "key_converter" && a.Name != "value_converter" {
			common = append(common, a)
		}
	}
	for _, a := range schema.Attributes {
		if _, clash := findCommon(kind, a.Name); clash || a.Name == "for_each" {
			l.diags = append(l.diags, errorf(ptr(n.block.DefRange), "Invalid plugin schema",
				"The %s plugin declares the attribute %q, which the language already defines for every %s. This is a bug in the plugin.", schema.Address(), a.Name, n.kind))
			return
		}
	}
	attrs := append(common, schema.Attributes...)
	blocks := append(CommonBlocks(kind), schema.Blocks...)
	s := l.shapeOf(l.lifecycleOf(n), attrs, blocks, pipelineStatic...)
	transforms, tOK := l.pipelineTransforms(s.attrs["transforms"])
	keyDefault := "string"
	if schema.KeyConverter != "" {
		keyDefault = schema.KeyConverter
	}
	keyConv, kOK := l.converterRef(s.attrs["key_converter"], keyDefault)
	valConv, vOK := l.converterRef(s.attrs["value_converter"], "json")
	keys, each, feOK := l.forEach(n, s.attrs["for_each"])
	if !tOK || !kOK || !vOK || !feOK {
		return
	}
	if !l.checkStateAttrs(s) {
		return
	}
	instances := map[string]cty.Value{}
	for _, key := range instanceKeys(keys) {
		ctx := l.evalCtx(n, each[key])
		ctyVals, vals, ok := l.evalShape(s, attrs, blocks, ctx)
		if !ok {
			continue
		}
		pluginOK := l.checkGroups(schema, s, vals, n.block.DefRange)
		if !l.checkGroups(CommonSchema(kind), s, vals, n.block.DefRange) || !pluginOK {
			continue
		}
		p := &Pipeline{
			Address:        instanceAddr(n.addr, key, keys != nil),
			Kind:           kind,
			Type:           n.typ,
			Name:           n.name,
			Key:            key,
			Config:         map[string]any{},
			Exprs:          map[string]*Expr{},
			Transforms:     transforms,
			KeyConverter:   keyConv,
			ValueConverter: valConv,
			DeclRange:      n.block.DefRange,
		}
		if !l.pipelineCommon(p, s, vals) {
			continue
		}
		good := true
		for _, a := range schema.Attributes {
			v, set := vals[a.Name]
			if !set {
				continue
			}
			if a.Type == configschema.Expression {
				e, ok := l.exprAttr(p, &a, s.attrs[a.Name], v, ctx)
				if !ok {
					good = false
					continue
				}
				p.Exprs[a.Name] = e
			}
			p.Config[a.Name] = v
		}
		for _, b := range schema.Blocks {
			if s.blocks[b.Name] != nil { // an absent block stays absent
				p.Config[b.Name] = vals[b.Name]
			}
		}
		if !good {
			continue
		}
		ctyVals["address"] = cty.StringVal(p.Address)
		instances[key] = cty.ObjectVal(ctyVals)
		l.cfg.Pipelines = append(l.cfg.Pipelines, p)
	}
	l.values[n.addr] = instanceValue(keys, instances)
}

func findCommon(kind configschema.Kind, name string) (configschema.Attribute, bool) {
	for _, a := range CommonAttributes(kind) {
		if a.Name == name {
			return a, true
		}
	}
	for _, b := range CommonBlocks(kind) {
		if b.Name == name {
			return configschema.Attribute{Name: name}, true
		}
	}
	return configschema.Attribute{}, false
}

// checkStateAttrs reports the deprecated paused attribute, and paused
// beside state, once per block (not per for_each instance).
func (l *loader) checkStateAttrs(s *shape) bool {
	paused, state := s.attrs["paused"], s.attrs["state"]
	switch {
	case paused != nil && state != nil:
		l.diags = append(l.diags, errorf(ptr(paused.Range), "Conflicting pipeline state",
			"Both state and the deprecated paused are set; remove paused and keep state (defined at %s).", at(state.Range)))
		return false
	case paused != nil:
		l.diags = append(l.diags, warnf(ptr(paused.Range), "Deprecated attribute",
			`The paused attribute is deprecated: write state = "paused" instead of paused = true, and remove paused = false (state = "running" is the default).`))
	}
	return true
}

// pipelineCommon fills the language's own pipeline attributes.
func (l *loader) pipelineCommon(p *Pipeline, s *shape, vals map[string]any) bool {
	for _, name := range []string{"tasks", "state", "paused", "topics", "topics_regex", "start_from", "commit_interval", "delivery"} {
		if _, secret := vals[name].(Secret); secret {
			l.diags = append(l.diags, errorf(ptr(s.attrs[name].Expr.Range()), "Sensitive value not allowed",
				"The %s of a pipeline cannot be sensitive: it is shown in plans.", name))
			return false
		}
	}
	p.Tasks = int(vals["tasks"].(int64))
	p.Delivery, _ = vals["delivery"].(string)
	p.State = PipelineState(vals["state"].(string))
	if paused, _ := vals["paused"].(bool); paused {
		p.State = StatePaused
	}
	if p.Kind == configschema.Sink {
		p.Topics, _ = vals["topics"].([]string)
		p.TopicsRegex, _ = vals["topics_regex"].(string)
		p.StartFrom, _ = vals["start_from"].(string)
		ci, _ := vals["commit_interval"].(string)
		p.CommitInterval, _ = time.ParseDuration(ci) // checked by the schema
		for _, t := range p.Topics {
			if !l.checkTopicName(ptr(s.attrs["topics"].Expr.Range()), "The topic", t) {
				return false
			}
		}
	}
	ev := vals["errors"].(map[string]any)
	for _, k := range sortedKeys(ev) {
		if _, secret := ev[k].(Secret); secret {
			l.diags = append(l.diags, errorf(ptr(s.blocks["errors"].attrs[k].Expr.Range()), "Sensitive value not allowed",
				"The %s of an errors block cannot be sensitive: it is shown in plans.", k))
			return false
		}
	}
	l.decodeClientOverrides(p, s, vals)
	if rv, ok := vals["restart"].(map[string]any); ok {
		n, _ := rv["max_attempts"].(int64)
		p.Restart = RestartPolicy{MaxAttempts: int(n), Backoff: durationOf(rv["backoff"])}
	}
	p.Errors = ErrorPolicy{
		Tolerance:       asString(ev["tolerance"]),
		DeadLetterTopic: asString(ev["dead_letter_topic"]),
		RetryTimeout:    durationOf(ev["retry_timeout"]),
		RetryBackoffMax: durationOf(ev["retry_backoff_max"]),
	}
	errRange := p.DeclRange
	if r, ok := s.defRanges["errors"]; ok {
		errRange = r
	}
	if p.Errors.DeadLetterTopic != "" {
		if !l.checkTopicName(ptr(s.blocks["errors"].attrs["dead_letter_topic"].Expr.Range()), "The dead-letter topic", p.Errors.DeadLetterTopic) {
			return false
		}
	}
	switch {
	case p.Errors.Tolerance == "all" && p.Errors.DeadLetterTopic == "":
		l.diags = append(l.diags, errorf(&errRange, "Missing dead-letter topic",
			`With tolerance = "all" failed records go to a dead-letter topic, so that none is lost: set dead_letter_topic.`))
		return false
	case p.Errors.Tolerance == "none" && p.Errors.DeadLetterTopic != "":
		l.diags = append(l.diags, warnf(&errRange, "Dead-letter topic unused",
			`The dead_letter_topic only receives records with tolerance = "all"; with "none" a failed record fails the task.`))
	}
	return true
}

// exprAttr compiles a plugin's expression attribute with the variables its
// schema declares.
func (l *loader) exprAttr(p *Pipeline, a *configschema.Attribute, attr *hcl.Attribute, v any, ctx *hcl.EvalContext) (*Expr, bool) {
	src, isStr := v.(string)
	var rng hcl.Range
	if attr != nil {
		rng = attr.Expr.Range()
	}
	if !isStr {
		l.diags = append(l.diags, errorf(&rng, "Sensitive value not allowed",
			"The %s of %s is an expression and cannot be sensitive.", a.Name, p.Address))
		return nil, false
	}
	vars := make([]expr.Var, len(a.ExprVars))
	for i, ev := range a.ExprVars {
		vars[i] = expr.Var{Name: ev.Name, Type: ev.Type}
	}
	env, err := expr.NewEnv(vars)
	if err != nil {
		l.diags = append(l.diags, errorf(&rng, "Invalid plugin schema", "The expression variables of %s are invalid: %s. This is a bug in the plugin.", a.Name, err))
		return nil, false
	}
	if attr == nil {
		e, issues := env.Compile(src, expr.Dyn)
		if len(issues) > 0 {
			l.diags = append(l.diags, errorf(ptr(p.DeclRange), "Invalid plugin schema", "The default of %s does not compile: %s.", a.Name, issues[0].Message))
			return nil, false
		}
		return &Expr{Source: src, Program: e, Range: p.DeclRange}, true
	}
	return l.compileCEL(env, expr.Dyn, attr.Expr, src, ctx, "the "+a.Name+" of "+p.Address)
}

// pipelineTransforms reads transforms = [transform.a, transform.b].
func (l *loader) pipelineTransforms(attr *hcl.Attribute) ([]*Transform, bool) {
	if attr == nil {
		return nil, true
	}
	exprs, diags := hcl.ExprList(attr.Expr)
	if diags.HasErrors() {
		l.diags = append(l.diags, errorf(ptr(attr.Expr.Range()), "Invalid transforms list",
			"The transforms attribute must be a list of references, like [transform.clean, transform.mask]."))
		return nil, false
	}
	var out []*Transform
	ok := true
	for _, e := range exprs {
		t, diags := hcl.AbsTraversalForExpr(e)
		name, hasName := stepName(t, 1)
		if diags.HasErrors() || t.RootName() != "transform" || !hasName || len(t) != 2 {
			l.diags = append(l.diags, errorf(ptr(e.Range()), "Invalid transform reference",
				"Each element of transforms must be a reference like transform.NAME."))
			ok = false
			continue
		}
		tr := l.transforms[name]
		if tr == nil {
			ok = false // undeclared or broken: already reported
			continue
		}
		out = append(out, tr)
	}
	return out, ok
}

// converterRef reads key_converter / value_converter: a built-in name or a
// converter.NAME reference.
func (l *loader) converterRef(attr *hcl.Attribute, def string) (*Converter, bool) {
	if attr == nil {
		c, known := l.builtinConverter(def, nil)
		if !known {
			l.diags = append(l.diags, errorf(nil, "Missing built-in converter", "The converter %q is not registered. This is a bug in the program.", def))
		}
		return c, c != nil
	}
	if t, diags := hcl.AbsTraversalForExpr(attr.Expr); !diags.HasErrors() && t.RootName() == "converter" {
		name, _ := stepName(t, 1)
		c := l.converters[name]
		return c, c != nil // undeclared or broken: already reported
	}
	name, ok := l.plainString(attr, &hcl.EvalContext{Functions: l.fns}, attr.Name)
	if !ok {
		return nil, false
	}
	c, known := l.builtinConverter(name, ptr(attr.Expr.Range()))
	if !known {
		types := l.opts.Plugins.Types(configschema.Converter)
		var blocks []string
		for _, b := range l.names("converter") {
			blocks = append(blocks, "converter."+b)
		}
		l.diags = append(l.diags, errorf(ptr(attr.Expr.Range()), "Unknown converter",
			"There is no converter type %q. Use one of %s, or a reference to a converter block like converter.NAME.%s",
			name, configschema.Alternatives(types), configschema.DidYouMean(name, append(types, blocks...))))
	}
	return c, c != nil
}

// finish sorts the configuration and builds its graph.
func (l *loader) finish() {
	c := l.cfg
	sort.Slice(c.Topics, func(i, j int) bool { return c.Topics[i].Address < c.Topics[j].Address })
	sort.Slice(c.Schemas, func(i, j int) bool { return c.Schemas[i].Name < c.Schemas[j].Name })
	sort.Slice(c.Pipelines, func(i, j int) bool { return c.Pipelines[i].Address < c.Pipelines[j].Address })
	sort.Slice(c.Transforms, func(i, j int) bool { return c.Transforms[i].Name < c.Transforms[j].Name })
	sort.Slice(c.Predicates, func(i, j int) bool { return c.Predicates[i].Name < c.Predicates[j].Name })
	sort.Slice(c.Converters, func(i, j int) bool { return c.Converters[i].Name < c.Converters[j].Name })
	sort.Slice(c.Variables, func(i, j int) bool { return c.Variables[i].Name < c.Variables[j].Name })

	seen := map[string]string{}
	for _, t := range c.Topics {
		if prev, dup := seen[t.Name]; dup {
			l.diags = append(l.diags, errorf(ptr(t.DeclRange), "Duplicate topic name",
				"%s and %s both name the Kafka topic %q. Each topic resource needs its own name.", prev, t.Address, t.Name))
		}
		seen[t.Name] = t.Address
	}
	l.checkTaskPaths()
	l.checkShapes()
	l.checkOverridePolicy()

	edges := map[GraphEdge]bool{}
	for _, n := range l.order {
		c.Graph.Nodes = append(c.Graph.Nodes, GraphNode{Address: n.addr, Kind: n.kind})
		for _, r := range n.refs {
			edges[GraphEdge{From: n.addr, To: r.to}] = true
		}
	}
	sort.Slice(c.Graph.Nodes, func(i, j int) bool { return c.Graph.Nodes[i].Address < c.Graph.Nodes[j].Address })
	for e := range edges {
		c.Graph.Edges = append(c.Graph.Edges, e)
	}
	sort.Slice(c.Graph.Edges, func(i, j int) bool {
		a, b := c.Graph.Edges[i], c.Graph.Edges[j]
		if a.From != b.From {
			return a.From < b.From
		}
		return a.To < b.To
	})
}

// checkTaskPaths refuses two tasks that would write one file: the path
// attributes marked PerTaskPath (the file sink's path) of two pipelines,
// or their per-task variants (out/orders-1.jsonl of a sink with tasks = 2
// is another sink's out/orders-1.jsonl). Two writers would interleave
// their records in it, and each recovers the file after a restart from
// what it alone wrote. A sensitive path is not compared, since the
// message would show it.
func (l *loader) checkTaskPaths() {
	type writer struct {
		addr        string
		task, tasks int
	}
	who := func(w writer) string {
		if w.tasks == 1 {
			return w.addr
		}
		return fmt.Sprintf("task %d of %s", w.task, w.addr)
	}
	owner := map[string]writer{}
	for _, p := range l.cfg.Pipelines {
		schema, ok := l.opts.Plugins.Schema(p.Kind, p.Type)
		if !ok {
			continue
		}
		tasks := max(p.Tasks, 1)
		for _, a := range schema.Attributes {
			path, isString := p.Config[a.Name].(string)
			if !a.PerTaskPath || !isString {
				continue
			}
			for task := range tasks {
				w := writer{p.Address, task, tasks}
				file := filepath.Clean(configschema.TaskPath(path, task, tasks))
				prev, taken := owner[file]
				if !taken {
					owner[file] = w
					continue
				}
				shown := file
				if rel, err := filepath.Rel(l.dir, file); err == nil && filepath.IsLocal(rel) {
					shown = rel
				}
				l.diags = append(l.diags, errorf(ptr(p.DeclRange), "Two sinks write one file",
					"%s and %s would both write %s. Give each sink its own %s: two writers would interleave their records in the file and recover it wrongly after a restart.",
					who(prev), who(w), shown, a.Name))
				break
			}
		}
	}
}
