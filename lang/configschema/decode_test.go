package configschema_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/lang/configschema"
)

var decodeSchema = configschema.Schema{
	Kind: configschema.Source, Type: "d",
	Attributes: []configschema.Attribute{
		{Name: "topic", Type: configschema.String, Required: true},
		{Name: "mode", Type: configschema.String, Default: "fast", Enum: []string{"fast", "slow"}},
		{Name: "count", Type: configschema.Int, Default: int64(5)},
		{Name: "small", Type: configschema.Int},
		{Name: "rate", Type: configschema.Number, Default: int64(0)},
		{Name: "on", Type: configschema.Bool, Default: false},
		{Name: "every", Type: configschema.Duration, Default: "1m30s"},
		{Name: "tags", Type: configschema.ListOfString},
		{Name: "labels", Type: configschema.MapOfString},
		{Name: "value", Type: configschema.Expression},
	},
	Blocks: []configschema.Block{
		{Name: "auth", Attributes: []configschema.Attribute{
			{Name: "user", Type: configschema.String},
			{Name: "port", Type: configschema.Int, Default: int64(5432)},
		}},
		{Name: "tls", Attributes: []configschema.Attribute{
			{Name: "ca", Type: configschema.String},
		}},
	},
}

type mode string

type embedded struct {
	Path string `pipectl:"path"`
}

type decodeConfig struct {
	Topic  string            `pipectl:"topic"`
	Mode   mode              `pipectl:"mode"`
	Count  int               `pipectl:"count"`
	Small  int8              `pipectl:"small"`
	Rate   float64           `pipectl:"rate"`
	On     bool              `pipectl:"on"`
	Every  time.Duration     `pipectl:"every"`
	Tags   []string          `pipectl:"tags"`
	Labels map[string]string `pipectl:"labels"`
	Value  configschema.Expr `pipectl:"value"`
	Auth   struct {
		User string `pipectl:"user"`
		Port int64  `pipectl:"port"`
	} `pipectl:"auth"`
	TLS *struct {
		CA string `pipectl:"ca"`
	} `pipectl:"tls"`
	Derived string `pipectl:"-"`
	_       int    // unexported fields are not the schema's
}

type constExpr struct{ v any }

func (c constExpr) Eval(map[string]any) (any, error) { return c.v, nil }

func TestDecode(t *testing.T) {
	if err := decodeSchema.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := configschema.CheckStruct(&decodeSchema, (*decodeConfig)(nil)); err != nil {
		t.Fatal(err)
	}
	var cfg decodeConfig
	err := configschema.Decode(&decodeSchema, map[string]any{
		"topic": "t", "small": json.Number("-3"), "rate": 2.5, "tags": []any{"a"}, "labels": map[string]any{"k": "v"},
		"value": constExpr{7}, "tls": map[string]any{"ca": "/ca.pem"},
	}, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := cfg.Value.Eval(nil); v != 7 {
		t.Errorf("Value evaluates to %v", v)
	}
	cfg.Value = nil
	want := decodeConfig{Topic: "t", Mode: "fast", Count: 5, Small: -3, Rate: 2.5, Every: 90 * time.Second,
		Tags: []string{"a"}, Labels: map[string]string{"k": "v"}}
	want.Auth.Port = 5432 // an absent block decodes to its defaults
	want.TLS = &struct {
		CA string `pipectl:"ca"`
	}{CA: "/ca.pem"}
	if diff := cmp.Diff(want, cfg, cmp.AllowUnexported(decodeConfig{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	var absent decodeConfig
	if err := configschema.Decode(&decodeSchema, map[string]any{"topic": "t"}, &absent); err != nil {
		t.Fatal(err)
	}
	if absent.TLS != nil || absent.Value != nil {
		t.Errorf("an absent block or expression: TLS %v, Value %v; want nil", absent.TLS, absent.Value)
	}

	for name, values := range map[string]map[string]any{
		"missing required":        {},
		"outside the enum":        {"topic": "t", "mode": "medium"},
		"does not fit an int8":    {"topic": "t", "small": 300},
		"expression not compiled": {"topic": "t", "value": "seq"},
	} {
		var cfg decodeConfig
		if err := configschema.Decode(&decodeSchema, values, &cfg); err == nil {
			t.Errorf("%s: Decode succeeded", name)
		}
	}
	if err := configschema.Decode(&decodeSchema, map[string]any{"topic": "t"}, decodeConfig{}); err == nil {
		t.Error("Decode into a struct value (not a pointer) succeeded")
	}
}

func TestCheckStructDrift(t *testing.T) {
	s := &configschema.Schema{Kind: configschema.Sink, Type: "x", Attributes: []configschema.Attribute{
		{Name: "path", Type: configschema.String},
		{Name: "every", Type: configschema.Duration},
	}, Blocks: []configschema.Block{{Name: "b", Attributes: []configschema.Attribute{{Name: "n", Type: configschema.Int}}}}}
	type block struct {
		N int `pipectl:"n"`
	}
	type good struct {
		Path  string        `pipectl:"path"`
		Every time.Duration `pipectl:"every"`
		B     *block        `pipectl:"b"`
	}
	if err := configschema.CheckStruct(s, good{}); err != nil {
		t.Errorf("a matching struct: %v", err)
	}
	type withEmbedded struct {
		embedded
		Every time.Duration `pipectl:"every"`
		B     block         `pipectl:"b"`
	}
	if err := configschema.CheckStruct(s, (*withEmbedded)(nil)); err != nil {
		t.Errorf("a matching struct with an embedded one: %v", err)
	}
	var cfg withEmbedded
	if err := configschema.Decode(s, map[string]any{"path": "/p", "every": "1s"}, &cfg); err != nil || cfg.Path != "/p" || cfg.Every != time.Second {
		t.Errorf("Decode with an embedded struct: %+v, %v", cfg, err)
	}
	for name, c := range map[string]struct {
		config any
		want   string
	}{
		"missing field": {struct {
			Path string `pipectl:"path"`
			B    block  `pipectl:"b"`
		}{}, `no field tagged "every"`},
		"extra field": {struct {
			Path  string        `pipectl:"path"`
			Every time.Duration `pipectl:"every"`
			B     block         `pipectl:"b"`
			Gone  string        `pipectl:"gone"`
		}{}, `tagged "gone", which the schema does not declare`},
		"wrong type": {struct {
			Path  string `pipectl:"path"`
			Every string `pipectl:"every"`
			B     block  `pipectl:"b"`
		}{}, "cannot hold a duration"},
		"int for a duration": {struct {
			Path  string `pipectl:"path"`
			Every int64  `pipectl:"every"`
			B     block  `pipectl:"b"`
		}{}, "cannot hold a duration"},
		"block not a struct": {struct {
			Path  string         `pipectl:"path"`
			Every time.Duration  `pipectl:"every"`
			B     map[string]any `pipectl:"b"`
		}{}, "a block needs a struct"},
		"nested drift": {struct {
			Path  string        `pipectl:"path"`
			Every time.Duration `pipectl:"every"`
			B     struct {
				N string `pipectl:"n"`
			} `pipectl:"b"`
		}{}, "x.b.n"},
		"untagged field": {struct {
			Path  string        `pipectl:"path"`
			Every time.Duration `pipectl:"every"`
			B     block         `pipectl:"b"`
			Other string
		}{}, "has no pipectl tag"},
		"duplicate tag through an embedded struct": {struct {
			embedded
			Path2 string        `pipectl:"path"`
			Every time.Duration `pipectl:"every"`
			B     block         `pipectl:"b"`
		}{}, "tagged \"path\""},
		"duplicate tag": {struct {
			Path  string        `pipectl:"path"`
			Path2 string        `pipectl:"path"`
			Every time.Duration `pipectl:"every"`
			B     block         `pipectl:"b"`
		}{}, "two fields"},
		"not a struct": {"x", "not a struct"},
	} {
		err := configschema.CheckStruct(s, c.config)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: CheckStruct = %v, want an error with %q", name, err, c.want)
		}
	}
}
