package configschema_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/lang/configschema"
)

func TestAttributeCoerce(t *testing.T) {
	type A = configschema.Attribute
	str := A{Name: "s", Type: configschema.String}
	integer := A{Name: "n", Type: configschema.Int, Min: i64(-1), Max: i64(10)}
	number := A{Name: "x", Type: configschema.Number, Min: i64(0)}
	dur := A{Name: "d", Type: configschema.Duration, MinDuration: "10ms"}
	enum := A{Name: "mode", Type: configschema.String, Enum: []string{"earliest", "latest"}}
	re := A{Name: "re", Type: configschema.ListOfString, Regexp: true}
	glob := A{Name: "g", Type: configschema.String, Path: true, Glob: true}
	tests := []struct {
		name string
		attr A
		in   any
		want any
		rule configschema.Rule
	}{
		{"string", str, "a", "a", 0},
		{"string from a number", str, 1.0, nil, configschema.RuleType},
		{"int64", integer, int64(3), int64(3), 0},
		{"int", integer, 3, int64(3), 0},
		{"whole float64", integer, 3.0, int64(3), 0},
		{"json.Number", integer, json.Number("7"), int64(7), 0},
		{"json.Number with an exponent", integer, json.Number("1e1"), int64(10), 0},
		{"string of an int (a secret)", integer, " 4 ", int64(4), 0},
		{"fraction", integer, 1.5, nil, configschema.RuleType},
		{"huge float", integer, 1e19, nil, configschema.RuleType},
		{"bool for an int", integer, true, nil, configschema.RuleType},
		{"below the minimum", integer, int64(-2), nil, configschema.RuleMin},
		{"at the minimum", integer, int64(-1), int64(-1), 0},
		{"above the maximum", integer, int64(11), nil, configschema.RuleMax},
		{"number from an int", number, int64(2), float64(2), 0},
		{"number from json.Number", number, json.Number("2.5"), 2.5, 0},
		{"negative number", number, -0.5, nil, configschema.RuleMin},
		{"NaN string", number, "NaN", nil, configschema.RuleType},
		{"bool", A{Name: "b", Type: configschema.Bool}, true, true, 0},
		{"bool from a string", A{Name: "b", Type: configschema.Bool}, "true", true, 0},
		{"duration", dur, "1m30s", "1m30s", 0},
		{"duration zero", A{Name: "d", Type: configschema.Duration}, "0s", "0s", 0},
		{"negative duration", dur, "-5s", nil, configschema.RuleDuration},
		{"negative zero duration", dur, "-0s", nil, configschema.RuleDuration},
		{"bad duration", dur, "5 minutes", nil, configschema.RuleDuration},
		{"duration below its minimum", dur, "1ms", nil, configschema.RuleMin},
		{"enum", enum, "latest", "latest", 0},
		{"outside the enum", enum, "middle", nil, configschema.RuleEnum},
		{"list from []any", re, []any{"a.*", "b"}, []string{"a.*", "b"}, 0},
		{"list with a number", re, []any{"a", 1.0}, nil, configschema.RuleType},
		{"list with null", re, []any{"a", nil}, nil, configschema.RuleType},
		{"bad regexp in a list", re, []string{"ok", "orders.(eu"}, nil, configschema.RuleRegexp},
		{"bad regexp", A{Name: "r", Type: configschema.String, Regexp: true}, "a[", nil, configschema.RuleRegexp},
		{"glob", glob, "/var/log/*.log", "/var/log/*.log", 0},
		{"bad glob", glob, "/var/log/[a", nil, configschema.RuleGlob},
		{"map from map[string]any", A{Name: "m", Type: configschema.MapOfString}, map[string]any{"k": "v"}, map[string]string{"k": "v"}, 0},
		{"map with a number", A{Name: "m", Type: configschema.MapOfString}, map[string]any{"k": 1.0}, nil, configschema.RuleType},
		{"expression source", A{Name: "e", Type: configschema.Expression}, "seq", "seq", 0},
		{"null", str, nil, nil, configschema.RuleType},
		{"empty string", A{Name: "s", Type: configschema.String, NonEmpty: true}, "", nil, configschema.RuleNonEmpty},
		{"empty list", A{Name: "l", Type: configschema.ListOfString, NonEmpty: true}, []any{}, nil, configschema.RuleNonEmpty},
		{"empty map", A{Name: "m", Type: configschema.MapOfString, NonEmpty: true}, map[string]any{}, nil, configschema.RuleNonEmpty},
		{"non-empty list", A{Name: "l", Type: configschema.ListOfString, NonEmpty: true}, []any{""}, []string{""}, 0},
		{"sensitive wrapper", str, configschema.Sensitive{Value: "pw"}, "pw", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.attr.Coerce(tt.in)
			if tt.rule != 0 {
				if err == nil {
					t.Fatalf("Coerce(%#v) = %#v, want a %s error", tt.in, got, tt.rule)
				}
				if err.Rule != tt.rule || err.Attribute != tt.attr.Name || err.Summary == "" || !strings.HasSuffix(err.Detail, ".") && !strings.HasSuffix(err.Detail, "?") {
					t.Errorf("error %+v: want rule %s on %q with a summary and a full sentence", err, tt.rule, tt.attr.Name)
				}
				return
			}
			if err != nil {
				t.Fatalf("Coerce(%#v): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Coerce(%#v) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestCoerceMessages(t *testing.T) {
	enum := configschema.Attribute{Name: "start_from", Type: configschema.String, Enum: []string{"earliest", "latest"}}
	_, err := enum.Coerce("lates")
	if want := `The attribute "start_from" must be one of "earliest" or "latest", not "lates". Did you mean "latest"?`; err == nil || err.Detail != want {
		t.Errorf("enum detail = %v, want %s", err, want)
	}
	if want := `the attribute "start_from" must be one of "earliest" or "latest", not "lates". Did you mean "latest"?`; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
	// A sensitive value is never quoted, nor guessed at.
	secret := "hunter2-(secret"
	for name, c := range map[string]struct {
		attr configschema.Attribute
		in   any
	}{
		"enum":            {enum, configschema.Sensitive{Value: secret}},
		"sensitive attr":  {configschema.Attribute{Name: "p", Type: configschema.String, Sensitive: true, Enum: []string{"x"}}, secret},
		"regexp":          {configschema.Attribute{Name: "r", Type: configschema.String, Regexp: true}, configschema.Sensitive{Value: secret}},
		"duration":        {configschema.Attribute{Name: "d", Type: configschema.Duration}, configschema.Sensitive{Value: secret}},
		"type":            {configschema.Attribute{Name: "n", Type: configschema.Int}, configschema.Sensitive{Value: secret}},
		"glob":            {configschema.Attribute{Name: "g", Type: configschema.String, Path: true, Glob: true}, configschema.Sensitive{Value: "[" + secret}},
		"list of regexps": {configschema.Attribute{Name: "l", Type: configschema.ListOfString, Regexp: true}, configschema.Sensitive{Value: []string{secret}}},
	} {
		_, err := c.attr.Coerce(c.in)
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if strings.Contains(err.Detail, "hunter2") || strings.Contains(err.Detail, "secret") {
			t.Errorf("%s: the detail quotes the sensitive value: %s", name, err.Detail)
		}
	}
}

// testSchema has one attribute of each kind of rule, a nested block and
// every kind of group.
var testSchema = configschema.Schema{
	Kind: configschema.Source, Type: "t",
	Attributes: []configschema.Attribute{
		{Name: "topics", Type: configschema.ListOfString},
		{Name: "topics_regex", Type: configschema.String, Regexp: true},
		{Name: "topic", Type: configschema.String},
		{Name: "prefix", Type: configschema.String, Default: ""},
		{Name: "user", Type: configschema.String},
		{Name: "password", Type: configschema.String, Sensitive: true},
		{Name: "mechanism", Type: configschema.String, Enum: []string{"PLAIN"}},
		{Name: "count", Type: configschema.Int, Default: int64(1), Min: i64(1)},
		{Name: "required", Type: configschema.String, Required: true},
	},
	Blocks: []configschema.Block{{Name: "retry", Attributes: []configschema.Attribute{
		{Name: "backoff", Type: configschema.Duration, Default: "1s"},
		{Name: "max", Type: configschema.Int},
	}}},
	ExactlyOneOf:  [][]string{{"topics", "topics_regex"}},
	AtLeastOneOf:  [][]string{{"user", "topic"}},
	ConflictsWith: [][]string{{"topic", "prefix"}},
	RequiredWith:  []configschema.Requirement{{Attribute: "user", Requires: []string{"password", "mechanism"}}},
}

func TestSchemaCoerce(t *testing.T) {
	if err := testSchema.Validate(); err != nil {
		t.Fatal(err)
	}
	got, errs := testSchema.Coerce(map[string]any{
		"topics": []any{"a"}, "topic": "b", "prefix": "", "required": "r", "count": 2.0,
		"retry": map[string]any{"max": json.Number("3")},
	})
	if len(errs) > 0 {
		t.Fatalf("errors: %v", configschema.Errors(errs))
	}
	want := map[string]any{
		"topics": []string{"a"}, "topic": "b", "prefix": "", "required": "r", "count": int64(2),
		"retry": map[string]any{"backoff": "1s", "max": int64(3)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	// Everything wrong at once; every error names its attribute.
	_, errs = testSchema.Coerce(map[string]any{
		"topics": []any{"a"}, "topics_regex": "(", "topic": "b", "prefix": "p", "user": "u",
		"count": 0, "extra": true, "retry": map[string]any{"backoff": "-1s", "bogus": 1},
	})
	type found struct {
		Rule      configschema.Rule
		Attribute string
	}
	var gotErrs []found
	for _, e := range errs {
		gotErrs = append(gotErrs, found{e.Rule, e.Attribute})
	}
	wantErrs := []found{
		{configschema.RuleRegexp, "topics_regex"},
		{configschema.RuleMin, "count"},
		{configschema.RuleRequired, "required"},
		{configschema.RuleDuration, "retry.backoff"},
		{configschema.RuleUnknown, "retry.bogus"},
		{configschema.RuleUnknown, "extra"},
		{configschema.RuleExactlyOneOf, "topics_regex"},
		{configschema.RuleConflictsWith, "prefix"},
		{configschema.RuleRequiredWith, "user"},
	}
	if diff := cmp.Diff(wantErrs, gotErrs); diff != "" {
		t.Errorf("errors (-want +got):\n%s\n%v", diff, configschema.Errors(errs))
	}

	// A block that is not a map; an absent block stays absent.
	got, errs = testSchema.Coerce(map[string]any{"topics": []string{"a"}, "user": "u", "password": configschema.Sensitive{Value: "pw"}, "mechanism": "PLAIN", "required": "r", "retry": "x"})
	if len(errs) != 1 || errs[0].Rule != configschema.RuleType || errs[0].Attribute != "retry" {
		t.Errorf("a block given as a string: %v", configschema.Errors(errs))
	}
	if _, ok := got["retry"]; ok || got["password"] != "pw" {
		t.Errorf("got %v: want no retry block and the clear password", got)
	}
}

func TestCheckGroups(t *testing.T) {
	tests := []struct {
		name   string
		values map[string]any
		want   []configschema.Rule
		at     []string
	}{
		{"all good", map[string]any{"topics_regex": "a", "topic": "t"}, nil, nil},
		{"neither of exactly one", map[string]any{"topic": "t"}, []configschema.Rule{configschema.RuleExactlyOneOf}, []string{""}},
		{"both of exactly one", map[string]any{"topics": []string{"a"}, "topics_regex": "a", "topic": "t"}, []configschema.Rule{configschema.RuleExactlyOneOf}, []string{"topics_regex"}},
		{"null is not set", map[string]any{"topics": nil, "topics_regex": "a", "topic": "t"}, nil, nil},
		{"none of at least one", map[string]any{"topics": []string{"a"}}, []configschema.Rule{configschema.RuleAtLeastOneOf}, []string{""}},
		{"conflict", map[string]any{"topics": []string{"a"}, "topic": "t", "prefix": "p"}, []configschema.Rule{configschema.RuleConflictsWith}, []string{"prefix"}},
		{"a default is not set", map[string]any{"topics": []string{"a"}, "topic": "t", "prefix": ""}, nil, nil},
		{"required with, missing", map[string]any{"topics": []string{"a"}, "user": "u", "password": "p"}, []configschema.Rule{configschema.RuleRequiredWith}, []string{"user"}},
		{"required with, present", map[string]any{"topics": []string{"a"}, "user": "u", "password": configschema.Sensitive{Value: "p"}, "mechanism": "PLAIN"}, nil, nil},
		{"required with, not triggered", map[string]any{"topics": []string{"a"}, "topic": "t", "password": "p"}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rules []configschema.Rule
			var at []string
			for _, e := range testSchema.CheckGroups(tt.values) {
				rules = append(rules, e.Rule)
				at = append(at, e.Attribute)
			}
			if diff := cmp.Diff(tt.want, rules); diff != "" {
				t.Errorf("rules (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.at, at); diff != "" {
				t.Errorf("attributes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolvePath(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	file := configschema.Attribute{Name: "ca", Type: configschema.String, Path: true, PathMustExist: true}
	globs := configschema.Attribute{Name: "paths", Type: configschema.ListOfString, Path: true, Glob: true, PathMustExist: true}
	loose := configschema.Attribute{Name: "out", Type: configschema.String, Path: true}
	tests := []struct {
		name string
		attr configschema.Attribute
		in   any
		want any
		fail bool
	}{
		{"relative file", file, "ca.pem", filepath.Join(dir, "ca.pem"), false},
		{"absolute file", file, filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca.pem"), false},
		{"missing file", file, "nope.pem", nil, true},
		{"glob in an existing directory", globs, []string{"logs/*.log", "logs/[a-z]?.log"}, []string{filepath.Join(dir, "logs/*.log"), filepath.Join(dir, "logs/[a-z]?.log")}, false},
		{"glob whose directory is a glob", globs, []string{"l*/x/*.log"}, []string{filepath.Join(dir, "l*/x/*.log")}, false},
		{"plain path in a glob list must exist", globs, []string{"logs/app.log"}, nil, true},
		{"glob in a missing directory", globs, []string{"nope/*.log"}, nil, true},
		{"no existence rule", loose, "out/x.jsonl", filepath.Join(dir, "out/x.jsonl"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.attr.ResolvePath(dir, tt.in)
			if tt.fail {
				if err == nil || err.Rule != configschema.RulePathMustExist {
					t.Fatalf("ResolvePath = %v, %v; want a path_must_exist error", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	// The plain path of the glob list that must exist, once it does.
	if err := os.WriteFile(filepath.Join(dir, "logs/app.log"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := globs.ResolvePath(dir, []string{"logs/app.log"}); err != nil {
		t.Errorf("an existing file: %v", err)
	}
}

func TestNearest(t *testing.T) {
	names := []string{"validate", "fmt", "graph", "schema", "version", "source.file", "sink.file", "SCRAM-SHA-512", "SCRAM-SHA-256"}
	for in, want := range map[string]string{
		"valdate":       "validate",
		"vaildate":      "validate", // a transposition is two edits
		"fmtt":          "fmt",
		"shcema":        "schema",
		"graf":          "graph",
		"source.fiel":   "source.file",
		"SCRAM-SHA-521": "SCRAM-SHA-512", // ties go to the first in sorted order
		"apply":         "",
		"x":             "",
		"ab":            "", // two edits from nothing useful: fewer edits than characters
		"fmt":           "", // never itself
		"frobnicate":    "",
	} {
		if got := configschema.Nearest(in, names); got != want {
			t.Errorf("Nearest(%q) = %q; want %q", in, got, want)
		}
	}
	if got := configschema.DidYouMean("fmtt", names); got != ` Did you mean "fmt"?` {
		t.Errorf("DidYouMean = %q", got)
	}
	if got := configschema.DidYouMean("zzzzzz", names); got != "" {
		t.Errorf("DidYouMean with nothing near = %q", got)
	}
	if got := configschema.Alternatives([]string{"a", "b", "c"}); got != `"a", "b" or "c"` {
		t.Errorf("Alternatives = %s", got)
	}
}

func TestConstraints(t *testing.T) {
	a := configschema.Attribute{Name: "a", Type: configschema.Int, Min: i64(1), Max: i64(9)}
	if diff := cmp.Diff([]string{"minimum 1", "maximum 9"}, a.Constraints()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	g := configschema.Attribute{Name: "g", Type: configschema.ListOfString, Path: true, Glob: true, PathMustExist: true, Regexp: false}
	if diff := cmp.Diff([]string{"path", "glob pattern", "its directory must exist"}, g.Constraints()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	want := []string{
		`Exactly one of "topics" or "topics_regex".`,
		`At least one of "user" or "topic".`,
		`At most one of "topic" or "prefix".`,
		`"user" requires "password" and "mechanism".`,
	}
	if diff := cmp.Diff(want, testSchema.GroupConstraints()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
