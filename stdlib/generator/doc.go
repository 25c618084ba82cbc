// Package generator is the built-in "generator" source: it produces records
// from CEL expressions over a sequence number, for demos, tests and load.
//
// Task i of n produces seq = i, i+n, i+2n, …; with count, each task stops
// after count records (Poll returns io.EOF). The SourcePartition is
// {"task": i} and the SourceOffset {"seq": the next seq}; a task resumes
// from it (moved up to the task's next own seq if the number of tasks
// changed). rate is shared evenly by the tasks and enforced with a token
// bucket holding at most a quarter of a second's worth of records. seed is
// accepted but no expression function uses it yet.
//
// Records carry a value schema (and a key schema) when the expression's
// type says it fully (connector.TypedExpr): a map literal with string keys
// over typed values, such as {'id': seq, 'email': 'u' + string(seq)}, is a
// struct of int64 id and string email. A converter that writes schemas
// (json with schemas_enable) writes it; the others ignore it.
//
// The configuration decodes into Config through the SDK; its rules are in
// Schema.
//
// It imports only the plugin SDK and lang/configschema.
package generator
