package connector

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"time"

	"github.com/pipectl/pipectl/lang/configschema"
)

// Header is one record header.
type Header struct {
	Key   string
	Value []byte
}

// Record is one record moving through a pipeline.
//
// Key and Value are structured values as a converter produces them and
// transforms see them: nil, string, []byte, bool, int64, float64,
// map[string]any, []any, or json.RawMessage (JSON text that nobody needed
// to decode: it encodes back to itself); a key or value with a schema may
// hold time.Time and time.Duration too (schema.go).
type Record struct {
	Key   any
	Value any
	// KeySchema and ValueSchema describe Key and Value (schema.go); nil
	// means schemaless. A key or value with a schema is in the
	// representation of its schema's type and fits it.
	KeySchema, ValueSchema *Schema
	// Encoded says Key and Value hold wire bytes ([]byte or nil) that did
	// not come from this pipeline's converters: a kafka source mirroring
	// another cluster sets it, so that records pass through untouched
	// unless a transform needs them decoded.
	Encoded bool

	Headers   []Header
	Topic     string
	Partition int32 // sources: -1 lets the producer choose; sinks: the record's partition
	Offset    int64 // sinks: the record's offset; sources: set for Source.Acked
	Timestamp time.Time

	// OriginalTopic and OriginalPartition (sinks only) are where the
	// worker read the record, as Kafka Connect's SinkRecord.originalTopic
	// and originalKafkaPartition (KIP-793): a transform may route it to
	// another Topic (and so Partition), but the offsets the worker
	// commits, and the partitions of Assigned, Revoked and PreCommit, are
	// those of the topic it was read from. A sink that keeps records per
	// partition until they are durable (a Committer) keys them by these.
	// Offset is always the offset in that partition: no transform changes
	// it.
	OriginalTopic     string
	OriginalPartition int32

	// Sources only: the source partition the record came from (e.g.
	// {"file": "/var/log/app.log"}) and the position after it (e.g.
	// {"position": 1024}). The worker saves the latest offset of every
	// source partition once the records up to it are acknowledged, and
	// hands it back through TaskContext.Offset after a restart. It goes
	// by the records of each Poll: SourceOffset may be nil on all but the
	// last record of a source partition in the records one Poll returns.
	SourcePartition map[string]any
	SourceOffset    map[string]any
	// Skip (sources only) marks a record the source read but does not
	// hand on, only its position: the worker writes nothing for it and
	// saves its SourceOffset as for any other record (a kafka source
	// skips the records that came from the fleet's own cluster). Only
	// SourcePartition and SourceOffset of a skipped record count; it is
	// counted as filtered, and Acked receives it with the others.
	Skip bool
	// Err (sources only) says that the source read this record but
	// cannot hand it on as a record (a line no parser accepts): Key and
	// Value hold what it read as wire bytes ([]byte, string or nil), and
	// the worker treats the record as one that failed at stage source,
	// as it treats a converter's failure. With errors.tolerance = "none"
	// the task fails naming it; with "all" the bytes go, unchanged, to
	// the dead-letter topic with the error headers
	// (pipectl.error.stage "source"). Transforms and converters never see
	// it. Its SourceOffset counts as any other record's, and Acked
	// receives it with the others (Offset -1).
	Err error
}

// WireBytes returns the bytes of a key or value that already is bytes:
// []byte and json.RawMessage as they are, a string's bytes, nil for nil.
// ok is false for any other value (a map, a number …), which a converter
// must encode.
func WireBytes(v any) (b []byte, ok bool) {
	switch v := v.(type) {
	case nil:
		return nil, true
	case []byte:
		return v, true
	case json.RawMessage:
		return v, true
	case string:
		return []byte(v), true
	}
	return nil, false
}

// Expr is a compiled expression attribute (one the schema declares of type
// expression), evaluated with the variables the schema declares. It is
// configschema's Expr, so that a configuration struct's expression fields
// are of this type.
type Expr = configschema.Expr

// Emitter receives a value one piece at a time: a map as BeginMap, then
// Key and the entry's value for each entry in ascending key order, then
// EndMap; a list as BeginList, its elements, EndList. It is the same type
// as lang/expr's Emitter (both are aliases of one unnamed interface type);
// stdlib/converters' JSONWriter writes what it receives as JSON text.
type Emitter = interface {
	BeginMap()
	Key(k string)
	EndMap()
	BeginList()
	EndList()
	Null()
	Bool(b bool)
	Int(i int64)
	Double(f float64)
	String(s string)
}

// DirectExpr is an Expr that can hand its result to an Emitter without
// building maps and lists (lang/expr's programs are). Direct reports
// whether the expression is one EvalTo covers; EvalTo reports false when
// it cannot evaluate (an edge case such as an overflow), and then Eval
// gives the result or the error. Whatever w received before a false is
// to be discarded.
type DirectExpr interface {
	Expr
	Direct() bool
	EvalTo(vars map[string]any, w Emitter) bool
}

// TaskContext is what a task knows about itself and the worker.
type TaskContext struct {
	Pipeline string // the pipeline's address, e.g. source.generator.orders
	Fleet    string // the fleet's name; "" when the task runs without a worker
	Task     int    // this task's index, from 0
	Tasks    int    // how many tasks the pipeline runs
	// Config holds the plugin's attributes, checked against its schema
	// and with defaults applied (configschema.Schema.Coerce): string
	// (also durations, in Go syntax, and expression sources), int64,
	// float64, bool, []string, map[string]string, and map[string]any for
	// a nested block that is present. Sensitive values are resolved to
	// their clear value. Paths are absolute. DecodeConfig turns it into
	// the plugin's configuration struct.
	Config map[string]any
	// Exprs holds the compiled expression attributes by name.
	Exprs  map[string]Expr
	Logger *slog.Logger
	// Offset returns the saved offset of one of this pipeline's source
	// partitions, or nil when there is none (sources only).
	Offset func(partition map[string]any) map[string]any
	// Cluster is the fleet's own Kafka cluster, the one the pipeline's
	// topics are on; nil when the task runs without a worker (a test).
	Cluster *Cluster
	// OnWaiting receives what Waiting reports; the worker sets it.
	OnWaiting func(reason string)
	// OnDropped receives what Dropped counts; the worker sets it.
	OnDropped func(n int64)
	// ValueJSON is true when the pipeline encodes values with the json
	// converter and no transform reads them on the way (sources only): a
	// source may then hand over a value it wrote as JSON text itself
	// (Record.Value a json.RawMessage), and the same bytes reach Kafka as
	// for the structured value.
	ValueJSON bool
}

// DecodeConfig fills dst, a pointer to the plugin's configuration struct
// (the one it registers as Plugin.Config), from Config and Exprs, checked
// against schema (configschema.Decode): defaults applied, durations as
// time.Duration, nested blocks as structs, expression attributes as their
// compiled Expr.
func (tc *TaskContext) DecodeConfig(schema *configschema.Schema, dst any) error {
	values := make(map[string]any, len(tc.Config)+len(tc.Exprs))
	maps.Copy(values, tc.Config)
	for name, e := range tc.Exprs {
		values[name] = e
	}
	return configschema.Decode(schema, values, dst)
}

// Source reads records from an outside system. The worker calls Open, then
// Poll and Acked from one goroutine (never at the same time), then Close.
// Sources embed UnimplementedSource so that methods added later have
// defaults.
type Source interface {
	Open(ctx context.Context, tc *TaskContext) error
	// Poll returns the next records, blocking until some are available,
	// ctx is done or about a second has passed (then it returns none).
	// io.EOF itself (not wrapped, as io.Reader's contract has it) means
	// the source is finished (a generator with a count); the records
	// returned with it are the last. A wrapped io.EOF is an error like
	// any other: a connection that closed under a read does not end a
	// source. Records returned with any
	// other error are dropped (a retriable error is retried with a new
	// Poll), so a source returns them again from the next Poll.
	Poll(ctx context.Context) ([]Record, error)
	// Acked tells the source that the records of one Poll are safe in
	// Kafka, so that it may let the outside system discard them (confirm
	// a replication slot's position, purge a binlog, delete a file). A
	// source may rely on this:
	//
	//   - Every record of the slice was written to Kafka and acknowledged
	//     by all in-sync replicas, sent to the dead-letter topic,
	//     dropped by a filter, or skipped (Record.Skip); and the source
	//     offsets the slice carries (the last SourceOffset of each source
	//     partition) are saved in the offsets topic. With delivery =
	//     "exactly_once", the transaction that holds the records and
	//     their offsets has committed: records of a transaction that
	//     aborted are never acknowledged.
	//   - records is the slice one Poll returned, and the calls come in
	//     the order of the Polls, each Poll's records once per task run.
	//     Transforms may have changed the records' keys, values and
	//     headers; SourcePartition and SourceOffset are as the source set
	//     them.
	//   - Topic, Partition and Offset say where Kafka stored each record
	//     (Kafka Connect's commitRecord metadata: a mirror keeps offset
	//     syncs with them), in the order of the records: Offset is -1 for
	//     a record that is not in its topic (dropped by a filter, sent to
	//     the dead-letter topic, Skip) and for one produced again after a
	//     retriable error, which Kafka stored after records of later
	//     Polls.
	//
	// Once Acked returns, the worker no longer uses records: the source
	// may reuse the slice for a later Poll (a source that returns large
	// batches saves their allocation).
	//
	// Records are not always acknowledged: when the task fails, or its
	// stop runs out of time, the records polled since the last Acked
	// are not, and the next run starts from the saved offsets
	// (TaskContext.Offset), which never pass what was acknowledged.
	Acked(records []Record)
	Close() error
	mustEmbedUnimplementedSource()
}

// Sink writes records to an outside system. Write may buffer; Flush must
// make everything written so far durable before it returns, because the
// worker commits the consumed offsets after it. A sink that decides
// itself which records are durable (one that writes files of many
// records) is a Committer instead: then the worker never calls Flush. The
// records slice is the sink's only until Write returns (the worker reuses
// it for the next batch): a sink that keeps records copies the Records it
// keeps (their keys, values and headers stay valid, and keep the memory of
// the batch they came in).
//
// The worker calls Open first and Close last, and never two methods of a
// sink at the same time: each call starts after the previous one
// returned, so a sink needs no lock of its own, although Assigned, Revoked
// and PreCommit may run on another goroutine than Write (see
// PartitionsAware). Close may drop what is not durable: it is read again
// from the last commit. Sinks embed UnimplementedSink.
type Sink interface {
	Open(ctx context.Context, tc *TaskContext) error
	Write(ctx context.Context, records []Record) error
	Flush(ctx context.Context) error
	Close() error
	mustEmbedUnimplementedSink()
}

// TopicPartition is one partition of a Kafka topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// PartitionsAware is an optional interface of a Sink that keeps state per
// partition (a file being filled, a writer per table partition): the
// worker tells it which partitions its task reads, as Kafka Connect's
// SinkTask.open and close do. Partitions move between the tasks of a
// pipeline when tasks start and stop (the consumer group rebalances,
// incrementally: partitions that stay are not revoked and assigned
// again).
//
// Both methods are called while the task waits for records, from the
// consumer's goroutine: never during another method of the sink, and
// each after the previous call returned. An error fails the task (a
// retriable one is retried up to the pipeline's retry_timeout).
type PartitionsAware interface {
	// Assigned tells the sink that its task now reads these partitions.
	// It is called after Open and before the first Write that carries
	// records of them. Their records start at the partition's last
	// committed offset (or at start_from when none is committed).
	Assigned(ctx context.Context, partitions []TopicPartition) error
	// Revoked tells the sink that its task no longer reads these
	// partitions: a rebalance gave them to another task, the task lost
	// its group session, or it is stopping. The sink drops what it holds
	// of them that is not durable yet, without writing it: their next
	// owner reads those records again from the last committed offset, so
	// writing them now would write them twice. A Committer was asked
	// (PreCommit) just before, and its answer committed, unless the
	// session was lost (then nothing can be committed). No Write carries
	// their records again until Assigned gives them back.
	Revoked(ctx context.Context, partitions []TopicPartition) error
}

// Committer is an optional interface of a Sink that chooses which offsets
// the worker commits: one that makes records durable on its own schedule
// (a file written every N records or every few minutes, as object storage
// and Parquet sinks do), as Kafka Connect's SinkTask.preCommit does. The
// worker calls PreCommit instead of Flush. A Committer that keeps records
// between calls implements PartitionsAware too, so that it drops them
// when their partitions are revoked.
type Committer interface {
	// PreCommit is called when the worker is about to commit: every
	// commit_interval while some partition has records that are not
	// committed (also when no new record came, so that records made
	// durable in the meantime are committed), before partitions are
	// revoked, and at a clean stop. written holds, for each partition
	// whose records are not all committed, the offset after the last
	// record the task handled: given to Write, dropped by a filter or
	// sent to the dead-letter topic (the offset of the next record to
	// read, as Kafka commits it).
	//
	// The answer holds, for each partition, the offset up to which (not
	// including it) records are durable in the outside system: the worker
	// commits exactly that. A sink answers the offset it was given for a
	// partition it holds nothing of, and the offset of the first record it
	// holds otherwise. A partition left out is not committed this time (it
	// is asked about again); an offset above the one given counts as the
	// one given, and one at or below the last commit commits nothing.
	// PreCommit may change written and return it.
	PreCommit(ctx context.Context, written map[TopicPartition]int64) (map[TopicPartition]int64, error)
}

// Converter turns a key or value into bytes and back. Converters embed
// UnimplementedConverter.
type Converter interface {
	Encode(v any) ([]byte, error)
	Decode(b []byte) (any, error)
	// Check validates b without building a structured value, for records
	// no transform looks at, and returns what stands for it (the json
	// converter returns json.RawMessage; one without a cheaper way returns
	// Decode(b)). Encode of that result must give b back.
	Check(b []byte) (any, error)
	mustEmbedUnimplementedConverter()
}

// WireChecker is a Converter whose Check returns its input itself, as
// one of the byte types: the engine then validates a batch's keys and
// values through CheckWire and builds the values Check would return
// without allocating each one on its own.
type WireChecker interface {
	Converter
	// CheckWire validates b, which is not nil, as Check does and says
	// which type Check(b) returns b as; Check(b) returns the same error.
	CheckWire(b []byte) (WireType, error)
}

// WireType is the type a WireChecker's Check returns its input as.
type WireType uint8

const (
	WireAsBytes  WireType = iota + 1 // []byte
	WireAsJSON                       // json.RawMessage
	WireAsString                     // string (a copy of the bytes)
)

// Of returns b as type t: what Check(b) returns when CheckWire(b) says t.
func (t WireType) Of(b []byte) any {
	switch t {
	case WireAsJSON:
		return json.RawMessage(b)
	case WireAsString:
		return string(b)
	}
	return b
}

// UnimplementedSource gives a Source the default behaviour of optional
// methods.
type UnimplementedSource struct{}

// Acked does nothing.
func (UnimplementedSource) Acked([]Record) {}

//lint:ignore U1000 the marker that makes embedding UnimplementedSource required
func (UnimplementedSource) mustEmbedUnimplementedSource() {}

// UnimplementedSink gives a Sink the default behaviour of optional methods.
type UnimplementedSink struct{}

//lint:ignore U1000 the marker that makes embedding UnimplementedSink required
func (UnimplementedSink) mustEmbedUnimplementedSink() {}

// UnimplementedConverter gives a Converter the default behaviour of
// optional methods added later.
type UnimplementedConverter struct{}

//lint:ignore U1000 the marker that makes embedding UnimplementedConverter required
func (UnimplementedConverter) mustEmbedUnimplementedConverter() {}

// TopicRequest asks for a topic of the fleet's cluster that a source
// writes to, with at least Partitions partitions (records keep their
// source partition).
type TopicRequest struct {
	Name       string
	Partitions int32
}

// TopicsNeeder is an optional interface of a source whose target topics
// are known only at Open (the kafka source learns them from the other
// cluster). The worker calls TopicsNeeded after Open and before the first
// Poll, creates each missing topic with the requested partitions, and
// fails the task with a clear error when an existing one has fewer.
type TopicsNeeder interface {
	TopicsNeeded() []TopicRequest
}

// TopicsExcluder is an optional interface of a sink that writes to the
// fleet's own cluster (the kafka sink without brokers): a pipeline that
// reads by topics_regex must not read what its sink writes, or records
// would go round for ever. The worker calls ExcludedTopics after Open and
// leaves the topics whose whole name matches one of the regular
// expressions (RE2) out of what the task consumes, as it leaves out the
// pipeline's dead-letter topic. A listed topics attribute is left alone:
// validate refuses a listed topic the sink writes to, where it can tell.
type TopicsExcluder interface {
	ExcludedTopics() []string
}

// SourceLag is how far one source partition is behind the outside
// system, as a LagReporter reports it.
type SourceLag struct {
	// Partition is the source partition, as the records' SourcePartition
	// (e.g. {"topic": "orders", "partition": 0}). The worker reads it and
	// does not keep it past the call.
	Partition map[string]any
	// Records is how many records the outside system holds past the last
	// one handed over (Poll), 0 or more.
	Records int64
	// Latency is how old the last record handed over was when it was
	// polled (the time of that Poll minus the record's own timestamp);
	// 0 when the partition is caught up (Records is 0).
	Latency time.Duration
}

// LagReporter is an optional interface of a source that knows how far
// behind the outside system it is (a mirror of another Kafka cluster, a
// change-data-capture source that reads a log). The worker shows what
// Lag returns in its metrics and in the tasks' status.
//
// Lag may be called from another goroutine than Poll, at the same time
// as Poll or Acked: the source makes it safe (a mutex, atomics). The
// worker calls it after Open and before Close, at most every few seconds,
// so it may allocate; it must not block on the outside system (it
// answers what the source learnt in its Polls). A partition the source
// knows nothing of yet is left out.
type LagReporter interface {
	Lag() []SourceLag
}
