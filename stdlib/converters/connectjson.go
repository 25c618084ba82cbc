package converters

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/pipectl/pipectl/runtime/connector"
)

// JSONEnvelope is the "json" converter with schemas_enable = true: Kafka
// Connect's JsonConverter with schemas.enable=true, so that records with
// schemas are written and read in a format Kafka Connect's sinks and
// sources use. Every key or value is an envelope of exactly two members,
//
//	{"schema": SCHEMA, "payload": VALUE}
//
// where SCHEMA is the value's schema in Kafka Connect's JSON form (or null
// for a value without one) and VALUE the value in the JSON form of that
// schema. Schemas translate both ways as Kafka Connect writes them:
//
//   - types boolean, int8, int16, int32, int64, float (float32), double
//     (float64), string, bytes, array ("items"), map ("keys", "values"),
//     struct ("fields": each a schema with its name in "field"); "optional",
//     "name", "version", "doc", "parameters" and "default" (in the payload
//     form of the schema);
//   - logical types by name: decimal is org.apache.kafka.connect.data.Decimal
//     (bytes, parameters "scale" and "connect.decimal.precision"), date
//     ...data.Date (int32 days), time-millis ...data.Time (int32), and
//     timestamp-millis ...data.Timestamp (int64), each written with version
//     1 as Kafka Connect does; time-micros, timestamp-micros, uuid and json
//     use Debezium's names io.debezium.time.MicroTime,
//     io.debezium.time.MicroTimestamp, io.debezium.data.Uuid and
//     io.debezium.data.Json. A logical type's name stands for it: a
//     schema's own Name is not written beside it.
//
// Payloads: integers and floats as numbers (float32 rounded to float32),
// bytes in standard base64, a decimal as the base64 of its unscaled value
// (big-endian two's complement, Kafka Connect's default decimal.format;
// a number is read too), dates, times and timestamps as their integer
// counts, a uuid as its string, a json value as a string holding its JSON
// text, a map with string keys as an object and one with other keys as an
// array of [key, value] pairs, a struct as an object with its fields in
// order. A null stands for a field's default when it has one, as in Kafka
// Connect.
//
// Encode of a value without a schema writes {"schema":null,"payload":…}
// with the payload as the plain json converter writes it, and a
// json.RawMessage passes through unchanged (it is an envelope Check
// returned). Decode of an envelope with a null schema gives what the plain
// converter decodes. Check decodes (an envelope cannot be checked more
// cheaply) and returns its input as a json.RawMessage. It is safe for
// concurrent use; keep one per pipeline side, since it caches schemas
// (one *Schema per distinct schema text it reads).
type JSONEnvelope struct {
	connector.UnimplementedConverter
	// InvalidAsString (on_invalid = "string") turns input that is not an
	// envelope into a string of its bytes, without a schema.
	InvalidAsString bool

	mu      sync.Mutex
	written map[*connector.Schema][]byte // schema → its Kafka Connect JSON
	read    map[string]*connector.Schema // schema JSON text → schema
}

// maxCachedSchemas bounds each of a JSONEnvelope's schema caches.
const maxCachedSchemas = 1024

// Kafka Connect's names of the logical types.
const (
	connectDecimal         = "org.apache.kafka.connect.data.Decimal"
	connectDate            = "org.apache.kafka.connect.data.Date"
	connectTime            = "org.apache.kafka.connect.data.Time"
	connectTimestamp       = "org.apache.kafka.connect.data.Timestamp"
	debeziumMicroTime      = "io.debezium.time.MicroTime"
	debeziumMicroTimestamp = "io.debezium.time.MicroTimestamp"
	debeziumUUID           = "io.debezium.data.Uuid"
	debeziumJSON           = "io.debezium.data.Json"

	connectScale     = "scale"
	connectPrecision = "connect.decimal.precision"
)

var logicalNames = map[connector.LogicalType]string{
	connector.LogicalDecimal:         connectDecimal,
	connector.LogicalDate:            connectDate,
	connector.LogicalTimeMillis:      connectTime,
	connector.LogicalTimestampMillis: connectTimestamp,
	connector.LogicalTimeMicros:      debeziumMicroTime,
	connector.LogicalTimestampMicros: debeziumMicroTimestamp,
	connector.LogicalUUID:            debeziumUUID,
	connector.LogicalJSON:            debeziumJSON,
}

// logicalsByName is logicalNames the other way round.
var logicalsByName = func() map[string]connector.LogicalType {
	m := make(map[string]connector.LogicalType, len(logicalNames))
	for l, n := range logicalNames {
		m[n] = l
	}
	return m
}()

// connectVersioned are the logical types Kafka Connect writes with version 1.
var connectVersioned = map[connector.LogicalType]bool{
	connector.LogicalDecimal: true, connector.LogicalDate: true,
	connector.LogicalTimeMillis: true, connector.LogicalTimestampMillis: true,
}

var connectTypeNames = map[connector.SchemaType]string{
	connector.TypeBoolean: "boolean", connector.TypeInt8: "int8", connector.TypeInt16: "int16",
	connector.TypeInt32: "int32", connector.TypeInt64: "int64", connector.TypeFloat32: "float",
	connector.TypeFloat64: "double", connector.TypeString: "string", connector.TypeBytes: "bytes",
	connector.TypeArray: "array", connector.TypeMap: "map", connector.TypeStruct: "struct",
}

var connectTypes = func() map[string]connector.SchemaType {
	m := make(map[string]connector.SchemaType, len(connectTypeNames))
	for t, n := range connectTypeNames {
		m[n] = t
	}
	return m
}()

// Encode writes v in an envelope without a schema.
func (c *JSONEnvelope) Encode(v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		return v, nil
	}
	b := append(make([]byte, 0, 64), `{"schema":null,"payload":`...)
	b, err := AppendJSON(b, v)
	if err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

// EncodeWithSchema writes v, which must fit s, and s in an envelope
// (connector.SchemaEncoder). A nil s is Encode.
func (c *JSONEnvelope) EncodeWithSchema(v any, s *connector.Schema) ([]byte, error) {
	if s == nil {
		return c.Encode(v)
	}
	schemaJSON, err := c.schemaJSON(s)
	if err != nil {
		return nil, err
	}
	if err := s.CheckValue(v); err != nil {
		return nil, encodeError("json", clip("the value does not fit its schema: "+err.Error()))
	}
	b := make([]byte, 0, len(schemaJSON)+64)
	b = append(b, `{"schema":`...)
	b = append(b, schemaJSON...)
	b = append(b, `,"payload":`...)
	if b, err = c.appendPayload(b, s, v); err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

// schemaJSON returns the Kafka Connect JSON of s, from the cache when it
// was written before.
func (c *JSONEnvelope) schemaJSON(s *connector.Schema) ([]byte, error) {
	c.mu.Lock()
	b, ok := c.written[s]
	c.mu.Unlock()
	if ok {
		return b, nil
	}
	if err := s.Validate(); err != nil {
		return nil, encodeError("json", clip("the schema is invalid: "+err.Error()))
	}
	b, err := c.appendSchema(nil, s)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.written == nil || len(c.written) >= maxCachedSchemas {
		c.written = map[*connector.Schema][]byte{}
	}
	c.written[s] = b
	c.mu.Unlock()
	return b, nil
}

// appendSchema writes s as Kafka Connect's JsonConverter does: type, then
// fields, items or keys and values, then optional, name, version, doc,
// parameters and default.
func (c *JSONEnvelope) appendSchema(b []byte, s *connector.Schema) ([]byte, error) {
	b = append(b, `{"type":`...)
	b = appendString(b, connectTypeNames[s.Type])
	var err error
	switch s.Type {
	case connector.TypeArray:
		b = append(b, `,"items":`...)
		if b, err = c.appendSchema(b, s.Items); err != nil {
			return b, err
		}
	case connector.TypeMap:
		b = append(b, `,"keys":`...)
		if b, err = c.appendSchema(b, s.Keys); err != nil {
			return b, err
		}
		b = append(b, `,"values":`...)
		if b, err = c.appendSchema(b, s.Values); err != nil {
			return b, err
		}
	case connector.TypeStruct:
		b = append(b, `,"fields":[`...)
		for i, f := range s.Fields {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = c.appendSchema(b, f.Schema); err != nil {
				return b, err
			}
			b = b[:len(b)-1] // reopen the object for "field"
			b = append(b, `,"field":`...)
			b = appendString(b, f.Name)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"optional":`...)
	b = strconv.AppendBool(b, s.Optional)
	name, version := s.Name, s.Version
	if n, ok := logicalNames[s.Logical]; ok {
		name = n
		if version == 0 && connectVersioned[s.Logical] {
			version = 1
		}
	}
	if name != "" {
		b = append(b, `,"name":`...)
		b = appendString(b, name)
	}
	if version != 0 {
		b = append(b, `,"version":`...)
		b = strconv.AppendInt(b, int64(version), 10)
	}
	if s.Doc != "" {
		b = append(b, `,"doc":`...)
		b = appendString(b, s.Doc)
	}
	params := s.Parameters
	if s.Logical == connector.LogicalDecimal {
		params = make(map[string]string, len(s.Parameters)+2)
		for k, v := range s.Parameters {
			params[k] = v
		}
		params[connectScale] = strconv.Itoa(s.Scale)
		if s.Precision > 0 {
			params[connectPrecision] = strconv.Itoa(s.Precision)
		}
	}
	if len(params) > 0 {
		b = append(b, `,"parameters":`...)
		if b, err = AppendJSON(b, params); err != nil {
			return b, err
		}
	}
	if s.Default != nil {
		b = append(b, `,"default":`...)
		if b, err = c.appendPayload(b, s, s.Default); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// mapPair is a map entry being written in the order of its keys.
type mapPair struct {
	k string
	v any
}

// appendPayload writes v, which fits s (CheckValue), in the JSON form of s.
func (c *JSONEnvelope) appendPayload(b []byte, s *connector.Schema, v any) ([]byte, error) {
	if v == nil {
		switch {
		case s.Default != nil:
			v = s.Default
		default:
			return append(b, "null"...), nil // optional: CheckValue passed
		}
	}
	switch s.Logical {
	case connector.LogicalDecimal:
		unscaled, _ := unscaledDecimal(v.(string), s.Scale)
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, twosComplement(unscaled))
		return append(b, '"'), nil
	case connector.LogicalDate:
		return strconv.AppendInt(b, floorDiv(v.(time.Time).Unix(), 86400), 10), nil
	case connector.LogicalTimeMillis:
		return strconv.AppendInt(b, v.(time.Duration).Milliseconds(), 10), nil
	case connector.LogicalTimeMicros:
		return strconv.AppendInt(b, v.(time.Duration).Microseconds(), 10), nil
	case connector.LogicalTimestampMillis:
		return strconv.AppendInt(b, v.(time.Time).UnixMilli(), 10), nil
	case connector.LogicalTimestampMicros:
		return strconv.AppendInt(b, v.(time.Time).UnixMicro(), 10), nil
	case connector.LogicalJSON:
		text, err := AppendJSON(nil, v)
		if err != nil {
			return b, err
		}
		return appendString(b, string(text)), nil
	}
	switch s.Type {
	case connector.TypeBoolean:
		return strconv.AppendBool(b, v.(bool)), nil
	case connector.TypeInt8, connector.TypeInt16, connector.TypeInt32, connector.TypeInt64:
		return strconv.AppendInt(b, v.(int64), 10), nil
	case connector.TypeFloat32, connector.TypeFloat64:
		f := v.(float64)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return b, encodeError("json", "cannot encode "+strconv.FormatFloat(f, 'g', -1, 64)+": JSON has no NaN or infinity")
		}
		bits := 64
		if s.Type == connector.TypeFloat32 {
			bits = 32
		}
		return strconv.AppendFloat(b, f, 'g', -1, bits), nil
	case connector.TypeString:
		return appendString(b, v.(string)), nil
	case connector.TypeBytes:
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, v.([]byte))
		return append(b, '"'), nil
	case connector.TypeArray:
		b = append(b, '[')
		for i, e := range v.([]any) {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = c.appendPayload(b, s.Items, e); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case connector.TypeMap:
		return c.appendMap(b, s, v.(map[string]any))
	case connector.TypeStruct:
		m := v.(map[string]any)
		b = append(b, '{')
		for i, f := range s.Fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, f.Name)
			b = append(b, ':')
			var err error
			if b, err = c.appendPayload(b, f.Schema, m[f.Name]); err != nil {
				return b, err
			}
		}
		return append(b, '}'), nil
	}
	return b, encodeError("json", "cannot encode a value of schema type "+string(s.Type))
}

// appendMap writes a map in the order of its keys: an object for string
// keys, an array of [key, value] pairs for others.
func (c *JSONEnvelope) appendMap(b []byte, s *connector.Schema, m map[string]any) ([]byte, error) {
	pairs := make([]mapPair, 0, len(m))
	for k, v := range m {
		pairs = append(pairs, mapPair{k, v})
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i].k < pairs[j].k })
	object := s.Keys.Type == connector.TypeString
	if object {
		b = append(b, '{')
	} else {
		b = append(b, '[')
	}
	for i, p := range pairs {
		if i > 0 {
			b = append(b, ',')
		}
		if object {
			b = appendString(b, p.k)
			b = append(b, ':')
		} else {
			b = append(b, '[')
			b = append(b, p.k...) // an integer or true/false: its text is its JSON
			b = append(b, ',')
		}
		var err error
		if b, err = c.appendPayload(b, s.Values, p.v); err != nil {
			return b, err
		}
		if !object {
			b = append(b, ']')
		}
	}
	if object {
		return append(b, '}'), nil
	}
	return append(b, ']'), nil
}

// Decode reads an envelope and returns its value.
func (c *JSONEnvelope) Decode(b []byte) (any, error) {
	v, _, err := c.DecodeWithSchema(b)
	return v, err
}

// Check validates an envelope and returns it as a json.RawMessage (sharing
// b's memory), which Encode gives back unchanged.
func (c *JSONEnvelope) Check(b []byte) (any, error) {
	if b == nil {
		return nil, nil
	}
	t, err := c.CheckWire(b)
	if err != nil {
		return nil, err
	}
	return t.Of(b), nil
}

// CheckWire is Check without building its result (connector.WireChecker).
func (c *JSONEnvelope) CheckWire(b []byte) (connector.WireType, error) {
	if _, _, err := c.decode(b, "check"); err != nil {
		if c.InvalidAsString {
			return connector.WireAsString, nil
		}
		return 0, err
	}
	return connector.WireAsJSON, nil
}

// DecodeWithSchema reads an envelope and returns its value and schema (nil
// for a null schema) (connector.SchemaDecoder).
func (c *JSONEnvelope) DecodeWithSchema(b []byte) (any, *connector.Schema, error) {
	if b == nil {
		return nil, nil, nil
	}
	v, s, err := c.decode(b, "decode")
	if err != nil {
		if c.InvalidAsString {
			return string(b), nil, nil
		}
		return nil, nil, err
	}
	return v, s, nil
}

func (c *JSONEnvelope) decode(b []byte, op string) (any, *connector.Schema, error) {
	fail := func(reason string) (any, *connector.Schema, error) {
		return nil, nil, &Error{Converter: "json", Op: op, Reason: clip(reason), Offset: -1, Near: near(b, 0), Size: len(b)}
	}
	rawSchema, rawPayload, ok := envelopeMembers(b)
	if !ok {
		if _, err := decodeJSON(b, false, op); err != nil {
			return nil, nil, err // not JSON: the plain converter's error says where
		}
		return fail(`with schemas_enable, a key or value is an envelope of exactly "schema" and "payload" (Kafka Connect's format); for plain JSON leave schemas_enable false`)
	}
	if string(rawSchema) == "null" {
		v, err := decodeJSON(rawPayload, true, op)
		if err != nil {
			return fail("the payload: " + err.Reason)
		}
		return v, nil, nil
	}
	s, err := c.schemaOf(rawSchema)
	if err != nil {
		return fail("the schema: " + err.Error())
	}
	var payload any
	if err := unmarshalNumbers(rawPayload, &payload); err != nil {
		return fail("the payload: " + err.Error())
	}
	v, err := payloadValue(s, payload, 0)
	if err == nil {
		err = s.CheckValue(v)
	}
	if err != nil {
		return fail("the payload does not fit the schema: " + err.Error())
	}
	return v, s, nil
}

// envelopeMembers returns the JSON text of the "schema" and "payload"
// members of b; ok is false unless b is valid JSON text of an object of
// those two members and no other (a member given twice counts once, its
// last value, as in encoding/json).
func envelopeMembers(b []byte) (schema, payload []byte, ok bool) {
	d := decoder{data: b, build: true, op: "decode"}
	d.skipSpace()
	if d.pos >= len(b) || b[d.pos] != '{' {
		return nil, nil, false
	}
	d.pos++
	d.skipSpace()
	for d.err == nil && d.pos < len(b) && b[d.pos] == '"' {
		key, _ := d.str()
		d.skipSpace()
		if d.err != nil || d.pos >= len(b) || b[d.pos] != ':' {
			return nil, nil, false
		}
		d.pos++
		d.skipSpace()
		start := d.pos
		d.build = false
		d.value()
		d.build = true
		if d.err != nil {
			return nil, nil, false
		}
		switch key {
		case "schema":
			schema = b[start:d.pos]
		case "payload":
			payload = b[start:d.pos]
		default:
			return nil, nil, false
		}
		d.skipSpace()
		if d.pos >= len(b) || b[d.pos] != ',' {
			break
		}
		d.pos++
		d.skipSpace()
		if d.pos >= len(b) || b[d.pos] != '"' {
			return nil, nil, false // a trailing comma
		}
	}
	if d.err != nil || d.pos >= len(b) || b[d.pos] != '}' {
		return nil, nil, false
	}
	d.pos++
	d.skipSpace()
	return schema, payload, d.pos == len(b) && schema != nil && payload != nil
}

// schemaOf parses a Kafka Connect schema, or finds it in the cache.
func (c *JSONEnvelope) schemaOf(raw json.RawMessage) (*connector.Schema, error) {
	c.mu.Lock()
	s, ok := c.read[string(raw)]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	var j any
	if err := unmarshalNumbers(raw, &j); err != nil {
		return nil, err
	}
	s, err := connectSchema(j, "", 0)
	if err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.read == nil || len(c.read) >= maxCachedSchemas {
		c.read = map[string]*connector.Schema{}
	}
	c.read[string(raw)] = s
	c.mu.Unlock()
	return s, nil
}

// unmarshalNumbers decodes JSON text keeping numbers as json.Number.
func unmarshalNumbers(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}

// pathError is a problem at a place of a schema or payload.
type pathError struct{ path, reason string }

func (e *pathError) Error() string {
	if e.path == "" {
		return e.reason
	}
	return "at " + e.path + ": " + e.reason
}

// within puts an error of a part of a payload at that part's place.
func within(err error, segment string) error {
	if pe, ok := err.(*pathError); ok {
		return &pathError{segment + pe.path, pe.reason}
	}
	return err
}

// maxNesting bounds how deeply schemas and payloads nest, as JSON text.
const maxNesting = 10000

// connectSchema reads a schema in Kafka Connect's JSON form.
func connectSchema(j any, path string, depth int) (*connector.Schema, error) {
	if depth > maxNesting {
		return nil, &pathError{path, "nested too deeply"}
	}
	obj, ok := j.(map[string]any)
	if !ok {
		return nil, &pathError{path, "a schema is a JSON object"}
	}
	typeName, _ := obj["type"].(string)
	t, ok := connectTypes[typeName]
	if !ok {
		return nil, &pathError{path, "the schema has no known \"type\" (boolean, int8, int16, int32, int64, float, double, string, bytes, array, map, struct)"}
	}
	s := &connector.Schema{Type: t}
	var err error
	sub := func(key, where string) (*connector.Schema, error) {
		v, ok := obj[key]
		if !ok || v == nil {
			return nil, &pathError{path, "a " + typeName + " schema needs \"" + key + "\""}
		}
		return connectSchema(v, path+where, depth+1)
	}
	switch t {
	case connector.TypeArray:
		if s.Items, err = sub("items", "[]"); err != nil {
			return nil, err
		}
	case connector.TypeMap:
		if s.Keys, err = sub("keys", "{key}"); err != nil {
			return nil, err
		}
		if s.Values, err = sub("values", "{}"); err != nil {
			return nil, err
		}
	case connector.TypeStruct:
		fields, ok := obj["fields"].([]any)
		if !ok {
			return nil, &pathError{path, "a struct schema's \"fields\" is an array"}
		}
		for _, f := range fields {
			fo, _ := f.(map[string]any)
			name, ok := fo["field"].(string)
			if !ok {
				return nil, &pathError{path, "a struct field needs its name in \"field\""}
			}
			fs, err := connectSchema(f, fieldAt(path, name), depth+1)
			if err != nil {
				return nil, err
			}
			s.Fields = append(s.Fields, connector.Field{Name: name, Schema: fs})
		}
	}
	s.Optional, _ = obj["optional"].(bool)
	s.Name, _ = obj["name"].(string)
	s.Doc, _ = obj["doc"].(string)
	if n, ok := obj["version"].(json.Number); ok {
		v, err := strconv.ParseInt(n.String(), 10, 32)
		if err != nil || v < 0 {
			return nil, &pathError{path, "the version " + n.String() + " is not a non-negative 32-bit integer"}
		}
		s.Version = int(v)
	}
	if p, ok := obj["parameters"]; ok && p != nil {
		po, ok := p.(map[string]any)
		if !ok {
			return nil, &pathError{path, "\"parameters\" is an object of strings"}
		}
		s.Parameters = make(map[string]string, len(po))
		for k, v := range po {
			vs, ok := v.(string)
			if !ok {
				return nil, &pathError{path, "schema parameters have string values"}
			}
			s.Parameters[k] = vs
		}
	}
	if l, ok := logicalsByName[s.Name]; ok {
		if s.Type != l.Physical() {
			return nil, &pathError{path, s.Name + " is carried by " + string(l.Physical()) + ", not " + string(s.Type)}
		}
		s.Logical, s.Name = l, ""
		if s.Version == 1 && connectVersioned[l] {
			s.Version = 0
		}
		if l == connector.LogicalDecimal {
			if s.Scale, err = intParameter(s, connectScale, true); err != nil {
				return nil, &pathError{path, err.Error()}
			}
			if s.Precision, err = intParameter(s, connectPrecision, false); err != nil {
				return nil, &pathError{path, err.Error()}
			}
		}
	}
	if len(s.Parameters) == 0 {
		s.Parameters = nil
	}
	if d, ok := obj["default"]; ok && d != nil {
		if err := s.Validate(); err != nil {
			return nil, &pathError{path, err.Error()}
		}
		if s.Default, err = payloadValue(s, d, depth); err != nil {
			return nil, &pathError{path, "the default: " + err.Error()}
		}
	}
	return s, nil
}

// intParameter takes an integer parameter of a decimal out of its
// parameters.
func intParameter(s *connector.Schema, name string, required bool) (int, error) {
	text, ok := s.Parameters[name]
	if !ok {
		if required {
			return 0, &pathError{"", "a decimal needs its \"" + name + "\" parameter"}
		}
		return 0, nil
	}
	n, err := strconv.ParseInt(text, 10, 32)
	if err != nil || n < 0 {
		return 0, &pathError{"", "the decimal parameter " + name + " is " + strconv.Quote(text) + ", not a non-negative integer"}
	}
	delete(s.Parameters, name)
	return int(n), nil
}

func fieldAt(path, name string) string { return path + "." + name }

// payloadValue reads a value of s from its JSON form (decoded with
// numbers as json.Number) into the representation connector.Schema
// documents. It checks leaves; the caller checks the whole value
// (CheckValue) once. Errors are *pathError with the place inside j.
func payloadValue(s *connector.Schema, j any, depth int) (any, error) {
	if depth > maxNesting {
		return nil, &pathError{"", "nested too deeply"}
	}
	if j == nil {
		switch {
		case s.Default != nil:
			// A copy: transforms change maps and lists in place.
			return copyValue(s.Default), nil
		case s.Optional:
			return nil, nil
		}
		return nil, &pathError{"", "null for a schema that is not optional and has no default"}
	}
	bad := func() (any, error) {
		return nil, &pathError{"", jsonKind(j) + " is not a payload of " + describeSchema(s)}
	}
	n, isNum := j.(json.Number)
	str, isStr := j.(string)
	integer := func(bits int) (int64, bool) {
		if !isNum {
			return 0, false
		}
		i, err := strconv.ParseInt(n.String(), 10, bits)
		return i, err == nil
	}
	var v any
	switch s.Logical {
	case "":
	case connector.LogicalDecimal:
		var unscaled *big.Int
		switch {
		case isStr:
			raw, err := decodeBase64(str)
			if err != nil || len(raw) == 0 {
				return bad()
			}
			if len(raw) > maxDecimalBytes {
				return nil, &pathError{"", "a decimal of more than " + strconv.Itoa(connector.MaxDecimalDigits) + " digits"}
			}
			unscaled = fromTwosComplement(raw)
		case isNum:
			var reason string
			if unscaled, reason = numericDecimal(n.String(), s.Scale); reason != "" {
				return nil, &pathError{"", n.String() + " " + reason}
			}
		default:
			return bad()
		}
		v = decimalText(unscaled, s.Scale)
	case connector.LogicalDate:
		days, ok := integer(32)
		if !ok {
			return bad()
		}
		v = time.Unix(days*86400, 0).UTC()
	case connector.LogicalTimeMillis:
		ms, ok := integer(32)
		if !ok {
			return bad()
		}
		v = time.Duration(ms) * time.Millisecond
	case connector.LogicalTimeMicros:
		us, ok := integer(64)
		if !ok || us < 0 || us >= int64(24*time.Hour/time.Microsecond) {
			return bad()
		}
		v = time.Duration(us) * time.Microsecond
	case connector.LogicalTimestampMillis:
		ms, ok := integer(64)
		if !ok {
			return bad()
		}
		v = time.UnixMilli(ms).UTC()
	case connector.LogicalTimestampMicros:
		us, ok := integer(64)
		if !ok {
			return bad()
		}
		v = time.UnixMicro(us).UTC()
	case connector.LogicalJSON:
		if !isStr {
			return bad()
		}
		d, err := decodeJSON([]byte(str), true, "decode")
		if err != nil {
			return nil, &pathError{"", "the json value's text: " + err.Reason}
		}
		v = d
	case connector.LogicalUUID:
		if !isStr {
			return bad()
		}
		v = str
	}
	if s.Logical == "" {
		switch s.Type {
		case connector.TypeBoolean:
			b, ok := j.(bool)
			if !ok {
				return bad()
			}
			v = b
		case connector.TypeInt8, connector.TypeInt16, connector.TypeInt32, connector.TypeInt64:
			i, ok := integer(64)
			if !ok {
				return bad()
			}
			v = i
		case connector.TypeFloat32, connector.TypeFloat64:
			if !isNum {
				return bad()
			}
			bits := 64
			if s.Type == connector.TypeFloat32 {
				bits = 32
			}
			f, err := strconv.ParseFloat(n.String(), bits)
			if err != nil {
				return nil, &pathError{"", n.String() + " is out of the range of " + string(s.Type)}
			}
			v = f
		case connector.TypeString:
			if !isStr {
				return bad()
			}
			v = str
		case connector.TypeBytes:
			raw, err := decodeBase64(str)
			if !isStr || err != nil {
				return bad()
			}
			v = raw
		case connector.TypeArray:
			l, ok := j.([]any)
			if !ok {
				return bad()
			}
			out := make([]any, len(l))
			for i, e := range l {
				var err error
				if out[i], err = payloadValue(s.Items, e, depth+1); err != nil {
					return nil, within(err, "["+strconv.Itoa(i)+"]")
				}
			}
			v = out
		case connector.TypeMap:
			m, err := payloadMap(s, j, depth)
			if err != nil {
				return nil, err
			}
			v = m
		case connector.TypeStruct:
			obj, ok := j.(map[string]any)
			if !ok {
				return bad()
			}
			out := make(map[string]any, len(s.Fields))
			for _, f := range s.Fields {
				fv, err := payloadValue(f.Schema, obj[f.Name], depth+1)
				if err != nil {
					return nil, within(err, "."+f.Name)
				}
				out[f.Name] = fv
			}
			v = out
		}
	}
	if s.Logical != "" || (s.Type != connector.TypeArray && s.Type != connector.TypeMap && s.Type != connector.TypeStruct) {
		// A leaf: its range, digits, format. Containers are checked once,
		// whole, by the caller of the top payloadValue.
		if err := s.CheckValue(v); err != nil {
			return nil, &pathError{"", err.Error()}
		}
	}
	return v, nil
}

// payloadMap reads a map: an object for string keys, an array of [key,
// value] pairs for other keys.
func payloadMap(s *connector.Schema, j any, depth int) (map[string]any, error) {
	if s.Keys.Type == connector.TypeString {
		obj, ok := j.(map[string]any)
		if !ok {
			return nil, &pathError{"", "a map with string keys is a JSON object, not " + jsonKind(j)}
		}
		out := make(map[string]any, len(obj))
		for k, e := range obj {
			v, err := payloadValue(s.Values, e, depth+1)
			if err != nil {
				return nil, within(err, "["+strconv.Quote(k)+"]")
			}
			out[k] = v
		}
		return out, nil
	}
	pairs, ok := j.([]any)
	if !ok {
		return nil, &pathError{"", "a map with " + string(s.Keys.Type) + " keys is a JSON array of [key, value] pairs, not " + jsonKind(j)}
	}
	out := make(map[string]any, len(pairs))
	for i, p := range pairs {
		pair, ok := p.([]any)
		if !ok || len(pair) != 2 {
			return nil, &pathError{"[" + strconv.Itoa(i) + "]", "a map entry is a [key, value] pair"}
		}
		var key string
		switch k := pair[0].(type) {
		case bool:
			if s.Keys.Type != connector.TypeBoolean {
				return nil, &pathError{"[" + strconv.Itoa(i) + "]", "a boolean key of a map with " + string(s.Keys.Type) + " keys"}
			}
			key = strconv.FormatBool(k)
		case json.Number:
			n, err := strconv.ParseInt(k.String(), 10, 64)
			if !s.Keys.Type.Integer() || err != nil {
				return nil, &pathError{"[" + strconv.Itoa(i) + "]", "the key " + k.String() + " is not a key of " + string(s.Keys.Type)}
			}
			key = strconv.FormatInt(n, 10)
		default:
			return nil, &pathError{"[" + strconv.Itoa(i) + "]", jsonKind(pair[0]) + " is not a key of " + string(s.Keys.Type)}
		}
		v, err := payloadValue(s.Values, pair[1], depth+1)
		if err != nil {
			return nil, within(err, "["+strconv.Quote(key)+"]")
		}
		out[key] = v
	}
	return out, nil
}

// copyValue copies the maps, lists and bytes of a value.
func copyValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = copyValue(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = copyValue(e)
		}
		return out
	case []byte:
		return bytes.Clone(v)
	}
	return v
}

// maxDecimalBytes is the most bytes of the unscaled value of a decimal of
// connector.MaxDecimalDigits digits.
const maxDecimalBytes = connector.MaxDecimalDigits*332/800 + 2 // log2(10)/8 ≈ 0.415

// numericDecimal reads a JSON number as the unscaled value of a decimal
// of the scale: reason says why it cannot be one.
func numericDecimal(text string, scale int) (unscaled *big.Int, reason string) {
	mantissa, exp := text, 0
	if i := strings.IndexAny(text, "eE"); i >= 0 {
		e, err := strconv.Atoi(strings.TrimPrefix(text[i+1:], "+"))
		if err != nil || e > 2*connector.MaxDecimalDigits || e < -2*connector.MaxDecimalDigits {
			return nil, "has an exponent out of the range of a decimal"
		}
		mantissa, exp = text[:i], e
	}
	neg := strings.HasPrefix(mantissa, "-")
	intPart, frac, _ := strings.Cut(strings.TrimPrefix(mantissa, "-"), ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	// The value is digits × 10^shift / 10^scale.
	shift := exp - len(frac) + scale
	if shift < 0 {
		cut := max(len(digits)+shift, 0)
		if strings.Trim(digits[cut:], "0") != "" {
			return nil, "has more digits after the point than the scale " + strconv.Itoa(scale)
		}
		digits = digits[:cut]
	} else if digits != "" {
		if len(digits)+shift > connector.MaxDecimalDigits {
			return nil, "has more than " + strconv.Itoa(connector.MaxDecimalDigits) + " digits"
		}
		digits += strings.Repeat("0", shift)
	}
	if digits == "" {
		digits = "0"
	}
	unscaled, _ = new(big.Int).SetString(digits, 10)
	if neg {
		unscaled.Neg(unscaled)
	}
	return unscaled, ""
}

// decodeBase64 reads standard base64, with or without padding.
func decodeBase64(s string) ([]byte, error) {
	if strings.HasSuffix(s, "=") || len(s)%4 == 0 {
		return base64.StdEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// unscaledDecimal returns decimal text's value times 10^scale; ok is false
// for text that is not a decimal with at most scale digits after the point.
func unscaledDecimal(text string, scale int) (*big.Int, bool) {
	neg := strings.HasPrefix(text, "-")
	text = strings.TrimLeft(text, "+-")
	intPart, frac, _ := strings.Cut(text, ".")
	if len(frac) > scale {
		return nil, false
	}
	digits := intPart + frac + strings.Repeat("0", scale-len(frac))
	if digits == "" {
		digits = "0"
	}
	n, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		return nil, false
	}
	if neg {
		n.Neg(n)
	}
	return n, true
}

// decimalText writes unscaled / 10^scale with exactly scale digits after
// the point.
func decimalText(unscaled *big.Int, scale int) string {
	digits := new(big.Int).Abs(unscaled).String()
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}
	text := digits
	if scale > 0 {
		text = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	if unscaled.Sign() < 0 {
		text = "-" + text
	}
	return text
}

var one = big.NewInt(1)

// twosComplement writes n as Java's BigInteger.toByteArray does: the
// fewest big-endian bytes of its two's complement.
func twosComplement(n *big.Int) []byte {
	if n.Sign() >= 0 {
		b := n.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	size := new(big.Int).Not(n).BitLen()/8 + 1 // ^n = -n-1 >= 0
	return new(big.Int).Add(n, new(big.Int).Lsh(one, uint(8*size))).Bytes()
}

// fromTwosComplement reads big-endian two's complement bytes.
func fromTwosComplement(b []byte) *big.Int {
	n := new(big.Int).SetBytes(b)
	if b[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(one, uint(8*len(b))))
	}
	return n
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// jsonKind names the JSON type of a decoded value.
func jsonKind(j any) string {
	switch j.(type) {
	case nil:
		return "null"
	case bool:
		return "a JSON boolean"
	case json.Number:
		return "a JSON number"
	case string:
		return "a JSON string"
	case []any:
		return "a JSON array"
	}
	return "a JSON object"
}

// describeSchema names a schema's type for messages, without its fields.
func describeSchema(s *connector.Schema) string {
	if s.Logical != "" {
		return string(s.Logical)
	}
	return string(s.Type)
}

// maxReason bounds the reason of an envelope error: schemas and paths come
// from the data.
const maxReason = 200

// clip shortens a reason to maxReason bytes, on a rune boundary.
func clip(reason string) string {
	if len(reason) <= maxReason {
		return reason
	}
	cut := maxReason
	for cut > 0 && !utf8.RuneStart(reason[cut]) {
		cut--
	}
	return reason[:cut] + "…"
}
