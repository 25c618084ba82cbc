package engine

import (
	"fmt"

	"github.com/pipectl/pipectl/lang/expr"
	"github.com/pipectl/pipectl/lang/recordschema"
	"github.com/pipectl/pipectl/runtime/connector"
)

// Transforms keep record schemas right. A record that carries a key or
// value schema leaves a transform block that changes its shape (set,
// rename, drop on key. or value. paths, key =) with the schemas of what the
// block made of it:
//
//   - set and key = give the new value the schema of what the expression
//     returns: the field's own schema when the expression only selects a
//     field of the record (value.customer.id), else the checked type of
//     the expression (Program.OutputSchema), else, for an expression of
//     dynamic type, the schema already there when the value fits it, else
//     the schema of the value it returned (recordschema.Infer);
//   - rename and drop move and remove the fields of the schema
//     (recordschema.Schema.Renamed, Without); a field-level operation on a
//     schemaless key or value leaves it schemaless;
//   - filter, when, unless, topic and headers leave the schemas as they
//     are.
//
// The result depends only on the block's input schemas, so it is worked
// out once per distinct pair of input schemas (by pointer) on the first
// record that brings it, and kept; later records with the same schemas get
// the kept result. What was typed from a value (a dynamic expression) is
// checked on every later record: a value that does not fit the schema the
// first one gave fails the record, as does a result that has no schema
// (null, a duration). Both are transform errors (*SchemaError), so they
// follow errors.tolerance and go to the dead-letter topic.
//
// Records without schemas do no schema work at all, and neither do the
// records of a source pipeline whose converters do not write schemas.

// SchemaError is a transform result that cannot be given a schema, or
// that does not fit the schema an earlier record gave it.
type SchemaError struct {
	Path   string // where in the record, e.g. value.total
	Reason string
}

func (e *SchemaError) Error() string { return fmt.Sprintf("cannot type %s: %s", e.Path, e.Reason) }

// shape is what the compiler knows about an expression's result for
// schemas.
type shape struct {
	path   []string          // the record field it selects (Program.Path), nil for none
	static *connector.Schema // its checked type (Program.OutputSchema), nil when dynamic
}

func shapeOf(p *expr.Program) shape {
	if p == nil {
		return shape{}
	}
	return shape{path: p.Path(), static: p.OutputSchema()}
}

// reshapes reports whether the transform may change the schema of a key or
// value.
func (t *transform) reshapes() bool {
	if t.key != nil || len(t.rename) > 0 {
		return true // header renames are rare enough to take the cache lookup
	}
	for i := range t.set {
		if t.set[i].path.root != rootHeaders {
			return true
		}
	}
	for i := range t.drop {
		if t.drop[i].root != rootHeaders {
			return true
		}
	}
	return false
}

// schemaPair is a record's key and value schemas.
type schemaPair struct{ key, value *connector.Schema }

func (p *schemaPair) of(r root) **connector.Schema {
	if r == rootKey {
		return &p.key
	}
	return &p.value
}

// blockSchemas is what one transform block makes of one pair of input
// schemas.
type blockSchemas struct {
	out schemaPair
	// sets holds, per set operation, the schema its value must fit on
	// every record (typed from a value, or fixed by a map or json value
	// it is set into); nil where the value always fits. key is the same
	// for the key expression.
	sets []*connector.Schema
	key  *connector.Schema
}

// maxSchemaCache bounds the input schemas a block keeps results for: a
// source that made a new *Schema for every record would otherwise grow it
// without end.
const maxSchemaCache = 256

// schemaCache keeps, per transform block, the results by input schemas. A
// task's transformer has one; it is not safe for concurrent use.
type schemaCache struct {
	blocks []map[schemaPair]*blockSchemas
	step   schemaStep // the one in use, reused from record to record
}

func newSchemaCache(n int) *schemaCache {
	return &schemaCache{blocks: make([]map[schemaPair]*blockSchemas, n)}
}

// schemaStep follows one record through one transform block.
type schemaStep struct {
	tr    *transform
	in    schemaPair
	cur   schemaPair    // building: the schemas after the operations so far
	hit   *blockSchemas // the kept result, or nil
	build *blockSchemas // the result being worked out, or nil
}

// begin starts block i of the record's transforms.
func (c *schemaCache) begin(i int, tr *transform, rec *connector.Record) *schemaStep {
	in := schemaPair{rec.KeySchema, rec.ValueSchema}
	st := &c.step
	*st = schemaStep{tr: tr, in: in, cur: in}
	if hit, ok := c.blocks[i][in]; ok {
		st.hit = hit
	} else {
		st.build = &blockSchemas{sets: make([]*connector.Schema, len(tr.set))}
	}
	return st
}

// end sets the record's schemas to the block's result and keeps it.
func (c *schemaCache) end(i int, st *schemaStep, rec *connector.Record) {
	out := st.cur
	if st.hit != nil {
		out = st.hit.out
	} else {
		st.build.out = out
		m := c.blocks[i]
		if m == nil || len(m) >= maxSchemaCache {
			m = map[schemaPair]*blockSchemas{}
			c.blocks[i] = m
		}
		m[st.in] = st.build
	}
	rec.KeySchema, rec.ValueSchema = out.key, out.value
}

// set follows set operation i, which set v.
func (st *schemaStep) set(i int, op *setOp, v any) error {
	if op.path.root == rootHeaders {
		return nil
	}
	if st.hit != nil {
		return check(st.hit.sets[i], op.path.text, v)
	}
	check, err := st.place(&op.path, op.shape, v)
	st.build.sets[i] = check
	return err
}

// key follows the key expression, which returned v.
func (st *schemaStep) key(v any) error {
	if st.hit != nil {
		return check(st.hit.key, "key", v)
	}
	var err error
	st.build.key, err = st.place(&path{root: rootKey, text: "key"}, st.tr.keyShape, v)
	return err
}

// place puts the schema of v, the result of an expression of shape sh, at
// p, and returns the schema later values there must be checked against.
func (st *schemaStep) place(p *path, sh shape, v any) (mustFit *connector.Schema, err error) {
	slot := st.cur.of(p.root)
	if *slot == nil && len(p.fields) > 0 {
		return nil, nil // a field of a schemaless key or value
	}
	existing := *slot // the schema there now, nil for none
	if existing != nil && len(p.fields) > 0 {
		existing, _ = existing.Lookup(p.fields)
	}
	target, typedFromValue, err := st.typeOf(p, sh, v, existing)
	if err != nil {
		return nil, err
	}
	if typedFromValue {
		mustFit = target
	}
	if len(p.fields) == 0 {
		*slot = target
		return mustFit, nil
	}
	next, fixed, err := (*slot).With(p.fields, target)
	if err != nil {
		return nil, &SchemaError{Path: p.text, Reason: err.Error()}
	}
	if fixed != nil {
		// Inside a map or a json value: the schema stays, the value must
		// fit it.
		if err := check(fixed, p.text, v); err != nil {
			return nil, err
		}
		return fixed, nil
	}
	*slot = next
	return mustFit, nil
}

// typeOf returns the schema of v, the result of an expression of shape sh
// set at p where the schema is existing (nil for none); typedFromValue
// says it came from v itself.
func (st *schemaStep) typeOf(p *path, sh shape, v any, existing *connector.Schema) (s *connector.Schema, typedFromValue bool, err error) {
	if len(sh.path) > 0 && (sh.path[0] == "key" || sh.path[0] == "value") {
		r := rootValue
		if sh.path[0] == "key" {
			r = rootKey
		}
		if from := *st.cur.of(r); from != nil {
			if s, err := from.Lookup(sh.path[1:]); err == nil && s != nil {
				return s, false, nil
			}
		}
	}
	if sh.static != nil {
		return sh.static, false, nil
	}
	if existing != nil && existing.CheckValue(v) == nil {
		// A dynamic result that fits what is there keeps its schema (a
		// date stays a date, an optional field takes a null).
		return existing, true, nil
	}
	s, err = recordschema.Infer(v)
	if err != nil {
		return nil, false, &SchemaError{Path: p.text, Reason: fmt.Sprintf("the expression's type is dynamic and its result has no type: %v; give it one (int(…), double(…), string(…))", err)}
	}
	return s, true, nil
}

// check checks v against s, the schema an earlier record gave the place;
// nil s checks nothing.
func check(s *connector.Schema, where string, v any) error {
	if s == nil {
		return nil
	}
	if err := s.CheckValue(v); err != nil {
		return &SchemaError{Path: where, Reason: fmt.Sprintf("the result does not fit %s, the schema an earlier record with the same input schema gave it (%v); give the expression a fixed type", s, err)}
	}
	return nil
}

// rename follows a rename.
func (st *schemaStep) rename(from, to *path) error {
	if st.hit != nil || from.root == rootHeaders {
		return nil
	}
	slot := st.cur.of(from.root)
	if *slot == nil {
		return nil
	}
	next, err := (*slot).Renamed(from.fields, to.fields)
	if err != nil {
		return &SchemaError{Path: to.text, Reason: err.Error()}
	}
	*slot = next
	return nil
}

// drop follows a drop.
func (st *schemaStep) drop(p *path) error {
	if st.hit != nil || p.root == rootHeaders {
		return nil
	}
	slot := st.cur.of(p.root)
	if *slot == nil {
		return nil
	}
	next, err := (*slot).Without(p.fields)
	if err != nil {
		return &SchemaError{Path: p.text, Reason: err.Error()}
	}
	*slot = next
	return nil
}
