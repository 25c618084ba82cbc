package file

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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
type writer struct {
	connector.UnimplementedSink

	path   string
	format format
	f      *os.File
	w      *bufio.Writer
	line   []byte // where a line is built when w has too little room; reused
	// longest is the length of the longest line since line was last
	// dropped: a line is built in w's free space only when that much is
	// free.
	longest int
}

// TaskPath returns the file task `task` of `tasks` writes: path itself for
// a single task, else NAME-N.EXT (out/orders.jsonl → out/orders-2.jsonl).
func TaskPath(path string, task, tasks int) string {
	if tasks <= 1 {
		return path
	}
	ext := filepath.Ext(path)
	if strings.ContainsRune(ext, filepath.Separator) {
		ext = ""
	}
	return strings.TrimSuffix(path, ext) + "-" + strconv.Itoa(task) + ext
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
	s.f, err = os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("sink file: %w", err)
	}
	s.w = bufio.NewWriterSize(s.f, writeBuffer)
	return nil
}

func (s *writer) Write(_ context.Context, records []connector.Record) error {
	for i := range records {
		r := &records[i]
		// Build the line in w's free space, where Write then finds it
		// in place (one copy of the record, not two), unless that space
		// is shorter than the longest line so far: then in s.line.
		// Either way a record that cannot be encoded leaves nothing in
		// the file.
		line := s.w.AvailableBuffer()
		inBuffer := cap(line) >= s.longest
		if !inBuffer {
			line = s.line[:0]
		}
		line, err := s.appendRecord(line, r)
		if err != nil {
			return fmt.Errorf("sink file: record at %s/%d offset %d: %w", r.Topic, r.Partition, r.Offset, err)
		}
		line = append(line, '\n')
		s.longest = max(s.longest, len(line))
		if !inBuffer {
			s.line = line
		}
		if _, err := s.w.Write(line); err != nil {
			return fmt.Errorf("sink file: %w", err)
		}
	}
	if cap(s.line) > writeBuffer {
		s.line, s.longest = nil, 0
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

// Flush writes the buffer out and fsyncs the file.
func (s *writer) Flush(context.Context) error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("sink file: %w", err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("sink file: %w", err)
	}
	return nil
}

// Close writes the buffer out and closes the file; it does not fsync.
func (s *writer) Close() error {
	if s.f == nil {
		return nil
	}
	err := s.w.Flush()
	err = errors.Join(err, s.f.Close())
	s.f = nil
	return err
}
