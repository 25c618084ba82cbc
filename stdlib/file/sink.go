package file

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib/converters"
)

// format is how the sink writes a record.
type format int

const (
	formatValue    format = iota // the value as one JSON line
	formatEnvelope               // one JSON object with key, value, headers, …
	formatRaw                    // the value's bytes and a newline
)

// writeBuffer is the size of the sink's write buffer.
const writeBuffer = 256 << 10

// writer is one task of sink "file".
//
// It writes whole lines only: a line is built at the end of buf, and buf
// goes to the file when the next line might not fit, so a write to the
// file never ends inside a line (a line longer than the buffer is one
// write of its own). Flush fsyncs the file and then records its length in
// the flush mark (see recover.go); the worker commits the consumed offsets
// after Flush, so whatever lies beyond the mark was written after the last
// commit, and Open cuts it: those records come again and are written once.
type writer struct {
	connector.UnimplementedSink

	path   string
	format format
	f      *os.File
	size   int64 // of the file, with what writeOut wrote
	mark   *os.File
	buf    []byte // whole lines not yet written to f
	// longest is the length of the longest line so far: buf goes to
	// the file first when it has less room than that.
	longest int
	log     *slog.Logger
}

// TaskPath returns the file task `task` of `tasks` writes: path itself for
// a single task, else NAME-N.EXT (out/orders.jsonl → out/orders-2.jsonl),
// as the schema's path attribute declares (configschema.TaskPath).
func TaskPath(path string, task, tasks int) string {
	return configschema.TaskPath(path, task, tasks)
}

func (s *writer) Open(_ context.Context, tc *connector.TaskContext) error {
	var cfg SinkConfig
	err := tc.DecodeConfig(&SinkSchema, &cfg)
	if err != nil {
		return fmt.Errorf("sink file: %w", err)
	}
	s.format = formats[cfg.Format]
	path := cfg.Path
	s.path = TaskPath(path, tc.Task, tc.Tasks)
	if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
		return fmt.Errorf("sink file: %w", err)
	}
	s.f, err = os.OpenFile(s.path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("sink file: %w", err)
	}
	s.log = tc.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if err := s.recover(); err != nil {
		s.Close()
		return fmt.Errorf("sink file: %s: %w", s.path, err)
	}
	s.buf = make([]byte, 0, writeBuffer)
	return nil
}

func (s *writer) Write(_ context.Context, records []connector.Record) error {
	for i := range records {
		r := &records[i]
		// Room for the longest line so far, or the buffer goes out
		// first: the buffer never has to grow for a line that fits.
		if cap(s.buf)-len(s.buf) < s.longest+1 && len(s.buf) > 0 {
			if err := s.writeOut(); err != nil {
				return err
			}
		}
		// Built in place at the end of the buffer: one copy of the
		// record. A record that cannot be encoded leaves nothing.
		start := len(s.buf)
		line, err := s.appendRecord(s.buf, r)
		if err != nil {
			s.buf = s.buf[:start]
			return fmt.Errorf("sink file: record at %s/%d offset %d: %w", r.Topic, r.Partition, r.Offset, err)
		}
		s.buf = append(line, '\n')
		s.longest = max(s.longest, len(s.buf)-start)
		if len(s.buf) >= writeBuffer {
			if err := s.writeOut(); err != nil {
				return err
			}
		}
	}
	if cap(s.buf) > writeBuffer {
		// A long line grew the buffer: let the large one go.
		if err := s.writeOut(); err != nil {
			return err
		}
		s.buf, s.longest = make([]byte, 0, writeBuffer), 0
	}
	return nil
}

// writeOut writes the buffered lines to the file.
func (s *writer) writeOut() error {
	if len(s.buf) == 0 {
		return nil
	}
	n, err := s.f.Write(s.buf)
	s.size += int64(n)
	s.buf = s.buf[:0]
	if err != nil {
		return fmt.Errorf("sink file: %w", err)
	}
	return nil
}

func (s *writer) appendRecord(b []byte, r *connector.Record) ([]byte, error) {
	switch s.format {
	case formatRaw:
		return appendRaw(b, r.Value)
	case formatEnvelope:
		return appendEnvelope(b, r)
	default:
		return appendJSONLine(b, r.Value, r.Encoded)
	}
}

// appendRaw appends a value's bytes: []byte, json.RawMessage and strings as
// they are, nil as nothing, and other values as JSON.
func appendRaw(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return b, nil
	case []byte:
		return append(b, v...), nil
	case json.RawMessage:
		return append(b, v...), nil
	case string:
		return append(b, v...), nil
	}
	return converters.AppendJSON(b, v)
}

// appendJSONLine appends v as JSON on one line. A json.RawMessage is
// written as it is unless it spans lines (then it is compacted). Wire
// bytes of an Encoded record are written as JSON when they are JSON, else
// as a JSON string of their text.
func appendJSONLine(b []byte, v any, encoded bool) ([]byte, error) {
	if raw, ok := v.([]byte); ok && encoded {
		if json.Valid(raw) {
			v = json.RawMessage(raw)
		} else {
			v = string(raw)
		}
	}
	if raw, ok := v.(json.RawMessage); ok {
		if bytes.IndexByte(raw, '\n') >= 0 || bytes.IndexByte(raw, '\r') >= 0 {
			buf := bytes.NewBuffer(b)
			if err := json.Compact(buf, raw); err != nil {
				return b, fmt.Errorf("value is not valid JSON: %w", err)
			}
			return buf.Bytes(), nil
		}
		return append(b, raw...), nil
	}
	return converters.AppendJSON(b, v)
}

// appendEnvelope appends the record as one JSON object, fields in this
// order: topic, partition, offset, timestamp (RFC 3339 with nanoseconds;
// null when unset), key, value, headers (an object of strings; a header
// repeated keeps its last value; null values stay null) and, only when some
// header value is not UTF-8, headers_base64 (the names of the headers whose
// values are written as standard base64).
func appendEnvelope(b []byte, r *connector.Record) ([]byte, error) {
	b = append(b, `{"topic":`...)
	b, _ = converters.AppendJSON(b, r.Topic)
	b = append(b, `,"partition":`...)
	b = strconv.AppendInt(b, int64(r.Partition), 10)
	b = append(b, `,"offset":`...)
	b = strconv.AppendInt(b, r.Offset, 10)
	b = append(b, `,"timestamp":`...)
	if r.Timestamp.IsZero() {
		b = append(b, "null"...)
	} else {
		b = append(b, '"')
		b = r.Timestamp.UTC().AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	var err error
	b = append(b, `,"key":`...)
	if b, err = appendJSONLine(b, r.Key, r.Encoded); err != nil {
		return b, fmt.Errorf("key: %w", err)
	}
	b = append(b, `,"value":`...)
	if b, err = appendJSONLine(b, r.Value, r.Encoded); err != nil {
		return b, fmt.Errorf("value: %w", err)
	}
	b = append(b, `,"headers":{`...)
	var binary []string
	first := true
	for i, h := range r.Headers {
		if lastIndex(r.Headers, h.Key) != i {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b, _ = converters.AppendJSON(b, h.Key)
		b = append(b, ':')
		switch {
		case h.Value == nil:
			b = append(b, "null"...)
		case utf8.Valid(h.Value):
			b, _ = converters.AppendJSON(b, string(h.Value))
		default:
			b = append(b, '"')
			b = base64.StdEncoding.AppendEncode(b, h.Value)
			b = append(b, '"')
			binary = append(binary, h.Key)
		}
	}
	b = append(b, '}')
	if len(binary) > 0 {
		b = append(b, `,"headers_base64":`...)
		b, _ = converters.AppendJSON(b, binary)
	}
	return append(b, '}'), nil
}

func lastIndex(hs []connector.Header, key string) int {
	for i := len(hs) - 1; i >= 0; i-- {
		if hs[i].Key == key {
			return i
		}
	}
	return -1
}

// Flush writes the buffer out, fsyncs the file and records its length in
// the flush mark.
func (s *writer) Flush(context.Context) error {
	if err := s.writeOut(); err != nil {
		return err
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("sink file: %w", err)
	}
	if err := s.writeMark(); err != nil {
		return fmt.Errorf("sink file: %w", err)
	}
	return nil
}

// Close writes the buffer out and closes the file; it does not fsync.
func (s *writer) Close() error {
	if s.f == nil {
		return nil
	}
	err := s.writeOut()
	err = errors.Join(err, s.f.Close())
	if s.mark != nil {
		err = errors.Join(err, s.mark.Close())
	}
	s.f, s.mark = nil, nil
	return err
}
