package engine

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/pipectl/pipectl/lang"
	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/lang/expr"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
)

// Pipeline is a pipeline compiled for this worker: its plugin, typed
// configuration with secrets opened, compiled expressions, converters and
// transforms. Compile it once and run any number of its tasks; it is
// immutable and safe for concurrent use by them.
type Pipeline struct {
	address    string
	spec       *control.PipelineSpec
	kind       configschema.Kind
	plugin     *connector.Plugin
	config     map[string]any
	exprs      map[string]connector.Expr
	keyConv    connector.Converter
	valueConv  connector.Converter
	transforms []*transform
	uses       uses
	policy     policy
	startFrom  string
	// commitInterval is a sink's commit_interval (TaskArgs.FlushInterval
	// overrides it).
	commitInterval time.Duration
	// valueJSON: a source whose values are encoded by the json converter
	// and read by no transform (TaskContext.ValueJSON).
	valueJSON bool
	// schemas: the transforms keep record schemas right, because a sink
	// or a converter may use them (transformschema.go).
	schemas bool
	// secrets are the config provider references (secret() in HCL) that
	// compiling resolved, in order, and secretsDigest the digest of the
	// values it got.
	secrets       []ProviderSecret
	secretsDigest [sha256.Size]byte
}

// ProviderSecret is one config provider reference of a pipeline: the
// attribute it is the value of, and the reference.
type ProviderSecret struct{ Where, Ref string }

// ProviderSecrets returns the config provider references the pipeline's
// configuration and converters hold, in the order Compile resolved them.
func (p *Pipeline) ProviderSecrets() []ProviderSecret { return p.secrets }

// SecretsDigest is the digest of the values Compile got for
// ProviderSecrets: SecretsDigest(ctx, reg, p.ProviderSecrets()) differs
// from it once a provider gives another value. The values are not kept.
func (p *Pipeline) SecretsDigest() [sha256.Size]byte { return p.secretsDigest }

// SecretsDigest asks the config providers again for the values of
// secrets and returns their digest, as Pipeline.SecretsDigest has it.
func SecretsDigest(ctx context.Context, reg *connector.Registry, secrets []ProviderSecret) ([sha256.Size]byte, error) {
	values := make([]string, len(secrets))
	for i, ps := range secrets {
		v, err := resolveProviderRef(ctx, reg, ps.Where, ps.Ref)
		if err != nil {
			return [sha256.Size]byte{}, err
		}
		values[i] = v
	}
	return digestOf(values), nil
}

// digestOf digests values, each with its length, so that no two lists
// give the same bytes.
func digestOf(values []string) [sha256.Size]byte {
	h := sha256.New()
	for _, v := range values {
		fmt.Fprintf(h, "%d:%s", len(v), v)
	}
	var d [sha256.Size]byte
	h.Sum(d[:0])
	return d
}

// Address returns the pipeline's address, e.g. source.generator.orders.
func (p *Pipeline) Address() string { return p.address }

// Kind returns configschema.Source or configschema.Sink.
func (p *Pipeline) Kind() configschema.Kind { return p.kind }

// Tasks returns how many tasks the pipeline runs.
func (p *Pipeline) Tasks() int { return max(p.spec.Tasks, 1) }

// policy is the pipeline's errors block.
type policy struct {
	tolerateAll     bool
	deadLetterTopic string
	retryTimeout    time.Duration
	backoffMax      time.Duration
}

// Compile checks a pipeline spec against the registry and compiles it:
// transforms (CEL in lang/expr's record environment: when, unless and filter
// must be bool, topic and header values string), the plugin's expression
// attributes (with the variables its schema declares), the key and value
// converters (the registry's NewConverter with the spec's configuration),
// and the plugin configuration: secrets opened with keys.Open under the
// name ADDRESS.ATTRIBUTE (ADDRESS.BLOCK.ATTRIBUTE in a nested block), then
// checked and typed by its schema with configschema (the same rules lang
// applies at validate time). The spec's own attributes (topics, start_from,
// the errors block) are checked against lang.CommonSchema. lookupEnv
// resolves env: secret references; nil means os.LookupEnv. Options add
// what the worker offers converters (WithSchemaRegistry).
//
// It reports every problem it finds, joined, each prefixed with the
// address; no message quotes a sensitive value.
func Compile(address string, spec *control.PipelineSpec, reg *connector.Registry, keys *control.Keys, lookupEnv func(string) (string, bool), opts ...CompileOption) (*Pipeline, error) {
	if spec == nil {
		return nil, fmt.Errorf("%s: no pipeline specification", address)
	}
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	c := &compiler{address: address, keys: keys, lookupEnv: lookupEnv, reg: reg}
	for _, o := range opts {
		o(c)
	}
	p := &Pipeline{address: address, spec: spec, kind: spec.Kind}

	switch p.kind {
	case configschema.Source, configschema.Sink:
		plugin, ok := reg.Plugin(p.kind, spec.Type)
		switch {
		case !ok:
			c.errorf("there is no %s type %q in this pipectl binary; its %s types are %s", p.kind, spec.Type, p.kind, strings.Join(reg.Types(p.kind), ", "))
		case p.kind == configschema.Source && plugin.NewSource == nil,
			p.kind == configschema.Sink && plugin.NewSink == nil:
			c.errorf("the %s plugin %q declares a schema but no implementation", p.kind, spec.Type)
		default:
			p.plugin = plugin
			p.config = c.config(address, &plugin.Schema, spec.Config)
			p.exprs = c.exprAttrs(&plugin.Schema, p.config)
		}
	default:
		c.errorf("unknown pipeline kind %q: a pipeline is a source or a sink", spec.Kind)
	}

	p.keyConv = c.converter("key_converter", spec.KeyConverter, "string")
	p.valueConv = c.converter("value_converter", spec.ValueConverter, "json")
	for i := range spec.Transforms {
		if t := c.transform(&spec.Transforms[i]); t != nil {
			p.transforms = append(p.transforms, t)
		}
	}
	p.uses = usesOf(p.transforms)
	if p.kind == configschema.Sink {
		// A sink gets the schemas its converters read (it decodes what
		// they read schemas from), and such a converter checks bytes no
		// more cheaply than it decodes them.
		_, keyDecoder := p.keyConv.(connector.SchemaDecoder)
		_, valueDecoder := p.valueConv.(connector.SchemaDecoder)
		p.uses.readKey = p.uses.readKey || keyDecoder
		p.uses.readValue = p.uses.readValue || valueDecoder
	}
	// "json" is stdlib's json converter: the registry refuses a second
	// converter of one name; with schemas_enable it writes an envelope
	// (a SchemaEncoder), not the value's JSON text. Only sources hand over
	// values; a sink's are already bytes.
	_, keySchemas := p.keyConv.(connector.SchemaEncoder)
	_, valueSchemas := p.valueConv.(connector.SchemaEncoder)
	p.valueJSON = p.kind == configschema.Source &&
		(spec.ValueConverter.Type == "" || spec.ValueConverter.Type == "json") && !valueSchemas && !p.uses.readValue
	// A sink may read the schemas; a source's records meet only its
	// converters.
	p.schemas = p.kind == configschema.Sink || keySchemas || valueSchemas
	if p.kind == configschema.Source || p.kind == configschema.Sink {
		common := c.check(lang.CommonSchema(p.kind), commonValues(spec))
		p.policy = c.policy(common["errors"].(map[string]any))
		p.startFrom, _ = common["start_from"].(string)
		ci, _ := common["commit_interval"].(string)
		p.commitInterval, _ = time.ParseDuration(ci) // checked by the schema
	}
	if err := errors.Join(c.errs...); err != nil {
		return nil, err
	}
	p.secrets, p.secretsDigest = c.secrets, digestOf(c.secretValues)
	return p, nil
}

type compiler struct {
	address   string
	keys      *control.Keys
	lookupEnv func(string) (string, bool)
	reg       *connector.Registry
	schemas   connector.SchemaRegistry
	errs      []error
	// secrets and secretValues are the config provider references
	// resolved so far and what they gave (Pipeline.secrets).
	secrets      []ProviderSecret
	secretValues []string
}

// CompileOption sets what Compile offers the pipeline's converters.
type CompileOption func(*compiler)

// WithSchemaRegistry offers converters the fleet's Schema Registry
// (connector.ConverterEnv.Registry).
func WithSchemaRegistry(r connector.SchemaRegistry) CompileOption {
	return func(c *compiler) { c.schemas = r }
}

func (c *compiler) errorf(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("%s: "+format, append([]any{c.address}, args...)...))
}

// config opens the secrets of a plugin's stored configuration and checks
// and types it by the plugin's schema.
func (c *compiler) config(where string, schema *configschema.Schema, in map[string]any) map[string]any {
	return c.check(schema, c.openSecrets(where, in))
}

// openSecrets replaces every secret of a stored configuration (nested
// blocks included) with its clear value, wrapped in configschema.Sensitive
// so that no message quotes it. where names the secrets: ADDRESS.ATTRIBUTE.
func (c *compiler) openSecrets(where string, in map[string]any) map[string]any {
	out := make(map[string]any, len(in))
	for _, k := range slices.Sorted(maps.Keys(in)) {
		v := in[k]
		if s, ok := control.SecretOf(v); ok {
			clear, err := c.openSecret(where+"."+k, s)
			if err != nil {
				c.errs = append(c.errs, err) // names the attribute, never the value
				continue
			}
			v = configschema.Sensitive{Value: clear}
		} else if m, ok := v.(map[string]any); ok {
			v = c.openSecrets(where+"."+k, m)
		}
		out[k] = v
	}
	return out
}

// openSecret opens one stored secret: a reference to a config provider
// (secret() in HCL) through the provider registered under its name, any
// other through the state keys (encrypted values, env: and file:).
func (c *compiler) openSecret(where string, s *control.Secret) (any, error) {
	if _, _, _, ok := lang.ParseProviderRef(s.Ref); !ok {
		return c.keys.Open(where, s, c.lookupEnv)
	}
	v, err := resolveProviderRef(context.Background(), c.reg, where, s.Ref)
	if err != nil {
		return nil, err
	}
	c.secrets = append(c.secrets, ProviderSecret{Where: where, Ref: s.Ref})
	c.secretValues = append(c.secretValues, v)
	return v, nil
}

// providerTimeout bounds one config provider call.
const providerTimeout = 30 * time.Second

// resolveProviderRef asks the config provider a reference of secret()
// names for its value. Errors name where (the attribute), the provider
// and the key, never a value.
func resolveProviderRef(ctx context.Context, reg *connector.Registry, where, ref string) (string, error) {
	name, path, key, ok := lang.ParseProviderRef(ref)
	if !ok {
		return "", fmt.Errorf("%s has a malformed secret reference", where)
	}
	var p connector.ConfigProvider
	if reg != nil {
		p, ok = reg.ConfigProvider(name)
	}
	if !ok {
		return "", fmt.Errorf("%s refers to the config provider %q, which this worker does not have (register it in the worker's main, or use a built-in one: directory)", where, name)
	}
	ctx, cancel := context.WithTimeout(ctx, providerTimeout)
	defer cancel()
	v, err := p.Get(ctx, path, key)
	if err != nil {
		return "", fmt.Errorf("%s: config provider %s cannot give %s: %w", where, name, key, err)
	}
	return v, nil
}

// check types values by schema and records what breaks its rules.
func (c *compiler) check(schema *configschema.Schema, values map[string]any) map[string]any {
	out, errs := schema.Coerce(values)
	for _, e := range errs {
		hint := ""
		if e.Rule == configschema.RuleUnknown {
			hint = "; is the worker older than the pipectl that applied the configuration?"
		}
		c.errorf("%v%s", e, hint)
	}
	return out
}

// commonValues are the spec's own attributes as lang.CommonSchema names
// them; empty ones are absent (they take their defaults).
func commonValues(spec *control.PipelineSpec) map[string]any {
	errs := map[string]any{}
	for name, v := range map[string]string{
		"tolerance": spec.Errors.Tolerance, "dead_letter_topic": spec.Errors.DeadLetterTopic,
		"retry_timeout": spec.Errors.RetryTimeout, "retry_backoff_max": spec.Errors.RetryBackoffMax,
	} {
		if v != "" {
			errs[name] = v
		}
	}
	values := map[string]any{"errors": errs}
	if configschema.Kind(spec.Kind) == configschema.Sink {
		if len(spec.Topics) > 0 {
			values["topics"] = spec.Topics
		}
		for name, v := range map[string]string{"topics_regex": spec.TopicsRegex, "start_from": spec.StartFrom, "commit_interval": spec.CommitInterval} {
			if v != "" {
				values[name] = v
			}
		}
	}
	return values
}

// Programs hand their results to sources directly where they can
// (TaskContext.ValueJSON, the generator).
var _ connector.DirectExpr = (*expr.Program)(nil)

// exprAttrs compiles the plugin's expression attributes with the variables
// their schema declares, as lang does at validate time.
func (c *compiler) exprAttrs(s *configschema.Schema, config map[string]any) map[string]connector.Expr {
	out := map[string]connector.Expr{}
	for _, a := range s.Attributes {
		src, ok := config[a.Name].(string)
		if a.Type != configschema.Expression || !ok {
			continue
		}
		vars := make([]expr.Var, len(a.ExprVars))
		for i, v := range a.ExprVars {
			vars[i] = expr.Var{Name: v.Name, Type: v.Type}
		}
		env, err := expr.NewEnv(vars)
		if err != nil {
			c.errorf("the expression variables of %s are invalid (a bug in the plugin): %v", a.Name, err)
			continue
		}
		prog, issues := env.Compile(src, expr.Dyn)
		if len(issues) > 0 {
			c.errorf("the expression %s does not compile: %s", a.Name, issueText(issues))
			continue
		}
		out[a.Name] = prog
	}
	return out
}

func issueText(issues []expr.Issue) string {
	msgs := make([]string, len(issues))
	for i, is := range issues {
		msgs[i] = is.Message
	}
	return strings.Join(msgs, "; ")
}

// converter builds a key or value converter.
func (c *compiler) converter(which string, cs control.ConverterSpec, def string) connector.Converter {
	typ := cs.Type
	if typ == "" {
		typ = def
	}
	plugin, ok := c.reg.Plugin(configschema.Converter, typ)
	if !ok {
		c.errorf("the %s %q is not registered in this pipectl binary; its converters are %s", which, typ, strings.Join(c.reg.Types(configschema.Converter), ", "))
		return nil
	}
	if plugin.NewConverter == nil && plugin.NewConverterWith == nil {
		c.errorf("the converter %q declares a schema but no implementation", typ)
		return nil
	}
	n := len(c.errs)
	config := c.config(c.address+"."+which, &plugin.Schema, cs.Config)
	if len(c.errs) > n {
		return nil
	}
	var conv connector.Converter
	var err error
	if plugin.NewConverterWith != nil {
		conv, err = plugin.NewConverterWith(connector.ConverterEnv{Registry: c.schemas, Key: which == "key_converter"}, config)
	} else {
		conv, err = plugin.NewConverter(config)
	}
	if err != nil {
		c.errorf("the %s %q: %v", which, typ, err)
		return nil
	}
	return conv
}

// policy reads the errors block, typed by lang.CommonSchema (with its
// defaults; a value that broke a rule is absent and was reported).
func (c *compiler) policy(e map[string]any) policy {
	var pol policy
	pol.tolerateAll = e["tolerance"] == "all"
	pol.deadLetterTopic, _ = e["dead_letter_topic"].(string)
	timeout, _ := e["retry_timeout"].(string)
	backoff, _ := e["retry_backoff_max"].(string)
	pol.retryTimeout, _ = time.ParseDuration(timeout)
	pol.backoffMax, _ = time.ParseDuration(backoff)
	if pol.tolerateAll && pol.deadLetterTopic == "" {
		c.errorf(`errors: tolerance = "all" needs a dead_letter_topic`)
	}
	return pol
}

// describe names the type of a record's key, value or part of one for
// messages: configschema.Describe's names, and those of the types only
// records hold.
func describe(v any) string {
	switch v.(type) {
	case []byte:
		return "bytes"
	case json.RawMessage:
		return "JSON text"
	case time.Time:
		return "a timestamp"
	}
	return configschema.Describe(v)
}
