package recordschema

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"
	"time"
)

// Type is the physical type of a value: Kafka Connect's Schema.Type.
type Type string

// The types. Their names are those of the JSON form.
const (
	Boolean Type = "boolean"
	Int8    Type = "int8"
	Int16   Type = "int16"
	Int32   Type = "int32"
	Int64   Type = "int64"
	Float32 Type = "float32"
	Float64 Type = "float64"
	String  Type = "string"
	Bytes   Type = "bytes"
	Array   Type = "array"
	Map     Type = "map"
	Struct  Type = "struct"
)

// Types lists every type, primitives first.
func Types() []Type {
	return []Type{Boolean, Int8, Int16, Int32, Int64, Float32, Float64, String, Bytes, Array, Map, Struct}
}

// Known reports whether t is one of the types.
func (t Type) Known() bool {
	switch t {
	case Boolean, Int8, Int16, Int32, Int64, Float32, Float64, String, Bytes, Array, Map, Struct:
		return true
	}
	return false
}

// Integer reports whether t is one of the integer types.
func (t Type) Integer() bool {
	switch t {
	case Int8, Int16, Int32, Int64:
		return true
	}
	return false
}

// intRange is the range of an integer type.
func (t Type) intRange() (lo, hi int64) {
	switch t {
	case Int8:
		return math.MinInt8, math.MaxInt8
	case Int16:
		return math.MinInt16, math.MaxInt16
	case Int32:
		return math.MinInt32, math.MaxInt32
	}
	return math.MinInt64, math.MaxInt64
}

// Logical is a logical type: a meaning given to a physical type, which
// decides the Go value that represents it (value.go).
type Logical string

// The logical types, each on its one physical type (Logical.Physical).
const (
	Decimal         Logical = "decimal"          // bytes: a decimal number, Precision and Scale
	Date            Logical = "date"             // int32: days since 1970-01-01
	TimeMillis      Logical = "time-millis"      // int32: milliseconds since midnight
	TimeMicros      Logical = "time-micros"      // int64: microseconds since midnight
	TimestampMillis Logical = "timestamp-millis" // int64: milliseconds since the Unix epoch, UTC
	TimestampMicros Logical = "timestamp-micros" // int64: microseconds since the Unix epoch, UTC
	UUID            Logical = "uuid"             // string: a UUID in its 36-character text form
	JSON            Logical = "json"             // string: JSON text; the value is any JSON value
)

// Logicals lists every logical type.
func Logicals() []Logical {
	return []Logical{Decimal, Date, TimeMillis, TimeMicros, TimestampMillis, TimestampMicros, UUID, JSON}
}

// Physical returns the type a logical type is carried by, "" for an unknown
// logical type.
func (l Logical) Physical() Type {
	switch l {
	case Decimal:
		return Bytes
	case Date, TimeMillis:
		return Int32
	case TimeMicros, TimestampMillis, TimestampMicros:
		return Int64
	case UUID, JSON:
		return String
	}
	return ""
}

// Schema describes a key or value. The zero value is not valid: Type is
// required. Build one as a literal and check it with Validate:
//
//	order := &Schema{Type: Struct, Name: "shop.Order", Fields: []Field{
//		{Name: "id", Schema: &Schema{Type: Int64}},
//		{Name: "email", Schema: &Schema{Type: String, Optional: true}},
//		{Name: "amount", Schema: &Schema{Type: Bytes, Logical: Decimal, Precision: 10, Scale: 2}},
//		{Name: "tags", Schema: &Schema{Type: Array, Items: &Schema{Type: String}}},
//	}}
//
// A Schema is not changed once a record carries it (see the package doc).
type Schema struct {
	Type Type
	// Logical gives the physical Type a meaning; "" for none. Type must
	// be Logical.Physical().
	Logical Logical
	// Optional says the value may be null (nil).
	Optional bool
	// Default is the value that stands for a null or absent one, in the
	// representation of the schema's type (value.go); nil for none.
	Default any
	// Name names a struct or any other schema (e.g. "shop.Order"),
	// Version numbers it (0 for none) and Doc documents it.
	Name    string
	Version int
	Doc     string
	// Precision (total digits, 0 for unbounded) and Scale (digits after
	// the point) of a Decimal.
	Precision, Scale int
	// Parameters are free-form settings of other systems (Kafka Connect's
	// schema parameters) kept so that they survive a round trip.
	Parameters map[string]string

	Items  *Schema // Array: the elements
	Keys   *Schema // Map: the keys (string, an integer type or boolean)
	Values *Schema // Map: the values
	Fields []Field // Struct: the fields, in order
}

// Field is one field of a struct.
type Field struct {
	Name   string
	Schema *Schema
}

// Field returns the struct field of that name and its index, or nil and -1.
func (s *Schema) Field(name string) (*Field, int) {
	for i := range s.Fields {
		if s.Fields[i].Name == name {
			return &s.Fields[i], i
		}
	}
	return nil, -1
}

// String describes s in a line for messages: "int64", "optional string",
// "decimal(10,2)", "array<string>", "map<string, int64>",
// "struct shop.Order<id int64, email optional string>".
func (s *Schema) String() string {
	var b strings.Builder
	s.describe(&b, 0)
	return b.String()
}

// describeDepth bounds how deeply String describes nested schemas, and
// describeFields how many fields of a struct it names.
const (
	describeDepth  = 3
	describeFields = 12
)

func (s *Schema) describe(b *strings.Builder, depth int) {
	if s == nil {
		b.WriteString("schemaless")
		return
	}
	if s.Optional {
		b.WriteString("optional ")
	}
	switch {
	case s.Logical == Decimal && s.Precision > 0:
		fmt.Fprintf(b, "decimal(%d,%d)", s.Precision, s.Scale)
	case s.Logical == Decimal:
		fmt.Fprintf(b, "decimal(scale %d)", s.Scale)
	case s.Logical != "":
		b.WriteString(string(s.Logical))
	default:
		b.WriteString(string(s.Type))
	}
	if s.Type == Struct && s.Name != "" {
		b.WriteString(" " + s.Name)
	}
	if depth >= describeDepth && (s.Items != nil || s.Keys != nil || s.Fields != nil) {
		b.WriteString("<…>")
		return
	}
	switch s.Type {
	case Array:
		b.WriteString("<")
		s.Items.describe(b, depth+1)
		b.WriteString(">")
	case Map:
		b.WriteString("<")
		s.Keys.describe(b, depth+1)
		b.WriteString(", ")
		s.Values.describe(b, depth+1)
		b.WriteString(">")
	case Struct:
		b.WriteString("<")
		for i, f := range s.Fields {
			if i == describeFields {
				b.WriteString(", …")
				break
			}
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(f.Name + " ")
			f.Schema.describe(b, depth+1)
		}
		b.WriteString(">")
	}
}

// Equal reports whether s and o describe the same thing: every attribute
// equal, defaults equal as values, struct fields in the same order. Two nil
// schemas are equal; nil and non-nil are not.
func (s *Schema) Equal(o *Schema) bool {
	if s == o {
		return true
	}
	if s == nil || o == nil {
		return false
	}
	if s.Type != o.Type || s.Logical != o.Logical || s.Optional != o.Optional ||
		s.Name != o.Name || s.Version != o.Version || s.Doc != o.Doc ||
		s.Precision != o.Precision || s.Scale != o.Scale ||
		len(s.Parameters) != len(o.Parameters) || !maps.Equal(s.Parameters, o.Parameters) ||
		!equalValues(s.Default, o.Default) ||
		!s.Items.Equal(o.Items) || !s.Keys.Equal(o.Keys) || !s.Values.Equal(o.Values) ||
		len(s.Fields) != len(o.Fields) {
		return false
	}
	for i := range s.Fields {
		if s.Fields[i].Name != o.Fields[i].Name || !s.Fields[i].Schema.Equal(o.Fields[i].Schema) {
			return false
		}
	}
	return true
}

// equalValues compares two values of the representation value.go
// describes: bytes by content, times by instant, maps and lists deeply,
// NaN equal to NaN (a default of NaN equals itself).
func equalValues(a, b any) bool {
	switch a := a.(type) {
	case nil:
		return b == nil
	case []byte:
		b, ok := b.([]byte)
		return ok && bytes.Equal(a, b)
	case time.Time:
		b, ok := b.(time.Time)
		return ok && a.Equal(b)
	case float64:
		b, ok := b.(float64)
		return ok && (a == b || math.IsNaN(a) && math.IsNaN(b))
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !equalValues(a[i], b[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			w, ok := b[k]
			if !ok || !equalValues(v, w) {
				return false
			}
		}
		return true
	case bool, int64, string, time.Duration:
		return a == b
	}
	// Not a value of the representation: only identical schemas (above)
	// have such defaults in common.
	return false
}

// Error is a problem with a schema or with a value checked against one.
// Path says where, in the notation of paths in messages: "" for the top,
// ".amount" for a struct field, "[3]" for an element, `["k"]` for a map
// entry (values) or "[]" and "{}" for the elements and values of a schema.
type Error struct {
	Path   string
	Reason string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Reason
	}
	return "at " + e.Path + ": " + e.Reason
}

func errorf(path, format string, args ...any) *Error {
	return &Error{Path: path, Reason: fmt.Sprintf(format, args...)}
}

// fieldPath appends a struct field to a path.
func fieldPath(path, name string) string {
	if isIdent(name) {
		return path + "." + name
	}
	return path + "[" + strconv.Quote(name) + "]"
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if c != '_' && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}
