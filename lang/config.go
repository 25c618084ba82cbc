package lang

import (
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/lang/expr"
	"github.com/pipectl/pipectl/lang/recordschema"
)

// PluginSchemas is how lang finds the configuration schema of a connector or
// converter type. runtime/connector's Registry satisfies it.
type PluginSchemas interface {
	Schema(kind configschema.Kind, typ string) (*configschema.Schema, bool)
	Types(kind configschema.Kind) []string
}

// Options control Load.
type Options struct {
	// Plugins resolves connector and converter types. Required.
	Plugins PluginSchemas
	// Vars are the -var and -var-file arguments in command-line order;
	// later ones win, as in Terraform.
	Vars []VarArg
	// LookupEnv reads the environment for env() and PIPECTL_VAR_name;
	// nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
}

// VarArg is one -var NAME=VALUE (Raw) or -var-file PATH (File) argument,
// or a value already evaluated elsewhere (Name and Value, e.g. from a
// test file's variables block; From says where for messages, Range points
// at it).
type VarArg struct {
	Raw  string
	File string

	Name  string
	Value cty.Value
	From  string
	Range *hcl.Range
}

// Config is a loaded configuration: the resolved content of a directory of
// *.hcl files. Everything in it is already checked; each part keeps the
// source range it came from.
type Config struct {
	// Dir is the configuration directory as given to Load.
	Dir string
	// Files holds every parsed file by the file name its diagnostics use,
	// so that views can print source snippets.
	Files map[string]*hcl.File

	Fleet      *Fleet
	Variables  []*Variable
	Topics     []*Topic       // for_each instances expanded, sorted by address
	Schemas    []*SchemaBlock // schema blocks, sorted by name
	Pipelines  []*Pipeline    // for_each instances expanded, sorted by address
	Transforms []*Transform   // sorted by name
	Predicates []*Predicate   // sorted by name
	Converters []*Converter   // sorted by name
	Graph      Graph

	// Moved and Imports are the top-level moved and import blocks, in
	// file order (see moved.go and import.go).
	Moved   []*Moved
	Imports []*Import
}

// Fleet is the fleet block: which worker fleet the configuration targets
// and how to reach its Kafka cluster.
type Fleet struct {
	Name    string
	Brokers []string
	SASL    *SASL // nil without a sasl block
	TLS     *TLS  // nil without a tls block
	// ClientOverridePolicy is "all", "none" or "allowlist": which Kafka
	// client properties pipelines may override (ClientOverrideAllowlist
	// with "allowlist").
	ClientOverridePolicy    string
	ClientOverrideAllowlist []string
	DeclRange               hcl.Range
}

// SASL is fleet { kafka { sasl { ... } } }.
type SASL struct {
	Mechanism string // PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
	Username  string
	Password  Secret
}

// TLS is fleet { kafka { tls { ... } } }.
type TLS struct {
	CAFile             string
	CertFile           string
	KeyFile            string
	ServerName         string
	InsecureSkipVerify bool
}

// Variable is a declared input variable and the value it resolved to.
type Variable struct {
	Name        string
	Description string
	Sensitive   bool
	Value       cty.Value
	DeclRange   hcl.Range
}

// Topic is one topic resource (one instance of a for_each topic block).
type Topic struct {
	Address           string // topic.orders or topic.orders["eu"]
	Name              string // the Kafka topic name
	Partitions        int32
	ReplicationFactor int16 // -1: the broker's default
	Config            map[string]string
	Lifecycle         Lifecycle // the lifecycle block (lifecycle.go)
	// KeySchema and ValueSchema are the declared record schemas of the
	// topic's keys and values (key_schema, value_schema: schema blocks);
	// nil for none. The CEL of sinks reading the topic is typed by them.
	KeySchema, ValueSchema *recordschema.Schema
	// KeySchemaName and ValueSchemaName name those schema blocks (in
	// Config.Schemas, with their documents); "" for none.
	KeySchemaName, ValueSchemaName string
	DeclRange                      hcl.Range
}

// Pipeline is one source or sink resource (one instance of a for_each
// block) with every reference resolved.
type Pipeline struct {
	Address string // source.generator.orders or source.kafka.mirror["orders"]
	Kind    configschema.Kind
	Type    string
	Name    string
	Key     string // the for_each key, "" without for_each

	Tasks int
	// State is the state attribute (or the deprecated paused = true):
	// the state the pipeline is deployed in.
	State PipelineState
	// Delivery is "at_least_once" or, for sources, "exactly_once".
	Delivery string
	// Config holds the plugin's own attributes after defaults: string,
	// int64, float64, bool, []string, map[string]string, or Secret for a
	// sensitive value. Durations are strings in Go syntax; expression
	// attributes hold their CEL source and are compiled in Exprs.
	Config map[string]any
	// Exprs are the plugin's expression attributes, compiled.
	Exprs map[string]*Expr

	Transforms     []*Transform
	KeyConverter   *Converter
	ValueConverter *Converter
	Errors         ErrorPolicy
	Restart        RestartPolicy
	// ClientOverrides is the kafka block: Kafka client properties of the
	// pipeline's producer (a source) or consumer (a sink).
	ClientOverrides ClientOverrides

	// Sinks only.
	Topics         []string
	TopicsRegex    string
	StartFrom      string
	CommitInterval time.Duration

	Lifecycle Lifecycle // the lifecycle block (lifecycle.go)
	DeclRange hcl.Range
}

// ErrorPolicy is a pipeline's errors block.
type ErrorPolicy struct {
	Tolerance       string // "none" or "all"
	DeadLetterTopic string
	RetryTimeout    time.Duration
	RetryBackoffMax time.Duration
}

// RestartPolicy is a pipeline's restart block: how often a failed task is
// restarted automatically (0: never, it waits for pipectl restart) and the
// first wait, doubled at each attempt.
type RestartPolicy struct {
	MaxAttempts int
	Backoff     time.Duration
}

// Converter is a converter block, or a built-in converter named by a string
// (then Name is empty and Config holds the defaults).
type Converter struct {
	Name      string // the block name, "" for a built-in used by name
	Type      string
	Config    map[string]any
	DeclRange hcl.Range
}

// Predicate is a named boolean CEL expression over a record.
type Predicate struct {
	Name      string
	Expr      *Expr
	DeclRange hcl.Range
}

// Transform is a transform block. Its operations run in this fixed order:
// When/Unless, Filter, Set, Rename, Drop, Key, Topic, Headers.
type Transform struct {
	Name      string
	When      *Condition
	Unless    *Condition
	Filter    *Expr
	Set       []SetOp
	Rename    []RenameOp
	Drop      []Path
	Key       *Expr
	Topic     *Expr
	Headers   []HeaderOp
	DeclRange hcl.Range
}

// Condition is a when/unless: a predicate reference or an inline expression.
type Condition struct {
	Predicate string // the predicate's name; "" for an inline expression
	Expr      *Expr
}

// SetOp is one entry of a transform's set map.
type SetOp struct {
	Path Path
	Expr *Expr
}

// RenameOp is one entry of a transform's rename map.
type RenameOp struct {
	From, To Path
}

// HeaderOp is one entry of a transform's headers map.
type HeaderOp struct {
	Name string
	Expr *Expr
}

// Path addresses a part of a record: key, value or headers, then fields.
type Path struct {
	Root   string // "key", "value" or "headers"
	Fields []string
}

// String renders the path as written: value.a.b.
func (p Path) String() string {
	s := p.Root
	for _, f := range p.Fields {
		s += "." + f
	}
	return s
}

// Expr is a CEL expression after HCL interpolation, compiled.
type Expr struct {
	Source  string
	Program *expr.Program
	Range   hcl.Range
}

// Secret is a sensitive value. It never prints itself: String, GoString,
// Format through %v and MarshalJSON all give "(sensitive value)". Whoever
// stores it must do so explicitly through Value and Ref.
type Secret struct {
	// Value is the clear value: a string, int64, float64 or bool.
	Value any
	// Ref is "env:NAME" or "file:PATH" when the value is exactly the
	// result of env("NAME") or file("PATH"), so that it can be stored as a
	// reference and resolved by the worker; "" otherwise.
	Ref string
}

// Redacted is what a sensitive value prints as.
const Redacted = "(sensitive value)"

func (Secret) String() string   { return Redacted }
func (Secret) GoString() string { return Redacted }

// MarshalJSON redacts the value.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// Graph is the dependency graph of a configuration, for `pipectl graph`.
type Graph struct {
	Nodes []GraphNode
	Edges []GraphEdge
}

// GraphNode is one referenceable object: a variable, local, topic,
// predicate, transform, converter or pipeline, by address.
type GraphNode struct {
	Address string
	Kind    string // "variable", "local", "topic", "predicate", "transform", "converter", "source", "sink", "fleet"
}

// GraphEdge says From refers to To.
type GraphEdge struct {
	From, To string
}
