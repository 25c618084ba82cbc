package configschema

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"time"
)

// Expr is a compiled expression attribute, evaluated with the variables
// the attribute declares. The plugin SDK's connector.Expr is this type.
type Expr interface {
	Eval(vars map[string]any) (any, error)
}

// Tag is the struct tag key that names the attribute or block a field of
// a configuration struct holds: `pipectl:"topic"`; `pipectl:"-"` leaves an
// exported field out.
const Tag = "pipectl"

var (
	durationType = reflect.TypeFor[time.Duration]()
	exprType     = reflect.TypeFor[Expr]()
)

// Decode checks values against the schema as Coerce does and fills dst, a
// pointer to the plugin's configuration struct (see CheckStruct for its
// shape), with defaults applied. An expression attribute's value must be
// its compiled Expr (connector's TaskContext.DecodeConfig puts it there).
// It returns every problem at once, joined; none quotes a sensitive value.
func Decode(s *Schema, values map[string]any, dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("%s: decode into %T: want a non-nil pointer to a struct", s.Address(), dst)
	}
	if err := checkStruct(s.Address(), rv.Elem().Type(), s.Attributes, s.Blocks); err != nil {
		return err
	}
	typed, errs := s.Coerce(values)
	if len(errs) > 0 {
		return Errors(errs)
	}
	return Errors(fill("", rv.Elem(), s.Attributes, s.Blocks, typed))
}

// CheckStruct reports whether config (a struct, a pointer to one, or a nil
// pointer of that type such as (*Config)(nil)) holds exactly the schema:
// one exported field tagged `pipectl:"NAME"` for each attribute and nested
// block, no tagged field the schema does not declare, no exported field
// without a tag, and each field of its attribute's type:
//
//	string, reference        string (or a named string type)
//	int                      int, int8, int16, int32 or int64
//	number                   float64
//	bool                     bool
//	duration                 time.Duration
//	expression               Expr (connector.Expr)
//	list(string)             []string
//	map(string)              map[string]string
//	nested block             a struct of the same shape, or a pointer to
//	                         one (nil when the block is absent)
//
// The fields of an embedded struct without a tag count as the struct's own,
// so that plugins can share a struct for attributes they share. A plugin
// registers its struct with its schema, and the registry calls
// CheckStruct, so that the two cannot drift apart.
func CheckStruct(s *Schema, config any) error {
	t := reflect.TypeOf(config)
	if t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return fmt.Errorf("%s: the configuration type %T is not a struct", s.Address(), config)
	}
	return checkStruct(s.Address(), t, s.Attributes, s.Blocks)
}

// fields maps the attribute and block names of a struct's tags to field
// index paths. The fields of an embedded struct without a tag count as the
// struct's own, as encoding/json does, so that plugins can share a struct
// for attributes they share.
func fields(where string, t reflect.Type) (map[string][]int, error) {
	out := map[string][]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, tagged := f.Tag.Lookup(Tag)
		if f.Anonymous && !tagged && f.Type.Kind() == reflect.Struct {
			inner, err := fields(where, f.Type)
			if err != nil {
				return nil, err
			}
			for n, idx := range inner {
				if _, dup := out[n]; dup {
					return nil, fmt.Errorf("%s: two fields of %s are tagged %q", where, t, n)
				}
				out[n] = append([]int{i}, idx...)
			}
			continue
		}
		switch {
		case !f.IsExported() || name == "-":
			continue
		case !tagged || name == "":
			return nil, fmt.Errorf("%s: field %s of %s has no %s tag; name its attribute, or tag it %s:\"-\"", where, f.Name, t, Tag, Tag)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("%s: two fields of %s are tagged %q", where, t, name)
		}
		out[name] = []int{i}
	}
	return out, nil
}

func checkStruct(where string, t reflect.Type, attrs []Attribute, blocks []Block) error {
	byName, err := fields(where, t)
	if err != nil {
		return err
	}
	var errs []error
	// field takes the field tagged name out of byName.
	field := func(name, what string) (reflect.StructField, bool) {
		i, ok := byName[name]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: %s has no field tagged %q for the %s", where, t, name, what))
			return reflect.StructField{}, false
		}
		delete(byName, name)
		return t.FieldByIndex(i), true
	}
	for _, a := range attrs {
		if f, ok := field(a.Name, string(a.Type)+" attribute"); ok && !fits(a.Type, f.Type) {
			errs = append(errs, fmt.Errorf("%s.%s: field %s of %s is a %s, which cannot hold a %s", where, a.Name, f.Name, t, f.Type, a.Type))
		}
	}
	for _, b := range blocks {
		f, ok := field(b.Name, "block "+b.Name)
		if !ok {
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() != reflect.Struct {
			errs = append(errs, fmt.Errorf("%s.%s: field %s of %s is a %s; a block needs a struct or a pointer to one", where, b.Name, f.Name, t, f.Type))
			continue
		}
		if err := checkStruct(where+"."+b.Name, ft, b.Attributes, b.Blocks); err != nil {
			errs = append(errs, err)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		errs = append(errs, fmt.Errorf("%s: field %s of %s is tagged %q, which the schema does not declare", where, t.FieldByIndex(byName[name]).Name, t, name))
	}
	return errors.Join(errs...)
}

// fits reports whether a field of type ft can hold an attribute of type t.
func fits(t Type, ft reflect.Type) bool {
	switch t {
	case String, Reference:
		return ft.Kind() == reflect.String
	case Int:
		switch ft.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			return ft != durationType
		}
	case Number:
		return ft.Kind() == reflect.Float64
	case Bool:
		return ft.Kind() == reflect.Bool
	case Duration:
		return ft == durationType
	case Expression:
		return ft == exprType
	case ListOfString, ListOfReference:
		return ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.String
	case MapOfString:
		return ft.Kind() == reflect.Map && ft.Key().Kind() == reflect.String && ft.Elem().Kind() == reflect.String
	}
	return false
}

// fill sets the fields of v, a struct CheckStruct accepted, from values
// as Coerce returns them.
func fill(prefix string, v reflect.Value, attrs []Attribute, blocks []Block, values map[string]any) []*Error {
	byName, _ := fields(prefix, v.Type())
	var errs []*Error
	for i := range attrs {
		a := &attrs[i]
		val, ok := values[a.Name]
		if !ok {
			continue
		}
		if err := set(v.FieldByIndex(byName[a.Name]), a, prefix+a.Name, val); err != nil {
			errs = append(errs, err)
		}
	}
	for i := range blocks {
		b := &blocks[i]
		f := v.FieldByIndex(byName[b.Name])
		sub, present := values[b.Name].(map[string]any)
		if f.Kind() == reflect.Pointer {
			if !present {
				f.SetZero()
				continue
			}
			f.Set(reflect.New(f.Type().Elem()))
			f = f.Elem()
		}
		if !present {
			var defaults []*Error
			sub, defaults = coerceBody(prefix+b.Name+".", b.Attributes, b.Blocks, map[string]any{})
			errs = append(errs, defaults...)
		}
		errs = append(errs, fill(prefix+b.Name+".", f, b.Attributes, b.Blocks, sub)...)
	}
	return errs
}

// set stores one coerced value in a field.
func set(f reflect.Value, a *Attribute, name string, v any) *Error {
	c := check{a: a, name: name, hidden: a.Sensitive}
	switch v := v.(type) {
	case string:
		if a.Type == Expression {
			return c.fail(RuleType, "Incorrect attribute value type", "The expression %q was not compiled: decode a task's configuration with its TaskContext.", name)
		}
		if a.Type == Duration {
			d, _ := parseDuration(v)
			f.SetInt(int64(d))
			return nil
		}
		f.SetString(v)
	case int64:
		if f.OverflowInt(v) {
			return c.fail(RuleMax, "Value out of range", "The attribute %q does not fit in the plugin's %s.", name, f.Type())
		}
		f.SetInt(v)
	case float64:
		f.SetFloat(v)
	case bool:
		f.SetBool(v)
	case []string:
		l := reflect.MakeSlice(f.Type(), len(v), len(v))
		for i, s := range v {
			l.Index(i).SetString(s)
		}
		f.Set(l)
	case map[string]string:
		m := reflect.MakeMapWithSize(f.Type(), len(v))
		for k, s := range v {
			m.SetMapIndex(reflect.ValueOf(k).Convert(f.Type().Key()), reflect.ValueOf(s).Convert(f.Type().Elem()))
		}
		f.Set(m)
	case Expr:
		f.Set(reflect.ValueOf(v))
	}
	return nil
}
