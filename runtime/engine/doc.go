// Package engine runs one task of a pipeline: the source loop (poll →
// transforms → converters → idempotent produce → source offsets saved after
// the acknowledgement) and the sink loop (fetch in the consumer group
// "<fleet>.<address>" → converters → transforms → write → flush → commit),
// with the error policy of docs/runtime.md: retries with backoff, tolerance
// none or all, and the dead-letter topic.
//
// It does not know how tasks are assigned: the worker's supervisor calls
// Compile once per pipeline and Run once per task it owns, handing it the
// fleet's clients.
//
//	p, err := engine.Compile(address, spec, registry, keys, os.LookupEnv)
//	err = engine.Run(ctx, engine.TaskArgs{Pipeline: p, Task: 0, Fleet: "shop", ...})
//
// Run returns nil after a clean stop (ctx ended: the task flushes what it
// holds, saves or commits its offsets and returns, in about StopTimeout) and
// a *TaskError when the task fails; Counters reports progress meanwhile.
//
// # Transforms
//
// A pipeline's transforms run in list order; inside one transform the
// operations run in the fixed order when/unless, filter, set, rename, drop,
// key, topic, headers. set entries apply one after the other, each seeing
// the ones before. A path that crosses a value that is not a map (set
// value.a.b where value.a is a string) is a transform error; a rename or
// drop of a field that is absent does nothing; set creates missing
// intermediate maps. A filter that returns false drops the record and
// counts it as filtered, never as failed.
//
// Keys and values are decoded only when a transform reads or writes them
// (variables key and value, paths key.… and value.…); otherwise bytes pass
// through untouched (sources: records with Encoded set; sinks: Converter.Check
// instead of Decode). A nil key or value without a schema stays nil (a
// tombstone): converters never see it.
//
// # Record schemas
//
// A record's KeySchema and ValueSchema come from its source, or from a
// converter that reads them (connector.SchemaDecoder: json with
// schemas_enable) when a transform decodes the record; a converter that
// writes them (connector.SchemaEncoder) gets them with the value. set,
// rename, drop and key = give a record with a schema the schema of their
// result, worked out once per input schema (transformschema.go); a result
// that cannot be typed is a transform error (*SchemaError). A record
// without schemas costs no schema work, nor does any record of a source
// pipeline whose converters write no schemas.
//
// # Record failures
//
// A converter or transform error, a sink's per-record error (see
// FailedRecord), a source record that Kafka refuses (too large, say) and a
// record the source could not read (connector.Record.Err, at stage source;
// its key and value bytes go to the dead-letter topic as the source read
// them, never through transforms or converters) are record failures. With tolerance "none" Run returns a *TaskError naming the
// stage; with "all" the record goes, unchanged, to the dead-letter topic with
// the pipectl.error.* and pipectl.source.* headers, is counted as failed, and
// the task goes on. Sinks send the bytes they consumed; sources send the
// record as the source gave it, encoded with the pipeline's converters, or
// rendered as JSON when those cannot encode it.
//
// # Retries
//
// An error that IsRetriable (connector.Retriable, a retriable Kafka error, a
// network error such as a broker that refuses connections while it
// restarts, a timeout) from Open, Poll, Write, Flush, the produce, the
// commit, the transaction, the offset store or the admin client is retried
// with exponential backoff from 100ms up to retry_backoff_max, until
// retry_timeout; then it fails the task. io.EOF from Poll means the source
// is finished and is never retried.
//
// # Ownership
//
// Records a source returns from Poll belong to the engine: transforms
// change their maps in place (a header slice is copied before a change, as
// sources often share one). SourcePartition and SourceOffset maps must not
// change until Acked. The slice a sink gets from Write is reused for the
// next batch: a sink copies the Records it keeps (their keys, values and
// headers stay valid).
//
// # Partitions
//
// A source record with Partition >= 0 goes to that partition only if the
// fleet producer partitions with Partitioner (kgo.RecordPartitioner); records
// with Partition -1 use the partitioner Partitioner wraps.
//
// # Sink commits
//
// A sink is flushed every commit interval (TaskArgs.FlushInterval), before
// a rebalance and at a clean stop, and then every fetched offset is
// committed; a rebalance waits for that. A connector.Committer is asked
// instead (PreCommit) which records are durable, for the partitions whose
// records are not all committed, every commit interval (also when idle);
// exactly its answer is committed (CommitOffsetsSync, with the leader epoch
// of the last record handled), never past the records handled. What it
// holds does not hold up a rebalance: the loop allows one after every
// batch, and the consumer's revoke callback asks about the revoked
// partitions, commits the answer and then drops their tracking; when the
// session is lost nothing is committed. A connector.PartitionsAware sink is
// told of assigned and revoked partitions from those callbacks. With
// franz-go's BlockRebalanceOnPoll the callbacks run only while the loop
// waits in a poll, and a mutex makes that hold after an empty poll too, so
// that no two calls of a sink overlap. A task that failed calls no
// callback of its sink.
//
// # Dead-letter records
//
// The dead-letter topic is created at start (one partition: failures stay
// in order, and they are few) when it does not exist. Its records carry the
// failed record's headers plus pipectl.error.class (the Go type of the
// cause, e.g. "converters.Error", "expr.EvalError", "engine.PathError"),
// pipectl.error.message, pipectl.error.stage (converter, transform, sink,
// source), pipectl.source.topic, pipectl.source.partition and
// pipectl.source.offset (left out when unknown: a source record's offset,
// and its partition when the producer chooses it) and pipectl.pipeline,
// then the headers a sink's failure carries (connector.RecordRejected). A
// sink never reads its own dead-letter topic, even when topics_regex
// matches it.
//
// # Offline
//
// Pipeline.Offline runs one record at a time through the same conversion
// and transform code as the task loops (convertSource, convertSink), with
// no Kafka client and no connector: pipectl test (runtime/pipetest) uses
// it, so that a test sees exactly what a task would do. CompileChain
// compiles a list of transforms on their own for it.
//
// It imports lang/expr, lang/configschema, runtime/connector and
// runtime/control, and franz-go's kgo, kadm, kerr and kmsg for the clients
// the worker hands over; never planner, stdlib or cmd.
package engine
