package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

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
	// valueJSON: a source whose values are encoded by the json converter
	// and read by no transform (TaskContext.ValueJSON).
	valueJSON bool
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

// Defaults of the errors block, as lang declares them.
const (
	defaultRetryTimeout    = 60 * time.Second
	defaultRetryBackoffMax = 10 * time.Second
)

// Compile checks a pipeline spec against the registry and compiles it:
// transforms (CEL in lang/expr's record environment: when, unless and filter
// must be bool, topic and header values string), the plugin's expression
// attributes (with the variables its schema declares), the key and value
// converters (the registry's NewConverter with the spec's configuration),
// and the plugin configuration, typed by its schema (JSON numbers become
// int64 or float64, lists and maps of strings become []string and
// map[string]string, nested blocks map[string]any, absent attributes take
// their defaults) with secrets opened with keys.Open under the name
// ADDRESS.ATTRIBUTE (ADDRESS.BLOCK.ATTRIBUTE in a nested block). lookupEnv
// resolves env: secret references; nil means os.LookupEnv.
//
// It reports every problem it finds, joined, each prefixed with the
// address; no message quotes a sensitive value.
func Compile(address string, spec *control.PipelineSpec, reg *connector.Registry, keys *control.Keys, lookupEnv func(string) (string, bool)) (*Pipeline, error) {
	if spec == nil {
		return nil, fmt.Errorf("%s: no pipeline specification", address)
	}
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	c := &compiler{address: address, keys: keys, lookupEnv: lookupEnv, reg: reg}
	p := &Pipeline{address: address, spec: spec, kind: configschema.Kind(spec.Kind)}

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
			p.config = c.block(address, plugin.Schema.Attributes, plugin.Schema.Blocks, spec.Config)
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
	// "json" is stdlib's json converter: the registry refuses a second
	// converter of one name. Only sources hand over values; a sink's are
	// already bytes.
	p.valueJSON = p.kind == configschema.Source &&
		(spec.ValueConverter.Type == "" || spec.ValueConverter.Type == "json") && !p.uses.readValue
	p.policy = c.policy(spec.Errors)

	if p.kind == configschema.Sink {
		switch {
		case len(spec.Topics) == 0 && spec.TopicsRegex == "":
			c.errorf("a sink reads topics or topics_regex, and neither is set")
		case len(spec.Topics) > 0 && spec.TopicsRegex != "":
			c.errorf("a sink reads topics or topics_regex, not both")
		case spec.TopicsRegex != "":
			if _, err := regexp.Compile(spec.TopicsRegex); err != nil {
				c.errorf("topics_regex is not a valid regular expression: %v", err)
			}
		}
		switch spec.StartFrom {
		case "", "earliest":
			p.startFrom = "earliest"
		case "latest":
			p.startFrom = "latest"
		default:
			c.errorf("start_from must be \"earliest\" or \"latest\", not %q", spec.StartFrom)
		}
	}
	if err := errors.Join(c.errs...); err != nil {
		return nil, err
	}
	return p, nil
}

type compiler struct {
	address   string
	keys      *control.Keys
	lookupEnv func(string) (string, bool)
	reg       *connector.Registry
	errs      []error
}

func (c *compiler) errorf(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("%s: "+format, append([]any{c.address}, args...)...))
}

// block types the attributes of one block of configuration. where is the
// secret name prefix: the address, then block names.
func (c *compiler) block(where string, attrs []configschema.Attribute, blocks []configschema.Block, in map[string]any) map[string]any {
	out := make(map[string]any, len(attrs)+len(blocks))
	name := strings.TrimPrefix(strings.TrimPrefix(where, c.address), ".")
	label := func(attr string) string {
		if name == "" {
			return attr
		}
		return name + "." + attr
	}
	for i := range attrs {
		a := &attrs[i]
		raw, present := in[a.Name]
		if !present || raw == nil {
			switch {
			case a.Default != nil:
				out[a.Name] = defaultValue(a.Default)
			case a.Required:
				c.errorf("the required attribute %s is missing", label(a.Name))
			}
			continue
		}
		secret := a.Sensitive
		if s, ok := control.SecretOf(raw); ok {
			v, err := c.keys.Open(where+"."+a.Name, s, c.lookupEnv)
			if err != nil {
				c.errs = append(c.errs, err) // names the attribute, never the value
				continue
			}
			raw, secret = v, true
		}
		v, err := typed(a.Type, raw, secret)
		if err != nil {
			c.errorf("the attribute %s %v", label(a.Name), err)
			continue
		}
		if len(a.Enum) > 0 {
			if s, ok := v.(string); ok && !slices.Contains(a.Enum, s) {
				c.errorf("the attribute %s must be one of %s", label(a.Name), strings.Join(a.Enum, ", "))
				continue
			}
		}
		out[a.Name] = v
	}
	for _, b := range blocks {
		var sub map[string]any
		switch raw := in[b.Name].(type) {
		case nil:
		case map[string]any:
			sub = raw
		default:
			c.errorf("%s must be a block, not %s", label(b.Name), describe(raw))
			continue
		}
		out[b.Name] = c.block(where+"."+b.Name, b.Attributes, b.Blocks, sub)
	}
	for _, k := range slices.Sorted(maps.Keys(in)) {
		if _, ok := out[k]; ok || slices.ContainsFunc(attrs, func(a configschema.Attribute) bool { return a.Name == k }) {
			continue
		}
		if slices.ContainsFunc(blocks, func(b configschema.Block) bool { return b.Name == k }) {
			continue
		}
		c.errorf("the attribute %s is not declared by this worker's plugin; is the worker older than the pipectl that applied the configuration?", label(k))
	}
	return out
}

func defaultValue(v any) any {
	switch v := v.(type) {
	case int:
		return int64(v)
	case []string:
		return slices.Clone(v)
	case map[string]string:
		return maps.Clone(v)
	}
	return v
}

// typed converts a value of the stored configuration (JSON) to the Go type
// of its schema type. Messages never quote a secret.
func typed(t configschema.Type, v any, secret bool) (any, error) {
	bad := func(want string) error {
		if secret {
			return fmt.Errorf("must be %s", want)
		}
		return fmt.Errorf("must be %s, not %s", want, describe(v))
	}
	switch t {
	case configschema.String, configschema.Duration, configschema.Expression, configschema.Reference:
		s, ok := v.(string)
		if !ok {
			return nil, bad("a string")
		}
		if t == configschema.Duration {
			if _, err := time.ParseDuration(s); err != nil {
				return nil, bad("a duration like \"30s\"")
			}
		}
		return s, nil
	case configschema.Int:
		switch n := v.(type) {
		case int64:
			return n, nil
		case int:
			return int64(n), nil
		case float64:
			if n == math.Trunc(n) && math.Abs(n) < 1<<63 {
				return int64(n), nil
			}
		case json.Number:
			if i, err := n.Int64(); err == nil {
				return i, nil
			}
		case string: // a secret from env() or file()
			if i, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64); err == nil {
				return i, nil
			}
		}
		return nil, bad("a whole number")
	case configschema.Number:
		switch n := v.(type) {
		case float64:
			return n, nil
		case int64:
			return float64(n), nil
		case int:
			return float64(n), nil
		case json.Number:
			if f, err := n.Float64(); err == nil {
				return f, nil
			}
		case string:
			if f, err := strconv.ParseFloat(strings.TrimSpace(n), 64); err == nil {
				return f, nil
			}
		}
		return nil, bad("a number")
	case configschema.Bool:
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			if x, err := strconv.ParseBool(strings.TrimSpace(b)); err == nil {
				return x, nil
			}
		}
		return nil, bad("a bool")
	case configschema.ListOfString, configschema.ListOfReference:
		switch l := v.(type) {
		case []string:
			return slices.Clone(l), nil
		case []any:
			out := make([]string, len(l))
			for i, e := range l {
				s, ok := e.(string)
				if !ok {
					return nil, bad("a list of strings")
				}
				out[i] = s
			}
			return out, nil
		}
		return nil, bad("a list of strings")
	case configschema.MapOfString:
		switch m := v.(type) {
		case map[string]string:
			return maps.Clone(m), nil
		case map[string]any:
			out := make(map[string]string, len(m))
			for k, e := range m {
				s, ok := e.(string)
				if !ok {
					return nil, bad("a map of strings")
				}
				out[k] = s
			}
			return out, nil
		}
		return nil, bad("a map of strings")
	}
	return nil, fmt.Errorf("has the unknown type %q", t)
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
	if plugin.NewConverter == nil {
		c.errorf("the converter %q declares a schema but no implementation", typ)
		return nil
	}
	n := len(c.errs)
	config := c.block(c.address+"."+which, plugin.Schema.Attributes, plugin.Schema.Blocks, cs.Config)
	if len(c.errs) > n {
		return nil
	}
	conv, err := plugin.NewConverter(config)
	if err != nil {
		c.errorf("the %s %q: %v", which, typ, err)
		return nil
	}
	return conv
}

func (c *compiler) policy(e control.ErrorsSpec) policy {
	var pol policy
	switch e.Tolerance {
	case "", "none":
	case "all":
		pol.tolerateAll = true
		if e.DeadLetterTopic == "" {
			c.errorf(`errors: tolerance = "all" needs a dead_letter_topic`)
		}
	default:
		c.errorf(`errors: tolerance must be "none" or "all", not %q`, e.Tolerance)
	}
	pol.deadLetterTopic = e.DeadLetterTopic
	pol.retryTimeout = c.duration("retry_timeout", e.RetryTimeout, defaultRetryTimeout)
	pol.backoffMax = c.duration("retry_backoff_max", e.RetryBackoffMax, defaultRetryBackoffMax)
	return pol
}

func (c *compiler) duration(name, s string, def time.Duration) time.Duration {
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		c.errorf("errors: %s must be a duration like \"30s\", not %q", name, s)
		return def
	}
	return d
}

// describe names the JSON type of a value for messages.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a bool"
	case int, int32, int64, uint64, float64, json.Number:
		return "a number"
	case []byte:
		return "bytes"
	case json.RawMessage:
		return "JSON text"
	case map[string]any, map[string]string:
		return "a map"
	case []any, []string:
		return "a list"
	case time.Time:
		return "a timestamp"
	default:
		return fmt.Sprintf("a %T", v)
	}
}
