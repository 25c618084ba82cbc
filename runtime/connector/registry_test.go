package connector_test

import (
	"slices"
	"testing"

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
