package stdlib_test

import (
	"testing"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib"
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
