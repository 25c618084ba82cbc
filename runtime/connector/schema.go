package connector

import "github.com/pipectl/pipectl/lang/recordschema"

// Record schemas: the shape of a record's key or value (Kafka Connect's
// Schema), as lang/recordschema describes it. Record.KeySchema and
// Record.ValueSchema carry them; nil means schemaless, the values being
// whatever a converter or source produced. A value that has a schema is in
// the representation recordschema documents for its type (int64 for every
// integer type, a decimal's text in a string, time.Time for dates and
// timestamps, time.Duration for times of day, map[string]any for structs);
// Schema.CheckValue checks one.
//
// A source that knows its types (a database table) sets the schemas, and
// reuses one *Schema for every record of one shape: the engine works out
// what transforms make of a schema once per distinct *Schema, and a new
// pointer for every record would cost that for every record. A Schema is
// not changed once a record carries it.
type (
	// Schema describes a key or value (recordschema.Schema).
	Schema = recordschema.Schema
	// Field is one field of a struct Schema.
	Field = recordschema.Field
	// SchemaType is a Schema's physical type.
	SchemaType = recordschema.Type
	// LogicalType is a Schema's logical type.
	LogicalType = recordschema.Logical
)

// The schema types.
const (
	TypeBoolean = recordschema.Boolean
	TypeInt8    = recordschema.Int8
	TypeInt16   = recordschema.Int16
	TypeInt32   = recordschema.Int32
	TypeInt64   = recordschema.Int64
	TypeFloat32 = recordschema.Float32
	TypeFloat64 = recordschema.Float64
	TypeString  = recordschema.String
	TypeBytes   = recordschema.Bytes
	TypeArray   = recordschema.Array
	TypeMap     = recordschema.Map
	TypeStruct  = recordschema.Struct
)

// The logical types, each on its one physical type.
const (
	LogicalDecimal         = recordschema.Decimal         // bytes
	LogicalDate            = recordschema.Date            // int32
	LogicalTimeMillis      = recordschema.TimeMillis      // int32
	LogicalTimeMicros      = recordschema.TimeMicros      // int64
	LogicalTimestampMillis = recordschema.TimestampMillis // int64
	LogicalTimestampMicros = recordschema.TimestampMicros // int64
	LogicalUUID            = recordschema.UUID            // string
	LogicalJSON            = recordschema.JSON            // string
)

// MaxDecimalDigits bounds a decimal's precision and scale, and the digits
// of a decimal without a precision.
const MaxDecimalDigits = recordschema.MaxDecimalDigits

// InferSchema returns the schema of a plain value that carries none
// (recordschema.Infer): every part required, an error for what has no
// type of its own (null, an empty or mixed list).
func InferSchema(v any) (*Schema, error) { return recordschema.Infer(v) }

// ParseSchema reads the JSON form of a schema (recordschema.Parse) and
// validates it.
func ParseSchema(b []byte) (*Schema, error) { return recordschema.Parse(b) }

// SchemaEncoder is an optional interface of a Converter that writes a
// schema with the value (the json converter with schemas_enable, Avro,
// Protobuf). The engine calls EncodeWithSchema instead of Encode for a key
// or value that has a schema; v fits s (Schema.CheckValue), or the
// converter returns an error. A converter without it gets Encode and the
// schema is not written.
type SchemaEncoder interface {
	Converter
	EncodeWithSchema(v any, s *Schema) ([]byte, error)
}

// SchemaDecoder is an optional interface of a Converter whose bytes carry
// a schema. The engine calls DecodeWithSchema instead of Decode and sets
// the record's KeySchema or ValueSchema to the schema returned (nil for
// bytes without one); the value fits it. Decode returns the same value
// without the schema. A decoder should return one *Schema for equal
// schemas it reads again and again (cache them by their bytes): the engine
// works schemas out once per pointer.
type SchemaDecoder interface {
	Converter
	DecodeWithSchema(b []byte) (any, *Schema, error)
}

// TypedExpr is an Expr that knows the schema of its results (lang/expr's
// programs are): OutputSchema is nil when the expression's type is not
// known fully (it reads dynamic values), else every result of Eval fits
// it. A source whose records come from an expression (the generator) sets
// their schema from it.
type TypedExpr interface {
	Expr
	OutputSchema() *Schema
}
