package connector

import (
	"context"
	"errors"
)

// SchemaRegistry is a Confluent-compatible Schema Registry as converters
// see it: the fleet's own (every worker serves it from the <fleet>.schemas
// topic) or a remote one reached over its REST API. Implementations are
// safe for concurrent use; converters cache what they look up (an id never
// changes its schema), so a registry is asked once per schema, not once
// per record.
type SchemaRegistry interface {
	// Register registers s under subject, or finds it already registered
	// there, and returns the subject's version of it with its id, unique
	// across the registry. A schema the subject's compatibility mode
	// refuses is an error wrapping ErrIncompatibleSchema; a malformed one
	// wraps ErrInvalidSchema.
	Register(ctx context.Context, subject string, s RegistrySchema) (SubjectSchema, error)
	// Lookup finds s under subject without registering it: ErrSchemaNotFound
	// when the subject does not hold it.
	Lookup(ctx context.Context, subject string, s RegistrySchema) (SubjectSchema, error)
	// SchemaByID returns the schema registered with id: ErrSchemaNotFound
	// when there is none.
	SchemaByID(ctx context.Context, id int) (RegistrySchema, error)
	// Latest returns the latest version of subject: ErrSchemaNotFound when
	// the subject has none.
	Latest(ctx context.Context, subject string) (SubjectSchema, error)
}

// RegistryType is the language of a registered schema, as Confluent's
// registry names it ("" means Avro, as its REST API takes it).
type RegistryType string

// The registry schema languages.
const (
	RegistryAvro       RegistryType = "AVRO"
	RegistryProtobuf   RegistryType = "PROTOBUF"
	RegistryJSONSchema RegistryType = "JSON"
)

// RegistrySchema is a schema as a registry holds it: its text in its own
// language (an .avsc document, a .proto file, a JSON Schema) and the other
// subjects' schemas it refers to.
type RegistrySchema struct {
	Type       RegistryType
	Schema     string
	References []SchemaReference
}

// SchemaReference names another registered schema that a schema imports:
// Name is how the schema refers to it (an Avro full name, a .proto import
// path, a JSON Schema $ref), Subject and Version where it is registered.
type SchemaReference struct {
	Name    string
	Subject string
	Version int
}

// SubjectSchema is one version of a subject.
type SubjectSchema struct {
	Subject string
	Version int
	ID      int
	RegistrySchema
}

// The registry errors callers tell apart with errors.Is.
var (
	ErrSchemaNotFound     = errors.New("schema not found")
	ErrIncompatibleSchema = errors.New("schema is incompatible with an earlier version")
	ErrInvalidSchema      = errors.New("invalid schema")
)

// ConverterEnv is what a worker offers a converter as it is built
// (Plugin.NewConverterWith).
type ConverterEnv struct {
	// Registry is the fleet's own Schema Registry, nil where the worker
	// has none; a converter configured with a remote registry uses that
	// instead.
	Registry SchemaRegistry
	// Key is true when the converter is a pipeline's key converter, false
	// for its value converter (the registry subject's -key or -value).
	Key bool
}

// TopicEncoder is an optional interface of a Converter whose bytes depend
// on the topic they are written to (a registry converter whose subject is
// named after the topic). The engine calls EncodeFor instead of Encode and
// EncodeWithSchema; s is the value's schema, nil when it has none.
type TopicEncoder interface {
	Converter
	EncodeFor(topic string, v any, s *Schema) ([]byte, error)
}
