package lang

import (
	"fmt"
	"math"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/lang/expr"
)

// FleetAttributes and FleetBlocks describe the fleet block.
var (
	FleetAttributes = []configschema.Attribute{
		{Name: "name", Type: configschema.String, Required: true, Description: "Names the fleet's internal topics (<name>.configs, .offsets, .status) and its worker group."},
		{Name: "brokers", Type: configschema.ListOfString, Description: "Bootstrap brokers as HOST:PORT; overridden by -brokers or PIPECTL_BROKERS."},
		{Name: "client_override_policy", Type: configschema.String, Default: OverridePolicyAll, Enum: []string{OverridePolicyAll, OverridePolicyNone, OverridePolicyAllowlist},
			Description: "Which Kafka client properties pipelines may override in their kafka block, as Kafka Connect's connector.client.config.override.policy: all, none, or allowlist (those in client_override_allowlist, KIP-1188)."},
		{Name: "client_override_allowlist", Type: configschema.ListOfString, Description: "With client_override_policy = \"allowlist\": the Kafka client properties pipelines may override."},
	}
	FleetBlocks = []configschema.Block{{
		Name:        "kafka",
		Description: "How to connect to the fleet's Kafka cluster.",
		Blocks: []configschema.Block{
			{Name: "sasl", Description: "SASL authentication.", Attributes: []configschema.Attribute{
				{Name: "mechanism", Type: configschema.String, Required: true, Enum: []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}, Description: "SASL mechanism."},
				{Name: "username", Type: configschema.String, Required: true, Description: "User name."},
				{Name: "password", Type: configschema.String, Required: true, Sensitive: true, Description: "Password."},
			}},
			{Name: "tls", Description: "TLS; present means on.", Attributes: []configschema.Attribute{
				{Name: "ca_file", Type: configschema.String, Description: "PEM file of the certificate authorities to trust; the system roots when absent."},
				{Name: "cert_file", Type: configschema.String, Description: "PEM client certificate, for mutual TLS."},
				{Name: "key_file", Type: configschema.String, Description: "PEM private key of the client certificate."},
				{Name: "server_name", Type: configschema.String, Description: "Server name to verify, when it differs from the broker host."},
				{Name: "insecure_skip_verify", Type: configschema.Bool, Default: false, Description: "Skip certificate verification (testing only)."},
			}},
		},
	}}
	// TopicAttributes describe the topic block.
	TopicAttributes = []configschema.Attribute{
		{Name: "name", Type: configschema.String, Description: "The Kafka topic name; the block label by default (required with for_each)."},
		{Name: "partitions", Type: configschema.Int, Default: int64(1), Min: i64(1), Max: i64(maxPartitions), Description: "Partition count; it can only grow."},
		{Name: "replication_factor", Type: configschema.Int, Default: int64(-1), Min: i64(-1), Max: i64(math.MaxInt16), Description: "Replicas per partition; -1 takes the broker's default.", ForcesReplacement: true},
		{Name: "config", Type: configschema.MapOfString, Default: map[string]string{}, Description: "Topic configuration, e.g. { \"retention.ms\" = \"604800000\" }."},
		{Name: "key_schema", Type: configschema.String, Description: "The schema of the topic's keys: a reference to a schema block, schema.NAME. The CEL of sinks reading the topic is typed by it."},
		{Name: "value_schema", Type: configschema.String, Description: "The schema of the topic's values: a reference to a schema block, schema.NAME. The CEL of sinks reading the topic is typed by it."},
	}
)

// maxPartitions is the most partitions a topic block may ask for.
const maxPartitions = 1 << 20

var topicNameRE = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

// checkTopicName reports a name Kafka would refuse.
func (l *loader) checkTopicName(rng *hcl.Range, what, name string) bool {
	if !topicNameRE.MatchString(name) || name == "." || name == ".." {
		l.diags = append(l.diags, errorf(rng, "Invalid topic name",
			"%s %q is not a valid Kafka topic name: use 1 to 249 letters, digits, '.', '_' or '-' (and not \".\" or \"..\").", what, name))
		return false
	}
	return true
}

func (l *loader) decodeFleet(n *node) {
	s := l.shapeOf(n.block.Body, FleetAttributes, FleetBlocks)
	_, vals, ok := l.evalShape(s, FleetAttributes, FleetBlocks, l.evalCtx(n, nil))
	if !ok {
		return
	}
	f := &Fleet{DeclRange: n.block.DefRange}
	name, isStr := vals["name"].(string)
	if !isStr {
		l.diags = append(l.diags, errorf(ptr(s.attrs["name"].Expr.Range()), "Sensitive value not allowed", "The fleet name cannot be sensitive: it names topics."))
		return
	}
	if !l.checkTopicName(ptr(s.attrs["name"].Expr.Range()), "The fleet name", name+".configs") {
		return
	}
	f.Name = name
	if b, ok := vals["brokers"].([]string); ok {
		for _, addr := range b {
			if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
				l.diags = append(l.diags, errorf(ptr(s.attrs["brokers"].Expr.Range()), "Invalid broker address",
					"%q is not of the form HOST:PORT.", addr))
				return
			}
		}
		f.Brokers = b
	}
	f.ClientOverridePolicy, _ = vals["client_override_policy"].(string)
	if al, ok := vals["client_override_allowlist"].([]string); ok {
		rng := s.attrs["client_override_allowlist"].Expr.Range()
		if f.ClientOverridePolicy != OverridePolicyAllowlist {
			l.diags = append(l.diags, errorf(&rng, "Allowlist without its policy",
				"client_override_allowlist applies with client_override_policy = \"allowlist\" only; the policy is %q. Set the policy, or remove the list.", f.ClientOverridePolicy))
		}
		for _, name := range al {
			if _, ok := clientProperty(name); !ok {
				detail := fmt.Sprintf("%q is not a Kafka client property pipelines can override.", name)
				if near := configschema.Nearest(name, clientPropertyNames("")); near != "" {
					detail += fmt.Sprintf(" Did you mean %q?", near)
				}
				l.diags = append(l.diags, errorf(&rng, "Unknown Kafka client property", "%s", detail))
			}
		}
		f.ClientOverrideAllowlist = al
	}
	kafka := vals["kafka"].(map[string]any)
	if ks := s.blocks["kafka"]; ks != nil {
		if ks.blocks["sasl"] != nil {
			sv := kafka["sasl"].(map[string]any)
			f.SASL = &SASL{Mechanism: asString(sv["mechanism"]), Username: asString(sv["username"]), Password: asSecret(sv["password"])}
			if _, _, _, ok := ParseProviderRef(f.SASL.Password.Ref); ok {
				rng := ks.blocks["sasl"].attrs["password"].Expr.Range()
				l.diags = append(l.diags, errorf(&rng, "Invalid use of secret()",
					"The fleet's Kafka password is needed where pipectl runs (plan, apply and workers), before any config provider: use env() or file()."))
				return
			}
		}
		if ks.blocks["tls"] != nil {
			tv := kafka["tls"].(map[string]any)
			f.TLS = &TLS{CAFile: asString(tv["ca_file"]), CertFile: asString(tv["cert_file"]), KeyFile: asString(tv["key_file"]),
				ServerName: asString(tv["server_name"]), InsecureSkipVerify: tv["insecure_skip_verify"] == true}
		}
	}
	l.cfg.Fleet = f
}

func asString(v any) string {
	s, _ := v.(string)
	return s
}

func asSecret(v any) Secret {
	if s, ok := v.(Secret); ok {
		return s
	}
	return Secret{Value: v}
}

// rejectSecrets reports sensitive values in a block whose settings are
// shown in plans.
func (l *loader) rejectSecrets(s *shape, vals map[string]any, what string) bool {
	for _, k := range sortedKeys(vals) {
		if _, secret := vals[k].(Secret); secret {
			rng := s.attrs[k].Expr.Range()
			l.diags = append(l.diags, errorf(&rng, "Sensitive value not allowed",
				"The %s of %s cannot be sensitive: it is shown in plans.", k, what))
			return false
		}
	}
	return true
}

func (l *loader) decodeTopic(n *node) {
	s := l.shapeOf(l.lifecycleOf(n), TopicAttributes, nil, "for_each")
	keys, each, ok := l.forEach(n, s.attrs["for_each"])
	if !ok {
		return
	}
	if keys != nil && s.attrs["name"] == nil {
		l.diags = append(l.diags, errorf(ptr(n.block.DefRange), "Missing topic name",
			"A topic block with for_each needs a name attribute, e.g. name = \"orders.${each.key}\", so that every instance has its own topic."))
		return
	}
	instances := map[string]cty.Value{}
	for _, key := range instanceKeys(keys) {
		ctyVals, vals, ok := l.evalShape(s, TopicAttributes, nil, l.evalCtx(n, each[key]))
		if !ok || !l.rejectSecrets(s, vals, "a topic") {
			continue
		}
		name, _ := vals["name"].(string)
		if s.attrs["name"] == nil {
			name = n.name
			ctyVals["name"] = cty.StringVal(name)
		}
		rng := n.block.DefRange
		if a := s.attrs["name"]; a != nil {
			rng = a.Expr.Range()
		}
		if !l.checkTopicName(&rng, "The topic name", name) {
			continue
		}
		rf := vals["replication_factor"].(int64)
		if rf == 0 {
			l.diags = append(l.diags, errorf(ptr(s.attrs["replication_factor"].Expr.Range()), "Value out of range",
				"The replication_factor must be -1 (the broker's default) or between 1 and 32767."))
			continue
		}
		p := vals["partitions"].(int64)
		keySchema, ok1 := l.schemaRef(s.attrs["key_schema"])
		valueSchema, ok2 := l.schemaRef(s.attrs["value_schema"])
		if !ok1 || !ok2 {
			continue
		}
		l.cfg.Topics = append(l.cfg.Topics, &Topic{
			Address:           instanceAddr(n.addr, key, keys != nil),
			Name:              name,
			Partitions:        int32(p),
			ReplicationFactor: int16(rf),
			Config:            vals["config"].(map[string]string),
			KeySchema:         keySchema.record(),
			ValueSchema:       valueSchema.record(),
			KeySchemaName:     keySchema.name(),
			ValueSchemaName:   valueSchema.name(),
			DeclRange:         n.block.DefRange,
		})
		instances[key] = cty.ObjectVal(ctyVals)
	}
	l.values[n.addr] = instanceValue(keys, instances)
}

// instanceKeys is the list of instance keys to evaluate: "" alone for a
// block without for_each.
func instanceKeys(keys []string) []string {
	if keys == nil {
		return []string{""}
	}
	return keys
}

// instanceValue is what a reference to a block sees: its object, or an
// object of instance objects by key with for_each.
func instanceValue(keys []string, instances map[string]cty.Value) cty.Value {
	if keys == nil {
		if v, ok := instances[""]; ok {
			return v
		}
		return cty.DynamicVal
	}
	if len(instances) != len(keys) {
		return cty.DynamicVal
	}
	return cty.ObjectVal(instances)
}

// compileCEL compiles an expression that HCL evaluated to src; errors
// point inside the HCL string.
func (l *loader) compileCEL(env *expr.Env, want expr.Type, e hcl.Expression, src string, ctx *hcl.EvalContext, what string) (*Expr, bool) {
	var file []byte
	if f := l.parser.Files()[e.Range().Filename]; f != nil {
		file = f.Bytes
	}
	x, diags := CompileCEL(env, want, file, e, src, ctx, what)
	l.diags = append(l.diags, diags...)
	if x != nil && readsRecord(env) {
		if l.origins == nil {
			l.origins = map[*Expr]celOrigin{}
		}
		l.origins[x] = celOrigin{env: env, file: file, expr: e, ctx: ctx, want: want, what: what}
	}
	return x, x != nil
}

// CompileCEL compiles src, the string an HCL expression e of file
// evaluated to in ctx, as CEL in env with the result type want. Its
// diagnostics point inside the HCL string; what names the expression in
// them ("predicate.external"). The result is nil when src does not
// compile.
func CompileCEL(env *expr.Env, want expr.Type, file []byte, e hcl.Expression, src string, ctx *hcl.EvalContext, what string) (*Expr, hcl.Diagnostics) {
	prog, issues := env.Compile(src, want)
	if len(issues) == 0 {
		return &Expr{Source: src, Program: prog, Range: e.Range()}, nil
	}
	return nil, celDiags(hcl.DiagError, file, e, src, ctx, what, issues, "")
}

// celDiags are the diagnostics of CEL problems in src, the string an HCL
// expression e of file evaluated to in ctx, pointing inside the HCL
// string; note ends each detail.
func celDiags(sev hcl.DiagnosticSeverity, file []byte, e hcl.Expression, src string, ctx *hcl.EvalContext, what string, issues []expr.Issue, note string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	m := newCELSourceMap(file, e, src, ctx)
	for _, is := range issues {
		r := m.rangeOf(is.Offset, is.End)
		msg := is.Message
		if !strings.HasSuffix(msg, ".") && !strings.HasSuffix(msg, "?") {
			msg += "."
		}
		diags = append(diags, &hcl.Diagnostic{Severity: sev, Summary: "Invalid CEL expression", Detail: fmt.Sprintf("In %s: %s", what, msg) + note, Subject: &r})
	}
	return diags
}

var predicateSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "expr", Required: true}}}

func (l *loader) decodePredicate(n *node) {
	content, diags := n.block.Body.Content(predicateSchema)
	l.diags = append(l.diags, diags...)
	a := content.Attributes["expr"]
	if a == nil {
		return
	}
	ctx := l.evalCtx(n, nil)
	src, ok := l.plainString(a, ctx, "expr of a predicate")
	if !ok {
		return
	}
	e, ok := l.compileCEL(expr.RecordEnv(), expr.Bool, a.Expr, src, ctx, "predicate."+n.name)
	if !ok {
		return
	}
	p := &Predicate{Name: n.name, Expr: e, DeclRange: n.block.DefRange}
	l.predicates[n.name] = p
	l.cfg.Predicates = append(l.cfg.Predicates, p)
}

// builtinConverter returns the converter a string names ("json") with its
// schema's defaults; known is false when there is no such type. A type that
// cannot go without settings (a required attribute) is reported at rng and
// gives no converter.
func (l *loader) builtinConverter(name string, rng *hcl.Range) (c *Converter, known bool) {
	schema, ok := l.opts.Plugins.Schema(configschema.Converter, name)
	if !ok {
		return nil, false
	}
	cfg, errs := schema.Coerce(nil)
	for _, e := range errs {
		l.diags = append(l.diags, errorf(rng, "Converter needs settings",
			"The converter %q cannot be named by its type alone: %s Declare a converter block with its settings and refer to it as converter.NAME.", name, e.Detail))
	}
	if len(errs) > 0 {
		return nil, true
	}
	return &Converter{Type: name, Config: cfg}, true
}

var converterTypeSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "type", Required: true}}}

func (l *loader) decodeConverterBlock(n *node) {
	content, rest, diags := n.block.Body.PartialContent(converterTypeSchema)
	l.diags = append(l.diags, diags...)
	a := content.Attributes["type"]
	if a == nil {
		return
	}
	ctx := l.evalCtx(n, nil)
	typ, ok := l.plainString(a, ctx, "type of a converter")
	if !ok {
		return
	}
	schema, ok := l.opts.Plugins.Schema(configschema.Converter, typ)
	if !ok {
		types := l.opts.Plugins.Types(configschema.Converter)
		l.diags = append(l.diags, errorf(ptr(a.Expr.Range()), "Unknown converter type",
			"There is no converter type %q. The converter types are %s.%s", typ, configschema.Alternatives(types), configschema.DidYouMean(typ, types)))
		return
	}
	s := l.shapeOf(rest, schema.Attributes, schema.Blocks)
	_, vals, ok := l.evalShape(s, schema.Attributes, schema.Blocks, ctx)
	if !ok || !l.checkGroups(schema, s, vals, n.block.DefRange) {
		return
	}
	for _, b := range schema.Blocks {
		if s.blocks[b.Name] == nil {
			delete(vals, b.Name) // an absent block stays absent
		}
	}
	// schema = schema.order takes the document's text; a protobuf
	// schema's message comes with it where the converter has a message
	// attribute left unset.
	if msg := l.converterSchemaMessage(s.attrs["schema"]); msg != "" {
		if _, has := findAttribute(schema.Attributes, "message"); has && asString(vals["message"]) == "" {
			vals["message"] = msg
		}
	}
	c := &Converter{Name: n.name, Type: typ, Config: vals, DeclRange: n.block.DefRange}
	l.converters[n.name] = c
	l.cfg.Converters = append(l.cfg.Converters, c)
}

// checkGroups reports the schema's attribute groups (configschema's
// CheckGroups) broken by the attributes a block sets: s is the block's
// shape, vals its evaluated values. An error about an attribute points at
// its name, one about the whole group at the block.
func (l *loader) checkGroups(schema *configschema.Schema, s *shape, vals map[string]any, block hcl.Range) bool {
	set := map[string]any{}
	for name := range s.attrs {
		switch v := vals[name].(type) {
		case nil:
		case Secret:
			set[name] = configschema.Sensitive{Value: v.Value}
		default:
			set[name] = v
		}
	}
	errs := schema.CheckGroups(set)
	for _, e := range errs {
		rng := block
		if a := s.attrs[e.Attribute]; a != nil {
			rng = a.NameRange
		}
		l.diags = append(l.diags, errorf(&rng, e.Summary, "%s", e.Detail))
	}
	return len(errs) == 0
}

// durationOf reads a duration that configschema already checked.
func durationOf(v any) time.Duration {
	d, _ := time.ParseDuration(asString(v))
	return d
}
