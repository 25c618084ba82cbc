package configschema_test

import (
	"strings"
	"testing"

	"github.com/pipectl/pipectl/lang/configschema"
)

func i64(v int64) *int64 { return &v }

func TestValidate(t *testing.T) {
	ok := configschema.Schema{Kind: configschema.Source, Type: "x", Attributes: []configschema.Attribute{
		{Name: "topic", Type: configschema.String},
		{Name: "rate", Type: configschema.Number, Default: int64(0), Min: i64(0), Max: i64(10)},
		{Name: "value", Type: configschema.Expression, Required: true, ExprVars: []configschema.ExprVar{{Name: "seq", Type: "int"}}},
		{Name: "every", Type: configschema.Duration, Default: "1s", MinDuration: "10ms"},
		{Name: "match", Type: configschema.ListOfString, Regexp: true},
		{Name: "files", Type: configschema.ListOfString, Path: true, Glob: true, PathMustExist: true},
		{Name: "mode", Type: configschema.String, Enum: []string{"a", "b"}, Default: "a"},
	}, ExactlyOneOf: [][]string{{"topic", "rate"}}, AtLeastOneOf: [][]string{{"match", "files"}},
		ConflictsWith: [][]string{{"topic", "mode"}}, RequiredWith: []configschema.Requirement{{Attribute: "match", Requires: []string{"topic"}}}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("a good schema failed: %v", err)
	}
	bad := map[string]configschema.Schema{
		"no type name":       {Kind: configschema.Source},
		"unknown kind":       {Kind: "widget", Type: "x"},
		"repeated attribute": {Kind: configschema.Sink, Type: "x", Attributes: []configschema.Attribute{{Name: "a", Type: configschema.String}, {Name: "a", Type: configschema.String}}},
		"unknown type":       {Kind: configschema.Sink, Type: "x", Attributes: []configschema.Attribute{{Name: "a", Type: "float"}}},
		"default of the wrong type": {Kind: configschema.Sink, Type: "x", Attributes: []configschema.Attribute{
			{Name: "a", Type: configschema.Int, Default: "1"}}},
		"required with a default": {Kind: configschema.Sink, Type: "x", Attributes: []configschema.Attribute{
			{Name: "a", Type: configschema.Int, Required: true, Default: int64(1)}}},
		"expression variables on a string": {Kind: configschema.Sink, Type: "x", Attributes: []configschema.Attribute{
			{Name: "a", Type: configschema.String, ExprVars: []configschema.ExprVar{{Name: "seq", Type: "int"}}}}},
		"group names an unknown attribute": {Kind: configschema.Sink, Type: "x", ConflictsWith: [][]string{{"nope", "other"}}},
		"group of one": {Kind: configschema.Sink, Type: "x", Attributes: []configschema.Attribute{{Name: "a", Type: configschema.String}},
			AtLeastOneOf: [][]string{{"a"}}},
		"group with a required attribute": {Kind: configschema.Sink, Type: "x", Attributes: []configschema.Attribute{
			{Name: "a", Type: configschema.String, Required: true}, {Name: "b", Type: configschema.String}}, ExactlyOneOf: [][]string{{"a", "b"}}},
		"requirement of an unknown attribute": {Kind: configschema.Sink, Type: "x", Attributes: []configschema.Attribute{{Name: "a", Type: configschema.String}},
			RequiredWith: []configschema.Requirement{{Attribute: "a", Requires: []string{"nope"}}}},
		"regexp on a bool":           {Kind: configschema.Sink, Type: "x", Attributes: []configschema.Attribute{{Name: "a", Type: configschema.Bool, Regexp: true}}},
		"non-empty bool":             {Kind: configschema.Sink, Type: "x", Attributes: []configschema.Attribute{{Name: "a", Type: configschema.Bool, NonEmpty: true}}},
		"glob without path":          {Kind: configschema.Sink, Type: "x", Attributes: []configschema.Attribute{{Name: "a", Type: configschema.String, Glob: true}}},
		"must exist without path":    {Kind: configschema.Sink, Type: "x", Attributes: []configschema.Attribute{{Name: "a", Type: configschema.String, PathMustExist: true}}},
		"enum on a list":             {Kind: configschema.Sink, Type: "x", Attributes: []configschema.Attribute{{Name: "a", Type: configschema.ListOfString, Enum: []string{"x"}}}},
		"maximum on a string":        {Kind: configschema.Sink, Type: "x", Attributes: []configschema.Attribute{{Name: "a", Type: configschema.String, Max: i64(1)}}},
		"minimum above maximum":      {Kind: configschema.Sink, Type: "x", Attributes: []configschema.Attribute{{Name: "a", Type: configschema.Int, Min: i64(2), Max: i64(1)}}},
		"minimum duration on an int": {Kind: configschema.Sink, Type: "x", Attributes: []configschema.Attribute{{Name: "a", Type: configschema.Int, MinDuration: "1s"}}},
		"bad minimum duration":       {Kind: configschema.Sink, Type: "x", Attributes: []configschema.Attribute{{Name: "a", Type: configschema.Duration, MinDuration: "soon"}}},
		"default outside the enum": {Kind: configschema.Sink, Type: "x", Attributes: []configschema.Attribute{
			{Name: "a", Type: configschema.String, Enum: []string{"x"}, Default: "y"}}},
		"default below the minimum": {Kind: configschema.Sink, Type: "x", Attributes: []configschema.Attribute{
			{Name: "a", Type: configschema.Int, Min: i64(1), Default: int64(0)}}},
		"negative default duration": {Kind: configschema.Sink, Type: "x", Attributes: []configschema.Attribute{
			{Name: "a", Type: configschema.Duration, Default: "-1s"}}},
		"repeated block": {Kind: configschema.Sink, Type: "x", Blocks: []configschema.Block{{Name: "b"}, {Name: "b"}}},
	}
	for name, s := range bad {
		if err := s.Validate(); err == nil {
			t.Errorf("%s: Validate accepted it", name)
		} else if !strings.Contains(err.Error(), ":") && s.Type != "" {
			t.Errorf("%s: error %q does not say where", name, err)
		}
	}
}
