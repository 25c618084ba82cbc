package control

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/pipectl/pipectl/lang"
	"github.com/pipectl/pipectl/lang/configschema"
)

// Kind is the kind of a resource.
type Kind string

// Resource kinds.
const (
	KindTopic    Kind = "topic"
	KindPipeline Kind = "pipeline"
)

// Resource is one resource of the state: a topic or a pipeline, fully
// resolved. Exactly one of Topic and Pipeline is set.
type Resource struct {
	Address  string        `json:"address"`
	Kind     Kind          `json:"kind"`
	Topic    *TopicSpec    `json:"topic,omitempty"`
	Pipeline *PipelineSpec `json:"pipeline,omitempty"`
}

// Hash identifies the resource's content: two resources with the same hash
// need no change. Secrets contribute their stored form (reference, or HMAC
// of the value), never the clear value.
func (r *Resource) Hash() string {
	b, err := json.Marshal(r)
	if err != nil {
		panic(fmt.Sprintf("control: resource %s does not marshal: %v", r.Address, err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TopicSpec is a topic resource.
type TopicSpec struct {
	Name              string            `json:"name"`
	Partitions        int32             `json:"partitions"`
	ReplicationFactor int16             `json:"replication_factor"`
	Config            map[string]string `json:"config,omitempty"`
}

// PipelineSpec is a source or sink resource as the workers run it: every
// reference resolved, transforms and converters inlined, CEL as source text.
type PipelineSpec struct {
	// Kind is configschema.Source or configschema.Sink. Its JSON form is
	// the plain string ("source", "sink"), as in state written before it
	// was typed, so that hashes and stored records read the same.
	Kind  configschema.Kind `json:"kind"`
	Type  string            `json:"type"`
	Tasks int               `json:"tasks"`
	// Paused and Stopped are the HCL state attribute (paused, stopped);
	// an operational pause or stop lives in the status topic. A pipeline
	// deployed paused keeps the paused key it had before state existed,
	// so that its hash does not change.
	Paused  bool `json:"paused,omitempty"`
	Stopped bool `json:"stopped,omitempty"`
	// Delivery is "exactly_once" for a source that writes each batch and
	// its offsets in one transaction; "" or "at_least_once" otherwise.
	Delivery string `json:"delivery,omitempty"`
	// Config holds the plugin's attributes: JSON values, with sensitive
	// ones as *Secret. Use Plugin config decoding to get typed values.
	Config         map[string]any  `json:"config"`
	Transforms     []TransformSpec `json:"transforms,omitempty"`
	KeyConverter   ConverterSpec   `json:"key_converter"`
	ValueConverter ConverterSpec   `json:"value_converter"`
	Errors         ErrorsSpec      `json:"errors"`
	Restart        *RestartSpec    `json:"restart,omitempty"`
	// Kafka is the kafka block's client overrides; nil without any, so
	// that a pipeline without them hashes as before they existed.
	Kafka *ClientOverridesSpec `json:"kafka,omitempty"`
	// Sinks only.
	Topics      []string `json:"topics,omitempty"`
	TopicsRegex string   `json:"topics_regex,omitempty"`
	StartFrom   string   `json:"start_from,omitempty"`
	// CommitInterval is empty at the default (lang.DefaultCommitInterval),
	// so that a configuration that does not set it hashes as before the
	// attribute existed.
	CommitInterval string `json:"commit_interval,omitempty"`
}

// TransformSpec is one transform of a pipeline, in the fixed operation
// order of docs/language.md (when/unless, filter, set, rename, drop, key,
// topic, headers).
type TransformSpec struct {
	Name    string          `json:"name"`
	When    *ConditionSpec  `json:"when,omitempty"`
	Unless  *ConditionSpec  `json:"unless,omitempty"`
	Filter  string          `json:"filter,omitempty"`
	Set     []SetSpec       `json:"set,omitempty"`
	Rename  []RenameSpec    `json:"rename,omitempty"`
	Drop    []string        `json:"drop,omitempty"`
	Key     string          `json:"key,omitempty"`
	Topic   string          `json:"topic,omitempty"`
	Headers []HeaderSetSpec `json:"headers,omitempty"`
}

// ConditionSpec is a when/unless: Expr is the CEL text; Predicate names the
// predicate it came from, if any.
type ConditionSpec struct {
	Predicate string `json:"predicate,omitempty"`
	Expr      string `json:"expr"`
}

// SetSpec is one set operation: Path is "value.a.b".
type SetSpec struct {
	Path string `json:"path"`
	Expr string `json:"expr"`
}

// RenameSpec is one rename operation.
type RenameSpec struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// HeaderSetSpec is one headers operation.
type HeaderSetSpec struct {
	Name string `json:"name"`
	Expr string `json:"expr"`
}

// ConverterSpec is a resolved converter.
type ConverterSpec struct {
	Name   string         `json:"name,omitempty"` // the converter block, "" for a built-in by name
	Type   string         `json:"type"`
	Config map[string]any `json:"config,omitempty"`
}

// ClientOverridesSpec holds Kafka client properties, by Kafka's names, of
// a pipeline's producer (a source) or consumer (a sink); runtime/kafka maps
// them onto franz-go options.
type ClientOverridesSpec struct {
	Producer map[string]string `json:"producer,omitempty"`
	Consumer map[string]string `json:"consumer,omitempty"`
}

// RestartSpec is a pipeline's automatic restart policy; absent when
// failed tasks are never restarted automatically.
type RestartSpec struct {
	MaxAttempts int    `json:"max_attempts"`
	Backoff     string `json:"backoff"`
}

// ErrorsSpec is a pipeline's error policy. Durations are Go duration
// strings.
type ErrorsSpec struct {
	Tolerance       string `json:"tolerance"`
	DeadLetterTopic string `json:"dead_letter_topic,omitempty"`
	RetryTimeout    string `json:"retry_timeout"`
	RetryBackoffMax string `json:"retry_backoff_max"`
}

// Resources turns a loaded configuration into the resources of the state,
// sorted by address. Sensitive values become references or are encrypted
// with keys (nil keys: a sensitive value that is not a reference is an
// error naming the attribute, never the value).
func Resources(cfg *lang.Config, keys *Keys) ([]*Resource, error) {
	var out []*Resource
	for _, t := range cfg.Topics {
		out = append(out, &Resource{Address: t.Address, Kind: KindTopic, Topic: &TopicSpec{
			Name: t.Name, Partitions: t.Partitions, ReplicationFactor: t.ReplicationFactor, Config: t.Config,
		}})
	}
	for _, p := range cfg.Pipelines {
		spec, err := pipelineSpec(p, keys)
		if err != nil {
			return nil, err
		}
		out = append(out, &Resource{Address: p.Address, Kind: KindPipeline, Pipeline: spec})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out, nil
}

func pipelineSpec(p *lang.Pipeline, keys *Keys) (*PipelineSpec, error) {
	spec := &PipelineSpec{
		Kind:           p.Kind,
		Type:           p.Type,
		Tasks:          p.Tasks,
		Paused:         p.State == lang.StatePaused,
		Stopped:        p.State == lang.StateStopped,
		Delivery:       deliveryOf(p),
		Config:         map[string]any{},
		KeyConverter:   converterSpec(p.KeyConverter),
		ValueConverter: converterSpec(p.ValueConverter),
		Errors: ErrorsSpec{
			Tolerance:       p.Errors.Tolerance,
			DeadLetterTopic: p.Errors.DeadLetterTopic,
			RetryTimeout:    p.Errors.RetryTimeout.String(),
			RetryBackoffMax: p.Errors.RetryBackoffMax.String(),
		},
		Topics:      p.Topics,
		TopicsRegex: p.TopicsRegex,
		StartFrom:   p.StartFrom,
	}
	if p.CommitInterval > 0 && p.CommitInterval != lang.DefaultCommitInterval {
		spec.CommitInterval = p.CommitInterval.String()
	}
	if p.Restart.MaxAttempts > 0 {
		spec.Restart = &RestartSpec{MaxAttempts: p.Restart.MaxAttempts, Backoff: p.Restart.Backoff.String()}
	}
	if o := p.ClientOverrides; len(o.Producer) > 0 || len(o.Consumer) > 0 {
		spec.Kafka = &ClientOverridesSpec{Producer: o.Producer, Consumer: o.Consumer}
	}
	for name, v := range p.Config {
		sv, err := storeValue(keys, p.Address+"."+name, v)
		if err != nil {
			return nil, err
		}
		spec.Config[name] = sv
	}
	for _, t := range p.Transforms {
		spec.Transforms = append(spec.Transforms, transformSpec(t))
	}
	return spec, nil
}

// storeValue turns a configuration value into its stored form.
func storeValue(keys *Keys, where string, v any) (any, error) {
	switch v := v.(type) {
	case lang.Secret:
		return keys.Seal(where, v)
	case map[string]any:
		out := map[string]any{}
		for k, e := range v {
			sv, err := storeValue(keys, where+"."+k, e)
			if err != nil {
				return nil, err
			}
			out[k] = sv
		}
		return out, nil
	}
	return v, nil
}

func converterSpec(c *lang.Converter) ConverterSpec {
	if c == nil {
		return ConverterSpec{}
	}
	return ConverterSpec{Name: c.Name, Type: c.Type, Config: c.Config}
}

func condition(c *lang.Condition) *ConditionSpec {
	if c == nil {
		return nil
	}
	return &ConditionSpec{Predicate: c.Predicate, Expr: c.Expr.Source}
}

func source(e *lang.Expr) string {
	if e == nil {
		return ""
	}
	return e.Source
}

// TransformSpecOf is the resolved form of a transform block, as a
// pipeline's spec holds it.
func TransformSpecOf(t *lang.Transform) TransformSpec { return transformSpec(t) }

func transformSpec(t *lang.Transform) TransformSpec {
	s := TransformSpec{
		Name:   t.Name,
		When:   condition(t.When),
		Unless: condition(t.Unless),
		Filter: source(t.Filter),
		Key:    source(t.Key),
		Topic:  source(t.Topic),
	}
	for _, op := range t.Set {
		s.Set = append(s.Set, SetSpec{Path: op.Path.String(), Expr: op.Expr.Source})
	}
	for _, op := range t.Rename {
		s.Rename = append(s.Rename, RenameSpec{From: op.From.String(), To: op.To.String()})
	}
	for _, p := range t.Drop {
		s.Drop = append(s.Drop, p.String())
	}
	for _, h := range t.Headers {
		s.Headers = append(s.Headers, HeaderSetSpec{Name: h.Name, Expr: h.Expr.Source})
	}
	return s
}

// deliveryOf stores only the non-default delivery, so that state written
// before the attribute existed keeps its hash.
func deliveryOf(p *lang.Pipeline) string {
	if p.Delivery == "exactly_once" {
		return p.Delivery
	}
	return ""
}
