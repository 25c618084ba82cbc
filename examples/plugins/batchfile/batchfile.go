package batchfile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
)

func i64(v int64) *int64 { return &v }

// Schema is the configuration of sink "batchfile": the one declaration
// that validate, the worker, `pipectl schema` and Config follow.
var Schema = configschema.Schema{
	Kind:        configschema.Sink,
	Type:        "batchfile",
	Description: "Writes each partition's records in files of records_per_file JSON lines, named TOPIC+PARTITION+FIRST_OFFSET.jsonl; a file is written whole or not at all, and never twice.",
	Attributes: []configschema.Attribute{
		{Name: "dir", Type: configschema.String, Path: true, Required: true, NonEmpty: true,
			Description: "Directory of the files, relative to the configuration directory; created when missing."},
		{Name: "records_per_file", Type: configschema.Int, Default: int64(1000), Min: i64(1), Max: i64(1_000_000), ForcesReplacement: true,
			Description: "Records in each file. Changing it replaces the pipeline: files of another size would hold records again."},
	},
}

// Config is the configuration of sink "batchfile", as Schema declares it;
// Register checks that the two agree.
type Config struct {
	Dir            string `pipectl:"dir"`
	RecordsPerFile int    `pipectl:"records_per_file"`
}

// Sink returns the plugin registration of sink "batchfile".
func Sink() connector.Plugin {
	return connector.Plugin{Schema: Schema, Config: (*Config)(nil), NewSink: func() connector.Sink { return new(sink) }}
}

// Register adds sink "batchfile" to a registry: the one call a custom main
// makes.
func Register(reg *connector.Registry) error { return reg.Register(Sink()) }

// sink is one task of sink "batchfile".
type sink struct {
	connector.UnimplementedSink

	dir string
	n   int
	// buf holds each partition's records that are not in a file yet:
	// their offsets and JSON lines.
	buf map[connector.TopicPartition]*batch
}

type batch struct {
	first int64 // offset of the first record
	lines []byte
	count int
}

// The interfaces the worker looks for.
var (
	_ connector.Committer       = (*sink)(nil)
	_ connector.PartitionsAware = (*sink)(nil)
)

func (s *sink) Open(_ context.Context, tc *connector.TaskContext) error {
	var cfg Config
	if err := tc.DecodeConfig(&Schema, &cfg); err != nil {
		return fmt.Errorf("sink batchfile: %w", err)
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return fmt.Errorf("sink batchfile: %w", err)
	}
	s.dir, s.n = cfg.Dir, cfg.RecordsPerFile
	s.buf = map[connector.TopicPartition]*batch{}
	// A worker killed while it wrote a file leaves its temporary file
	// behind; the batch comes again. (Several tasks share dir: only
	// temporary files older than a minute are another run's.)
	tmps, _ := filepath.Glob(filepath.Join(s.dir, tmpPattern))
	for _, tmp := range tmps {
		if fi, err := os.Stat(tmp); err == nil && time.Since(fi.ModTime()) > time.Minute {
			os.Remove(tmp)
		}
	}
	return nil
}

// tmpPattern names the temporary files of batches being written.
const tmpPattern = ".batchfile-*"

// Write adds each record's value, as one JSON line, to the batch of the
// partition it was read from, and writes the batch to its file once it is
// full. A batch is keyed by the partition the record was read from, not
// by the topic a transform routed it to: that is the partition whose
// offsets PreCommit answers for.
func (s *sink) Write(_ context.Context, records []connector.Record) error {
	var failed []error
	for i := range records {
		r := &records[i]
		line, err := json.Marshal(r.Value) // JSON text (the json converter's) is written as it is
		if err != nil {
			// This record alone failed (errors.tolerance decides); the
			// worker counts the others as written, so go on.
			failed = append(failed, connector.RecordFailed(i, fmt.Errorf("value is not JSON: %w", err)))
			continue
		}
		tp := connector.TopicPartition{Topic: r.OriginalTopic, Partition: r.OriginalPartition}
		b := s.buf[tp]
		if b == nil {
			b = &batch{first: r.Offset}
			s.buf[tp] = b
		}
		b.lines = append(append(b.lines, line...), '\n')
		if b.count++; b.count == s.n {
			if err := s.writeFile(tp, b); err != nil {
				return err
			}
			delete(s.buf, tp)
		}
	}
	return errors.Join(failed...)
}

// writeFile writes a full batch to a temporary file, syncs it and renames
// it to its name: the file is there whole or not at all. A batch written
// again after a crash has the same name and content.
func (s *sink) writeFile(tp connector.TopicPartition, b *batch) error {
	name := filepath.Join(s.dir, tp.Topic+"+"+strconv.Itoa(int(tp.Partition))+"+"+strconv.FormatInt(b.first, 10)+".jsonl")
	tmp, err := os.CreateTemp(s.dir, tmpPattern)
	if err != nil {
		return fmt.Errorf("sink batchfile: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, nothing
	_, err = tmp.Write(b.lines)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), name)
	}
	if err != nil {
		return fmt.Errorf("sink batchfile: writing %s: %w", name, err)
	}
	return nil
}

// PreCommit says how far each partition is durable: up to its first
// buffered record, or everything the worker handled when nothing is
// buffered.
func (s *sink) PreCommit(_ context.Context, written map[connector.TopicPartition]int64) (map[connector.TopicPartition]int64, error) {
	for tp := range written {
		if b := s.buf[tp]; b != nil {
			written[tp] = b.first
		}
	}
	return written, nil
}

// Assigned needs nothing: a partition's batch starts with its first
// record.
func (s *sink) Assigned(context.Context, []connector.TopicPartition) error { return nil }

// Revoked drops the batches of partitions taken from this task: their
// next owner reads those records again from the last commit.
func (s *sink) Revoked(_ context.Context, partitions []connector.TopicPartition) error {
	for _, tp := range partitions {
		delete(s.buf, tp)
	}
	return nil
}

// Flush is never called on a Committer.
func (s *sink) Flush(context.Context) error { return nil }

// Close drops what is buffered: it was not committed.
func (s *sink) Close() error {
	s.buf = nil
	return nil
}
