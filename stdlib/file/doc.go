// Package file is the built-in "file" source and sink: a source that tails
// files line by line, and a sink that appends records to a file.
//
// Source: one record per line, the value a string without the newline
// ("\n" or "\r\n"), no key. A last line without its newline is held back
// until the newline arrives (or the file is rotated away). Lines longer
// than 1 MiB are cut into several records. The SourcePartition is
// {"file": path} and the SourceOffset {"position": byte offset after the
// line, "inode": n}. A file whose inode changed (rename and create) is read
// to its end and the new one read from the start; a file that shrank
// (truncation) is read again from the start; after a restart a saved offset
// is used only while the inode matches and the file is not shorter, else
// the file is read from the start. read_from applies to files found when
// the task opens and that have no saved offset; files that appear later
// are read from their start. With several tasks, each file goes to the task
// given by a hash of its path. Known limits: patterns that also match the
// rotated-away names (app.log.1) read those again as new files; a reused
// inode or a file truncated and regrown past the saved position between two
// checks is not noticed.
//
// Sink: format "value" writes the value as one JSON line (a
// json.RawMessage as it is, compacted only if it spans lines; a string as
// a JSON string; []byte as a base64 JSON string, or, for wire bytes of an
// Encoded record, as JSON when they are JSON else as a string); "envelope"
// writes {"topic","partition","offset","timestamp","key","value","headers"}
// (plus "headers_base64" naming the headers whose non-UTF-8 values are
// base64); "raw" writes the value's bytes (structured values as JSON) and a
// newline. With tasks > 1 task N writes NAME-N.EXT. Writes are buffered and
// reach the file as whole lines; Flush writes the buffer, fsyncs, and
// records the file's length in a flush mark beside it (.NAME.flushed). The
// worker commits offsets only after a Flush, so at Open whatever lies beyond
// the mark was written after the last commit (by a worker that was killed
// or whose task failed): it is cut, and those records, consumed again, are
// written once. Without a mark that fits the file (the first run, a file
// replaced or truncated by hand) Open cuts only a torn last line. Delivery
// is at-least-once: a crash between a Flush and its commit writes that
// interval's records twice.
//
// Each decodes its configuration into SourceConfig or SinkConfig through
// the SDK; every rule of it (non-empty paths, glob syntax, enums, the
// shortest poll_interval) is in the schemas, so that validate reports it.
//
// It imports the plugin SDK, lang/configschema and stdlib/converters (the
// JSON encoder).
package file
