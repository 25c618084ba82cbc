package recordschema_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pipectl/pipectl/lang/recordschema"
)

func path(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ".")
}

// person is the input of the path operation tests.
func person() *rs {
	return &rs{Type: recordschema.Struct, Name: "p", Default: map[string]any{"id": int64(0), "addr": nil, "tags": nil, "meta": nil, "n": nil},
		Fields: []recordschema.Field{
			{Name: "id", Schema: i64},
			{Name: "addr", Schema: &rs{Type: recordschema.Struct, Optional: true, Fields: []recordschema.Field{{Name: "city", Schema: str}, {Name: "zip", Schema: optS}}}},
			{Name: "tags", Schema: &rs{Type: recordschema.Map, Keys: str, Values: i64, Optional: true}},
			{Name: "meta", Schema: &rs{Type: recordschema.String, Logical: recordschema.JSON, Optional: true}},
			{Name: "n", Schema: &rs{Type: recordschema.Int32, Optional: true}},
		}}
}

// fields writes a struct schema's shape for the tests: "id:int64 addr:{city:string}".
func fields(s *rs) string {
	if s == nil {
		return "nil"
	}
	if s.Type != recordschema.Struct {
		return s.String()
	}
	var parts []string
	for _, f := range s.Fields {
		parts = append(parts, f.Name+":"+fields(f.Schema))
	}
	return "{" + strings.Join(parts, " ") + "}"
}

func TestWith(t *testing.T) {
	for _, tt := range []struct {
		path  string
		f     *rs
		want  string
		fixed string
		err   string
	}{
		{path: "email", f: str, want: "{id:int64 addr:{city:string zip:optional string} tags:optional map<string, int64> meta:optional json n:optional int32 email:string}"},
		{path: "id", f: str, want: "{id:string addr:{city:string zip:optional string} tags:optional map<string, int64> meta:optional json n:optional int32}"},
		{path: "addr.zip", f: i32, want: "{id:int64 addr:{city:string zip:int32} tags:optional map<string, int64> meta:optional json n:optional int32}"},
		{path: "a.b.c", f: boo, want: "{id:int64 addr:{city:string zip:optional string} tags:optional map<string, int64> meta:optional json n:optional int32 a:{b:{c:boolean}}}"},
		{path: "tags.x", f: str, want: "unchanged", fixed: "int64"},
		{path: "meta.a.b", f: str, want: "unchanged", fixed: "optional json"},
		{path: "id", f: i64, want: "unchanged"},
		{path: "", f: str, want: "string"},
		{path: "id.x", f: str, err: "at .id: the schema has int64 here, which has no fields"},
		{path: "tags.x.y", f: str, err: "a set inside an entry of a map would change the type of every entry"},
	} {
		in := person()
		got, fixed, err := in.With(path(tt.path), tt.f)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("With(%s) error = %v, want %q", tt.path, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("With(%s): %v", tt.path, err)
			continue
		}
		checkResult(t, "With("+tt.path+")", in, got, tt.want)
		if (fixed == nil) != (tt.fixed == "") || fixed != nil && fixed.String() != tt.fixed {
			t.Errorf("With(%s) fixed = %v, want %q", tt.path, fixed, tt.fixed)
		}
	}
}

// checkResult checks a path operation's result: its shape, that the input
// did not change, that a changed struct lost its default and that the
// result is valid.
func checkResult(t *testing.T, what string, in, got *rs, want string) {
	t.Helper()
	if want == "unchanged" {
		if got != in {
			t.Errorf("%s = %s, want the input itself", what, fields(got))
		}
		return
	}
	if fields(got) != want {
		t.Errorf("%s = %s\nwant %s", what, fields(got), want)
	}
	if !in.Equal(person()) {
		t.Errorf("%s changed its input: %s", what, fields(in))
	}
	if got != nil && got.Type == recordschema.Struct && got.Default != nil {
		t.Errorf("%s kept the default of a struct it changed", what)
	}
	if got != nil {
		if err := got.Validate(); err != nil {
			t.Errorf("%s is invalid: %v", what, err)
		}
	}
}

func TestWithout(t *testing.T) {
	for _, tt := range []struct{ path, want, err string }{
		{path: "id", want: "{addr:{city:string zip:optional string} tags:optional map<string, int64> meta:optional json n:optional int32}"},
		{path: "addr.city", want: "{id:int64 addr:{zip:optional string} tags:optional map<string, int64> meta:optional json n:optional int32}"},
		{path: "nope", want: "unchanged"},
		{path: "addr.nope.x", want: "unchanged"},
		{path: "tags.x", want: "unchanged"},
		{path: "meta.x", want: "unchanged"},
		{path: "", want: "nil"},
		{path: "n.x", err: "at .n: the schema has optional int32 here, which has no fields"},
	} {
		in := person()
		got, err := in.Without(path(tt.path))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Without(%s) error = %v, want %q", tt.path, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Without(%s): %v", tt.path, err)
			continue
		}
		checkResult(t, "Without("+tt.path+")", in, got, tt.want)
	}
}

func TestRenamed(t *testing.T) {
	for _, tt := range []struct{ from, to, want, err string }{
		{from: "id", to: "key", want: "{key:int64 addr:{city:string zip:optional string} tags:optional map<string, int64> meta:optional json n:optional int32}"},
		{from: "addr.city", to: "addr.town", want: "{id:int64 addr:{town:string zip:optional string} tags:optional map<string, int64> meta:optional json n:optional int32}"},
		{from: "id", to: "n", want: "{n:int64 addr:{city:string zip:optional string} tags:optional map<string, int64> meta:optional json}"},
		{from: "addr.city", to: "city", want: "{id:int64 addr:{zip:optional string} tags:optional map<string, int64> meta:optional json n:optional int32 city:string}"},
		{from: "id", to: "x.y", want: "{addr:{city:string zip:optional string} tags:optional map<string, int64> meta:optional json n:optional int32 x:{y:int64}}"},
		{from: "nope", to: "x", want: "unchanged"},
		{from: "id", to: "id", want: "unchanged"},
		{from: "tags.a", to: "tags.b", want: "unchanged"},
		{from: "id", to: "tags.b", want: "{addr:{city:string zip:optional string} tags:optional map<string, int64> meta:optional json n:optional int32}"},
		{from: "addr", to: "tags.b", err: "does not fit the map's values (int64)"},
		{from: "id.x", to: "y", err: "at .id: the schema has int64 here"},
	} {
		in := person()
		got, err := in.Renamed(path(tt.from), path(tt.to))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Renamed(%s, %s) error = %v, want %q", tt.from, tt.to, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Renamed(%s, %s): %v", tt.from, tt.to, err)
			continue
		}
		checkResult(t, "Renamed("+tt.from+", "+tt.to+")", in, got, tt.want)
	}
}

func TestLookup(t *testing.T) {
	for _, tt := range []struct{ path, want, err string }{
		{path: "", want: "struct p<…>"},
		{path: "addr.city", want: "string"},
		{path: "tags.anything", want: "int64"},
		{path: "meta.a.b", want: "optional json"},
		{path: "nope", want: "schemaless"},
		{path: "id.x", err: "at .id: the schema has int64 here, which has no fields"},
	} {
		got, err := person().Lookup(path(tt.path))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Lookup(%s) error = %v, want %q", tt.path, err, tt.err)
			}
			continue
		}
		desc := got.String()
		if got != nil && got.Type == recordschema.Struct {
			desc = "struct " + got.Name + "<…>"
		}
		if err != nil || desc != tt.want {
			t.Errorf("Lookup(%s) = %s, %v; want %s", tt.path, desc, err, tt.want)
		}
	}
}

func TestInfer(t *testing.T) {
	for _, tt := range []struct {
		v    any
		want string
		err  string
	}{
		{v: true, want: "boolean"},
		{v: int64(1), want: "int64"},
		{v: 1.5, want: "float64"},
		{v: "x", want: "string"},
		{v: []byte("x"), want: "bytes"},
		{v: time.Now(), want: "timestamp-micros"},
		{v: []any{int64(1), int64(2)}, want: "array<int64>"},
		{v: map[string]any{"b": "x", "a": map[string]any{"c": []any{true}}}, want: "{a:{c:array<boolean>} b:string}"},
		{v: nil, err: "null has no type of its own"},
		{v: []any{}, err: "an empty list has no element type"},
		{v: []any{int64(1), "x"}, err: "at [1]: the list holds int64 and string"},
		{v: map[string]any{"a": nil}, err: "at .a: null has no type"},
		{v: time.Second, err: "a duration has no record type"},
		{v: uint64(1), err: "an unsigned int has no record type; convert it with int()"},
		{v: map[string]string{}, err: "a value of Go type map[string]string has no record type"},
	} {
		got, err := recordschema.Infer(tt.v)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Infer(%#v) error = %v, want %q", tt.v, err, tt.err)
			}
			continue
		}
		if err != nil || fields(got) != tt.want {
			t.Errorf("Infer(%#v) = %s, %v; want %s", tt.v, fields(got), err, tt.want)
			continue
		}
		if err := got.CheckValue(tt.v); err != nil {
			t.Errorf("the value does not fit its inferred schema %s: %v", got, err)
		}
	}
}

func TestHolds(t *testing.T) {
	named := &rs{Type: recordschema.String, Name: "n", Doc: "d", Version: 2, Default: "x"}
	for _, tt := range []struct {
		s, o *rs
		want bool
	}{
		{str, str, true},
		{named, str, true}, // names, docs, versions and defaults do not count
		{optS, str, true},
		{str, optS, false},
		{i64, i32, false},
		{dec, &rs{Type: recordschema.Bytes, Logical: recordschema.Decimal, Precision: 5, Scale: 1}, false},
		{byts, dec, false},
		{array(optS), array(str), true},
		{array(str), array(optS), false},
		{mapOf(str, optS), mapOf(str, str), true},
		{mapOf(str, str), mapOf(i32, str), false},
		{strct("a", optS, "b", i64), strct("a", str, "b", i64), true},
		{strct("a", str, "b", i64), strct("b", i64, "a", str), false},
		{strct("a", str), strct("a", str, "b", i64), false},
		{nil, nil, true},
		{str, nil, false},
	} {
		if got := tt.s.Holds(tt.o); got != tt.want {
			t.Errorf("%s.Holds(%s) = %v, want %v", tt.s, tt.o, got, tt.want)
		}
	}
}
