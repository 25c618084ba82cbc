// Package schemaregistry is the fleet's Schema Registry: a
// Confluent-compatible registry of Avro, Protobuf and JSON schemas that
// every worker serves, with its state in the fleet's compacted,
// single-partition <fleet>.schemas topic.
//
// It owns the registry's state machine (subjects, versions, ids, soft and
// hard deletes, references, compatibility configuration and mode), the
// log that state is read from (the Kafka topic, or memory for offline
// runs and tests), the compatibility rules of each schema language and
// the REST API (Handler) that Confluent's clients speak. Registry
// implements connector.SchemaRegistry for the converters of the worker it
// runs in.
//
// Ids are unique fleet-wide without a leader: a registration is a claim
// record (the id and version it takes) with a key of its own, and every
// worker applies the log in the same order by the same rules, so the
// first claim of an id or version wins everywhere; a writer reads the log
// up to its own claim to learn whether it won, and retries when it lost
// (see docs/schema-registry.md for the argument).
//
// It imports runtime/connector (the SDK types it implements) and
// runtime/control (the topic's name); it must not import the engine, the
// worker, the API package or the planner, which call it.
package schemaregistry
