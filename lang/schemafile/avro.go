package schemafile

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/hamba/avro/v2"

	rs "github.com/pipectl/pipectl/lang/recordschema"
)

// The parameters and names by which record schemas keep what Avro has and
// Kafka Connect does not, as Confluent's AvroData names them, so that
// schemas survive a round trip through ToAvro and records interoperate
// with Kafka Connect's AvroConverter.
const (
	// AvroUnion names the struct that stands for a union of more than one
	// non-null branch: one optional field per branch, named after the
	// branch's type (its full name for named types), exactly one set.
	AvroUnion = "io.confluent.connect.avro.Union"
	// AvroEnum is the parameter of a string that was an Avro enum, set to
	// the enum's full name; each symbol S is a parameter AvroEnum+"."+S.
	AvroEnum = "io.confluent.connect.avro.Enum"
	// AvroFixedSize is the parameter of bytes that were an Avro fixed.
	AvroFixedSize = "connect.fixed.size"

	// connectType is the Avro property Confluent writes for int8 and
	// int16 (both Avro ints); pipectlType carries json strings.
	connectType       = "connect.type"
	connectParameters = "connect.parameters"
	pipectlType       = "pipectl.type"
)

// ParseAvro parses an Avro schema document (.avsc JSON) with hamba/avro in
// a cache of its own, so that names in one document never clash with
// another's.
func ParseAvro(text string) (avro.Schema, error) {
	if err := checkJSON("avro", text); err != nil {
		return nil, err
	}
	s, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		return nil, &Error{Language: "avro", Reason: strings.TrimPrefix(err.Error(), "avro: ")}
	}
	return s, nil
}

// Avro reads an Avro schema document into a record schema.
func Avro(text string) (*rs.Schema, error) {
	s, err := ParseAvro(text)
	if err != nil {
		return nil, err
	}
	return FromAvro(s)
}

// FromAvro maps a parsed Avro schema to a record schema (docs/schemas.md
// has the table). A recursive record, a bare null and the local-timestamp
// and duration logical types have no record-schema form.
func FromAvro(s avro.Schema) (*rs.Schema, error) {
	m := avroMapper{open: map[string]bool{}}
	out, err := m.schema(s, "")
	if err != nil {
		return nil, err
	}
	if err := out.Validate(); err != nil {
		return nil, &Error{Language: "avro", Reason: err.Error()}
	}
	return out, nil
}

type avroMapper struct {
	open map[string]bool // records being mapped, to refuse recursion
}

func avroErr(path, format string, args ...any) *Error {
	r := fmt.Sprintf(format, args...)
	if path != "" {
		r = "at " + path + ": " + r
	}
	return &Error{Language: "avro", Reason: r}
}

func (m avroMapper) schema(s avro.Schema, path string) (*rs.Schema, error) {
	switch s := s.(type) {
	case *avro.RefSchema:
		return m.schema(s.Schema(), path)
	case *avro.PrimitiveSchema:
		return m.primitive(s, path)
	case *avro.NullSchema:
		return nil, avroErr(path, "null has no record-schema form outside a union")
	case *avro.RecordSchema:
		name := s.FullName()
		if m.open[name] {
			return nil, avroErr(path, "the record %s contains itself, and record schemas cannot be recursive", name)
		}
		m.open[name] = true
		defer delete(m.open, name)
		out := &rs.Schema{Type: rs.Struct, Name: name, Doc: s.Doc(), Parameters: avroParameters(s)}
		for _, f := range s.Fields() {
			at := path + "." + f.Name()
			fs, err := m.schema(f.Type(), at)
			if err != nil {
				return nil, err
			}
			if f.HasDefault() && f.Default() != nil {
				d, err := AvroValue(fs, f.Type(), f.Default())
				if err != nil {
					return nil, avroErr(at, "the default: %v", err)
				}
				cp := *fs
				cp.Default = d
				fs = &cp
			}
			out.Fields = append(out.Fields, rs.Field{Name: f.Name(), Schema: fs})
		}
		return out, nil
	case *avro.EnumSchema:
		p := avroParameters(s)
		if p == nil {
			p = map[string]string{}
		}
		p[AvroEnum] = s.FullName()
		for _, sym := range s.Symbols() {
			p[AvroEnum+"."+sym] = sym
		}
		out := &rs.Schema{Type: rs.String, Name: s.FullName(), Doc: s.Doc(), Parameters: p}
		if s.HasDefault() {
			out.Default = s.Default()
		}
		return out, nil
	case *avro.FixedSchema:
		p := avroParameters(s)
		if p == nil {
			p = map[string]string{}
		}
		p[AvroFixedSize] = strconv.Itoa(s.Size())
		out := &rs.Schema{Type: rs.Bytes, Name: s.FullName(), Parameters: p}
		if d, ok := s.Logical().(*avro.DecimalLogicalSchema); ok {
			out.Logical, out.Precision, out.Scale = rs.Decimal, d.Precision(), d.Scale()
		} else if s.Logical() != nil {
			return nil, avroErr(path, "the logical type %s on fixed has no record-schema form", s.Logical().Type())
		}
		return out, nil
	case *avro.ArraySchema:
		items, err := m.schema(s.Items(), path+"[]")
		if err != nil {
			return nil, err
		}
		return &rs.Schema{Type: rs.Array, Items: items}, nil
	case *avro.MapSchema:
		values, err := m.schema(s.Values(), path+"{}")
		if err != nil {
			return nil, err
		}
		return &rs.Schema{Type: rs.Map, Keys: &rs.Schema{Type: rs.String}, Values: values}, nil
	case *avro.UnionSchema:
		var branches []avro.Schema
		for _, t := range s.Types() {
			if t.Type() != avro.Null {
				branches = append(branches, t)
			}
		}
		nullable := len(branches) < len(s.Types())
		switch {
		case len(branches) == 0:
			return nil, avroErr(path, "a union of only null has no record-schema form")
		case len(branches) == 1 && nullable:
			b, err := m.schema(branches[0], path)
			if err != nil {
				return nil, err
			}
			cp := *b
			cp.Optional = true
			return &cp, nil
		}
		out := &rs.Schema{Type: rs.Struct, Name: AvroUnion, Optional: nullable}
		for _, b := range branches {
			name := AvroUnionBranch(b)
			bs, err := m.schema(b, path+"."+name)
			if err != nil {
				return nil, err
			}
			cp := *bs
			cp.Optional = true
			out.Fields = append(out.Fields, rs.Field{Name: name, Schema: &cp})
		}
		return out, nil
	}
	return nil, avroErr(path, "the type %s has no record-schema form", s.Type())
}

// AvroUnionBranch names the field of an AvroUnion struct that stands for a
// union branch: a named type's full name, else the type's name.
func AvroUnionBranch(s avro.Schema) string {
	if r, ok := s.(*avro.RefSchema); ok {
		s = r.Schema()
	}
	if n, ok := s.(avro.NamedSchema); ok {
		return n.FullName()
	}
	return string(s.Type())
}

func (m avroMapper) primitive(s *avro.PrimitiveSchema, path string) (*rs.Schema, error) {
	out := &rs.Schema{Parameters: avroParameters(s)}
	switch s.Type() {
	case avro.Boolean:
		out.Type = rs.Boolean
	case avro.Int:
		out.Type = rs.Int32
		switch s.Prop(connectType) {
		case "int8":
			out.Type = rs.Int8
		case "int16":
			out.Type = rs.Int16
		}
	case avro.Long:
		out.Type = rs.Int64
	case avro.Float:
		out.Type = rs.Float32
	case avro.Double:
		out.Type = rs.Float64
	case avro.Bytes:
		out.Type = rs.Bytes
	case avro.String:
		out.Type = rs.String
		if s.Prop(pipectlType) == "json" {
			out.Logical = rs.JSON
		}
	default:
		return nil, avroErr(path, "the type %s has no record-schema form", s.Type())
	}
	if l := s.Logical(); l != nil {
		var want avro.Type
		switch l.Type() {
		case avro.Decimal:
			d := l.(*avro.DecimalLogicalSchema)
			out.Type, out.Logical, out.Precision, out.Scale = rs.Bytes, rs.Decimal, d.Precision(), d.Scale()
			want = avro.Bytes
		case avro.Date:
			out.Type, out.Logical, want = rs.Int32, rs.Date, avro.Int
		case avro.TimeMillis:
			out.Type, out.Logical, want = rs.Int32, rs.TimeMillis, avro.Int
		case avro.TimeMicros:
			out.Type, out.Logical, want = rs.Int64, rs.TimeMicros, avro.Long
		case avro.TimestampMillis:
			out.Type, out.Logical, want = rs.Int64, rs.TimestampMillis, avro.Long
		case avro.TimestampMicros:
			out.Type, out.Logical, want = rs.Int64, rs.TimestampMicros, avro.Long
		case avro.UUID:
			out.Type, out.Logical, want = rs.String, rs.UUID, avro.String
		default:
			return nil, avroErr(path, "the logical type %s has no record-schema form", l.Type())
		}
		if s.Type() != want {
			return nil, avroErr(path, "the logical type %s is carried by %s, not %s", l.Type(), want, s.Type())
		}
	}
	return out, nil
}

// avroParameters reads the connect.parameters property Confluent writes.
func avroParameters(s avro.PropertySchema) map[string]string {
	raw, ok := s.Prop(connectParameters).(map[string]any)
	if !ok || len(raw) == 0 {
		return nil
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		if str, ok := v.(string); ok {
			out[k] = str
		}
	}
	return out
}

// AvroValue turns a value as hamba/avro holds it (a default, a generic
// decode: int, int32, int64, float32, float64, []byte, [N]byte, *big.Rat,
// time.Time, time.Duration, []any, map[string]any, a union as
// map[string]any{branch: value}) into the value of t, the record schema
// FromAvro made of s.
func AvroValue(t *rs.Schema, s avro.Schema, v any) (any, error) {
	if r, ok := s.(*avro.RefSchema); ok {
		s = r.Schema()
	}
	if v == nil {
		return nil, nil
	}
	if u, ok := s.(*avro.UnionSchema); ok {
		branches := u.Types()
		if m, ok := v.(map[string]any); ok && len(m) == 1 && t.Name != AvroUnion {
			for k, e := range m {
				for _, b := range branches {
					if AvroUnionBranch(b) == k {
						return AvroValue(t, b, e)
					}
				}
			}
		}
		if t.Name == AvroUnion {
			m, ok := v.(map[string]any)
			if !ok || len(m) != 1 {
				// A default is the first branch's value.
				for _, b := range branches {
					if b.Type() != avro.Null {
						f, _ := t.Field(AvroUnionBranch(b))
						e, err := AvroValue(f.Schema, b, v)
						return map[string]any{f.Name: e}, err
					}
				}
			}
			out := map[string]any{}
			for k, e := range m {
				f, _ := t.Field(k)
				if f == nil {
					return nil, fmt.Errorf("the union has no branch %q", k)
				}
				for _, b := range branches {
					if AvroUnionBranch(b) == k {
						var err error
						if out[k], err = AvroValue(f.Schema, b, e); err != nil {
							return nil, err
						}
					}
				}
			}
			return out, nil
		}
		for _, b := range branches {
			if b.Type() != avro.Null {
				return AvroValue(t, b, v)
			}
		}
	}
	switch t.Logical {
	case rs.Decimal:
		switch d := v.(type) {
		case *big.Rat:
			return d.FloatString(t.Scale), nil
		case []byte:
			return DecimalFromBytes(d, t.Scale), nil
		}
		if b, ok := fixedBytes(v); ok {
			return DecimalFromBytes(b, t.Scale), nil
		}
	case rs.Date:
		switch d := v.(type) {
		case time.Time:
			return d.UTC(), nil
		default:
			if n, ok := avroInt(v); ok {
				return time.Unix(n*86400, 0).UTC(), nil
			}
		}
	case rs.TimeMillis, rs.TimeMicros:
		if d, ok := v.(time.Duration); ok {
			return d, nil
		}
		if n, ok := avroInt(v); ok {
			if t.Logical == rs.TimeMillis {
				return time.Duration(n) * time.Millisecond, nil
			}
			return time.Duration(n) * time.Microsecond, nil
		}
	case rs.TimestampMillis, rs.TimestampMicros:
		if d, ok := v.(time.Time); ok {
			return d.UTC(), nil
		}
		if n, ok := avroInt(v); ok {
			if t.Logical == rs.TimestampMillis {
				return time.UnixMilli(n).UTC(), nil
			}
			return time.UnixMicro(n).UTC(), nil
		}
	}
	switch t.Type {
	case rs.Boolean, rs.String:
		if t.Logical == rs.JSON {
			break
		}
		return v, nil
	case rs.Int8, rs.Int16, rs.Int32, rs.Int64:
		if n, ok := avroInt(v); ok {
			return n, nil
		}
	case rs.Float32, rs.Float64:
		switch f := v.(type) {
		case float32:
			return float64(f), nil
		case float64:
			return f, nil
		}
	case rs.Bytes:
		if b, ok := v.([]byte); ok {
			return b, nil
		}
		if b, ok := fixedBytes(v); ok {
			return b, nil
		}
	case rs.Array:
		l, ok := v.([]any)
		a, _ := s.(*avro.ArraySchema)
		if !ok || a == nil {
			break
		}
		out := make([]any, len(l))
		for i, e := range l {
			var err error
			if out[i], err = AvroValue(t.Items, a.Items(), e); err != nil {
				return nil, err
			}
		}
		return out, nil
	case rs.Map:
		mv, ok := v.(map[string]any)
		ms, _ := s.(*avro.MapSchema)
		if !ok || ms == nil {
			break
		}
		out := make(map[string]any, len(mv))
		for k, e := range mv {
			var err error
			if out[k], err = AvroValue(t.Values, ms.Values(), e); err != nil {
				return nil, err
			}
		}
		return out, nil
	case rs.Struct:
		mv, ok := v.(map[string]any)
		r, _ := s.(*avro.RecordSchema)
		if !ok || r == nil {
			break
		}
		out := make(map[string]any, len(mv))
		for _, f := range r.Fields() {
			e, ok := mv[f.Name()]
			if !ok {
				continue
			}
			tf, _ := t.Field(f.Name())
			if tf == nil {
				continue
			}
			var err error
			if out[f.Name()], err = AvroValue(tf.Schema, f.Type(), e); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("%T is not a value of %s", v, t)
}

func avroInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	}
	return 0, false
}

// fixedBytes reads the [N]byte hamba/avro gives for a fixed.
func fixedBytes(v any) ([]byte, bool) {
	switch b := v.(type) {
	case []byte:
		return b, true
	}
	return fixedToSlice(v)
}

// DecimalFromBytes reads an Avro decimal (the unscaled value as a
// big-endian two's-complement integer) with its scale as decimal text.
func DecimalFromBytes(b []byte, scale int) string {
	n := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(len(b))*8))
	}
	return new(big.Rat).SetFrac(n, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)).FloatString(scale)
}

// DecimalToBytes writes decimal text (the record representation) as an
// Avro decimal of that scale: the shortest two's-complement big-endian
// bytes of the unscaled value. Digits beyond the scale are an error.
func DecimalToBytes(text string, scale int) ([]byte, error) {
	r, ok := new(big.Rat).SetString(text)
	if !ok || strings.ContainsAny(text, "eE/") {
		return nil, fmt.Errorf("%q is not a decimal number", text)
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	if !r.IsInt() {
		return nil, fmt.Errorf("%q has more than %d digits after the point", text, scale)
	}
	n := r.Num()
	return twosComplement(n), nil
}

func twosComplement(n *big.Int) []byte {
	if n.Sign() >= 0 {
		b := n.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	// -n-1 in bytes, inverted, with a leading 0xff when needed.
	m := new(big.Int).Neg(n)
	m.Sub(m, big.NewInt(1))
	b := m.Bytes()
	for i := range b {
		b[i] = ^b[i]
	}
	if len(b) == 0 || b[0]&0x80 == 0 {
		b = append([]byte{0xff}, b...)
	}
	return b
}
