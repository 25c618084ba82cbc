package recordschema_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/pipectl/pipectl/lang/recordschema"
)

// Shorthands for the tests.
var (
	i8    = &rs{Type: recordschema.Int8}
	i32   = &rs{Type: recordschema.Int32}
	i64   = &rs{Type: recordschema.Int64}
	f32   = &rs{Type: recordschema.Float32}
	f64   = &rs{Type: recordschema.Float64}
	str   = &rs{Type: recordschema.String}
	optS  = &rs{Type: recordschema.String, Optional: true}
	byts  = &rs{Type: recordschema.Bytes}
	boo   = &rs{Type: recordschema.Boolean}
	dec   = &rs{Type: recordschema.Bytes, Logical: recordschema.Decimal, Precision: 5, Scale: 2}
	date  = &rs{Type: recordschema.Int32, Logical: recordschema.Date}
	tms   = &rs{Type: recordschema.Int32, Logical: recordschema.TimeMillis}
	tsus  = &rs{Type: recordschema.Int64, Logical: recordschema.TimestampMicros}
	uid   = &rs{Type: recordschema.String, Logical: recordschema.UUID}
	jsonv = &rs{Type: recordschema.String, Logical: recordschema.JSON}
)

type rs = recordschema.Schema

func array(items *rs) *rs { return &rs{Type: recordschema.Array, Items: items} }
func mapOf(k, v *rs) *rs  { return &rs{Type: recordschema.Map, Keys: k, Values: v} }
func strct(fields ...any) *rs {
	s := &rs{Type: recordschema.Struct}
	for i := 0; i < len(fields); i += 2 {
		f, _ := fields[i+1].(*rs)
		s.Fields = append(s.Fields, recordschema.Field{Name: fields[i].(string), Schema: f})
	}
	return s
}

func TestValidate(t *testing.T) {
	valid := []*rs{
		i64, str, optS, dec, date, tms, tsus, uid, jsonv,
		{Type: recordschema.Bytes, Logical: recordschema.Decimal, Scale: 3}, // unbounded precision
		array(strct("a", i64)),
		mapOf(str, array(i8)), mapOf(i32, str), mapOf(boo, str), mapOf(uid, str),
		strct(), // a struct without fields
		strct("id", i64, "email", optS, "nested", strct("x", f64)),
		{Type: recordschema.Int8, Default: int64(-3)},
		{Type: recordschema.Struct, Fields: []recordschema.Field{{Name: "a", Schema: optS}}, Default: map[string]any{}},
		{Type: recordschema.Bytes, Logical: recordschema.Decimal, Precision: 4, Scale: 2, Default: "12.3"},
		{Type: recordschema.Int32, Name: "n", Version: 3, Doc: "d", Parameters: map[string]string{"k": "v"}},
	}
	for _, s := range valid {
		if err := s.Validate(); err != nil {
			t.Errorf("Validate(%s) = %v, want nil", s, err)
		}
	}
	invalid := []struct {
		s    *rs
		want string
	}{
		{&rs{}, "the schema has no type"},
		{&rs{Type: "int"}, `unknown type "int"`},
		{&rs{Type: recordschema.Int64, Logical: "money"}, `unknown logical type "money"`},
		{&rs{Type: recordschema.Int64, Logical: recordschema.Date}, "the logical type date is carried by int32, not int64"},
		{&rs{Type: recordschema.Bytes, Logical: recordschema.Decimal, Precision: 2, Scale: 3}, "the decimal scale 3 exceeds its precision 2"},
		{&rs{Type: recordschema.Bytes, Logical: recordschema.Decimal, Scale: -1}, "the decimal scale -1 is negative"},
		{&rs{Type: recordschema.Int64, Scale: 2}, "precision and scale belong to decimals"},
		{&rs{Type: recordschema.Array}, "an array needs the schema of its items"},
		{&rs{Type: recordschema.Map, Keys: str}, "a map needs the schemas of its keys and values"},
		{mapOf(f64, str), "at {key}: map keys are strings, integers or booleans, not float64"},
		{mapOf(date, str), "map keys are strings, integers or booleans, not date"},
		{&rs{Type: recordschema.String, Items: str}, "items belong to arrays"},
		{&rs{Type: recordschema.Int64, Fields: []recordschema.Field{}}, "fields belong to structs"},
		{strct("", i64), "field 1 has no name"},
		{strct("a", i64, "a", str), `at .a: the struct has two fields named "a"`},
		{strct("a", nil), "at .a: the field has no schema"},
		{strct("a", array(strct("b", &rs{Type: "x"}))), `at .a[].b: unknown type "x"`},
		{&rs{Type: recordschema.Int64, Version: -1}, "the version -1 is negative"},
		{&rs{Type: recordschema.Int8, Default: int64(300)}, "the default does not fit the schema: 300 is out of the range of int8"},
		{&rs{Type: recordschema.Int8, Default: 1}, "the default does not fit the schema: an int is not a value of int8 (an int64)"},
		{&rs{Type: recordschema.String, Default: int64(1)}, "the default does not fit the schema"},
		{withDefault(strct("a", str), map[string]any{}), "at .a: missing, but the field is not optional and has no default"},
		{&rs{Type: recordschema.Bytes, Logical: recordschema.Decimal, Precision: 3, Scale: 2, Default: "12.3"}, "2 digits before the point"},
	}
	for _, tt := range invalid {
		err := tt.s.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate(%s) = %v, want an error containing %q", tt.s, err, tt.want)
		}
	}
}

func TestCheckValue(t *testing.T) {
	ts := time.Date(2026, 12, 2, 10, 30, 0, 123456789, time.UTC)
	ok := []struct {
		s *rs
		v any
	}{
		{boo, true}, {i8, int64(-128)}, {i8, int64(127)}, {i32, int64(math.MaxInt32)}, {i64, int64(math.MinInt64)},
		{f32, 1.5}, {f32, math.Inf(1)}, {f32, math.NaN()}, {f64, math.MaxFloat64}, {str, ""}, {byts, []byte{}},
		{optS, nil}, {&rs{Type: recordschema.Int64, Default: int64(1)}, nil},
		{array(i64), []any{}}, {array(i64), []any{int64(1), int64(2)}},
		{mapOf(str, i64), map[string]any{"a": int64(1)}}, {mapOf(i32, str), map[string]any{"-42": "x"}},
		{mapOf(boo, str), map[string]any{"true": "x"}}, {mapOf(uid, str), map[string]any{"123e4567-e89b-12d3-a456-426614174000": "x"}},
		{strct("a", i64, "b", optS), map[string]any{"a": int64(1)}},
		{strct("a", i64, "b", optS), map[string]any{"a": int64(1), "b": nil}},
		{dec, "123.45"}, {dec, "-0.5"}, {dec, "000123"}, {dec, "+1."}, {dec, ".5"},
		{date, ts}, {tms, 23*time.Hour + 59*time.Minute}, {tsus, ts},
		{uid, "123E4567-E89B-12D3-A456-426614174000"},
		{jsonv, map[string]any{"a": []any{int64(1), 2.5, "x", nil, true}}},
	}
	for _, tt := range ok {
		if err := tt.s.CheckValue(tt.v); err != nil {
			t.Errorf("CheckValue(%s, %#v) = %v, want nil", tt.s, tt.v, err)
		}
	}
	bad := []struct {
		s    *rs
		v    any
		want string
	}{
		{boo, "true", "a string is not a value of boolean (a bool)"},
		{i8, int64(128), "128 is out of the range of int8"},
		{i32, int64(math.MaxInt32 + 1), "out of the range of int32"},
		{i64, 1.0, "a double is not a value of int64 (an int64)"},
		{i64, 1, "an int is not a value of int64"},
		{f32, 1e39, "out of the range of float32"},
		{f64, int64(1), "an int is not a value of float64"},
		{byts, "x", "a string is not a value of bytes"},
		{str, nil, "null, but the schema (string) is not optional"},
		{array(i64), []any{int64(1), "x"}, "at [1]: a string is not a value of int64"},
		{mapOf(str, i64), map[string]any{"a": "x"}, `at ["a"]: a string is not a value of int64`},
		{mapOf(i32, str), map[string]any{"042": "x"}, `the key "042" is not an integer in decimal`},
		{mapOf(i8, str), map[string]any{"300": "x"}, "the key 300 is out of the range of int8"},
		{mapOf(boo, str), map[string]any{"yes": "x"}, "is not a boolean"},
		{strct("a", i64), map[string]any{}, "at .a: missing, but the field is not optional"},
		{strct("a", i64), map[string]any{"a": nil}, "at .a: null, but the schema (int64) is not optional"},
		{strct("a", i64), map[string]any{"a": int64(1), "b": int64(2)}, "at .b: no such field in the schema"},
		{strct("a", strct("b", i8)), map[string]any{"a": map[string]any{"b": int64(-129)}}, "at .a.b: -129 is out of the range of int8"},
		{strct("a", i64), []any{}, "a list is not a value of struct"},
		{dec, 1.5, "a double is not a value of decimal (decimal text in a string)"},
		{dec, "1.234", "3 digits after the point, more than the scale"},
		{dec, "1234.5", "4 digits before the point"},
		{dec, "1e3", "a decimal is written as digits"},
		{dec, "-", "a decimal is written as digits"},
		{dec, "1.2.3", "a decimal is written as digits"},
		{date, "2026-12-02", "a string is not a value of date (a time.Time)"},
		{tms, 24 * time.Hour, "is not a time of day"},
		{tms, -time.Second, "is not a time of day"},
		{tms, int64(5), "an int is not a value of time-millis"},
		{uid, "123e4567e89b12d3a456426614174000", "is not a UUID"},
		{uid, "123e4567-e89b-12d3-a456-42661417400g", "is not a UUID"},
		{jsonv, []byte("{}"), "bytes is not a JSON value"},
		{jsonv, nil, "null, but the schema (json) is not optional"},
		{jsonv, map[string]any{"a": math.NaN()}, `at ["a"]: NaN is not a JSON number`},
	}
	for _, tt := range bad {
		err := tt.s.CheckValue(tt.v)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("CheckValue(%s, %#v) = %v, want an error containing %q", tt.s, tt.v, err, tt.want)
		}
	}
}

func TestEqual(t *testing.T) {
	base := func() *rs {
		return &rs{Type: recordschema.Struct, Name: "o", Version: 1, Doc: "d", Parameters: map[string]string{"k": "v"},
			Fields: []recordschema.Field{
				{Name: "a", Schema: &rs{Type: recordschema.Bytes, Default: []byte("x")}},
				{Name: "b", Schema: &rs{Type: recordschema.Int64, Logical: recordschema.TimestampMillis, Default: time.Unix(1, 0)}},
				{Name: "c", Schema: array(mapOf(str, &rs{Type: recordschema.Float64, Default: math.NaN()}))},
			}}
	}
	if !base().Equal(base()) {
		t.Error("a schema is not Equal to a copy of itself")
	}
	same := base()
	same.Fields[1].Schema.Default = time.Unix(1, 0).In(time.FixedZone("x", 3600)) // the same instant
	if !base().Equal(same) {
		t.Error("defaults that are the same instant are not Equal")
	}
	var nilSchema *rs
	if !nilSchema.Equal(nil) || base().Equal(nil) || nilSchema.Equal(base()) {
		t.Error("Equal with nil schemas")
	}
	changes := map[string]func(s *rs){
		"type":       func(s *rs) { s.Fields[0].Schema.Type = recordschema.String; s.Fields[0].Schema.Default = "x" },
		"logical":    func(s *rs) { s.Fields[1].Schema.Logical = recordschema.TimestampMicros },
		"optional":   func(s *rs) { s.Optional = true },
		"name":       func(s *rs) { s.Name = "p" },
		"version":    func(s *rs) { s.Version = 2 },
		"doc":        func(s *rs) { s.Doc = "" },
		"parameters": func(s *rs) { s.Parameters = map[string]string{"k": "w"} },
		"default":    func(s *rs) { s.Fields[0].Schema.Default = []byte("y") },
		"no default": func(s *rs) { s.Fields[0].Schema.Default = nil },
		"field name": func(s *rs) { s.Fields[2].Name = "d" },
		"field order": func(s *rs) {
			s.Fields[0], s.Fields[1] = s.Fields[1], s.Fields[0]
		},
		"nested": func(s *rs) { s.Fields[2].Schema.Items.Values.Default = 1.0 },
		"fields": func(s *rs) { s.Fields = s.Fields[:2] },
	}
	for name, change := range changes {
		s := base()
		change(s)
		if base().Equal(s) || s.Equal(base()) {
			t.Errorf("a change of %s is Equal to the original", name)
		}
	}
}

func TestString(t *testing.T) {
	for _, tt := range []struct {
		s    *rs
		want string
	}{
		{i64, "int64"},
		{optS, "optional string"},
		{dec, "decimal(5,2)"},
		{&rs{Type: recordschema.Bytes, Logical: recordschema.Decimal, Scale: 1}, "decimal(scale 1)"},
		{array(tsus), "array<timestamp-micros>"},
		{mapOf(str, array(i8)), "map<string, array<int8>>"},
		{&rs{Type: recordschema.Struct, Name: "shop.Order", Fields: []recordschema.Field{{Name: "id", Schema: i64}, {Name: "e", Schema: optS}}}, "struct shop.Order<id int64, e optional string>"},
		{array(array(array(array(i64)))), "array<array<array<array<…>>>>"},
		{nil, "schemaless"},
	} {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

// withDefault returns a copy of s with a default.
func withDefault(s *rs, d any) *rs {
	cp := *s
	cp.Default = d
	return &cp
}
