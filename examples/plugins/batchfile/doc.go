// Package batchfile is an example of a third-party plugin: sink
// "batchfile", which writes each partition's records in files of
// records_per_file records, named TOPIC+PARTITION+FIRST_OFFSET.jsonl
// (as Confluent's S3 sink names its objects), each written whole or not at
// all.
//
// It is the connector of the "Writing a connector" guide in
// docs/plugins.md: a schema declared once, a typed configuration, a sink
// that makes records durable on its own schedule and tells the worker what
// it may commit (connector.Committer), and drops what it buffers of a
// partition taken from it (connector.PartitionsAware). Because a file's
// name is its first offset and a file is replaced whole, the records that
// come again after a crash rewrite the same files: the directory never
// holds a record twice. A partition's last records wait in memory until
// records_per_file of them have come.
//
// cmd/pipectl-batchfile is the custom pipectl binary that adds it: the
// built-in plugins plus one Register call.
//
// Like a plugin of another module, it imports only the plugin SDK
// (runtime/connector) and lang/configschema of this project.
package batchfile
