// Package kafka is the built-in "kafka" source (mirroring another cluster
// into the fleet's) and sink (writing to topics of another cluster). Both
// build franz-go clients for the other cluster themselves (clusterOpts:
// seed brokers, SASL PLAIN/SCRAM, TLS).
//
// The source assigns partitions directly, without a consumer group:
// partition p of topic t goes to task (fnv32a(t) + p) % tasks (taskOf),
// which never moves a partition when others are added, and each partition
// starts at its saved SourceOffset {"offset": next} (the SourcePartition
// is {"topic": t, "partition": p}), else at start_from. Topics and
// partitions are resolved at Open and, with the fleet's cluster at hand,
// again every refresh_interval from Poll (refresh.go): new topics of
// topics_regex and new partitions are added to the running tasks, the
// target topics are created or grown first, and task 0 copies the source
// topics' configs (sync_topic_configs, topic_configs_exclude).
// topics_regex must match a whole topic name, as in Kafka; internal topics
// are never mirrored. It reads read_committed. Records keep key, value,
// headers, timestamp and partition, as wire bytes (Record.Encoded). The
// target topics must exist with at least the source's partitions: the
// source lists them through TopicsNeeder for the worker to create. It
// reports each partition's lag (connector.LagReporter, lag.go) from what
// its fetches said of the partition's end.
//
// policy.go holds the replication policy (MirrorMaker 2's): how target
// topics are named (prefix, default <alias>.<topic>, identity), which
// source topics came from the fleet's cluster by their name (target_alias,
// MirrorMaker 2's cycle detection), and the provenance header
// (OriginHeader, the origin cluster's id) that records mirrored from
// another cluster carry, by which a record that came from the fleet's
// cluster is skipped, so that an active/active pair never loops. A skipped
// record goes to the worker as its position only (Record.Skip), so that
// its offset is saved; Acked receives it with the others.
//
// The sink produces with an idempotent producer (acks = "all"; acks =
// "leader" turns idempotence off), lets the producer pick partitions by
// key, and reports failures at Flush, retriable ones marked with
// connector.Retriable. Delivery is at-least-once: after a failed Flush the
// worker must write again every record since the last successful Flush.
//
// Both decode their configuration into SourceConfig or SinkConfig (which
// share ClusterConfig) through the SDK; the rules — exactly one of topics
// and topics_regex, topics_regex an RE2 expression, topic against
// topic_prefix, the SASL attributes together, enums, an existing
// tls_ca_file — are in the schemas, so that validate reports them.
//
// It imports the plugin SDK, lang/configschema, stdlib/converters (JSON
// for structured values) and franz-go.
package kafka
