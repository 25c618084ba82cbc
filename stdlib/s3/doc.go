// Package s3 is the built-in "s3" sink and source: records to and from
// objects of any S3-compatible store (AWS S3, MinIO, Ceph, versitygw),
// through github.com/minio/minio-go/v7, as Parquet
// (github.com/parquet-go/parquet-go), JSON lines or raw values.
//
// The sink is a connector.Committer and PartitionsAware: it fills one
// object per partition read and path (the path expression), uploads it
// whole once flush_records, flush_bytes, rotate_interval (record time) or
// a schema change closes it, and answers PreCommit with the start offset
// of each partition's oldest open object, so the worker commits only what
// is in the bucket. Objects are named PREFIX/PATH/TOPIC+PARTITION+START
// (START zero-padded to 10 digits, as Confluent's S3 sink); every rule
// that closes an object depends on its records alone, so the records read
// again after a crash or rebalance make the same objects under the same
// names, overwriting them: no duplicate, no gap. A goroutine of the task
// encodes and uploads complete objects while the next fill; PreCommit and
// Revoked wait for it, and an upload that fails for good fails the task
// before anything more is committed.
//
// Parquet objects hold one row per record: topic, partition, offset,
// timestamp (TIMESTAMP millis), key (bytes), headers (a LIST of key and
// value) and value, typed from the record schema (nested structs, lists,
// DECIMAL, DATE, TIME, TIMESTAMP; maps and json as JSON text) or, for
// schemaless values, inferred per object (every field optional; new
// fields widen the object's schema, other changes start a new object).
// The value's record schema is kept in the file's key-value metadata so
// that the source gives the same values and schemas back. JSON lines hold
// the same fields per line. Raw objects hold values only.
//
// The source lists the bucket (every poll_interval), reads each original
// partition's objects in start-offset order, merged by record offset, and
// keeps the next offset of each partition in the offsets topic.
//
// docs/s3.md is the user documentation.
package s3
