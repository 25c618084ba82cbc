package lang

import (
	"time"

	"github.com/pipectl/pipectl/lang/configschema"
)

func i64(v int64) *int64 { return &v }

// PipelineState is the state a pipeline is deployed in: its state
// attribute (KIP-980's initial state).
type PipelineState string

// Pipeline states.
const (
	StateRunning PipelineState = "running"
	StatePaused  PipelineState = "paused"
	StateStopped PipelineState = "stopped"
)

func (s PipelineState) String() string { return string(s) }

// DefaultCommitInterval is a sink's commit_interval when it sets none.
const DefaultCommitInterval = time.Second

// isPipeline reports whether a block type is a pipeline's: a source or a
// sink (the plugin kinds that take CommonSchema).
func isPipeline(blockType string) bool {
	k := configschema.Kind(blockType)
	return k == configschema.Source || k == configschema.Sink
}

// CommonAttributes are the attributes every source or sink block takes in
// addition to its plugin's own, and CommonBlocks its nested blocks. They
// belong to the language, so lang declares them; `pipectl schema` and the
// generated JSON Schemas show them beside the plugin's attributes.
func CommonAttributes(kind configschema.Kind) []configschema.Attribute {
	attrs := []configschema.Attribute{
		{Name: "tasks", Type: configschema.Int, Default: int64(1), Min: i64(1), Max: i64(1024), Description: "How many tasks share the pipeline's work."},
		{Name: "transforms", Type: configschema.ListOfReference, Description: "Transforms applied to each record, in order: a list of transform.NAME references."},
		{Name: "key_converter", Type: configschema.Reference, Default: "string", Description: "Converter of record keys: \"json\", \"string\", \"bytes\" or a converter.NAME reference. A plugin whose keys are structured defaults to \"json\" instead (source sql, source postgres_cdc)."},
		{Name: "value_converter", Type: configschema.Reference, Default: "json", Description: "Converter of record values: \"json\", \"string\", \"bytes\" or a converter.NAME reference."},
		{Name: "state", Type: configschema.String, Default: string(StateRunning), Enum: []string{string(StateRunning), string(StatePaused), string(StateStopped)},
			Description: "The state the pipeline is deployed in, as Kafka Connect's initial state: running; paused (its tasks stop and report PAUSED); stopped (its tasks stop and it shows STOPPED with no tasks, as a stopped connector of Kafka Connect). Offsets can be changed while paused or stopped. An operational pause or stop (pipectl pause, pipectl stop) is kept apart from this attribute."},
		{Name: "paused", Type: configschema.Bool, Default: false, Description: "Deprecated: write state = \"paused\" instead. Deploy the pipeline paused."},
	}
	if kind == configschema.Source {
		attrs = append(attrs, configschema.Attribute{Name: "delivery", Type: configschema.String, Default: "at_least_once",
			Enum:        []string{"at_least_once", "exactly_once"},
			Description: "at_least_once: a record may be written twice after a failure. exactly_once: each batch and its source offsets are written in one Kafka transaction per task, so a read_committed consumer sees every record once."})
	}
	if kind == configschema.Sink {
		attrs = append(attrs,
			configschema.Attribute{Name: "topics", Type: configschema.ListOfString, NonEmpty: true, Description: "Topics to read. Exactly one of topics and topics_regex is required."},
			configschema.Attribute{Name: "topics_regex", Type: configschema.String, Regexp: true, Description: "Regular expression (RE2) of the topics to read."},
			configschema.Attribute{Name: "start_from", Type: configschema.String, Default: "earliest", Enum: []string{"earliest", "latest"}, Description: "Where the sink's consumer group starts in a partition with no committed offset."},
			configschema.Attribute{Name: "commit_interval", Type: configschema.Duration, Default: DefaultCommitInterval.String(), MinDuration: "10ms",
				Description: "How often, at most, the sink flushes and commits the offsets of what it wrote while records arrive; it also does at every rebalance and at stop. After a crash, what was written since the last commit is written again (Kafka Connect's offset.flush.interval.ms)."},
		)
	}
	return attrs
}

// CommonSchema is the language's part of every block of the kind (source
// or sink): CommonAttributes, CommonBlocks and their group (a sink reads
// exactly one of topics and topics_regex). lang checks a pipeline against
// it beside its plugin's schema; the worker checks the stored pipeline
// against it too.
func CommonSchema(kind configschema.Kind) *configschema.Schema {
	s := &configschema.Schema{Kind: kind, Attributes: CommonAttributes(kind), Blocks: CommonBlocks(kind)}
	if kind == configschema.Sink {
		s.ExactlyOneOf = [][]string{{"topics", "topics_regex"}}
	}
	return s
}

// CommonBlocks are the nested blocks every source or sink block takes.
func CommonBlocks(configschema.Kind) []configschema.Block {
	return []configschema.Block{{
		Name:        "restart",
		Description: "Automatic restarts of a failed task. Without this block a failed task stays FAILED until pipectl restart, the REST API or a configuration change.",
		Attributes: []configschema.Attribute{
			{Name: "max_attempts", Type: configschema.Int, Default: int64(0), Min: i64(0), Description: "How many times a failed task is restarted before it stays FAILED; 0 never restarts it. The count starts again when the configuration changes or the task is restarted by hand."},
			{Name: "backoff", Type: configschema.Duration, Default: "10s", Description: "Wait before the first automatic restart, doubled at each attempt (at most 10 minutes)."},
		},
	}, {
		Name:        "errors",
		Description: "What happens to a record that fails in a converter, a transform or the connector.",
		Attributes: []configschema.Attribute{
			{Name: "tolerance", Type: configschema.String, Default: "none", Enum: []string{"none", "all"}, Description: "none: the task fails with the error in its status; all: the record goes, unchanged, to the dead-letter topic."},
			{Name: "dead_letter_topic", Type: configschema.String, Description: "Topic that receives failed records when tolerance is all; created if not declared. Required with tolerance = \"all\"."},
			{Name: "retry_timeout", Type: configschema.Duration, Default: "60s", Description: "How long retriable errors are retried, with backoff, before they count as failures."},
			{Name: "retry_backoff_max", Type: configschema.Duration, Default: "10s", Description: "Longest wait between two retries."},
		},
	}, clientBlock}
}
