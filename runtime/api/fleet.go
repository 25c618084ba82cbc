package api

import (
	"context"
	"errors"
	"fmt"
)

// Fleet is what the API needs of the worker. Every method answers for the
// whole fleet, whichever worker runs the pipeline, and must be safe for
// concurrent use.
//
// Addresses are pipeline addresses as written in configuration
// (sink.file.out, source.kafka.mirror["eu"]), already unescaped. Before any
// per-pipeline method the API looks the pipeline up with Pipeline and
// answers 404 itself when it is unknown, so the other methods meet an
// unknown address only in a race with an apply; they then return an error
// that Is [ErrNotFound].
//
// Errors choose the status code with errors.Is: [ErrNotFound] 404,
// [ErrBadRequest] 400, [ErrConflict] 409, [ErrUnavailable] 503, anything else
// 500. The error's text is the message the client sees; build one with
// [Errorf] to give a kind and a message at once.
type Fleet interface {
	// ClusterID is the ID of the Kafka cluster that holds the fleet's topics.
	ClusterID(ctx context.Context) (string, error)

	// Pipelines lists every pipeline in the fleet's state, in any order.
	Pipelines(ctx context.Context) ([]PipelineInfo, error)
	// Pipeline looks one pipeline up; ok is false when the state has none
	// at address.
	Pipeline(ctx context.Context, address string) (p PipelineInfo, ok bool, err error)
	// Status is the pipeline's state and its tasks' states, from the status
	// topic; ok is false when the state has no pipeline at address.
	Status(ctx context.Context, address string) (s Status, ok bool, err error)

	// Pause, Stop and Resume record the operational pause, stop
	// (KIP-875's STOPPED) or resume in the status topic. They return once
	// it is recorded, not once the tasks have paused or stopped.
	Pause(ctx context.Context, address string) error
	Stop(ctx context.Context, address string) error
	Resume(ctx context.Context, address string) error
	// Restart restarts the pipeline and, as opts say, its tasks (Kafka
	// Connect's KIP-745), and returns the status with the instances being
	// restarted in state RESTARTING. It returns before they are running.
	Restart(ctx context.Context, address string, opts RestartOptions) (Status, error)
	// RestartTask restarts one task; the API has checked 0 <= task < Tasks.
	RestartTask(ctx context.Context, address string, task int) error

	// Offsets, AlterOffsets and ResetOffsets read and change the pipeline's
	// offsets (KIP-875). Changes are allowed only on a paused or stopped
	// pipeline: on a running one they return an error that Is
	// [ErrConflict] and says to pause it first.
	Offsets(ctx context.Context, address string) (Offsets, error)
	AlterOffsets(ctx context.Context, address string, o Offsets) error
	ResetOffsets(ctx context.Context, address string) error

	// Topics lists the topics the pipeline used (KIP-558), from the
	// status topic, sorted; ResetTopics forgets them. A topic still in use
	// shows again once a task uses it after the reset.
	Topics(ctx context.Context, address string) ([]string, error)
	ResetTopics(ctx context.Context, address string) error

	// Plugins lists the plugins registered in this worker.
	Plugins() []PluginInfo
	// Health returns nil when the worker is ready to serve: it has joined
	// the group and read the fleet's state. The error says what is wrong.
	Health(ctx context.Context) error
}

// Loggers are the worker's named loggers and their levels (Kafka
// Connect's /admin/loggers, KIP-495 and KIP-976). Unlike [Fleet], they
// are this worker's own, except SetClusterLevel's.
type Loggers interface {
	// Loggers lists the loggers that have a level of their own, and
	// root.
	Loggers() map[string]LoggerLevel
	// Logger is a logger's level: its own or its nearest ancestor's.
	Logger(name string) LoggerLevel
	// SetLevel sets the level of a logger and of the loggers below it on
	// this worker, and returns their names. A bad level is an error that
	// Is [ErrBadRequest].
	SetLevel(name, level string) ([]string, error)
	// SetClusterLevel asks every worker of the fleet to do SetLevel.
	SetClusterLevel(ctx context.Context, name, level string) error
}

// LoggerLevel is a logger's level, in Kafka Connect's shape.
type LoggerLevel struct {
	Level string `json:"level"` // log4j's names: TRACE, DEBUG, INFO, WARN, ERROR, FATAL, OFF
	// LastModified is when the level was set, in milliseconds since the
	// epoch; null for a level set at start.
	LastModified *int64 `json:"last_modified"`
}

// PipelineType is the kind of a pipeline, as Kafka Connect's "type".
type PipelineType string

// Pipeline types.
const (
	TypeSource PipelineType = "source"
	TypeSink   PipelineType = "sink"
)

// PipelineInfo is one pipeline of the fleet's state.
type PipelineInfo struct {
	Address    string       // source.kafka.mirror["eu"]
	Type       PipelineType // source or sink
	PluginType string       // the plugin's type label: "file", "kafka"
	// Config is the resolved configuration in Kafka Connect's key names
	// where one exists (connector.class, name, topics, tasks.max,
	// transforms.*, errors.*, key.converter …) and pipectl's attribute
	// names otherwise, with every sensitive value replaced by
	// [SensitiveValue] by the worker. The API does not modify it.
	Config map[string]any
	// Tasks is the number of tasks; 0 when the pipeline is Stopped, as a
	// stopped connector of Kafka Connect has none.
	Tasks   int
	Stopped bool
}

// Class is the plugin class, Kafka Connect's connector.class: source.file.
func (p PipelineInfo) Class() string { return string(p.Type) + "." + p.PluginType }

// SensitiveValue stands in for a sensitive value in a configuration that the
// API shows.
const SensitiveValue = "(sensitive value)"

// State is the state of a pipeline or of one of its tasks, as Kafka Connect
// names them.
type State string

// States.
const (
	StateUnassigned State = "UNASSIGNED"
	StateRunning    State = "RUNNING"
	StatePaused     State = "PAUSED"
	StateStopped    State = "STOPPED"
	StateFailed     State = "FAILED"
	StateRestarting State = "RESTARTING"
)

// Status is a pipeline's status in Kafka Connect's shape
// (ConnectorStateInfo); the worker fills every field.
type Status struct {
	Name      string          `json:"name"` // the pipeline address
	Connector ConnectorStatus `json:"connector"`
	Tasks     []TaskStatus    `json:"tasks"`
	Type      PipelineType    `json:"type"`
}

// ConnectorStatus is the state of the pipeline as a whole.
type ConnectorStatus struct {
	State    State  `json:"state"`
	WorkerID string `json:"worker_id"`
	Trace    string `json:"trace,omitempty"` // the error, when FAILED
}

// TaskStatus is the state of one task.
type TaskStatus struct {
	ID       int    `json:"id"`
	State    State  `json:"state"`
	WorkerID string `json:"worker_id"`
	Trace    string `json:"trace,omitempty"` // the error, when FAILED
}

// RestartOptions are the query parameters of POST .../restart (KIP-745).
type RestartOptions struct {
	// IncludeTasks restarts the tasks as well as the pipeline.
	IncludeTasks bool
	// OnlyFailed restarts only the instances (pipeline, tasks) that are
	// FAILED.
	OnlyFailed bool
}

// Offsets are a pipeline's offsets in KIP-875's shape:
//
//	{"offsets": [{"partition": {...}, "offset": {...}}]}
//
// For a sink pipeline, partition is {"kafka_topic": T, "kafka_partition": P}
// and offset {"kafka_offset": O}; a source pipeline's are its connector's
// own. In a PATCH, a null offset resets that partition. Numbers in a PATCH
// body arrive as json.Number, so no offset loses precision.
type Offsets struct {
	Offsets []PartitionOffset `json:"offsets"`
}

// PartitionOffset is the offset of one partition.
type PartitionOffset struct {
	Partition map[string]any `json:"partition"`
	Offset    map[string]any `json:"offset"` // nil: reset (PATCH only)
}

// PluginInfo is one registered plugin, in Kafka Connect's shape
// (PluginInfo): class is KIND.TYPE.
type PluginInfo struct {
	Class   string `json:"class"`   // source.file, converter.json
	Type    string `json:"type"`    // source, sink, converter
	Version string `json:"version"` // the plugin's version, or pipectl's
}

// Error kinds; see [Fleet] for the status code of each.
var (
	ErrNotFound    = errors.New("not found")
	ErrBadRequest  = errors.New("bad request")
	ErrConflict    = errors.New("conflict")
	ErrUnavailable = errors.New("unavailable")
)

// Errorf returns an error whose text is the formatted message, which the
// client sees as is, and that Is kind (and whatever %w wraps), e.g.
//
//	api.Errorf(api.ErrConflict, "pipeline %s is running: pause it before changing its offsets", addr)
func Errorf(kind error, format string, args ...any) error {
	return &kindError{kind: kind, err: fmt.Errorf(format, args...)}
}

type kindError struct {
	kind error
	err  error
}

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.kind, e.err} }
