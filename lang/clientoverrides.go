package lang

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/pipectl/pipectl/lang/configschema"
)

// A pipeline's kafka block overrides settings of the Kafka clients the
// worker builds for it, by Kafka's property names (Kafka Connect's
// producer.override.* and consumer.override.*): a source's producer, a
// sink's consumer. ClientProperties lists those pipectl accepts, with the
// values each takes; runtime/kafka maps every one onto a franz-go option
// (its test fails when one is missing). Properties pipectl sets itself
// (group.id, transactional.id, the deserializers …) are refused.
//
// The fleet decides which overrides pipelines may make, as Kafka
// Connect's connector.client.config.override.policy does:
// client_override_policy = "all" (the default, as in Kafka 3.0 and later),
// "none", or "allowlist" with the property names in
// client_override_allowlist (KIP-1188). validate refuses an override the
// policy forbids, at the attribute.

// ClientProperty is one Kafka client property a pipeline may override.
type ClientProperty struct {
	Name   string
	Client string // "producer" or "consumer"
	// Kind is what the value is: "int" (a non-negative integer, bytes or
	// a count), "ms" (milliseconds), "bool", or "enum" (one of Enum).
	Kind        string
	Enum        []string
	Description string
}

// The client override policies.
const (
	OverridePolicyAll       = "all"
	OverridePolicyNone      = "none"
	OverridePolicyAllowlist = "allowlist"
)

// ClientProperties are the Kafka client properties a pipeline may set.
var ClientProperties = []ClientProperty{
	{Name: "acks", Client: "producer", Kind: "enum", Enum: []string{"all", "-1", "1", "0"}, Description: "Acknowledgements a write waits for. 1 and 0 need enable.idempotence = false; an exactly-once source needs all."},
	{Name: "batch.size", Client: "producer", Kind: "int", Description: "The most bytes of one partition's batch."},
	{Name: "buffer.memory", Client: "producer", Kind: "int", Description: "The most bytes of records buffered before writes block."},
	{Name: "compression.type", Client: "producer", Kind: "enum", Enum: []string{"none", "gzip", "snappy", "lz4", "zstd"}, Description: "Compression of batches."},
	{Name: "delivery.timeout.ms", Client: "producer", Kind: "ms", Description: "How long a record may wait to be written before it fails."},
	{Name: "enable.idempotence", Client: "producer", Kind: "bool", Description: "Idempotent writes (no duplicates from producer retries). false is refused for an exactly-once source."},
	{Name: "linger.ms", Client: "producer", Kind: "ms", Description: "How long a batch waits for more records."},
	{Name: "max.in.flight.requests.per.connection", Client: "producer", Kind: "int", Description: "Produce requests in flight per broker (at most 5 with idempotence)."},
	{Name: "max.request.size", Client: "producer", Kind: "int", Description: "The most bytes of one produce request."},
	{Name: "request.timeout.ms", Client: "producer", Kind: "ms", Description: "How long a produce request waits for its answer."},

	{Name: "fetch.max.bytes", Client: "consumer", Kind: "int", Description: "The most bytes of one fetch answer."},
	{Name: "fetch.max.wait.ms", Client: "consumer", Kind: "ms", Description: "How long the broker may wait to fill a fetch."},
	{Name: "fetch.min.bytes", Client: "consumer", Kind: "int", Description: "The fewest bytes a fetch answer waits for."},
	{Name: "heartbeat.interval.ms", Client: "consumer", Kind: "ms", Description: "Interval of group heartbeats (below session.timeout.ms)."},
	{Name: "isolation.level", Client: "consumer", Kind: "enum", Enum: []string{"read_committed", "read_uncommitted"}, Description: "Whether records of open and aborted transactions are read (read_committed is the default)."},
	{Name: "max.partition.fetch.bytes", Client: "consumer", Kind: "int", Description: "The most bytes of one partition in a fetch answer."},
	{Name: "session.timeout.ms", Client: "consumer", Kind: "ms", Description: "How long the group waits for a silent task's consumer before it moves its partitions."},
}

// reservedClientProperties are set by pipectl and cannot be overridden,
// each with where its setting lives instead.
var reservedClientProperties = map[string]string{
	"bootstrap.servers":             "the fleet block's brokers",
	"client.id":                     "pipectl (one per worker and task)",
	"group.id":                      "pipectl: a sink's group is <fleet>.<address>",
	"group.instance.id":             "pipectl: each task is a static member named after it",
	"transactional.id":              "pipectl: an exactly-once task's id is named after it",
	"enable.auto.commit":            "pipectl: a sink commits after it wrote (commit_interval)",
	"auto.offset.reset":             "the sink's start_from attribute",
	"key.serializer":                "the pipeline's key_converter",
	"value.serializer":              "the pipeline's value_converter",
	"key.deserializer":              "the pipeline's key_converter",
	"value.deserializer":            "the pipeline's value_converter",
	"security.protocol":             "the fleet block's kafka { sasl, tls } blocks",
	"sasl.mechanism":                "the fleet block's kafka { sasl } block",
	"sasl.jaas.config":              "the fleet block's kafka { sasl } block",
	"partitioner.class":             "pipectl (records keep Kafka's default partitioning)",
	"max.poll.records":              "pipectl (the worker sizes its batches)",
	"transaction.timeout.ms":        "pipectl (an exactly-once task's transactions)",
	"interceptor.classes":           "nothing: pipectl has no client interceptors",
	"allow.auto.create.topics":      "pipectl: topics are created by apply or the worker",
	"partition.assignment.strategy": "pipectl (the cooperative-sticky assignor)",
}

// ClientProperty returns the property named name.
func clientProperty(name string) (ClientProperty, bool) {
	i := slices.IndexFunc(ClientProperties, func(p ClientProperty) bool { return p.Name == name })
	if i < 0 {
		return ClientProperty{}, false
	}
	return ClientProperties[i], true
}

// clientPropertyNames lists the properties of client.
func clientPropertyNames(client string) []string {
	var names []string
	for _, p := range ClientProperties {
		if client == "" || p.Client == client {
			names = append(names, p.Name)
		}
	}
	return names
}

// checkValue reports why value does not fit p, "" when it does.
func (p ClientProperty) checkValue(value string) string {
	switch p.Kind {
	case "int", "ms":
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil || n < 0 {
			unit := "a non-negative integer"
			if p.Kind == "ms" {
				unit = "a non-negative number of milliseconds"
			}
			return fmt.Sprintf("%s takes %s, not %q", p.Name, unit, value)
		}
	case "bool":
		if value != "true" && value != "false" {
			return fmt.Sprintf("%s takes true or false, not %q", p.Name, value)
		}
	case "enum":
		if !slices.Contains(p.Enum, value) {
			return fmt.Sprintf("%s takes one of %s, not %q", p.Name, strings.Join(p.Enum, ", "), value)
		}
	}
	return ""
}

// ClientOverrides is a pipeline's kafka block.
type ClientOverrides struct {
	Producer map[string]string
	Consumer map[string]string
	// Ranges are the producer and consumer attributes' ranges, for
	// diagnostics after loading (the fleet's policy).
	Ranges map[string]hcl.Range
}

// clientBlock describes a pipeline's kafka block.
var clientBlock = configschema.Block{
	Name:        "kafka",
	Description: "Overrides of the Kafka clients the worker builds for this pipeline, by Kafka's property names (Kafka Connect's producer.override.* and consumer.override.*), as the fleet's client_override_policy allows. docs/language.md lists the properties.",
	Attributes: []configschema.Attribute{
		{Name: "producer", Type: configschema.MapOfString, Default: map[string]string{}, Description: "Producer properties (sources), e.g. { \"compression.type\" = \"zstd\", \"linger.ms\" = \"20\" }."},
		{Name: "consumer", Type: configschema.MapOfString, Default: map[string]string{}, Description: "Consumer properties (sinks), e.g. { \"fetch.max.bytes\" = \"1048576\" }."},
	},
}

// decodeClientOverrides checks a pipeline's kafka block: known
// properties of the right client, valid values, nothing reserved.
func (l *loader) decodeClientOverrides(p *Pipeline, s *shape, vals map[string]any) {
	ks := s.blocks["kafka"]
	kv, _ := vals["kafka"].(map[string]any)
	if ks == nil || kv == nil {
		return
	}
	p.ClientOverrides.Ranges = map[string]hcl.Range{}
	for _, client := range []string{"producer", "consumer"} {
		attr := ks.attrs[client]
		if attr == nil {
			continue
		}
		rng := attr.Expr.Range()
		if _, secret := kv[client].(Secret); secret {
			l.diags = append(l.diags, errorf(&rng, "Sensitive value not allowed",
				"The kafka block's %s overrides cannot be sensitive: they are shown in plans.", client))
			continue
		}
		m, _ := kv[client].(map[string]string)
		if len(m) == 0 {
			continue
		}
		p.ClientOverrides.Ranges[client] = rng
		if (client == "producer") != (p.Kind == configschema.Source) {
			has := "a sink reads with a consumer"
			if p.Kind == configschema.Source {
				has = "a source writes with a producer"
			}
			l.diags = append(l.diags, errorf(&rng, "No such Kafka client",
				"A %s has no %s of its own to override: %s. Remove %s.", p.Kind, client, has, client))
			continue
		}
		for _, name := range sortedKeys(m) {
			if where, ok := reservedClientProperties[name]; ok {
				l.diags = append(l.diags, errorf(&rng, "Property set by pipectl",
					"%s cannot be overridden: it is set by %s.", name, where))
				continue
			}
			prop, ok := clientProperty(name)
			if !ok || prop.Client != client {
				detail := fmt.Sprintf("pipectl does not override the %s property %q.", client, name)
				if ok {
					detail = fmt.Sprintf("%s is a %s property; this is the %s.", name, prop.Client, client)
				} else if near := configschema.Nearest(name, clientPropertyNames(client)); near != "" {
					detail += fmt.Sprintf(" Did you mean %q?", near)
				}
				l.diags = append(l.diags, errorf(&rng, "Unknown Kafka client property", "%s The %s properties it takes are %s.",
					detail, client, strings.Join(clientPropertyNames(client), ", ")))
				continue
			}
			if why := prop.checkValue(m[name]); why != "" {
				l.diags = append(l.diags, errorf(&rng, "Invalid Kafka client property", "%s.", why))
				continue
			}
		}
		if client == "producer" && p.Delivery == "exactly_once" {
			if m["enable.idempotence"] == "false" || (m["acks"] != "" && m["acks"] != "all" && m["acks"] != "-1") {
				l.diags = append(l.diags, errorf(&rng, "Override breaks exactly-once",
					"An exactly-once source writes in transactions, which need acks = all and idempotence: remove the acks and enable.idempotence overrides, or set delivery = \"at_least_once\"."))
			}
		}
		if m["enable.idempotence"] != "false" && (m["acks"] == "0" || m["acks"] == "1") {
			l.diags = append(l.diags, errorf(&rng, "Override needs idempotence off",
				"acks = %s does not go with idempotent writes: set \"enable.idempotence\" = \"false\" too (a retried write may then be duplicated).", m["acks"]))
		}
		if m["enable.idempotence"] != "false" {
			if n, err := strconv.Atoi(m["max.in.flight.requests.per.connection"]); err == nil && n > 5 {
				l.diags = append(l.diags, errorf(&rng, "Invalid Kafka client property",
					"max.in.flight.requests.per.connection is at most 5 with idempotent writes, not %d.", n))
			}
		}
		if client == "producer" {
			p.ClientOverrides.Producer = m
		} else {
			p.ClientOverrides.Consumer = m
		}
	}
}

// checkOverridePolicy refuses the overrides the fleet's policy forbids.
func (l *loader) checkOverridePolicy() {
	f := l.cfg.Fleet
	if f == nil {
		return
	}
	for _, p := range l.cfg.Pipelines {
		for client, m := range map[string]map[string]string{"producer": p.ClientOverrides.Producer, "consumer": p.ClientOverrides.Consumer} {
			if len(m) == 0 {
				continue
			}
			rng := p.ClientOverrides.Ranges[client]
			switch f.ClientOverridePolicy {
			case OverridePolicyNone:
				l.diags = append(l.diags, errorf(&rng, "Client override not allowed",
					"The fleet's client_override_policy is \"none\": pipelines cannot override Kafka client properties. Remove %s, or change the fleet's policy.", client))
			case OverridePolicyAllowlist:
				var refused []string
				for name := range m {
					if !slices.Contains(f.ClientOverrideAllowlist, name) {
						refused = append(refused, name)
					}
				}
				sort.Strings(refused)
				if len(refused) > 0 {
					allowed := "none"
					if len(f.ClientOverrideAllowlist) > 0 {
						allowed = strings.Join(f.ClientOverrideAllowlist, ", ")
					}
					l.diags = append(l.diags, errorf(&rng, "Client override not allowed",
						"The fleet's client_override_allowlist does not allow %s (it allows %s).", strings.Join(refused, ", "), allowed))
				}
			}
		}
	}
}
