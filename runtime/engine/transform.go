package engine

import (
	"fmt"
	"strings"

	"github.com/pipectl/pipectl/lang/expr"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
)

// root is where a path starts.
type root uint8

const (
	rootKey root = iota
	rootValue
	rootHeaders
)

// path is a compiled transform path: value.a.b.
type path struct {
	root   root
	fields []string
	text   string
}

type setOp struct {
	path  path
	prog  *expr.Program
	shape shape // for the schema of the result
}

type renameOp struct{ from, to path }

type headerOp struct {
	name string
	prog *expr.Program
}

// transform is one compiled transform block.
type transform struct {
	name                 string
	when, unless, filter *expr.Program
	set                  []setOp
	rename               []renameOp
	drop                 []path
	key, topic           *expr.Program
	headers              []headerOp
	progs                []*expr.Program // every CEL program, for usesOf
	keyShape             shape           // of the key expression
	reshape              bool            // it may change a key or value schema (transformschema.go)
}

// uses says what a pipeline's transforms read and write, so that the
// engine decodes, builds and encodes only that.
type uses struct {
	readKey, readValue   bool // decode the key / value before the transforms
	writeKey, writeValue bool // a transform may replace the key / value
	headers              bool // CEL reads the headers variable
	offset, timestamp    bool // CEL reads these variables
}

// compiledPaths returns every path of the transform with whether the
// operation reads what is already there.
func (t *transform) paths(yield func(p *path, reads bool) bool) {
	for i := range t.set {
		if !yield(&t.set[i].path, len(t.set[i].path.fields) > 0) {
			return
		}
	}
	for i := range t.rename {
		if !yield(&t.rename[i].from, true) || !yield(&t.rename[i].to, true) {
			return
		}
	}
	for i := range t.drop {
		if !yield(&t.drop[i], len(t.drop[i].fields) > 0) {
			return
		}
	}
}

func usesOf(ts []*transform) uses {
	var u uses
	for _, t := range ts {
		for _, prog := range t.progs {
			for _, name := range prog.Vars() {
				switch name {
				case "key":
					u.readKey = true
				case "value":
					u.readValue = true
				case "headers":
					u.headers = true
				case "offset":
					u.offset = true
				case "timestamp":
					u.timestamp = true
				}
			}
		}
		for p, reads := range t.paths {
			switch {
			case p.root == rootKey && reads:
				u.readKey = true
			case p.root == rootKey:
				u.writeKey = true
			case p.root == rootValue && reads:
				u.readValue = true
			case p.root == rootValue:
				u.writeValue = true
			}
		}
		if t.key != nil {
			u.writeKey = true
		}
	}
	return u
}

// transform compiles one transform of the spec.
func (c *compiler) transform(ts *control.TransformSpec) *transform {
	t := &transform{name: ts.Name}
	env := expr.RecordEnv()
	n := len(c.errs)
	prog := func(what, src string, want expr.Type) *expr.Program {
		p, issues := env.Compile(src, want)
		if len(issues) > 0 {
			c.errorf("transform %q: %s does not compile: %s", ts.Name, what, issueText(issues))
			return nil
		}
		t.progs = append(t.progs, p)
		return p
	}
	if ts.When != nil {
		t.when = prog("when", ts.When.Expr, expr.Bool)
	}
	if ts.Unless != nil {
		t.unless = prog("unless", ts.Unless.Expr, expr.Bool)
	}
	if ts.Filter != "" {
		t.filter = prog("filter", ts.Filter, expr.Bool)
	}
	for _, s := range ts.Set {
		p, ok := c.path(ts.Name, "set", s.Path)
		if ok && p.root == rootHeaders && len(p.fields) == 0 {
			c.errorf("transform %q: the set path %q must name a header: headers.NAME", ts.Name, s.Path)
			ok = false
		}
		if pr := prog("set "+s.Path, s.Expr, expr.Dyn); ok && pr != nil {
			t.set = append(t.set, setOp{path: p, prog: pr, shape: shapeOf(pr)})
		}
	}
	for _, r := range ts.Rename {
		from, ok1 := c.path(ts.Name, "rename", r.From)
		to, ok2 := c.path(ts.Name, "rename", r.To)
		switch {
		case !ok1 || !ok2:
		case len(from.fields) == 0 || len(to.fields) == 0:
			c.errorf("transform %q: rename %q to %q: a rename names a field on both sides, like value.old", ts.Name, r.From, r.To)
		case from.root != to.root:
			c.errorf("transform %q: rename %q to %q: a rename stays within the key, the value or the headers", ts.Name, r.From, r.To)
		default:
			t.rename = append(t.rename, renameOp{from: from, to: to})
		}
	}
	for _, d := range ts.Drop {
		if p, ok := c.path(ts.Name, "drop", d); ok {
			t.drop = append(t.drop, p)
		}
	}
	if ts.Key != "" {
		t.key = prog("key", ts.Key, expr.Dyn)
		t.keyShape = shapeOf(t.key)
	}
	if ts.Topic != "" {
		t.topic = prog("topic", ts.Topic, expr.String)
	}
	for _, h := range ts.Headers {
		if h.Name == "" {
			c.errorf("transform %q: a header name cannot be empty", ts.Name)
			continue
		}
		if pr := prog("header "+h.Name, h.Expr, expr.String); pr != nil {
			t.headers = append(t.headers, headerOp{name: h.Name, prog: pr})
		}
	}
	if len(c.errs) > n {
		return nil
	}
	t.reshape = t.reshapes()
	return t
}

func (c *compiler) path(transform, op, s string) (path, bool) {
	parts := strings.Split(s, ".")
	p := path{fields: parts[1:], text: s}
	switch parts[0] {
	case "key":
		p.root = rootKey
	case "value":
		p.root = rootValue
	case "headers":
		p.root = rootHeaders
	default:
		c.errorf("transform %q: the %s path %q must start with key., value. or headers.", transform, op, s)
		return path{}, false
	}
	for _, f := range p.fields {
		if f == "" {
			c.errorf("transform %q: the %s path %q has an empty field name", transform, op, s)
			return path{}, false
		}
	}
	if p.root == rootHeaders && len(p.fields) > 1 {
		c.errorf("transform %q: the %s path %q names a header and nothing more: headers.NAME", transform, op, s)
		return path{}, false
	}
	return p, true
}

// PathError is a transform path that cannot be followed: it crosses a
// value that is not a map, or sets a header to something other than a
// string.
type PathError struct {
	Op, Path string
	Reason   string
}

func (e *PathError) Error() string { return fmt.Sprintf("cannot %s %s: %s", e.Op, e.Path, e.Reason) }

// transformError says which transform and operation failed.
type transformError struct {
	transform, op string
	err           error
}

func (e *transformError) Error() string {
	return fmt.Sprintf("transform %q: %s: %v", e.transform, e.op, e.err)
}
func (e *transformError) Unwrap() error { return e.err }

// transformer applies a pipeline's transforms to one record after another.
// It keeps the CEL activation and the headers map from record to record so
// that a record costs no allocation of its own beyond what CEL and the
// operations need. It is not safe for concurrent use: a task has one.
type transformer struct {
	ts   []*transform
	uses uses
	vars map[string]any
	hdrs map[string]string
	// schemas keeps what the transforms make of record schemas; nil when
	// the pipeline has no use for them (transformschema.go).
	schemas *schemaCache

	topic    string
	topicVal any
	topicSet bool
	part     int32
	partVal  any

	// onMutate, when set, is called once per record before its first
	// change (sources keep the record unchanged for the dead-letter topic).
	onMutate func()
	mutated  bool
	// ownHeaders says the record's Headers slice may be changed in place;
	// otherwise the first header change copies it.
	ownHeaders bool
	wroteKey   bool
	wroteValue bool
}

func newTransformer(p *Pipeline) *transformer {
	t := &transformer{ts: p.transforms, uses: p.uses, vars: make(map[string]any, 8), hdrs: map[string]string{}}
	if p.schemas {
		t.schemas = newSchemaCache(len(p.transforms))
	}
	return t
}

// apply runs the transforms on rec in place. keep is false when a filter
// dropped the record. An error is a record failure at stage transform.
// ownHeaders says that rec.Headers belongs to the record alone and may be
// changed in place.
func (t *transformer) apply(rec *connector.Record, ownHeaders bool) (keep bool, err error) {
	t.mutated, t.wroteKey, t.wroteValue, t.ownHeaders = false, false, false, ownHeaders
	t.bind(rec)
	for ti, tr := range t.ts {
		if tr.when != nil {
			ok, err := t.cond(tr.when)
			if err != nil {
				return false, &transformError{tr.name, "when", err}
			}
			if !ok {
				continue
			}
		}
		if tr.unless != nil {
			ok, err := t.cond(tr.unless)
			if err != nil {
				return false, &transformError{tr.name, "unless", err}
			}
			if ok {
				continue
			}
		}
		if tr.filter != nil {
			ok, err := t.cond(tr.filter)
			if err != nil {
				return false, &transformError{tr.name, "filter", err}
			}
			if !ok {
				return false, nil
			}
		}
		var st *schemaStep // follows the record's schemas through the block
		if t.schemas != nil && tr.reshape && (rec.KeySchema != nil || rec.ValueSchema != nil) {
			st = t.schemas.begin(ti, tr, rec)
		}
		for i := range tr.set {
			op := &tr.set[i]
			v, err := op.prog.Eval(t.vars)
			if err == nil {
				err = t.set(rec, &op.path, v)
			}
			if err == nil && st != nil {
				err = st.set(i, op, v)
			}
			if err != nil {
				return false, &transformError{tr.name, "set " + op.path.text, err}
			}
		}
		for i := range tr.rename {
			op := &tr.rename[i]
			err := t.rename(rec, &op.from, &op.to)
			if err == nil && st != nil {
				err = st.rename(&op.from, &op.to)
			}
			if err != nil {
				return false, &transformError{tr.name, "rename " + op.from.text, err}
			}
		}
		for i := range tr.drop {
			err := t.drop(rec, &tr.drop[i])
			if err == nil && st != nil {
				err = st.drop(&tr.drop[i])
			}
			if err != nil {
				return false, &transformError{tr.name, "drop " + tr.drop[i].text, err}
			}
		}
		if tr.key != nil {
			v, err := tr.key.Eval(t.vars)
			if err == nil && st != nil {
				err = st.key(v)
			}
			if err != nil {
				return false, &transformError{tr.name, "key", err}
			}
			t.mutate()
			rec.Key, t.wroteKey = v, true
			t.vars["key"] = v
		}
		if st != nil {
			t.schemas.end(ti, st, rec)
		}
		if tr.topic != nil {
			v, err := tr.topic.Eval(t.vars)
			if err != nil {
				return false, &transformError{tr.name, "topic", err}
			}
			s, _ := v.(string)
			if s == "" {
				return false, &transformError{tr.name, "topic", fmt.Errorf("the topic expression returned an empty name")}
			}
			t.mutate()
			rec.Topic = s
			t.bindTopic(s)
		}
		for i := range tr.headers {
			op := &tr.headers[i]
			v, err := op.prog.Eval(t.vars)
			if err != nil {
				return false, &transformError{tr.name, "header " + op.name, err}
			}
			s, _ := v.(string)
			t.mutate()
			t.setHeader(rec, op.name, s)
		}
	}
	return true, nil
}

// bind loads the record into the CEL activation.
func (t *transformer) bind(rec *connector.Record) {
	v := t.vars
	v["key"] = rec.Key
	v["value"] = rec.Value
	t.bindTopic(rec.Topic)
	if rec.Partition != t.part || t.partVal == nil {
		t.part, t.partVal = rec.Partition, int64(rec.Partition)
		v["partition"] = t.partVal
	}
	if t.uses.offset {
		v["offset"] = rec.Offset
	}
	if t.uses.timestamp {
		v["timestamp"] = rec.Timestamp
	}
	if t.uses.headers {
		clear(t.hdrs)
		for _, h := range rec.Headers {
			t.hdrs[h.Key] = string(h.Value)
		}
		v["headers"] = t.hdrs
	}
}

func (t *transformer) bindTopic(topic string) {
	if !t.topicSet || topic != t.topic {
		t.topic, t.topicVal, t.topicSet = topic, topic, true
		t.vars["topic"] = t.topicVal
	}
}

func (t *transformer) cond(p *expr.Program) (bool, error) {
	v, err := p.Eval(t.vars)
	if err != nil {
		return false, err
	}
	b, _ := v.(bool)
	return b, nil
}

func (t *transformer) mutate() {
	if !t.mutated {
		t.mutated = true
		if t.onMutate != nil {
			t.onMutate()
		}
	}
}

// slot returns the record field a path starts at and the CEL variable that
// mirrors it.
func slot(rec *connector.Record, r root) (*any, string) {
	if r == rootKey {
		return &rec.Key, "key"
	}
	return &rec.Value, "value"
}

func (t *transformer) wrote(r root) {
	if r == rootKey {
		t.wroteKey = true
	} else {
		t.wroteValue = true
	}
}

func (t *transformer) set(rec *connector.Record, p *path, v any) error {
	t.mutate()
	if p.root == rootHeaders {
		var s string
		switch h := v.(type) {
		case string:
			s = h
		case []byte:
			s = string(h)
		default:
			return &PathError{Op: "set", Path: p.text, Reason: fmt.Sprintf("a header value is a string, and the expression returned %s", describe(v))}
		}
		t.setHeader(rec, p.fields[0], s)
		return nil
	}
	top, name := slot(rec, p.root)
	if len(p.fields) == 0 {
		*top = v
		t.vars[name] = v
		t.wrote(p.root)
		return nil
	}
	m, err := t.rootMap(top, name, p, "set", true)
	if err != nil {
		return err
	}
	last := len(p.fields) - 1
	for i, f := range p.fields[:last] {
		next, ok := m[f]
		if !ok || next == nil {
			nm := map[string]any{}
			m[f] = nm
			m = nm
			continue
		}
		nm, ok := next.(map[string]any)
		if !ok {
			return notMap("set", p, i+1, next)
		}
		m = nm
	}
	m[p.fields[last]] = v
	return nil
}

// rootMap returns the map at the root of a path. create makes one when the
// root is null.
func (t *transformer) rootMap(top *any, name string, p *path, op string, create bool) (map[string]any, error) {
	switch r := (*top).(type) {
	case map[string]any:
		return r, nil
	case nil:
		if !create {
			return nil, nil
		}
		m := map[string]any{}
		*top = m
		t.vars[name] = m
		t.wrote(p.root)
		return m, nil
	default:
		return nil, notMap(op, p, 0, r)
	}
}

func notMap(op string, p *path, depth int, got any) error {
	at := p.text
	if n := strings.Index(p.text, "."); n >= 0 {
		at = p.text[:n]
	}
	for _, f := range p.fields[:depth] {
		at += "." + f
	}
	return &PathError{Op: op, Path: p.text, Reason: fmt.Sprintf("%s is %s, not a map", at, describe(got))}
}

// take removes the field at p and returns it; found is false when it is
// absent.
func (t *transformer) take(rec *connector.Record, p *path, op string) (v any, found bool, err error) {
	top, name := slot(rec, p.root)
	m, err := t.rootMap(top, name, p, op, false)
	if m == nil || err != nil {
		return nil, false, err
	}
	last := len(p.fields) - 1
	for i, f := range p.fields[:last] {
		next, ok := m[f]
		if !ok || next == nil {
			return nil, false, nil
		}
		nm, ok := next.(map[string]any)
		if !ok {
			return nil, false, notMap(op, p, i+1, next)
		}
		m = nm
	}
	v, found = m[p.fields[last]]
	if found {
		delete(m, p.fields[last])
	}
	return v, found, nil
}

func (t *transformer) rename(rec *connector.Record, from, to *path) error {
	t.mutate()
	if from.root == rootHeaders {
		t.renameHeader(rec, from.fields[0], to.fields[0])
		return nil
	}
	v, found, err := t.take(rec, from, "rename")
	if err != nil || !found {
		return err
	}
	return t.set(rec, to, v)
}

func (t *transformer) drop(rec *connector.Record, p *path) error {
	t.mutate()
	switch {
	case p.root == rootHeaders && len(p.fields) == 0:
		rec.Headers = nil
		t.ownHeaders = true
		if t.uses.headers {
			clear(t.hdrs)
		}
		return nil
	case p.root == rootHeaders:
		t.removeHeader(rec, p.fields[0])
		return nil
	case len(p.fields) == 0:
		top, name := slot(rec, p.root)
		*top = nil
		t.vars[name] = nil
		t.wrote(p.root)
		return nil
	}
	_, _, err := t.take(rec, p, "drop")
	return err
}

// ownHeadersOf makes rec.Headers a slice of the record's own, so that
// changing it in place does not change another record that shares it.
func (t *transformer) ownHeadersOf(rec *connector.Record) {
	if !t.ownHeaders {
		rec.Headers = append(make([]connector.Header, 0, len(rec.Headers)+1), rec.Headers...)
		t.ownHeaders = true
	}
}

func (t *transformer) setHeader(rec *connector.Record, name, val string) {
	t.ownHeadersOf(rec)
	b := []byte(val)
	found := false
	n := 0
	for _, h := range rec.Headers {
		if h.Key == name {
			if found {
				continue
			}
			found, h.Value = true, b
		}
		rec.Headers[n] = h
		n++
	}
	rec.Headers = rec.Headers[:n]
	if !found {
		rec.Headers = append(rec.Headers, connector.Header{Key: name, Value: b})
	}
	if t.uses.headers {
		t.hdrs[name] = val
	}
}

func (t *transformer) removeHeader(rec *connector.Record, name string) {
	t.ownHeadersOf(rec)
	n := 0
	for _, h := range rec.Headers {
		if h.Key != name {
			rec.Headers[n] = h
			n++
		}
	}
	rec.Headers = rec.Headers[:n]
	if t.uses.headers {
		delete(t.hdrs, name)
	}
}

func (t *transformer) renameHeader(rec *connector.Record, from, to string) {
	if from == to {
		return
	}
	has := false
	for _, h := range rec.Headers {
		if h.Key == from {
			has = true
			break
		}
	}
	if !has {
		return
	}
	t.removeHeader(rec, to)
	for i := range rec.Headers {
		if rec.Headers[i].Key == from {
			rec.Headers[i].Key = to
		}
	}
	if t.uses.headers {
		if v, ok := t.hdrs[from]; ok {
			t.hdrs[to] = v
			delete(t.hdrs, from)
		}
	}
}
