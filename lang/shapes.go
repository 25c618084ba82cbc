package lang

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/lang/expr"
	"github.com/pipectl/pipectl/lang/recordschema"
)

// Typed CEL: each pipeline's record expressions (its transforms' when,
// unless, filter, set, key, topic and headers, predicates included) are
// checked a second time with key and value declared by the shape of the
// pipeline's records (expr.CheckTyped), following the shape through the
// transforms in order. The programs that run stay those compiled in
// expr.RecordEnv: the check only reports.
//
// The shape comes from, in this order:
//   - a sink's topics, when every topic it reads is a topic block of the
//     configuration with a declared key_schema / value_schema (the same one
//     for all): problems are errors;
//   - a source plugin's declared record schemas (configschema.Schema's
//     KeySchema, ValueSchema) or the checked type of its key or value
//     expression (KeyExpression, ValueExpression: the generator's map
//     literal): problems are warnings, since the shape is only inferred.

// celOrigin is where a compiled record expression came from: what
// CompileCEL was given.
type celOrigin struct {
	env  *expr.Env
	file []byte
	expr hcl.Expression
	ctx  *hcl.EvalContext
	want expr.Type
	what string
}

// recordShape is the shape of a pipeline's records at one point of its
// transforms.
type recordShape struct {
	shapes expr.Shapes
	// inferred says the shape is not declared: problems are warnings,
	// with note saying where the shape comes from.
	inferred bool
	note     string
	// setAt are where the value's fields were last set (by path,
	// "a.b"), for the check against a target topic's schema.
	setAt map[string]hcl.Range
}

// dynField is the schema of a field whose type the check does not know
// (a json value: dyn in CEL).
var dynField = &recordschema.Schema{Type: recordschema.String, Logical: recordschema.JSON, Optional: true}

// checkShapes runs the typed checks of every pipeline. A diagnostic that
// two pipelines share (a transform both use, with one shape) is reported
// once.
func (l *loader) checkShapes() {
	seen := map[string]bool{}
	for _, p := range l.cfg.Pipelines {
		rs, ok := l.inputShape(p)
		target := l.sourceTarget(p)
		if !ok && target == nil {
			continue
		}
		rs.setAt = map[string]hcl.Range{}
		for _, t := range p.Transforms {
			rs = l.checkTransform(t, rs, seen)
			if t.Topic != nil {
				target = nil // records may go to another topic
			}
		}
		if target != nil && rs.shapes.Value != nil {
			l.checkTarget(p, target, rs)
		}
		if p.Kind == configschema.Sink {
			// The sink's own expressions over the record (sql's table)
			// see it as the transforms leave it.
			for _, name := range sortedKeys(p.Exprs) {
				l.checkExpr(p.Exprs[name], rs, seen)
			}
		}
	}
}

// readsRecord reports whether an environment has the record's key or
// value: its expressions are checked against the record's shape.
func readsRecord(env *expr.Env) bool {
	for _, v := range env.Vars() {
		if v.Name == "key" || v.Name == "value" {
			return true
		}
	}
	return false
}

// sourceTarget is the topic block a source writes to when it names one
// topic (a string topic attribute) and that topic declares a value schema;
// nil otherwise.
func (l *loader) sourceTarget(p *Pipeline) *Topic {
	if p.Kind != configschema.Source || p.Exprs["topic"] != nil {
		return nil
	}
	name, ok := p.Config["topic"].(string)
	if !ok {
		return nil
	}
	if t := l.topicNamed(name); t != nil && t.ValueSchema != nil {
		return t
	}
	return nil
}

// checkTarget reports the fields of a source's records, as its
// transforms leave them, whose type cannot be written as the target
// topic's declared value schema says: a string where it has a number, a
// struct where it has a string. Only kinds are compared (every integer and
// float type is a number; logical types and unknown types are not
// compared), since a converter writes an int64 into an int32 or a double
// field.
func (l *loader) checkTarget(p *Pipeline, t *Topic, rs recordShape) {
	why := "the converter cannot write it."
	if !schemaConverter(p.ValueConverter) {
		// The json (or string, bytes) converter writes the record
		// as it is; the topic's declared schema is still what its
		// readers are checked against and decode by.
		conv := "json"
		if c := p.ValueConverter; c != nil {
			conv = c.Type
		}
		why = fmt.Sprintf("the topic declares that its records have that schema, and its readers are checked against it (the %s converter would write the record as it is).", conv)
	}
	var walk func(path []string, got, want *recordschema.Schema)
	walk = func(path []string, got, want *recordschema.Schema) {
		if got == nil || want == nil || got == dynField || got.Logical != "" || want.Logical != "" {
			return
		}
		if kindOf(got.Type) != kindOf(want.Type) {
			key := strings.Join(path, ".")
			rng, ok := rs.setAt[key]
			if !ok {
				rng = p.DeclRange
				if e := p.Exprs["value"]; e != nil {
					rng = e.Range
				}
			}
			where := "The value"
			if len(path) > 0 {
				where = "value." + key
			}
			l.diags = append(l.diags, errorf(&rng, "Record does not fit the topic's schema",
				"%s of %s's records is %s, but the value_schema of %s (schema.%s) has %s there: %s",
				where, p.Address, got, t.Address, t.ValueSchemaName, want, why))
			return
		}
		switch {
		case got.Type == recordschema.Struct && want.Type == recordschema.Map:
			// A map literal is a map at run time: each of its
			// values is one of the map's.
			for _, f := range got.Fields {
				walk(append(slices.Clip(path), f.Name), f.Schema, want.Values)
			}
		case got.Type == recordschema.Struct && want.Type == recordschema.Struct:
			for _, f := range got.Fields {
				if wf, _ := want.Field(f.Name); wf != nil {
					walk(append(slices.Clip(path), f.Name), f.Schema, wf.Schema)
				}
			}
		}
	}
	walk(nil, rs.shapes.Value, t.ValueSchema)
}

// kindOf groups types that a converter writes as one another. A struct
// and a map are one kind: a struct here is a CEL map literal, a map when
// the record is written.
func kindOf(t recordschema.Type) string {
	switch {
	case t.Integer(), t == recordschema.Float32, t == recordschema.Float64:
		return "number"
	case t == recordschema.Map:
		return string(recordschema.Struct)
	}
	return string(t)
}

// inputShape is the shape of the records a pipeline's transforms see
// first; false when neither key nor value has one.
func (l *loader) inputShape(p *Pipeline) (recordShape, bool) {
	var rs recordShape
	switch p.Kind {
	case configschema.Sink:
		if p.TopicsRegex != "" || len(p.Topics) == 0 {
			return rs, false
		}
		for i, name := range p.Topics {
			t := l.topicNamed(name)
			if t == nil {
				return rs, false
			}
			if i == 0 {
				rs.shapes.Key, rs.shapes.Value = t.KeySchema, t.ValueSchema
				continue
			}
			if !rs.shapes.Key.Equal(t.KeySchema) {
				rs.shapes.Key = nil
			}
			if !rs.shapes.Value.Equal(t.ValueSchema) {
				rs.shapes.Value = nil
			}
		}
		// Only a converter that decodes by a schema gives the schema's
		// values; the json converter gives a float64 for every number.
		rs.shapes.Exact = schemaConverter(p.ValueConverter)
		if c := p.ValueConverter; c != nil && (c.Type == "string" || c.Type == "bytes") {
			rs.shapes.Value = nil // text or bytes, whatever the schema says
		}
		if k := rs.shapes.Key; k != nil && !schemaConverter(p.KeyConverter) && (k.Type != recordschema.String || k.Logical != "") {
			// The string, bytes or json key converter gives the key as
			// it decodes it, whatever the schema says; a string stays
			// a string.
			rs.shapes.Key = nil
		}
	case configschema.Source:
		schema, ok := l.opts.Plugins.Schema(p.Kind, p.Type)
		if !ok {
			return rs, false
		}
		rs.shapes.Key, rs.shapes.Value = schema.KeySchema, schema.ValueSchema
		if e := p.Exprs[schema.KeyExpression]; schema.KeyExpression != "" && e != nil {
			rs.shapes.Key = e.Program.Shape()
		}
		if e := p.Exprs[schema.ValueExpression]; schema.ValueExpression != "" && e != nil {
			rs.shapes.Value = e.Program.Shape()
		}
		rs.shapes.Exact = true // the plugin's own values
		rs.inferred = true
		rs.note = fmt.Sprintf(" (A warning: the record's shape is only inferred, from the %s plugin of %s.)", p.Type, p.Address)
		if schema.ValueExpression != "" {
			rs.note = fmt.Sprintf(" (A warning: the record's shape is only inferred, from the %s expression of %s.)", schema.ValueExpression, p.Address)
		}
	}
	return rs, rs.shapes.Key != nil || rs.shapes.Value != nil
}

// schemaConverter reports whether a converter decodes by a schema, so that
// values are of their schema's types.
func schemaConverter(c *Converter) bool {
	if c == nil {
		return false
	}
	switch c.Type {
	case "avro", "protobuf", "json_schema":
		return true
	case "json":
		enabled, _ := c.Config["schemas_enable"].(bool)
		return enabled
	}
	return false
}

func (l *loader) topicNamed(name string) *Topic {
	for _, t := range l.cfg.Topics {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// checkTransform checks the expressions of t against rs and returns the
// shape after t.
func (l *loader) checkTransform(t *Transform, rs recordShape, seen map[string]bool) recordShape {
	in := rs
	if t.When != nil {
		l.checkExpr(t.When.Expr, rs, seen)
	}
	if t.Unless != nil {
		l.checkExpr(t.Unless.Expr, rs, seen)
	}
	l.checkExpr(t.Filter, rs, seen)
	for _, s := range t.Set {
		out := l.checkExpr(s.Expr, rs, seen)
		if sel := s.Expr.Program.Path(); len(sel) > 0 {
			// A selection keeps the field's own schema (a date stays a
			// date, an int32 an int32), as the engine does.
			out = nil
			if root := rs.root(sel[0]); root != nil {
				out, _ = root.Lookup(sel[1:])
			}
		}
		if out == nil {
			out = dynField
		}
		rs.set(s.Path, out)
		if s.Path.Root == "value" && rs.setAt != nil {
			rs.setAt[strings.Join(s.Path.Fields, ".")] = s.Expr.Range
		}
	}
	for _, r := range t.Rename {
		if root := rs.root(r.From.Root); root != nil {
			next, err := root.Renamed(r.From.Fields, r.To.Fields)
			if err != nil {
				next = nil
			}
			rs.setRoot(r.From.Root, next)
		}
	}
	for _, d := range t.Drop {
		if root := rs.root(d.Root); root != nil {
			next, err := root.Without(d.Fields)
			if err != nil {
				next = nil
			}
			rs.setRoot(d.Root, next)
		}
	}
	if t.Key != nil {
		out := l.checkExpr(t.Key, rs, seen)
		if sel := t.Key.Program.Path(); len(sel) > 0 {
			out = nil
			if root := rs.root(sel[0]); root != nil {
				out, _ = root.Lookup(sel[1:])
			}
		}
		rs.shapes.Key = out
	}
	l.checkExpr(t.Topic, rs, seen)
	for _, h := range t.Headers {
		l.checkExpr(h.Expr, rs, seen)
	}
	if t.When != nil || t.Unless != nil {
		// The transform may not have run: only what it left alone is
		// known.
		if !rs.shapes.Key.Equal(in.shapes.Key) {
			rs.shapes.Key = nil
		}
		if !rs.shapes.Value.Equal(in.shapes.Value) {
			rs.shapes.Value = nil
		}
	}
	return rs
}

func (rs *recordShape) root(name string) *recordschema.Schema {
	switch name {
	case "key":
		return rs.shapes.Key
	case "value":
		return rs.shapes.Value
	}
	return nil
}

func (rs *recordShape) setRoot(name string, s *recordschema.Schema) {
	switch name {
	case "key":
		rs.shapes.Key = s
	case "value":
		rs.shapes.Value = s
	}
}

// set follows a set of a value of schema f at p. A field set into a
// schemaless key or value leaves it schemaless; a value whose type is not
// known (dynField) makes the whole key or value unknown when it is set
// whole.
func (rs *recordShape) set(p Path, f *recordschema.Schema) {
	if p.Root != "key" && p.Root != "value" {
		return
	}
	if len(p.Fields) == 0 {
		if f == dynField {
			f = nil
		}
		rs.setRoot(p.Root, f)
		return
	}
	root := rs.root(p.Root)
	if root == nil {
		return
	}
	next, _, err := root.With(p.Fields, f)
	if err != nil {
		next = nil
	}
	rs.setRoot(p.Root, next)
}

// checkExpr type-checks e against rs, reports its problems (each once) and
// returns the schema of its result (nil when not known).
func (l *loader) checkExpr(e *Expr, rs recordShape, seen map[string]bool) *recordschema.Schema {
	if e == nil {
		return nil
	}
	o, ok := l.origins[e]
	if !ok {
		return nil
	}
	out, issues := o.env.CheckTyped(e.Source, o.want, rs.shapes)
	if len(issues) == 0 {
		return out
	}
	sev, note := hcl.DiagError, ""
	if rs.inferred {
		sev, note = hcl.DiagWarning, rs.note
	}
	for _, d := range celDiags(sev, o.file, o.expr, e.Source, o.ctx, o.what, issues, note) {
		key := fmt.Sprint(d.Severity, d.Subject, d.Detail)
		if seen[key] {
			continue
		}
		seen[key] = true
		l.diags = append(l.diags, d)
	}
	return nil
}
