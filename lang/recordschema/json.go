package recordschema

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The JSON form of a schema, which schemas/record-schema.schema.json
// describes. Attributes at their zero value are left out; fields keep their
// order:
//
//	{"type": "struct", "name": "shop.Order", "version": 2, "doc": "An order.",
//	 "fields": [
//	   {"name": "id", "schema": {"type": "int64"}},
//	   {"name": "amount", "schema": {"type": "bytes", "logical": "decimal", "precision": 10, "scale": 2}},
//	   {"name": "placed", "schema": {"type": "int64", "logical": "timestamp-millis", "optional": true}},
//	   {"name": "tags", "schema": {"type": "map", "keys": {"type": "string"}, "values": {"type": "string"}}},
//	   {"name": "lines", "schema": {"type": "array", "items": {"type": "string"}, "default": []}}
//	 ]}
//
// A default is written in the JSON form of its value: booleans, numbers and
// strings as themselves, bytes in standard base64, a decimal as its text
// ("12.30"), a date as "2006-01-02", a time of day as "15:04:05.123" (the
// fraction as long as needed), a timestamp in RFC 3339 in UTC, a json value
// as itself, arrays as arrays, maps and structs as objects.
//
// MarshalJSON writes the canonical form: the same schema always gives the
// same bytes, and Parse of them gives an Equal schema.

// jsonSchema mirrors Schema in its JSON form; the order of its fields is
// the order of the keys.
type jsonSchema struct {
	Type       Type              `json:"type"`
	Logical    Logical           `json:"logical,omitempty"`
	Precision  int               `json:"precision,omitempty"`
	Scale      int               `json:"scale,omitempty"`
	Optional   bool              `json:"optional,omitempty"`
	Name       string            `json:"name,omitempty"`
	Version    int               `json:"version,omitempty"`
	Doc        string            `json:"doc,omitempty"`
	Parameters map[string]string `json:"parameters,omitempty"`
	Items      *jsonSchema       `json:"items,omitempty"`
	Keys       *jsonSchema       `json:"keys,omitempty"`
	Values     *jsonSchema       `json:"values,omitempty"`
	Fields     []jsonField       `json:"fields,omitempty"`
	Default    json.RawMessage   `json:"default,omitempty"`
}

type jsonField struct {
	Name   string      `json:"name"`
	Schema *jsonSchema `json:"schema"`
}

// MarshalJSON writes the canonical JSON form of s. It fails for a default
// that has no JSON form (NaN, a value of another type).
func (s Schema) MarshalJSON() ([]byte, error) {
	j, err := s.toJSON("")
	if err != nil {
		return nil, err
	}
	return json.Marshal(j)
}

func (s *Schema) toJSON(path string) (*jsonSchema, error) {
	if s == nil {
		return nil, errorf(path, "no schema")
	}
	j := &jsonSchema{
		Type: s.Type, Logical: s.Logical, Precision: s.Precision, Scale: s.Scale, Optional: s.Optional,
		Name: s.Name, Version: s.Version, Doc: s.Doc, Parameters: s.Parameters,
	}
	if s.Default != nil {
		form, err := s.valueJSON("", s.Default, 0)
		if err != nil {
			return nil, errorf(path, "the default has no JSON form: %v", err)
		}
		if j.Default, err = json.Marshal(form); err != nil {
			return nil, errorf(path, "the default has no JSON form: %v", err)
		}
	}
	var err error
	if s.Items != nil {
		if j.Items, err = s.Items.toJSON(path + "[]"); err != nil {
			return nil, err
		}
	}
	if s.Keys != nil {
		if j.Keys, err = s.Keys.toJSON(path + "{key}"); err != nil {
			return nil, err
		}
	}
	if s.Values != nil {
		if j.Values, err = s.Values.toJSON(path + "{}"); err != nil {
			return nil, err
		}
	}
	for _, f := range s.Fields {
		fj, err := f.Schema.toJSON(fieldPath(path, f.Name))
		if err != nil {
			return nil, err
		}
		j.Fields = append(j.Fields, jsonField{Name: f.Name, Schema: fj})
	}
	return j, nil
}

// UnmarshalJSON reads the JSON form of a schema, which must be valid
// (Validate). Unknown keys are errors.
func (s *Schema) UnmarshalJSON(b []byte) error {
	p, err := Parse(b)
	if err != nil {
		return err
	}
	*s = *p
	return nil
}

// Parse reads the JSON form of a schema and validates it.
func Parse(b []byte) (*Schema, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	var j *jsonSchema
	if err := d.Decode(&j); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	if _, err := d.Token(); err == nil {
		return nil, errors.New("schema: text after the schema")
	}
	if j == nil {
		return nil, errors.New("schema: null is not a schema")
	}
	s, err := j.schema("", 0)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	return s, nil
}

func (j *jsonSchema) schema(path string, depth int) (*Schema, error) {
	if j == nil {
		return nil, errorf(path, "no schema")
	}
	if depth > maxDepth {
		return nil, errorf(path, "nested more than %d levels deep", maxDepth)
	}
	s := &Schema{
		Type: j.Type, Logical: j.Logical, Precision: j.Precision, Scale: j.Scale, Optional: j.Optional,
		Name: j.Name, Version: j.Version, Doc: j.Doc, Parameters: j.Parameters,
	}
	var err error
	if j.Items != nil {
		if s.Items, err = j.Items.schema(path+"[]", depth+1); err != nil {
			return nil, err
		}
	}
	if j.Keys != nil {
		if s.Keys, err = j.Keys.schema(path+"{key}", depth+1); err != nil {
			return nil, err
		}
	}
	if j.Values != nil {
		if s.Values, err = j.Values.schema(path+"{}", depth+1); err != nil {
			return nil, err
		}
	}
	for _, f := range j.Fields {
		fs, err := f.Schema.schema(fieldPath(path, f.Name), depth+1)
		if err != nil {
			return nil, err
		}
		s.Fields = append(s.Fields, Field{Name: f.Name, Schema: fs})
	}
	if j.Default != nil {
		if err := s.validate(path, depth); err != nil {
			// The type must be right before the default can be read.
			return nil, err
		}
		d := json.NewDecoder(bytes.NewReader(j.Default))
		d.UseNumber()
		var form any
		if err := d.Decode(&form); err != nil {
			return nil, errorf(path, "the default: %v", err)
		}
		if form == nil {
			return nil, errorf(path, "a default of null is no default: leave it out")
		}
		if s.Default, err = s.valueFromJSON("", form, 0); err != nil {
			return nil, errorf(path, "the default does not fit the schema: %v", err)
		}
	}
	return s, nil
}

// Formats of the JSON form of dates and times of day (fractions of a
// second without trailing zeros, so that no precision is lost).
const (
	dateLayout = "2006-01-02"
	timeLayout = "15:04:05.999999999"
)

// valueJSON returns the JSON form of v, a value of s, as a value that
// encoding/json writes.
func (s *Schema) valueJSON(path string, v any, depth int) (any, error) {
	if err := s.check(path, v, depth); err != nil {
		return nil, err
	}
	return s.jsonForm(v), nil
}

// jsonForm returns the JSON form of v, which fits s.
func (s *Schema) jsonForm(v any) any {
	if v == nil {
		return nil
	}
	switch s.Logical {
	case Date:
		return v.(time.Time).UTC().Format(dateLayout)
	case TimeMillis, TimeMicros:
		return (time.Time{}).Add(v.(time.Duration)).Format(timeLayout)
	case TimestampMillis, TimestampMicros:
		return v.(time.Time).UTC().Format(time.RFC3339Nano)
	case Decimal, UUID, JSON:
		return v
	}
	switch s.Type {
	case Bytes:
		return base64.StdEncoding.EncodeToString(v.([]byte))
	case Array:
		l := v.([]any)
		out := make([]any, len(l))
		for i, e := range l {
			out[i] = s.Items.jsonForm(e)
		}
		return out
	case Map:
		m := v.(map[string]any)
		out := make(map[string]any, len(m))
		for k, e := range m {
			out[k] = s.Values.jsonForm(e)
		}
		return out
	case Struct:
		m := v.(map[string]any)
		out := make(map[string]any, len(m))
		for _, f := range s.Fields {
			if e, ok := m[f.Name]; ok {
				out[f.Name] = f.Schema.jsonForm(e)
			}
		}
		return out
	}
	return v
}

// valueFromJSON reads a value of s from its JSON form as encoding/json
// decodes it with UseNumber.
func (s *Schema) valueFromJSON(path string, j any, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errorf(path, "nested more than %d levels deep", maxDepth)
	}
	if j == nil {
		return nil, s.check(path, nil, depth).orNil()
	}
	bad := func() (any, error) {
		return nil, errorf(path, "%s is not the JSON form of %s", describeJSON(j), s)
	}
	str, isStr := j.(string)
	switch s.Logical {
	case Date:
		t, err := time.Parse(dateLayout, str)
		if !isStr || err != nil {
			return bad()
		}
		return t, nil
	case TimeMillis, TimeMicros:
		t, err := time.Parse(timeLayout, str)
		if !isStr || err != nil {
			return bad()
		}
		return t.Sub(time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)), nil
	case TimestampMillis, TimestampMicros:
		t, err := time.Parse(time.RFC3339Nano, str)
		if !isStr || err != nil {
			return bad()
		}
		return t.UTC(), nil
	}
	var v any
	switch s.Type {
	case String:
		if s.Logical == JSON {
			v = plainJSON(j)
			break
		}
		if !isStr {
			return bad()
		}
		v = str
	case Boolean:
		b, ok := j.(bool)
		if !ok {
			return bad()
		}
		v = b
	case Int8, Int16, Int32, Int64:
		n, ok := j.(json.Number)
		if !ok {
			return bad()
		}
		i, err := strconv.ParseInt(n.String(), 10, 64)
		if err != nil {
			return bad()
		}
		v = i
	case Float32, Float64:
		n, ok := j.(json.Number)
		if !ok {
			return bad()
		}
		f, err := strconv.ParseFloat(n.String(), 64)
		if err != nil {
			return bad()
		}
		v = f
	case Bytes:
		if s.Logical == Decimal {
			if !isStr {
				return bad()
			}
			v = str
			break
		}
		b, err := base64.StdEncoding.DecodeString(str)
		if !isStr || err != nil {
			return bad()
		}
		v = b
	case Array:
		l, ok := j.([]any)
		if !ok {
			return bad()
		}
		out := make([]any, len(l))
		for i, e := range l {
			var err error
			if out[i], err = s.Items.valueFromJSON(path+"["+strconv.Itoa(i)+"]", e, depth+1); err != nil {
				return nil, err
			}
		}
		v = out
	case Map, Struct:
		m, ok := j.(map[string]any)
		if !ok {
			return bad()
		}
		out := make(map[string]any, len(m))
		var fields map[string]*Schema
		if s.Type == Struct {
			fields = make(map[string]*Schema, len(s.Fields))
			for _, f := range s.Fields {
				fields[f.Name] = f.Schema
			}
		}
		for k, e := range m {
			at := path + "[" + strconv.Quote(k) + "]"
			es := s.Values
			if s.Type == Struct {
				if es = fields[k]; es == nil {
					return nil, errorf(fieldPath(path, k), "no such field in the schema (%s)", s)
				}
				at = fieldPath(path, k)
			}
			var err error
			if out[k], err = es.valueFromJSON(at, e, depth+1); err != nil {
				return nil, err
			}
		}
		v = out
	default:
		return bad()
	}
	if err := s.check(path, v, depth); err != nil {
		return nil, err
	}
	return v, nil
}

// orNil returns e as an error, nil for a nil *Error.
func (e *Error) orNil() error {
	if e == nil {
		return nil
	}
	return e
}

// plainJSON turns a value decoded with UseNumber into the json
// converter's values: int64 for an integer literal that fits, float64 for
// every other number.
func plainJSON(j any) any {
	switch j := j.(type) {
	case json.Number:
		if !strings.ContainsAny(j.String(), ".eE") {
			if i, err := strconv.ParseInt(j.String(), 10, 64); err == nil {
				return i
			}
		}
		// Out of range: ±Inf, which CheckValue refuses.
		f, _ := strconv.ParseFloat(j.String(), 64)
		return f
	case []any:
		for i, e := range j {
			j[i] = plainJSON(e)
		}
	case map[string]any:
		for k, e := range j {
			j[k] = plainJSON(e)
		}
	}
	return j
}

// describeJSON names the JSON type of a decoded value.
func describeJSON(j any) string {
	switch j.(type) {
	case nil:
		return "null"
	case bool:
		return "a JSON boolean"
	case json.Number:
		return "a JSON number"
	case string:
		return "a JSON string"
	case []any:
		return "a JSON array"
	}
	return "a JSON object"
}
