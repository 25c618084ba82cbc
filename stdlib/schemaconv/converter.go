package schemaconv

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/pipectl/pipectl/runtime/connector"
)

// registryTimeout bounds one registry round trip.
const registryTimeout = 30 * time.Second

// maxCachedSchemas bounds the record schemas an encoder keeps written in
// its language.
const maxCachedSchemas = 4096

// settings are a converter's configuration.
type settings struct {
	Config
	message string // protobuf: the message of Schema
}

// format is one schema language.
type format interface {
	name() string // the converter type: "avro"
	registryType() connector.RegistryType
	// compile builds the codec of a registered schema; message picks a
	// protobuf message ("" for the first).
	compile(s connector.RegistrySchema, message string) (*codec, error)
	// write writes a record schema in the language, for auto-registration.
	write(s *connector.Schema) (string, error)
}

// codec writes and reads the payloads of one schema.
type codec struct {
	schema *connector.Schema // the record schema of the values
	name   string            // the full name, for the record subject strategies
	index  []int             // protobuf: the message-index list of the message
	encode func(dst []byte, v any) ([]byte, error)
	decode func(b []byte) (any, error)
	// byIndex gives the codec of another message of the same file
	// (protobuf), nil for the other languages.
	byIndex func(index []int) (*codec, error)
}

// Converter is an avro, protobuf or json_schema converter: a
// connector.TopicEncoder and connector.SchemaDecoder.
type Converter struct {
	connector.UnimplementedConverter
	format format
	reg    connector.SchemaRegistry
	key    bool
	cfg    settings
	fixed  *codec // the configured schema
	fixedT string

	mu       sync.RWMutex
	byID     map[int]*codec                 // decode: a registered schema by id
	byIndex  map[idIndex]*codec             // decode: protobuf messages other than the first
	ids      map[subjectText]int            // encode: ids by subject and schema text
	bySchema map[*connector.Schema]*written // encode: record schemas written in the language
	byText   map[string]*written            // the same by their text, for equal schemas at other addresses
	latest   map[string]latestCodec         // encode with use_latest: by subject
	unknown  map[int]time.Time              // ids the registry did not have, until when not to ask again
}

// The negative cache of ids the registry does not hold: bad input (or
// another system's framing) should not cost a registry round trip per
// record. An id is asked again after unknownTTL, so that one registered
// meanwhile is found; the cache holds at most maxUnknown ids.
const (
	unknownTTL = 5 * time.Second
	maxUnknown = 1024
)

type idIndex struct {
	id    int
	index string
}

type subjectText struct{ subject, text string }

type written struct {
	codec *codec
	text  string
}

type latestCodec struct {
	codec *codec
	id    int
}

var (
	_ connector.TopicEncoder  = (*Converter)(nil)
	_ connector.SchemaDecoder = (*Converter)(nil)
	_ connector.SchemaEncoder = (*Converter)(nil)
)

func newConverter(env connector.ConverterEnv, cfg settings, f format) (*Converter, error) {
	c := &Converter{
		format: f, key: env.Key, cfg: cfg, reg: env.Registry,
		byID: map[int]*codec{}, byIndex: map[idIndex]*codec{}, ids: map[subjectText]int{},
		bySchema: map[*connector.Schema]*written{}, byText: map[string]*written{}, latest: map[string]latestCodec{},
		unknown: map[int]time.Time{},
	}
	if cfg.Registry != nil {
		r, err := newRemote(cfg.Registry)
		if err != nil {
			return nil, fmt.Errorf("converter %s: %w", f.name(), err)
		}
		c.reg = r
	}
	if c.reg == nil {
		return nil, fmt.Errorf("converter %s: no Schema Registry: this worker serves none; set a registry block with the url of one", f.name())
	}
	if cfg.Schema != "" {
		cd, err := f.compile(connector.RegistrySchema{Type: f.registryType(), Schema: cfg.Schema}, cfg.message)
		if err != nil {
			return nil, fmt.Errorf("converter %s: schema: %w", f.name(), err)
		}
		c.fixed, c.fixedT = cd, cfg.Schema
	}
	return c, nil
}

// Error is a converter error about one key or value.
type Error struct {
	Converter string // "avro", "protobuf" or "json_schema"
	Op        string // "encode" or "decode"
	ID        int    // the schema id, 0 when none is known
	Err       error
}

func (e *Error) Error() string {
	msg := e.Converter + " converter: cannot " + e.Op
	if e.ID > 0 {
		msg += fmt.Sprintf(" with schema id %d", e.ID)
	}
	return msg + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// ErrNoMagicByte is the error of bytes that are not in Confluent's wire
// format: "Unknown magic byte!" in Confluent's words.
var ErrNoMagicByte = errors.New("the bytes do not start with the magic byte 0 and a 4-byte schema id (Confluent's wire format): they were not written by a Schema Registry serializer; read them with the converter that wrote them")

func (c *Converter) fail(op string, id int, err error) error {
	return &Error{Converter: c.format.name(), Op: op, ID: id, Err: err}
}

// Decode reads a value in Confluent's wire format.
func (c *Converter) Decode(b []byte) (any, error) {
	v, _, err := c.DecodeWithSchema(b)
	return v, err
}

// Check decodes b: a registry converter has no cheaper way to validate.
func (c *Converter) Check(b []byte) (any, error) { return c.Decode(b) }

// DecodeWithSchema reads a value and its record schema (one *Schema per
// registered schema).
func (c *Converter) DecodeWithSchema(b []byte) (any, *connector.Schema, error) {
	var h sr.ConfluentHeader
	id, rest, err := h.DecodeID(b)
	if err != nil {
		return nil, nil, c.fail("decode", 0, ErrNoMagicByte)
	}
	cd, err := c.codecByID(id)
	if err != nil {
		return nil, nil, c.fail("decode", id, err)
	}
	if cd.byIndex != nil {
		return c.decodeProtobuf(id, cd, rest)
	}
	v, err := cd.decode(rest)
	if err != nil {
		return nil, nil, c.fail("decode", id, err)
	}
	return v, cd.schema, nil
}

// decodeProtobuf reads the message-index list, then the message it
// names. Bytes whose index list names no message, or whose message does
// not parse after it, are read again as the schema's first message
// without an index list, as @kafkajs/confluent-schema-registry (4.x)
// writes them; a first byte of 0 is always the list [0] (no message
// starts with a zero byte, field numbers start at 1).
func (c *Converter) decodeProtobuf(id int, first *codec, rest []byte) (any, *connector.Schema, error) {
	var h sr.ConfluentHeader
	index, payload, err := h.DecodeIndex(rest, 64)
	cd := first
	if err == nil && !(len(index) == 1 && index[0] == 0) {
		cd, err = c.codecByIndex(id, first, index)
	}
	if err == nil {
		v, derr := cd.decode(payload)
		if derr == nil {
			return v, cd.schema, nil
		}
		err = derr
	}
	if len(rest) > 0 && rest[0] != 0 {
		if v, lerr := first.decode(rest); lerr == nil {
			return v, first.schema, nil
		}
	}
	return nil, nil, c.fail("decode", id, err)
}

func (c *Converter) codecByID(id int) (*codec, error) {
	c.mu.RLock()
	cd := c.byID[id]
	c.mu.RUnlock()
	if cd != nil {
		return cd, nil
	}
	notFound := fmt.Errorf("the Schema Registry has no schema with id %d", id)
	now := time.Now()
	c.mu.RLock()
	until, neg := c.unknown[id]
	c.mu.RUnlock()
	if neg && now.Before(until) {
		return nil, notFound
	}
	ctx, cancel := context.WithTimeout(context.Background(), registryTimeout)
	defer cancel()
	rsch, err := c.reg.SchemaByID(ctx, id)
	if err != nil {
		if errors.Is(err, connector.ErrSchemaNotFound) {
			c.rememberUnknown(id, now)
			return nil, notFound
		}
		return nil, fmt.Errorf("fetching the schema: %w", err)
	}
	if rsch.Type == "" {
		rsch.Type = connector.RegistryAvro
	}
	if rsch.Type != c.format.registryType() {
		return nil, fmt.Errorf("the schema with id %d is %s, not %s: the record was written by another converter", id, rsch.Type, c.format.registryType())
	}
	if len(rsch.References) > 0 {
		return nil, fmt.Errorf("the schema with id %d refers to other subjects' schemas, which this converter does not resolve yet", id)
	}
	cd, err = c.format.compile(rsch, "")
	if err != nil {
		return nil, fmt.Errorf("the registered schema: %w", err)
	}
	c.mu.Lock()
	if prev := c.byID[id]; prev != nil {
		cd = prev
	} else {
		c.byID[id] = cd
	}
	c.mu.Unlock()
	return cd, nil
}

// rememberUnknown puts id in the negative cache, first dropping expired
// ids, and every id when it is still full.
func (c *Converter) rememberUnknown(id int, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.unknown) >= maxUnknown {
		for k, until := range c.unknown {
			if !now.Before(until) {
				delete(c.unknown, k)
			}
		}
		if len(c.unknown) >= maxUnknown {
			clear(c.unknown)
		}
	}
	c.unknown[id] = now.Add(unknownTTL)
}

func (c *Converter) codecByIndex(id int, first *codec, index []int) (*codec, error) {
	k := idIndex{id: id, index: fmt.Sprint(index)}
	c.mu.RLock()
	cd := c.byIndex[k]
	c.mu.RUnlock()
	if cd != nil {
		return cd, nil
	}
	cd, err := first.byIndex(index)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.byIndex[k] = cd
	c.mu.Unlock()
	return cd, nil
}

// Encode writes v with the configured schema (or the subject's latest)
// under a subject that does not depend on a topic.
func (c *Converter) Encode(v any) ([]byte, error) { return c.EncodeFor("", v, nil) }

// EncodeWithSchema writes v with its record schema s, for a subject that
// does not depend on a topic.
func (c *Converter) EncodeWithSchema(v any, s *connector.Schema) ([]byte, error) {
	return c.EncodeFor("", v, s)
}

// EncodeFor writes v, of record schema s (nil when it has none), for
// topic: with the subject's latest schema (use_latest), the configured
// schema, or s written in the converter's language, registered (or looked
// up) under the subject the strategy names.
func (c *Converter) EncodeFor(topic string, v any, s *connector.Schema) ([]byte, error) {
	cd, id, err := c.encoderFor(topic, s)
	if err != nil {
		return nil, c.fail("encode", 0, err)
	}
	var h sr.ConfluentHeader
	out, err := h.AppendEncode(make([]byte, 0, 64), id, cd.index)
	if err != nil {
		return nil, c.fail("encode", id, err)
	}
	out, err = cd.encode(out, v)
	if err != nil {
		return nil, c.fail("encode", id, err)
	}
	return out, nil
}

// subject names the subject of a schema of full name name.
func (c *Converter) subject(topic, name string) (string, error) {
	suffix := "-value"
	if c.key {
		suffix = "-key"
	}
	switch c.cfg.SubjectStrategy {
	case "record":
		if name == "" {
			return "", errors.New("subject_strategy record needs a named schema, and this one has no name")
		}
		return name, nil
	case "topic_record":
		if name == "" {
			return "", errors.New("subject_strategy topic_record needs a named schema, and this one has no name")
		}
		if topic == "" {
			return "", errors.New("subject_strategy topic_record needs the topic, and this value is not written to one")
		}
		return topic + "-" + name, nil
	}
	if topic == "" {
		return "", errors.New("subject_strategy topic needs the topic, and this value is not written to one")
	}
	return topic + suffix, nil
}

func (c *Converter) encoderFor(topic string, s *connector.Schema) (*codec, int, error) {
	var cd *codec
	var text string
	switch {
	case c.cfg.UseLatest:
		return c.latestFor(topic)
	case c.fixed != nil:
		cd, text = c.fixed, c.fixedT
	case s != nil:
		w, err := c.writtenFor(s)
		if err != nil {
			return nil, 0, err
		}
		cd, text = w.codec, w.text
	default:
		return nil, 0, fmt.Errorf("the value has no schema: set the converter's schema, or use_latest, or give the records a schema")
	}
	subject, err := c.subject(topic, cd.name)
	if err != nil {
		return nil, 0, err
	}
	k := subjectText{subject, text}
	c.mu.RLock()
	id, ok := c.ids[k]
	c.mu.RUnlock()
	if ok {
		return cd, id, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), registryTimeout)
	defer cancel()
	rsch := connector.RegistrySchema{Type: c.format.registryType(), Schema: text}
	var got connector.SubjectSchema
	if c.cfg.AutoRegister {
		got, err = c.reg.Register(ctx, subject, rsch)
	} else {
		got, err = c.reg.Lookup(ctx, subject, rsch)
		if errors.Is(err, connector.ErrSchemaNotFound) {
			return nil, 0, fmt.Errorf("the subject %q does not hold the schema, and auto_register is false: register it first", subject)
		}
	}
	if err != nil {
		return nil, 0, fmt.Errorf("registering the schema under %q: %w", subject, err)
	}
	c.mu.Lock()
	c.ids[k] = got.ID
	c.mu.Unlock()
	return cd, got.ID, nil
}

func (c *Converter) writtenFor(s *connector.Schema) (*written, error) {
	c.mu.RLock()
	w := c.bySchema[s]
	c.mu.RUnlock()
	if w != nil {
		return w, nil
	}
	text, err := c.format.write(s)
	if err != nil {
		return nil, fmt.Errorf("the record's schema has no %s form: %w", c.format.name(), err)
	}
	c.mu.RLock()
	w = c.byText[text]
	c.mu.RUnlock()
	if w == nil {
		cd, err := c.format.compile(connector.RegistrySchema{Type: c.format.registryType(), Schema: text}, "")
		if err != nil {
			return nil, fmt.Errorf("the record's schema written as %s: %w", c.format.name(), err)
		}
		w = &written{codec: cd, text: text}
	}
	c.mu.Lock()
	// A source that gives every record a schema of its own address would
	// grow these maps for ever: they are bounded, and start again.
	if len(c.bySchema) >= maxCachedSchemas {
		clear(c.bySchema)
	}
	if len(c.byText) >= maxCachedSchemas {
		clear(c.byText)
	}
	c.bySchema[s] = w
	c.byText[text] = w
	c.mu.Unlock()
	return w, nil
}

func (c *Converter) latestFor(topic string) (*codec, int, error) {
	name := ""
	if c.fixed != nil {
		name = c.fixed.name
	}
	subject, err := c.subject(topic, name)
	if err != nil {
		return nil, 0, err
	}
	c.mu.RLock()
	l, ok := c.latest[subject]
	c.mu.RUnlock()
	if ok {
		return l.codec, l.id, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), registryTimeout)
	defer cancel()
	got, err := c.reg.Latest(ctx, subject)
	if err != nil {
		if errors.Is(err, connector.ErrSchemaNotFound) {
			return nil, 0, fmt.Errorf("use_latest: the subject %q has no version", subject)
		}
		return nil, 0, fmt.Errorf("use_latest: %w", err)
	}
	if len(got.References) > 0 {
		return nil, 0, fmt.Errorf("use_latest: the latest schema of %q refers to other subjects' schemas, which this converter does not resolve yet", subject)
	}
	cd, err := c.format.compile(got.RegistrySchema, c.cfg.message)
	if err != nil {
		return nil, 0, fmt.Errorf("use_latest: the latest schema of %q: %w", subject, err)
	}
	c.mu.Lock()
	c.latest[subject] = latestCodec{codec: cd, id: got.ID}
	c.mu.Unlock()
	return cd, got.ID, nil
}
