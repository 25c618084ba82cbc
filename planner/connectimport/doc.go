/*
Package connectimport translates Kafka Connect connector configurations (the
JSON of Connect's REST API) into pipectl configuration files: `pipectl import
connect`.

It maps connector classes to built-in plugins through one table (classes.go),
every single message transform of Apache Kafka to transform and predicate
blocks (smt.go), converters, the errors.* settings, tasks.max, topics and
config-provider references. Whatever it cannot map becomes a Warning naming
the key, and the original setting stays in a comment beside the block it
belongs to: nothing is dropped silently. A sink's Connect consumer group
becomes an import block, so that the pipeline starts at Connect's committed
offsets.

It lives under planner because what it writes is configuration for the
planner to plan and apply, and the offsets it carries over are an apply step;
it imports only lang (to check and format what it writes) and the standard
library. It must not import runtime or stdlib: the plugin attributes it
writes are the built-ins' documented names, and a test validates the output
against the real plugin schemas.
*/
package connectimport
