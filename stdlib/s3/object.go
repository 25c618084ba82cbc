package s3

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib/converters"
)

// object is one object being filled: the records of one partition and
// path from its start offset.
type object struct {
	path     string
	start    int64
	count    int
	bytes    int64
	first    time.Time // timestamp of its first record
	lines    []byte    // jsonl and raw
	rows     []any     // parquet: one map per record
	schema   *connector.Schema
	declared bool // schema came with the records (else inferred)
}

// extension returns an object name's extension for a format and
// compression.
func extension(format, compression string) string {
	ext := map[string]string{"parquet": ".parquet", "jsonl": ".jsonl", "raw": ".bin"}[format]
	if format != "parquet" {
		switch compression {
		case "gzip":
			ext += ".gz"
		case "zstd":
			ext += ".zst"
		}
	}
	return ext
}

// objectName is PREFIX/PATH/TOPIC+PARTITION+START.EXT, the start offset
// zero-padded to 10 digits as Confluent's S3 sink pads it.
func objectName(prefix, path, topic string, partition int32, start int64, ext string) string {
	name := topic + "+" + strconv.Itoa(int(partition)) + "+" + fmt.Sprintf("%010d", start) + ext
	if path != "" {
		name = path + "/" + name
	}
	if prefix != "" {
		name = prefix + "/" + name
	}
	return name
}

// appendLine appends a record as one JSON object, fields in this order:
// topic, partition, offset, timestamp (RFC 3339 in UTC, null when unset),
// key, value (JSON: JSON text as it is, strings as strings, bytes that are
// not UTF-8 as key_base64/value_base64 instead), headers (a list of
// {"key", "value"} in their order, repeats kept; a value that is not
// UTF-8 as "value_base64").
func appendLine(b []byte, r *connector.Record) ([]byte, error) {
	b = append(b, `{"topic":`...)
	b, _ = converters.AppendJSON(b, r.OriginalTopic)
	b = append(b, `,"partition":`...)
	b = strconv.AppendInt(b, int64(r.OriginalPartition), 10)
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
	if b, err = appendField(b, "key", r.Key, r.Encoded); err != nil {
		return b, err
	}
	if b, err = appendField(b, "value", r.Value, r.Encoded); err != nil {
		return b, err
	}
	b = append(b, `,"headers":[`...)
	for i, h := range r.Headers {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"key":`...)
		b, _ = converters.AppendJSON(b, h.Key)
		switch {
		case h.Value == nil:
			b = append(b, `,"value":null`...)
		case utf8.Valid(h.Value):
			b = append(b, `,"value":`...)
			b, _ = converters.AppendJSON(b, string(h.Value))
		default:
			b = append(b, `,"value_base64":"`...)
			b = base64.StdEncoding.AppendEncode(b, h.Value)
			b = append(b, '"')
		}
		b = append(b, '}')
	}
	return append(b, "]}"...), nil
}

// appendField appends ,"NAME":JSON for a key or value.
func appendField(b []byte, name string, v any, encoded bool) ([]byte, error) {
	if raw, ok := v.([]byte); ok && raw != nil {
		if encoded && json.Valid(raw) {
			v = json.RawMessage(raw)
		} else if utf8.Valid(raw) {
			v = string(raw)
		} else {
			b = append(b, `,"`+name+`_base64":"`...)
			b = base64.StdEncoding.AppendEncode(b, raw)
			return append(b, '"'), nil
		}
	}
	b = append(b, `,"`+name+`":`...)
	if raw, ok := v.(json.RawMessage); ok {
		if bytes.ContainsAny(raw, "\r\n") {
			buf := bytes.NewBuffer(b)
			if err := json.Compact(buf, raw); err != nil {
				return b, fmt.Errorf("%s is not valid JSON: %w", name, err)
			}
			return buf.Bytes(), nil
		}
		return append(b, raw...), nil
	}
	out, err := converters.AppendJSON(b, v)
	if err != nil {
		return b, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// appendRaw appends a value's bytes: bytes and strings as they are, other
// values as JSON.
func appendRaw(b []byte, v any) ([]byte, error) {
	if w, ok := connector.WireBytes(v); ok {
		return append(b, w...), nil
	}
	return converters.AppendJSON(b, v)
}

// keyBytes returns the bytes of a key for the Parquet key column: bytes
// and strings as they are, other keys as JSON text.
func keyBytes(k any) ([]byte, error) {
	if b, ok := connector.WireBytes(k); ok {
		return b, nil
	}
	return converters.AppendJSON(nil, k)
}

// parquetValue returns the value of a record and its schema for a Parquet
// object: the record's schema, or one inferred from a schemaless value
// (JSON text decoded), every part optional. A value that no schema can be
// inferred for (an empty list, lists of mixed types) is its JSON text in a
// json column.
//
// When the value fits the schema of the object it goes to (open, may be
// nil), that schema is returned without inferring one.
func parquetValue(r *connector.Record, open *object) (v any, s *connector.Schema, declared bool, err error) {
	if r.ValueSchema != nil {
		return r.Value, r.ValueSchema, true, nil
	}
	v = r.Value
	switch x := v.(type) {
	case json.RawMessage:
		if v, err = decodeJSON(x); err != nil {
			return nil, nil, false, fmt.Errorf("value is not valid JSON: %w", err)
		}
	case []byte:
		if r.Encoded && json.Valid(x) {
			if v, err = decodeJSON(x); err != nil {
				return nil, nil, false, err
			}
		}
	}
	if v == nil {
		return nil, nil, false, nil
	}
	if open != nil && !open.declared && open.schema != nil && fitsInferred(open.schema, v) {
		return v, open.schema, false, nil
	}
	s, err = connector.InferSchema(withoutNulls(v))
	if err != nil {
		return v, &connector.Schema{Type: connector.TypeString, Logical: connector.LogicalJSON, Optional: true}, false, nil
	}
	optional(s)
	return v, s, false, nil
}

// withoutNulls returns v without its null map entries, for Infer (which
// cannot type a null).
func withoutNulls(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if e != nil {
				out[k] = withoutNulls(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = withoutNulls(e)
		}
		return out
	}
	return v
}

func optional(s *connector.Schema) {
	s.Optional = true
	if s.Items != nil {
		// Elements stay required: parquet-go loses the fields of an
		// optional struct element; a null element makes the value not
		// fit, and the next object infers again.
		optional(s.Items)
		s.Items.Optional = false
	}
	for _, f := range s.Fields {
		optional(f.Schema)
	}
}

// fits says whether a value of schema s goes in the object (else a new
// object starts).
func (o *object) fits(v any, s *connector.Schema, declared bool) bool {
	if o.schema == nil || s == nil {
		return o.schema == nil || v == nil
	}
	if declared != o.declared {
		return false
	}
	if declared {
		return o.schema == s || o.schema.Equal(s)
	}
	if o.schema == s || o.schema.Equal(s) || fitsInferred(o.schema, v) {
		return true
	}
	// A schemaless value with fields the object has not seen: the
	// object's schema grows by them (optional), when the types agree.
	if m, ok := merge(o.schema, s); ok && fitsInferred(m, v) {
		o.schema = m
		return true
	}
	return false
}

// merge returns the schema of the values of a and of b, both inferred
// (every part optional): struct fields of both (a's first), when the types
// of the fields they share agree.
func merge(a, b *connector.Schema) (*connector.Schema, bool) {
	if a.Logical == "" && b.Logical == "" && isNumber(a.Type) && isNumber(b.Type) && a.Type != b.Type {
		// 10 and 10.5 in one JSON field: a double.
		return &connector.Schema{Type: connector.TypeFloat64, Optional: true}, true
	}
	if a.Type != b.Type || a.Logical != b.Logical {
		return nil, false
	}
	switch a.Type {
	case connector.TypeArray:
		items, ok := merge(a.Items, b.Items)
		if !ok {
			return nil, false
		}
		out := *a
		out.Items = items
		return &out, true
	case connector.TypeStruct:
		out := *a
		out.Fields = nil
		for _, f := range a.Fields {
			if g, _ := b.Field(f.Name); g != nil {
				m, ok := merge(f.Schema, g.Schema)
				if !ok {
					return nil, false
				}
				out.Fields = append(out.Fields, connector.Field{Name: f.Name, Schema: m})
			} else {
				out.Fields = append(out.Fields, f)
			}
		}
		for _, g := range b.Fields {
			if f, _ := a.Field(g.Name); f == nil {
				out.Fields = append(out.Fields, g)
			}
		}
		return &out, true
	}
	return a, true
}

// fitsInferred says whether a schemaless value is one of an inferred
// schema: every part may be null but list elements, a double may hold an
// integer, and a struct has no field the schema lacks.
func fitsInferred(s *connector.Schema, v any) bool {
	if v == nil {
		return s.Optional
	}
	if s.Logical == connector.LogicalJSON {
		return true
	}
	switch s.Type {
	case connector.TypeBoolean:
		_, ok := v.(bool)
		return ok
	case connector.TypeInt64:
		_, ok := v.(int64)
		return ok
	case connector.TypeFloat64:
		switch v.(type) {
		case float64, int64:
			return true
		}
	case connector.TypeString:
		_, ok := v.(string)
		return ok
	case connector.TypeBytes:
		_, ok := v.([]byte)
		return ok
	case connector.TypeArray:
		l, ok := v.([]any)
		if !ok {
			return false
		}
		for _, e := range l {
			if e == nil || !fitsInferred(s.Items, e) {
				return false
			}
		}
		return true
	case connector.TypeStruct:
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		for k, e := range m {
			f, _ := s.Field(k)
			if f == nil {
				if e != nil {
					return false
				}
				continue
			}
			if !fitsInferred(f.Schema, e) {
				return false
			}
		}
		return true
	}
	return false
}

func isNumber(t connector.SchemaType) bool {
	return t == connector.TypeInt64 || t == connector.TypeFloat64
}

// parquetRow builds the row of a record; its value is converted to the
// object's final schema when the object is encoded (an inferred schema may
// still grow).
// A value of a declared schema is checked now, so that a record that does
// not fit fails alone; one of an inferred schema fits it (fitsInferred).
func parquetRow(r *connector.Record, v any, s *connector.Schema, declared bool) (map[string]any, int64, error) {
	row := map[string]any{
		colTopic:     r.OriginalTopic,
		colPartition: r.OriginalPartition,
		colOffset:    r.Offset,
	}
	size := int64(len(r.OriginalTopic) + 12)
	if !r.Timestamp.IsZero() {
		row[colTimestamp] = r.Timestamp.UnixMilli()
	} else {
		row[colTimestamp] = nil
	}
	if r.Key != nil {
		k, err := keyBytes(r.Key)
		if err != nil {
			return nil, 0, fmt.Errorf("key: %w", err)
		}
		row[colKey] = k
		size += int64(len(k))
	} else {
		row[colKey] = nil
	}
	hs := make([]any, len(r.Headers))
	for i, h := range r.Headers {
		var hv any
		if h.Value != nil {
			hv = h.Value
		}
		hs[i] = map[string]any{"key": h.Key, "value": hv}
		size += int64(len(h.Key) + len(h.Value))
	}
	row[colHeaders] = hs
	row[colValue] = nil
	if s != nil && v != nil {
		if declared {
			if _, err := toParquet(s, v); err != nil {
				return nil, 0, fmt.Errorf("value does not fit its schema %s: %w", s, err)
			}
		}
		row[colValue] = v
		size += sizeOf(v)
	}
	return row, size, nil
}

// encode returns the object's bytes. An object of an inferred schema is
// converted in place: it is encoded once.
func (o *object) encode(format, compression string) (_ []byte, err error) {
	if format != "parquet" {
		return compress(o.lines, compression)
	}
	vs := o.schema
	if vs == nil {
		vs = &connector.Schema{Type: connector.TypeString, Logical: connector.LogicalJSON, Optional: true}
	}
	opts := []parquet.WriterOption{parquetSchema(vs, false)}
	switch compression {
	case "snappy":
		opts = append(opts, parquet.Compression(&parquet.Snappy))
	case "gzip":
		opts = append(opts, parquet.Compression(&parquet.Gzip))
	case "zstd":
		opts = append(opts, parquet.Compression(&parquet.Zstd))
	}
	sj, err := vs.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("value schema: %w", err)
	}
	meta := metaValueInferred
	if o.declared {
		meta = metaValueSchema
	}
	opts = append(opts, parquet.KeyValueMetadata(meta, string(sj)))
	// parquet-go panics on a value of another Go type than its column's.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("writing Parquet: %v", p)
		}
	}()
	var buf bytes.Buffer
	w := parquet.NewWriter(&buf, opts...)
	for _, r := range o.rows {
		row := r.(map[string]any)
		if o.declared {
			row = maps.Clone(row)
		}
		if v := row[colValue]; v != nil {
			pv, err := toParquet(vs, v, !o.declared)
			if err != nil {
				return nil, fmt.Errorf("value at offset %v does not fit the object's schema %s: %w", row[colOffset], vs, err)
			}
			row[colValue] = pv
		}
		if err := w.Write(row); err != nil {
			return nil, fmt.Errorf("writing Parquet: %w", err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("writing Parquet: %w", err)
	}
	return buf.Bytes(), nil
}

// compress compresses a jsonl or raw object whole: deterministic output,
// so that an object written again is the same.
func compress(b []byte, compression string) ([]byte, error) {
	var buf bytes.Buffer
	switch compression {
	case "gzip":
		w := gzip.NewWriter(&buf)
		if _, err := w.Write(b); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	case "zstd":
		w, err := zstd.NewWriter(&buf, zstd.WithEncoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(b); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	return b, nil
}

func decodeBase64(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }
