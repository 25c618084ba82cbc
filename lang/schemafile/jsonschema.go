package schemafile

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	rs "github.com/pipectl/pipectl/lang/recordschema"
)

// JSONSchemaURL is the location a JSON Schema text is compiled at.
const JSONSchemaURL = "mem://pipectl/schema.json"

// CompileJSONSchema compiles a JSON Schema document with
// santhosh-tekuri/jsonschema (drafts 4 to 2020-12, by its $schema; 2020-12
// when it has none). refs maps the $ref locations of other documents it
// refers to (the registry's references) to their text. The compiled schema
// validates values (Validate takes them as jsonschema.UnmarshalJSON reads
// them).
func CompileJSONSchema(text string, refs map[string]string) (*jsonschema.Schema, error) {
	if err := checkJSON("json_schema", text); err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	c.AssertContent()
	add := func(url, text string) error {
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
		if err != nil {
			return &Error{Language: "json_schema", Reason: url + ": " + err.Error()}
		}
		if err := c.AddResource(url, doc); err != nil {
			return &Error{Language: "json_schema", Reason: err.Error()}
		}
		return nil
	}
	if err := add(JSONSchemaURL, text); err != nil {
		return nil, err
	}
	for url, t := range refs {
		if err := add(url, t); err != nil {
			return nil, err
		}
	}
	s, err := compileJSONSafely(c)
	if err != nil {
		return nil, &Error{Language: "json_schema", Reason: err.Error()}
	}
	return s, nil
}

func compileJSONSafely(c *jsonschema.Compiler) (s *jsonschema.Schema, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("the compiler failed on this document: %v", r)
		}
	}()
	return c.Compile(JSONSchemaURL)
}

// JSONSchema reads a JSON Schema document into a record schema.
func JSONSchema(text string) (*rs.Schema, error) {
	s, err := CompileJSONSchema(text, nil)
	if err != nil {
		return nil, err
	}
	order, err := propertyOrder(text)
	if err != nil {
		return nil, jsonError("json_schema", text, err)
	}
	return FromJSONSchema(s, order)
}

// FromJSONSchema maps a compiled JSON Schema to a record schema
// (docs/schemas.md has the table). order gives the properties of each
// object schema in the order of the document, by the schema's location
// (PropertyOrder); properties it does not list come last, by name.
func FromJSONSchema(s *jsonschema.Schema, order map[string][]string) (*rs.Schema, error) {
	m := jsonMapper{order: order, open: map[*jsonschema.Schema]bool{}}
	out, err := m.schema(s, "", 0)
	if err != nil {
		return nil, err
	}
	if err := out.Validate(); err != nil {
		return nil, &Error{Language: "json_schema", Reason: err.Error()}
	}
	return out, nil
}

// PropertyOrder reads the order of the properties of every object schema
// in a JSON Schema document, by location ("schema.json#/properties/a"),
// which compiled schemas (maps) do not keep.
func PropertyOrder(text string) (map[string][]string, error) {
	order, err := propertyOrder(text)
	if err != nil {
		return nil, jsonError("json_schema", text, err)
	}
	return order, nil
}

func propertyOrder(text string) (map[string][]string, error) {
	d := json.NewDecoder(strings.NewReader(text))
	d.UseNumber()
	order := map[string][]string{}
	if err := walkOrder(d, "", order, 0); err != nil {
		return nil, err
	}
	return order, nil
}

// walkOrder reads one JSON value, noting the keys of each "properties"
// object under the pointer of the object schema that holds it.
func walkOrder(d *json.Decoder, ptr string, order map[string][]string, depth int) error {
	if depth > 1000 {
		return errors.New("nested too deeply")
	}
	tok, err := d.Token()
	if err != nil {
		return err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	switch delim {
	case '[':
		for i := 0; d.More(); i++ {
			if err := walkOrder(d, ptr+"/"+strconv.Itoa(i), order, depth+1); err != nil {
				return err
			}
		}
	case '{':
		for d.More() {
			kt, err := d.Token()
			if err != nil {
				return err
			}
			k, _ := kt.(string)
			at := ptr + "/" + escapePointer(k)
			if strings.HasSuffix(at, "/properties") {
				// Peek the keys of the properties object.
				if err := walkProperties(d, at, ptr, order, depth+1); err != nil {
					return err
				}
				continue
			}
			if err := walkOrder(d, at, order, depth+1); err != nil {
				return err
			}
		}
	}
	_, err = d.Token() // the closing delimiter
	return err
}

func walkProperties(d *json.Decoder, at, owner string, order map[string][]string, depth int) error {
	tok, err := d.Token()
	if err != nil {
		return err
	}
	if delim, ok := tok.(json.Delim); !ok || delim != '{' {
		if ok {
			// Not an object: walk it as any value.
			for d.More() {
				if err := walkOrder(d, at, order, depth+1); err != nil {
					return err
				}
			}
			_, err = d.Token()
		}
		return err
	}
	var keys []string
	for d.More() {
		kt, err := d.Token()
		if err != nil {
			return err
		}
		k, _ := kt.(string)
		keys = append(keys, k)
		if err := walkOrder(d, at+"/"+escapePointer(k), order, depth+1); err != nil {
			return err
		}
	}
	order[JSONSchemaURL+"#"+owner] = keys
	_, err = d.Token()
	return err
}

func escapePointer(k string) string {
	return strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
}

type jsonMapper struct {
	order map[string][]string
	open  map[*jsonschema.Schema]bool
}

func jsErr(path, format string, args ...any) *Error {
	r := fmt.Sprintf(format, args...)
	if path != "" {
		r = "at " + path + ": " + r
	}
	return &Error{Language: "json_schema", Reason: r}
}

// anyJSON is the record schema of a value the JSON Schema does not pin to
// one type.
func anyJSON() *rs.Schema { return &rs.Schema{Type: rs.String, Logical: rs.JSON, Optional: true} }

func (m jsonMapper) schema(s *jsonschema.Schema, path string, depth int) (*rs.Schema, error) {
	if depth > 1000 {
		return nil, jsErr(path, "nested too deeply")
	}
	if s.Ref != nil && s.Types == nil && len(s.Properties) == 0 {
		if m.open[s.Ref] {
			return nil, jsErr(path, "the schema at %s refers to itself, and record schemas cannot be recursive", s.Ref.Location)
		}
		m.open[s.Ref] = true
		defer delete(m.open, s.Ref)
		return m.schema(s.Ref, path, depth+1)
	}
	if s.Bool != nil || s.Types == nil {
		if s.Types == nil && len(s.Properties) > 0 {
			return m.object(s, path, depth, false)
		}
		return anyJSON(), nil
	}
	types := s.Types.ToStrings()
	nullable := slices.Contains(types, "null")
	types = slices.DeleteFunc(types, func(t string) bool { return t == "null" })
	if len(types) != 1 {
		return anyJSON(), nil
	}
	var out *rs.Schema
	switch types[0] {
	case "boolean":
		out = &rs.Schema{Type: rs.Boolean}
	case "integer":
		out = &rs.Schema{Type: rs.Int64}
	case "number":
		out = &rs.Schema{Type: rs.Float64}
	case "string":
		out = &rs.Schema{Type: rs.String}
		if s.Format != nil {
			switch s.Format.Name {
			case "date":
				out = &rs.Schema{Type: rs.Int32, Logical: rs.Date}
			case "date-time":
				out = &rs.Schema{Type: rs.Int64, Logical: rs.TimestampMicros}
			case "uuid":
				out = &rs.Schema{Type: rs.String, Logical: rs.UUID}
			}
		}
		if s.ContentEncoding != nil && s.ContentEncoding.Name == "base64" {
			out = &rs.Schema{Type: rs.Bytes}
		}
	case "array":
		var items *jsonschema.Schema
		switch it := s.Items.(type) {
		case *jsonschema.Schema:
			items = it
		}
		if s.Items2020 != nil {
			items = s.Items2020
		}
		is := anyJSON()
		if items != nil {
			var err error
			if is, err = m.schema(items, path+"[]", depth+1); err != nil {
				return nil, err
			}
		}
		out = &rs.Schema{Type: rs.Array, Items: is}
	case "object":
		return m.object(s, path, depth, nullable)
	}
	out.Optional = nullable
	out.Doc = s.Description
	return out, nil
}

func (m jsonMapper) object(s *jsonschema.Schema, path string, depth int, nullable bool) (*rs.Schema, error) {
	if len(s.Properties) == 0 {
		vs := anyJSON()
		if a, ok := s.AdditionalProperties.(*jsonschema.Schema); ok {
			var err error
			if vs, err = m.schema(a, path+"{}", depth+1); err != nil {
				return nil, err
			}
		}
		return &rs.Schema{Type: rs.Map, Keys: &rs.Schema{Type: rs.String}, Values: vs, Optional: nullable, Doc: s.Description}, nil
	}
	out := &rs.Schema{Type: rs.Struct, Name: s.Title, Doc: s.Description, Optional: nullable}
	names := slices.Clone(m.order[s.Location])
	var rest []string
	for k := range s.Properties {
		if !slices.Contains(names, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	names = append(slices.DeleteFunc(names, func(k string) bool { _, ok := s.Properties[k]; return !ok }), rest...)
	for _, k := range names {
		fs, err := m.schema(s.Properties[k], path+"."+k, depth+1)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(s.Required, k) && !fs.Optional {
			cp := *fs
			cp.Optional = true
			fs = &cp
		}
		out.Fields = append(out.Fields, rs.Field{Name: k, Schema: fs})
	}
	return out, nil
}
