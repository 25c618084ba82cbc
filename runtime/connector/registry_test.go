package connector_test

import (
	"slices"
	"testing"
	"time"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
)

func TestRegistry(t *testing.T) {
	r := connector.NewRegistry()
	newSource := func() connector.Source { return nil }
	src := connector.Plugin{Schema: configschema.Schema{Kind: configschema.Source, Type: "zeta"}, NewSource: newSource}
	src2 := connector.Plugin{Schema: configschema.Schema{Kind: configschema.Source, Type: "alpha"}, NewSource: newSource}
	conv := connector.Plugin{Schema: configschema.Schema{Kind: configschema.Converter, Type: "json"},
		NewConverter: func(map[string]any) (connector.Converter, error) { return nil, nil }}
	for _, p := range []connector.Plugin{src, src2, conv} {
		if err := r.Register(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Register(src); err == nil {
		t.Error("a second registration of source.zeta was accepted")
	}
	if err := r.Register(connector.Plugin{Schema: configschema.Schema{Kind: "widget", Type: "x"}}); err == nil {
		t.Error("a malformed schema was accepted")
	}
	if err := r.Register(connector.Plugin{Schema: configschema.Schema{Kind: configschema.Sink, Type: "nofactory"}}); err == nil {
		t.Error("a sink without NewSink was accepted")
	}
	if got := r.Types(configschema.Source); !slices.Equal(got, []string{"alpha", "zeta"}) {
		t.Errorf("Types(source) = %v", got)
	}
	if _, ok := r.Schema(configschema.Sink, "zeta"); ok {
		t.Error("found a sink that was registered as a source")
	}
	var addrs []string
	for _, s := range r.Schemas() {
		addrs = append(addrs, s.Address())
	}
	if want := []string{"source.alpha", "source.zeta", "converter.json"}; !slices.Equal(addrs, want) {
		t.Errorf("Schemas() = %v, want %v", addrs, want)
	}
}

// TestRegisterRefusesDrift checks that a plugin whose configuration struct
// and schema disagree is refused, and that one that agrees is taken.
func TestRegisterRefusesDrift(t *testing.T) {
	schema := configschema.Schema{Kind: configschema.Source, Type: "drift", Attributes: []configschema.Attribute{
		{Name: "topic", Type: configschema.String, Required: true},
		{Name: "every", Type: configschema.Duration, Default: "1s"},
	}}
	newSource := func() connector.Source { return nil }
	type agrees struct {
		Topic string        `pipectl:"topic"`
		Every time.Duration `pipectl:"every"`
	}
	type renamed struct {
		Topic string        `pipectl:"topic_name"`
		Every time.Duration `pipectl:"every"`
	}
	type retyped struct {
		Topic string `pipectl:"topic"`
		Every string `pipectl:"every"`
	}
	for name, config := range map[string]any{"renamed": (*renamed)(nil), "retyped": (*retyped)(nil), "not a struct": "x"} {
		if err := connector.NewRegistry().Register(connector.Plugin{Schema: schema, Config: config, NewSource: newSource}); err == nil {
			t.Errorf("%s: a drifting configuration struct was accepted", name)
		}
	}
	if err := connector.NewRegistry().Register(connector.Plugin{Schema: schema, Config: (*agrees)(nil), NewSource: newSource}); err != nil {
		t.Errorf("a matching configuration struct: %v", err)
	}
}

func TestDecodeConfig(t *testing.T) {
	schema := configschema.Schema{Kind: configschema.Source, Type: "d", Attributes: []configschema.Attribute{
		{Name: "topic", Type: configschema.String, Required: true},
		{Name: "every", Type: configschema.Duration, Default: "1s"},
		{Name: "value", Type: configschema.Expression, Required: true},
	}}
	var cfg struct {
		Topic string         `pipectl:"topic"`
		Every time.Duration  `pipectl:"every"`
		Value connector.Expr `pipectl:"value"`
	}
	tc := &connector.TaskContext{Config: map[string]any{"topic": "t", "value": "seq"}, Exprs: map[string]connector.Expr{"value": constant(3)}}
	if err := tc.DecodeConfig(&schema, &cfg); err != nil {
		t.Fatal(err)
	}
	if v, _ := cfg.Value.Eval(nil); cfg.Topic != "t" || cfg.Every != time.Second || v != constant(3) {
		t.Errorf("decoded %+v (value %v)", cfg, v)
	}
	if tc.Config["value"] != "seq" {
		t.Error("DecodeConfig changed TaskContext.Config")
	}
	if err := (&connector.TaskContext{Config: map[string]any{"value": "seq"}, Exprs: tc.Exprs}).DecodeConfig(&schema, &cfg); err == nil {
		t.Error("a configuration without its required topic was decoded")
	}
}

type constant int

func (c constant) Eval(map[string]any) (any, error) { return c, nil }
