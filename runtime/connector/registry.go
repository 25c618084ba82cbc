package connector

import (
	"fmt"
	"slices"
	"sort"

	"github.com/pipectl/pipectl/lang/configschema"
)

// Plugin is one registered plugin type: its configuration schema and the
// factory of its kind.
type Plugin struct {
	Schema configschema.Schema
	// Config is a nil pointer to the plugin's configuration struct, e.g.
	// (*Config)(nil): Register refuses the plugin when the struct and the
	// schema disagree (configschema.CheckStruct), so that they cannot
	// drift apart. A plugin that reads its configuration with
	// TaskContext.DecodeConfig or configschema.Decode declares it; one that
	// reads TaskContext.Config leaves it nil.
	Config any
	// NewSource builds one source task (kind source).
	NewSource func() Source
	// NewSink builds one sink task (kind sink).
	NewSink func() Sink
	// NewConverter builds a converter from its configuration (kind
	// converter); config holds the schema's attributes after defaults,
	// which configschema.Decode turns into the plugin's Config struct.
	NewConverter func(config map[string]any) (Converter, error)
	// NewConverterWith builds a converter that needs what the worker
	// offers (its Schema Registry, whether it converts keys): a converter
	// plugin sets NewConverter or NewConverterWith, and the engine calls
	// NewConverterWith when both are set.
	NewConverterWith func(env ConverterEnv, config map[string]any) (Converter, error)
}

// Registry holds the plugins a pipectl binary knows. The zero value is not
// usable; call NewRegistry. Plugins register explicitly (stdlib.Register adds
// the built-ins; a third-party plugin is one more Register call in a custom
// main), never from init functions.
type Registry struct {
	plugins map[configschema.Kind]map[string]*Plugin
	rest    []RESTExtension // worker plugins: REST extensions
	// providers are the worker plugins that resolve secret references.
	providers map[string]ConfigProvider
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{plugins: map[configschema.Kind]map[string]*Plugin{}}
}

// Register adds a plugin. It fails when the schema is malformed, when the
// plugin's Config struct does not match its schema, or when a plugin of the
// same kind and type is already registered.
func (r *Registry) Register(p Plugin) error {
	if err := p.Schema.Validate(); err != nil {
		return fmt.Errorf("register plugin: %w", err)
	}
	if p.Config != nil {
		if err := configschema.CheckStruct(&p.Schema, p.Config); err != nil {
			return fmt.Errorf("register plugin: the configuration struct does not match the schema: %w", err)
		}
	}
	var missing bool
	switch p.Schema.Kind {
	case configschema.Source:
		missing = p.NewSource == nil
	case configschema.Sink:
		missing = p.NewSink == nil
	case configschema.Converter:
		missing = p.NewConverter == nil && p.NewConverterWith == nil
	}
	if missing {
		return fmt.Errorf("register plugin: %s has no factory for its kind (NewSource, NewSink, NewConverter or NewConverterWith)", p.Schema.Address())
	}
	byType := r.plugins[p.Schema.Kind]
	if byType == nil {
		byType = map[string]*Plugin{}
		r.plugins[p.Schema.Kind] = byType
	}
	if _, dup := byType[p.Schema.Type]; dup {
		return fmt.Errorf("register plugin: %s is already registered", p.Schema.Address())
	}
	byType[p.Schema.Type] = &p
	return nil
}

// Plugin returns the plugin of the given kind and type.
func (r *Registry) Plugin(kind configschema.Kind, typ string) (*Plugin, bool) {
	p, ok := r.plugins[kind][typ]
	return p, ok
}

// Schema returns the configuration schema of the given plugin type.
func (r *Registry) Schema(kind configschema.Kind, typ string) (*configschema.Schema, bool) {
	p, ok := r.plugins[kind][typ]
	if !ok {
		return nil, false
	}
	return &p.Schema, true
}

// Types lists the registered type names of one kind, sorted.
func (r *Registry) Types(kind configschema.Kind) []string {
	types := make([]string, 0, len(r.plugins[kind]))
	for t := range r.plugins[kind] {
		types = append(types, t)
	}
	sort.Strings(types)
	return types
}

// Schemas lists every registered schema, by kind then type.
func (r *Registry) Schemas() []*configschema.Schema {
	var out []*configschema.Schema
	for _, k := range configschema.Kinds() {
		for _, t := range r.Types(k) {
			s, _ := r.Schema(k, t)
			out = append(out, s)
		}
	}
	return slices.Clip(out)
}
