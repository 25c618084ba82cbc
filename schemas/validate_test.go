package schemas

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
)

// validate checks doc (decoded JSON) against schema and returns what is
// wrong, each problem prefixed with its JSON pointer. It implements the
// subset of JSON Schema 2020-12 that the generated schemas use and panics on
// any other assertion keyword, so that a schema never passes because a
// keyword was ignored. root resolves "#/$defs/NAME" references.
func validate(root map[string]any, schema, doc any, at string) []string {
	s, ok := schema.(map[string]any)
	if !ok {
		panic(fmt.Sprintf("%s: schema is not an object", at))
	}
	var problems []string
	fail := func(format string, args ...any) {
		problems = append(problems, at+": "+fmt.Sprintf(format, args...))
	}
	for kw, v := range s {
		switch kw {
		case "$schema", "$id", "$comment", "$defs", "title", "description", "default", "writeOnly":
		case "$ref":
			name, ok := strings.CutPrefix(v.(string), "#/$defs/")
			if !ok {
				panic("unsupported $ref " + v.(string))
			}
			problems = append(problems, validate(root, root["$defs"].(map[string]any)[name], doc, at)...)
		case "type":
			types, ok := v.([]any)
			if !ok {
				types = []any{v}
			}
			if !slices.ContainsFunc(types, func(t any) bool { return hasType(doc, t.(string)) }) {
				fail("%v is not of type %v", doc, v)
			}
		case "enum":
			if !slices.ContainsFunc(v.([]any), func(e any) bool { return reflect.DeepEqual(e, doc) }) {
				fail("%v is not one of %v", doc, v)
			}
		case "const":
			if !reflect.DeepEqual(v, doc) {
				fail("%v is not %v", doc, v)
			}
		case "minimum":
			if n, ok := doc.(float64); ok && n < v.(float64) {
				fail("%v is below the minimum %v", n, v)
			}
		case "maximum":
			if n, ok := doc.(float64); ok && n > v.(float64) {
				fail("%v is above the maximum %v", n, v)
			}
		case "minLength", "minItems", "minProperties":
			var n int
			switch d := doc.(type) {
			case string:
				n = len(d)
			case []any:
				n = len(d)
			case map[string]any:
				n = len(d)
			}
			if hasType(doc, map[string]string{"minLength": "string", "minItems": "array", "minProperties": "object"}[kw]) && float64(n) < v.(float64) {
				fail("%v has fewer than %v", doc, v)
			}
		case "allOf", "anyOf", "oneOf":
			valid := 0
			var all []string
			for _, sub := range v.([]any) {
				p := validate(root, sub, doc, at)
				if len(p) == 0 {
					valid++
				}
				all = append(all, p...)
			}
			switch {
			case kw == "allOf" && valid < len(v.([]any)):
				problems = append(problems, all...)
			case kw == "anyOf" && valid == 0:
				fail("none of anyOf holds: %s", strings.Join(all, "; "))
			case kw == "oneOf" && valid != 1:
				fail("%d of oneOf hold, not 1", valid)
			}
		case "not":
			if len(validate(root, v, doc, at)) == 0 {
				fail("%v matches a schema it must not", doc)
			}
		case "dependentRequired":
			if obj, ok := doc.(map[string]any); ok {
				for name, deps := range v.(map[string]any) {
					if _, set := obj[name]; !set {
						continue
					}
					for _, d := range deps.([]any) {
						if _, ok := obj[d.(string)]; !ok {
							fail("%q needs %q", name, d)
						}
					}
				}
			}
		case "pattern":
			if str, ok := doc.(string); ok && !regexp.MustCompile(v.(string)).MatchString(str) {
				fail("%q does not match %s", str, v)
			}
		case "required":
			if obj, ok := doc.(map[string]any); ok {
				for _, r := range v.([]any) {
					if _, ok := obj[r.(string)]; !ok {
						fail("%q is required", r)
					}
				}
			}
		case "items":
			if arr, ok := doc.([]any); ok {
				for i, e := range arr {
					problems = append(problems, validate(root, v, e, fmt.Sprintf("%s/%d", at, i))...)
				}
			}
		case "properties", "additionalProperties":
			obj, ok := doc.(map[string]any)
			if !ok || kw == "additionalProperties" {
				continue // both are handled together below
			}
			props := v.(map[string]any)
			for name, val := range obj {
				if p, declared := props[name]; declared {
					problems = append(problems, validate(root, p, val, at+"/"+name)...)
					continue
				}
				switch extra := s["additionalProperties"].(type) {
				case nil:
				case bool:
					if !extra {
						fail("%q is not allowed", name)
					}
				default:
					problems = append(problems, validate(root, extra, val, at+"/"+name)...)
				}
			}
		default:
			if !strings.HasPrefix(kw, "x-") {
				panic(fmt.Sprintf("%s: unsupported keyword %q", at, kw))
			}
		}
	}
	// additionalProperties without properties (a map attribute).
	if _, hasProps := s["properties"]; !hasProps {
		if extra, ok := s["additionalProperties"].(map[string]any); ok {
			if obj, ok := doc.(map[string]any); ok {
				for name, val := range obj {
					problems = append(problems, validate(root, extra, val, at+"/"+name)...)
				}
			}
		}
	}
	return problems
}

func hasType(v any, t string) bool {
	switch t {
	case "null":
		return v == nil
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		n, ok := v.(float64)
		return ok && n == float64(int64(n))
	case "array":
		_, ok := v.([]any)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	}
	panic("unsupported type " + t)
}
