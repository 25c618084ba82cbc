package file

import (
	"time"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
)

// SourceSchema is the configuration of source "file".
var SourceSchema = configschema.Schema{
	Kind:        configschema.Source,
	Type:        "file",
	Description: "Tails files matching glob patterns and produces one record per line; survives rotation and restarts from the byte offset saved per file.",
	Attributes: []configschema.Attribute{
		{Name: "paths", Path: true, Glob: true, Type: configschema.ListOfString, Required: true, NonEmpty: true, Description: "Glob patterns of the files to read, relative to the configuration directory. Files that do not exist yet are picked up when they appear."},
		{Name: "topic", Type: configschema.String, Required: true, NonEmpty: true, Description: "Topic the records are written to."},
		{Name: "read_from", Type: configschema.String, Default: "beginning", Enum: []string{"beginning", "end"}, Description: "Where to start in a file seen for the first time."},
		{Name: "poll_interval", Type: configschema.Duration, Default: "1s", MinDuration: "10ms", Description: "How often files are checked for new lines and new matches."},
	},
}

// SinkSchema is the configuration of sink "file".
var SinkSchema = configschema.Schema{
	Kind:        configschema.Sink,
	Type:        "file",
	Description: "Appends records to a file, one per line, and fsyncs before offsets are committed; after a crash it cuts what came after the last flush. One task at a time writes a file (it holds an flock on it); the file may be truncated under it (logrotate copytruncate). With tasks > 1 each task writes NAME-N.EXT.",
	Attributes: []configschema.Attribute{
		{Name: "path", Path: true, PerTaskPath: true, Type: configschema.String, Required: true, NonEmpty: true, Description: "File to write, relative to the configuration directory; missing directories are created. With tasks > 1, task N writes NAME-N.EXT instead (out/orders-0.jsonl, out/orders-1.jsonl …)."},
		{Name: "format", Type: configschema.String, Default: "value", Enum: []string{"value", "envelope", "raw"}, Description: "value: the record value as one JSON line; envelope: key, value, headers, topic, partition, offset and timestamp as one JSON object; raw: the value bytes followed by a newline."},
	},
}

// SourceConfig is the configuration of source "file", as SourceSchema
// declares it.
type SourceConfig struct {
	Paths        []string      `pipectl:"paths"`
	Topic        string        `pipectl:"topic"`
	ReadFrom     string        `pipectl:"read_from"`
	PollInterval time.Duration `pipectl:"poll_interval"`
}

// SinkConfig is the configuration of sink "file", as SinkSchema declares
// it.
type SinkConfig struct {
	Path   string `pipectl:"path"`
	Format string `pipectl:"format"`
}

// formats maps the values of SinkConfig.Format (SinkSchema's enum).
var formats = map[string]format{"value": formatValue, "envelope": formatEnvelope, "raw": formatRaw}

// Source returns the plugin registration of source "file".
func Source() connector.Plugin {
	return connector.Plugin{Schema: SourceSchema, Config: (*SourceConfig)(nil), NewSource: func() connector.Source { return new(tailer) }}
}

// Sink returns the plugin registration of sink "file".
func Sink() connector.Plugin {
	return connector.Plugin{Schema: SinkSchema, Config: (*SinkConfig)(nil), NewSink: func() connector.Sink { return new(writer) }}
}
