package recordschema

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The path operations give the schema of a value after a transform's set,
// rename or drop at a path of field names (value.a.b is the path a, b of
// the value). They follow what the operations do to values: a struct's
// field by name, a map's entry by key, anything inside a json value. They
// never change s: a result shares the parts of s it does not change, and a
// struct they change keeps no default (it might no longer fit).

// anyJSON is the schema of a value inside a json value.
var anyJSON = &Schema{Type: String, Logical: JSON, Optional: true}

// Lookup returns the schema of the value at path inside a value of s: nil
// (and no error) when a struct on the way has no such field, an error when
// the path crosses a type that has no fields (an int64, an array).
func (s *Schema) Lookup(path []string) (*Schema, error) {
	cur := s
	for i, name := range path {
		switch {
		case cur.Logical == JSON:
			return anyJSON, nil
		case cur.Type == Struct:
			f, _ := cur.Field(name)
			if f == nil {
				return nil, nil
			}
			cur = f.Schema
		case cur.Type == Map:
			cur = cur.Values
		default:
			return nil, notFields(path[:i], cur)
		}
	}
	return cur, nil
}

// With returns the schema after a value of schema f is set at path: a
// struct field's schema is replaced (in its place) unless it holds f
// already (then it stays, doc and name included), or the field is added
// (at the end), and structs on the way that do not exist are added. When the
// path ends inside a map (an entry) or a json value, the schema does not
// change and fixed is the schema a value set there must fit. An empty path
// sets the whole value: the result is f.
func (s *Schema) With(path []string, f *Schema) (out, fixed *Schema, err error) {
	if len(path) == 0 {
		return f, nil, nil
	}
	return s.with(path, 0, f)
}

func (s *Schema) with(path []string, i int, f *Schema) (out, fixed *Schema, err error) {
	switch {
	case s.Logical == JSON:
		return s, anyJSON, nil
	case s.Type == Map && i == len(path)-1:
		return s, s.Values, nil
	case s.Type == Map:
		return nil, nil, errorf(dotted(path[:i+1]), "a set inside an entry of a map would change the type of every entry; set the whole entry (%s)", dotted(path[:i+1]))
	case s.Type != Struct:
		return nil, nil, notFields(path[:i], s)
	}
	name := path[i]
	old, at := s.Field(name)
	var next *Schema
	if i == len(path)-1 {
		if old != nil && old.Schema.Holds(f) {
			return s, nil, nil // the field keeps its schema, doc and all
		}
		next = f
	} else if old == nil {
		next = nest(path[i+1:], f)
	} else {
		if next, fixed, err = old.Schema.with(path, i+1, f); err != nil || next == old.Schema {
			return s, fixed, err
		}
	}
	cp := *s
	cp.Default = nil
	if at >= 0 {
		cp.Fields = slices.Clone(s.Fields)
		cp.Fields[at].Schema = next
	} else {
		cp.Fields = append(slices.Clip(s.Fields), Field{Name: name, Schema: next})
	}
	return &cp, nil, nil
}

// nest returns structs nested along path with f at its end.
func nest(path []string, f *Schema) *Schema {
	for i := len(path) - 1; i >= 0; i-- {
		f = &Schema{Type: Struct, Fields: []Field{{Name: path[i], Schema: f}}}
	}
	return f
}

// Without returns the schema after the value at path is dropped: the
// struct field is removed. Nothing changes for a field that does not exist
// or a path that ends inside a map or a json value. An empty path drops
// the whole value: the result is nil.
func (s *Schema) Without(path []string) (*Schema, error) {
	if len(path) == 0 {
		return nil, nil
	}
	return s.without(path, 0)
}

func (s *Schema) without(path []string, i int) (*Schema, error) {
	switch {
	case s.Logical == JSON, s.Type == Map:
		return s, nil
	case s.Type != Struct:
		return nil, notFields(path[:i], s)
	}
	old, at := s.Field(path[i])
	if old == nil {
		return s, nil
	}
	cp := *s
	cp.Default = nil
	if i == len(path)-1 {
		cp.Fields = slices.Delete(slices.Clone(s.Fields), at, at+1)
		return &cp, nil
	}
	next, err := old.Schema.without(path, i+1)
	if err != nil || next == old.Schema {
		return s, err
	}
	cp.Fields = slices.Clone(s.Fields)
	cp.Fields[at].Schema = next
	return &cp, nil
}

// Renamed returns the schema after the value at from moves to to: a field
// renamed within its struct keeps its place (and replaces a field already
// named to); a field moved elsewhere is removed and set at to (With).
// Nothing changes when there is no field at from. Moving a value into a
// map entry needs the map's values to hold it.
func (s *Schema) Renamed(from, to []string) (*Schema, error) {
	f, err := s.Lookup(from)
	if err != nil || f == nil {
		return s, err
	}
	if len(from) == len(to) && slices.Equal(from[:len(from)-1], to[:len(to)-1]) {
		parent, err := s.Lookup(from[:len(from)-1])
		if err != nil {
			return nil, err
		}
		if parent.Type == Struct && parent.Logical == "" {
			return s.renameIn(from, to[len(to)-1], 0)
		}
	}
	rest, err := s.Without(from)
	if err != nil {
		return nil, err
	}
	out, fixed, err := rest.With(to, f)
	if err != nil {
		return nil, err
	}
	if fixed != nil && !fixed.Holds(f) && fixed != anyJSON {
		return nil, errorf(dotted(to), "the value (%s) does not fit the map's values (%s)", f, fixed)
	}
	return out, nil
}

// renameIn renames the field at path (which exists) to name, in place.
func (s *Schema) renameIn(path []string, name string, i int) (*Schema, error) {
	switch {
	case s.Logical == JSON:
		return s, nil
	case s.Type == Map:
		return nil, errorf(dotted(path[:i+1]), "a rename inside an entry of a map would change the type of every entry")
	}
	_, at := s.Field(path[i])
	cp := *s
	cp.Default = nil
	cp.Fields = slices.Clone(s.Fields)
	if i == len(path)-1 {
		if name == path[i] {
			return s, nil
		}
		cp.Fields[at].Name = name
		if _, dup := s.Field(name); dup >= 0 {
			cp.Fields = slices.Delete(cp.Fields, dup, dup+1)
		}
		return &cp, nil
	}
	next, err := cp.Fields[at].Schema.renameIn(path, name, i+1)
	if err != nil {
		return nil, err
	}
	cp.Fields[at].Schema = next
	return &cp, nil
}

func notFields(path []string, s *Schema) *Error {
	return errorf(dotted(path), "the schema has %s here, which has no fields", s)
}

// dotted writes a path as in messages: "" for none, ".a.b".
func dotted(path []string) string {
	var b strings.Builder
	for _, p := range path {
		b.WriteString(fieldPath("", p))
	}
	return b.String()
}

// Infer returns a schema for a value that has none, from the value itself
// (a CEL result of dynamic type): boolean, int64, float64, string, bytes, a
// timestamp-micros for a time.Time, an array of the one schema of its
// elements, a struct with a field per map key (in the order of the keys).
// Every part is required. It fails for what has no type of its own: null,
// an empty list, a list whose elements differ, a duration, an unsigned
// integer, and values of other Go types.
func Infer(v any) (*Schema, error) {
	return infer("", v, 0)
}

func infer(path string, v any, depth int) (*Schema, error) {
	if depth > maxDepth {
		return nil, errorf(path, "nested more than %d levels deep", maxDepth)
	}
	switch v := v.(type) {
	case bool:
		return &Schema{Type: Boolean}, nil
	case int64:
		return &Schema{Type: Int64}, nil
	case float64:
		return &Schema{Type: Float64}, nil
	case string:
		return &Schema{Type: String}, nil
	case []byte:
		return &Schema{Type: Bytes}, nil
	case time.Time:
		return &Schema{Type: Int64, Logical: TimestampMicros}, nil
	case []any:
		if len(v) == 0 {
			return nil, errorf(path, "an empty list has no element type")
		}
		var items *Schema
		for i, e := range v {
			es, err := infer(path+"["+strconv.Itoa(i)+"]", e, depth+1)
			if err != nil {
				return nil, err
			}
			if items == nil {
				items = es
			} else if !items.Equal(es) {
				return nil, errorf(path+"["+strconv.Itoa(i)+"]", "the list holds %s and %s, and a list's elements have one type", items, es)
			}
		}
		return &Schema{Type: Array, Items: items}, nil
	case map[string]any:
		names := make([]string, 0, len(v))
		for k := range v {
			names = append(names, k)
		}
		sort.Strings(names)
		fields := make([]Field, len(names))
		for i, k := range names {
			fs, err := infer(fieldPath(path, k), v[k], depth+1)
			if err != nil {
				return nil, err
			}
			fields[i] = Field{Name: k, Schema: fs}
		}
		return &Schema{Type: Struct, Fields: fields}, nil
	case nil:
		return nil, errorf(path, "null has no type of its own")
	case time.Duration:
		return nil, errorf(path, "a duration has no record type; convert it (int(d), string(d))")
	case uint64:
		return nil, errorf(path, "an unsigned int has no record type; convert it with int()")
	}
	return nil, errorf(path, "%s has no record type", describeValue(v))
}

// Holds reports whether every value of o is a value of s: the same types,
// logical types, decimal precision and scale, struct fields (by name, in
// order) and map keys, with s optional wherever o is; names, versions,
// docs, parameters and defaults do not count. A set of a value of schema o
// into a field of schema s leaves the field's schema as it is.
func (s *Schema) Holds(o *Schema) bool {
	if s == nil || o == nil {
		return s == o
	}
	if s.Type != o.Type || s.Logical != o.Logical || s.Precision != o.Precision || s.Scale != o.Scale ||
		o.Optional && !s.Optional || len(s.Fields) != len(o.Fields) {
		return false
	}
	switch s.Type {
	case Array:
		return s.Items.Holds(o.Items)
	case Map:
		return s.Keys.Holds(o.Keys) && o.Keys.Holds(s.Keys) && s.Values.Holds(o.Values)
	case Struct:
		for i := range s.Fields {
			if s.Fields[i].Name != o.Fields[i].Name || !s.Fields[i].Schema.Holds(o.Fields[i].Schema) {
				return false
			}
		}
	}
	return true
}
