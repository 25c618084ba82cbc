// Package api owns a worker's HTTP API: the routes, request parsing, the
// JSON shapes and status codes of Kafka Connect's REST API (so tools that
// read Connect's API read pipectl's), panic recovery, and serving with graceful shutdown.
//
// It declares [Fleet], the little it needs of the worker, and knows nothing
// of how the worker keeps state: any worker answers for the whole fleet
// through it. Configuration changes are not part of this API; they go
// through `pipectl apply`, and the routes that create, update or delete
// connectors in Kafka Connect answer 405 saying so.
//
// Differences from Kafka Connect, on purpose:
//   - Names are pipeline addresses (source.file.orders,
//     source.kafka.mirror["eu"]), URL-escaped in paths.
//   - A pipeline's config is its whole configuration: Kafka Connect's keys
//     with Connect's string values where Connect has the setting
//     (connector.class is the plugin class, e.g. source.file; name, topics,
//     tasks.max, transforms.*, errors.*, key.converter …), and pipectl's
//     attribute names with their JSON types (numbers, lists, objects)
//     otherwise; the worker builds it. Each task's config is its
//     pipeline's.
//   - /healthz (and Connect's /health) answer in KIP-1017's shape,
//     {"status","message"}, with 200 or 503.
//
// Beside Connect's routes it mounts, under Confluent's paths (/subjects,
// /schemas, /config, /mode, /compatibility), the fleet's Schema Registry
// handler it is given (Options.SchemaRegistry); the registry's routes and bodies are runtime/schemaregistry's.
//
// Authentication is not this package's: REST extensions wrap its handler
// (the worker's -http-token and -http-tokens are stdlib/restauth's).
//
// It imports runtime/metrics for the /metrics handler and never planner.
package api
