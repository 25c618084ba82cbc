package stdlib_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib"
	"github.com/pipectl/pipectl/stdlib/generator"
)

// TestRegister checks that every built-in registers with a valid schema,
// that Register can be called on a fresh registry only once per plugin, and
// that the plugins the runtime issue names are all there.
func TestRegister(t *testing.T) {
	r := connector.NewRegistry()
	if err := stdlib.Register(r); err != nil {
		t.Fatal(err)
	}
	if err := stdlib.Register(r); err == nil {
		t.Error("registering the built-ins twice was accepted")
	}
	for _, want := range []struct {
		kind configschema.Kind
		typ  string
	}{
		{configschema.Source, "generator"}, {configschema.Source, "file"}, {configschema.Source, "kafka"},
		{configschema.Sink, "file"}, {configschema.Sink, "kafka"},
		{configschema.Converter, "json"}, {configschema.Converter, "string"}, {configschema.Converter, "bytes"},
	} {
		if _, ok := r.Schema(want.kind, want.typ); !ok {
			t.Errorf("%s.%s is not registered", want.kind, want.typ)
		}
	}
}

// TestBuiltinsDeclareTheirConfig proves that every built-in declares the
// struct its configuration decodes into and that the struct matches its
// schema (Register checks it), and that a built-in whose struct drifted
// from its schema would be refused.
func TestBuiltinsDeclareTheirConfig(t *testing.T) {
	for _, p := range stdlib.Plugins() {
		if p.Config == nil {
			t.Errorf("%s declares no configuration struct", p.Schema.Address())
			continue
		}
		if err := configschema.CheckStruct(&p.Schema, p.Config); err != nil {
			t.Errorf("%s: %v", p.Schema.Address(), err)
		}
	}
	drifted := generator.Source()
	drifted.Config = (*struct {
		generator.Config
		Extra string `pipectl:"extra"`
	})(nil)
	if err := connector.NewRegistry().Register(drifted); err == nil || !strings.Contains(err.Error(), `"extra"`) {
		t.Errorf("a generator whose struct has an attribute its schema lacks: Register = %v", err)
	}
	renamed := generator.Source()
	renamed.Schema.Attributes = slices.Clone(renamed.Schema.Attributes)
	renamed.Schema.Attributes[0].Name = "target"
	if err := connector.NewRegistry().Register(renamed); err == nil || !strings.Contains(err.Error(), `"target"`) {
		t.Errorf("a generator whose schema renamed an attribute: Register = %v", err)
	}
}
