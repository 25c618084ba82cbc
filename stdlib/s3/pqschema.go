package s3

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib/converters"
)

// The columns of a Parquet object: the record's Kafka metadata beside its
// value. parquet-go orders a group's columns by name.
const (
	colTopic     = "topic"
	colPartition = "partition"
	colOffset    = "offset"
	colTimestamp = "timestamp"
	colKey       = "key"
	colHeaders   = "headers"
	colValue     = "value"
)

// Key-value metadata of a Parquet object: the value's record schema (the
// one records carried) or the schema inferred for schemaless values, as
// the canonical JSON of recordschema, so that source "s3" gives values
// back exactly.
const (
	metaValueSchema   = "pipectl.value.schema"
	metaValueInferred = "pipectl.value.inferred"
)

// parquetSchema returns the Parquet schema of objects whose values have
// schema vs. read leaves decimals as their unscaled bytes, which is how
// the source reads them (parquet-go's reader turns DECIMAL into float64).
func parquetSchema(vs *connector.Schema, read bool) *parquet.Schema {
	return parquet.NewSchema("record", parquet.Group{
		colTopic:     parquet.String(),
		colPartition: parquet.Int(32),
		colOffset:    parquet.Int(64),
		colTimestamp: parquet.Optional(parquet.Timestamp(parquet.Millisecond)),
		colKey:       parquet.Optional(parquet.Leaf(parquet.ByteArrayType)),
		colHeaders: parquet.List(parquet.Group{
			"key":   parquet.String(),
			"value": parquet.Optional(parquet.Leaf(parquet.ByteArrayType)),
		}),
		colValue: parquet.Optional(nodeOf(vs, read)),
	})
}

// nodeOf maps a record schema to a Parquet node: structs to groups, arrays
// to LISTs, maps (which parquet-go cannot write from dynamic values) and
// json to JSON text, decimals of a precision to DECIMAL, dates, times and
// timestamps to their logical types.
func nodeOf(s *connector.Schema, read bool) parquet.Node {
	n := leafOf(s, read)
	if s.Optional {
		n = parquet.Optional(n)
	}
	return n
}

func leafOf(s *connector.Schema, read bool) parquet.Node {
	switch s.Logical {
	case connector.LogicalDecimal:
		if s.Precision == 0 {
			return parquet.String()
		}
		if read {
			return parquet.Leaf(parquet.ByteArrayType)
		}
		return parquet.Decimal(s.Scale, s.Precision, parquet.ByteArrayType)
	case connector.LogicalDate:
		return parquet.Date()
	case connector.LogicalTimeMillis:
		return parquet.Time(parquet.Millisecond)
	case connector.LogicalTimeMicros:
		return parquet.Time(parquet.Microsecond)
	case connector.LogicalTimestampMillis:
		return parquet.Timestamp(parquet.Millisecond)
	case connector.LogicalTimestampMicros:
		return parquet.Timestamp(parquet.Microsecond)
	case connector.LogicalJSON:
		return jsonNode(read)
	}
	switch s.Type {
	case connector.TypeBoolean:
		return parquet.Leaf(parquet.BooleanType)
	case connector.TypeInt8:
		return parquet.Int(8)
	case connector.TypeInt16:
		return parquet.Int(16)
	case connector.TypeInt32:
		return parquet.Int(32)
	case connector.TypeInt64:
		return parquet.Int(64)
	case connector.TypeFloat32:
		return parquet.Leaf(parquet.FloatType)
	case connector.TypeFloat64:
		return parquet.Leaf(parquet.DoubleType)
	case connector.TypeString:
		return parquet.String()
	case connector.TypeBytes:
		return parquet.Leaf(parquet.ByteArrayType)
	case connector.TypeArray:
		if s.Items.Type == connector.TypeStruct && s.Items.Logical == "" {
			// parquet-go loses the fields of optional struct elements:
			// they are required (toParquet refuses a null one).
			return parquet.List(leafOf(s.Items, read))
		}
		return parquet.List(nodeOf(s.Items, read))
	case connector.TypeMap:
		return jsonNode(read)
	case connector.TypeStruct:
		g := parquet.Group{}
		for _, f := range s.Fields {
			g[f.Name] = nodeOf(f.Schema, read)
		}
		if len(g) == 0 {
			// A struct without fields: Parquet has no empty group.
			return jsonNode(read)
		}
		return g
	}
	return jsonNode(read)
}

// toParquet converts a value of schema s (in the representation of
// recordschema) to what parquet-go writes for nodeOf(s): the exact Go
// types of the physical columns.
//
// inPlace reuses v's maps and lists for the result (values of an inferred
// schema, which the sink decoded or holds alone, encoded once).
func toParquet(s *connector.Schema, v any, inPlace ...bool) (any, error) {
	own := len(inPlace) > 0 && inPlace[0]
	if v == nil {
		if s.Default != nil {
			v = s.Default
		} else {
			return nil, nil
		}
	}
	switch s.Logical {
	case connector.LogicalDecimal:
		str, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("decimal %v is not a string", v)
		}
		if s.Precision == 0 {
			return str, nil
		}
		return unscaled(str, s.Scale)
	case connector.LogicalDate:
		t, ok := v.(time.Time)
		if !ok {
			return nil, fmt.Errorf("date %v is not a time", v)
		}
		return int32(t.UTC().Unix() / 86400), nil
	case connector.LogicalTimeMillis:
		d, ok := v.(time.Duration)
		if !ok {
			return nil, fmt.Errorf("time %v is not a duration", v)
		}
		return int32(d.Milliseconds()), nil
	case connector.LogicalTimeMicros:
		d, ok := v.(time.Duration)
		if !ok {
			return nil, fmt.Errorf("time %v is not a duration", v)
		}
		return d.Microseconds(), nil
	case connector.LogicalTimestampMillis, connector.LogicalTimestampMicros:
		t, ok := v.(time.Time)
		if !ok {
			return nil, fmt.Errorf("timestamp %v is not a time", v)
		}
		if s.Logical == connector.LogicalTimestampMillis {
			return t.UnixMilli(), nil
		}
		return t.UnixMicro(), nil
	case connector.LogicalJSON:
		return jsonText(v)
	}
	switch s.Type {
	case connector.TypeBoolean:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("%v is not a boolean", v)
		}
		return b, nil
	case connector.TypeInt8, connector.TypeInt16, connector.TypeInt32, connector.TypeInt64:
		i, ok := v.(int64)
		if !ok {
			return nil, fmt.Errorf("%v is not an integer", v)
		}
		if s.Type != connector.TypeInt64 {
			return int32(i), nil
		}
		return i, nil
	case connector.TypeFloat32, connector.TypeFloat64:
		f, ok := v.(float64)
		if i, isInt := v.(int64); isInt && s.Optional && s.Logical == "" {
			f, ok = float64(i), true // an inferred double that was integral
		}
		if !ok {
			return nil, fmt.Errorf("%v is not a number", v)
		}
		if s.Type == connector.TypeFloat32 {
			return float32(f), nil
		}
		return f, nil
	case connector.TypeString:
		str, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%v is not a string", v)
		}
		return str, nil
	case connector.TypeBytes:
		b, ok := v.([]byte)
		if !ok {
			return nil, fmt.Errorf("%v is not bytes", v)
		}
		return b, nil
	case connector.TypeArray:
		l, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("%v is not a list", v)
		}
		out := l
		if !own {
			out = make([]any, len(l))
		}
		for i, e := range l {
			if e == nil && s.Items.Type == connector.TypeStruct {
				return nil, fmt.Errorf("[%d]: a null element of a list of structs cannot be written to Parquet", i)
			}
			c, err := toParquet(s.Items, e, own)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i] = c
		}
		return out, nil
	case connector.TypeMap:
		return jsonText(v)
	case connector.TypeStruct:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%v is not a struct", v)
		}
		if len(s.Fields) == 0 {
			return []byte("{}"), nil
		}
		out := m
		if !own {
			out = make(map[string]any, len(s.Fields))
		}
		for _, f := range s.Fields {
			c, err := toParquet(f.Schema, m[f.Name], own)
			if err != nil {
				return nil, fmt.Errorf(".%s: %w", f.Name, err)
			}
			out[f.Name] = c
		}
		return out, nil
	}
	return jsonText(v)
}

func jsonText(v any) ([]byte, error) {
	if raw, ok := v.(json.RawMessage); ok {
		return raw, nil
	}
	return converters.AppendJSON(nil, v)
}

// fromParquet turns what parquet-go read for nodeOf(s, true) back into a
// value of schema s.
func fromParquet(s *connector.Schema, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch s.Logical {
	case connector.LogicalDecimal:
		if s.Precision == 0 {
			return asString(v)
		}
		b, err := asBytes(v)
		if err != nil {
			return nil, err
		}
		return scaled(b, s.Scale), nil
	case connector.LogicalDate:
		i, err := asInt(v)
		return time.Unix(i*86400, 0).UTC(), err
	case connector.LogicalTimeMillis:
		i, err := asInt(v)
		return time.Duration(i) * time.Millisecond, err
	case connector.LogicalTimeMicros:
		i, err := asInt(v)
		return time.Duration(i) * time.Microsecond, err
	case connector.LogicalTimestampMillis:
		i, err := asInt(v)
		return time.UnixMilli(i).UTC(), err
	case connector.LogicalTimestampMicros:
		i, err := asInt(v)
		return time.UnixMicro(i).UTC(), err
	case connector.LogicalJSON:
		return fromJSONText(v)
	}
	switch s.Type {
	case connector.TypeBoolean:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("%v is not a boolean", v)
		}
		return b, nil
	case connector.TypeInt8, connector.TypeInt16, connector.TypeInt32, connector.TypeInt64:
		return asInt(v)
	case connector.TypeFloat32:
		switch f := v.(type) {
		case float32:
			return float64(f), nil
		case float64:
			return f, nil
		}
		return nil, fmt.Errorf("%v is not a float", v)
	case connector.TypeFloat64:
		f, ok := v.(float64)
		if !ok {
			return nil, fmt.Errorf("%v is not a double", v)
		}
		return f, nil
	case connector.TypeString:
		return asString(v)
	case connector.TypeBytes:
		return asBytes(v)
	case connector.TypeArray:
		l, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("%v is not a list", v)
		}
		out := make([]any, len(l))
		for i, e := range l {
			c, err := fromParquet(s.Items, e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case connector.TypeMap:
		m, err := fromJSONText(v)
		if err != nil || m == nil {
			return m, err
		}
		return fromJSONValue(s, m)
	case connector.TypeStruct:
		if len(s.Fields) == 0 {
			return map[string]any{}, nil
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%v is not a struct", v)
		}
		out := make(map[string]any, len(s.Fields))
		for _, f := range s.Fields {
			c, err := fromParquet(f.Schema, m[f.Name])
			if err != nil {
				return nil, fmt.Errorf(".%s: %w", f.Name, err)
			}
			if c != nil || !f.Schema.Optional {
				out[f.Name] = c
			} else if _, present := m[f.Name]; present {
				out[f.Name] = nil
			}
		}
		return out, nil
	}
	return fromJSONText(v)
}

func asInt(v any) (int64, error) {
	switch i := v.(type) {
	case int64:
		return i, nil
	case int32:
		return int64(i), nil
	case int:
		return int64(i), nil
	case int16:
		return int64(i), nil
	case int8:
		return int64(i), nil
	case uint32:
		return int64(i), nil
	}
	return 0, fmt.Errorf("%v (%T) is not an integer", v, v)
}

func asString(v any) (string, error) {
	switch s := v.(type) {
	case string:
		return s, nil
	case []byte:
		return string(s), nil
	}
	return "", fmt.Errorf("%v is not a string", v)
}

func asBytes(v any) ([]byte, error) {
	switch s := v.(type) {
	case string:
		return []byte(s), nil
	case []byte:
		return bytes.Clone(s), nil
	}
	return nil, fmt.Errorf("%v is not bytes", v)
}

// fromJSONText decodes JSON text as the json converter does: integers
// that fit as int64, other numbers as float64.
func fromJSONText(v any) (any, error) {
	b, err := asBytes(v)
	if err != nil {
		return nil, err
	}
	return decodeJSON(b)
}

func decodeJSON(b []byte) (any, error) { return jsonConverter.Decode(b) }

// jsonConverter decodes JSON text as the pipeline's json converter does.
var jsonConverter = &converters.JSON{}

// fromJSONValue turns a map value decoded from JSON text back into the
// representation of schema s where JSON loses it (bytes, times, decimals
// inside maps).
func fromJSONValue(s *connector.Schema, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch s.Logical {
	case connector.LogicalDecimal:
		if f, ok := v.(float64); ok {
			return fmt.Sprint(f), nil
		}
		if i, ok := v.(int64); ok {
			return fmt.Sprint(i), nil
		}
		return v, nil
	case connector.LogicalDate, connector.LogicalTimestampMillis, connector.LogicalTimestampMicros:
		if str, ok := v.(string); ok {
			return time.Parse(time.RFC3339Nano, str)
		}
		return v, nil
	case connector.LogicalJSON:
		return v, nil
	}
	switch s.Type {
	case connector.TypeBytes:
		if str, ok := v.(string); ok {
			return decodeBase64(str)
		}
	case connector.TypeFloat32, connector.TypeFloat64:
		if i, ok := v.(int64); ok {
			return float64(i), nil
		}
	case connector.TypeArray:
		if l, ok := v.([]any); ok {
			for i := range l {
				c, err := fromJSONValue(s.Items, l[i])
				if err != nil {
					return nil, err
				}
				l[i] = c
			}
		}
	case connector.TypeMap:
		if m, ok := v.(map[string]any); ok {
			for k := range m {
				c, err := fromJSONValue(s.Values, m[k])
				if err != nil {
					return nil, err
				}
				m[k] = c
			}
		}
	case connector.TypeStruct:
		if m, ok := v.(map[string]any); ok {
			for _, f := range s.Fields {
				if x, ok := m[f.Name]; ok {
					c, err := fromJSONValue(f.Schema, x)
					if err != nil {
						return nil, err
					}
					m[f.Name] = c
				}
			}
		}
	}
	return v, nil
}

// unscaled returns a decimal's unscaled value as big-endian two's
// complement bytes, Parquet's DECIMAL on BYTE_ARRAY.
func unscaled(s string, scale int) ([]byte, error) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	intPart, frac, _ := strings.Cut(s, ".")
	if len(frac) > scale {
		return nil, fmt.Errorf("decimal %s has more than %d digits after the point", s, scale)
	}
	frac += strings.Repeat("0", scale-len(frac))
	n, ok := new(big.Int).SetString(intPart+frac, 10)
	if !ok {
		return nil, fmt.Errorf("%q is not a decimal", s)
	}
	if neg {
		n.Neg(n)
	}
	return twos(n), nil
}

// twos returns n as minimal big-endian two's complement bytes.
func twos(n *big.Int) []byte {
	if n.Sign() >= 0 {
		b := n.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	// -n - 1, bits inverted.
	m := new(big.Int).Neg(n)
	m.Sub(m, big.NewInt(1))
	b := m.Bytes()
	if len(b) == 0 || b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	for i := range b {
		b[i] = ^b[i]
	}
	return b
}

// scaled turns unscaled two's complement bytes back into decimal text
// with scale digits after the point.
func scaled(b []byte, scale int) string {
	n := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(len(b))*8))
	}
	neg := n.Sign() < 0
	digits := new(big.Int).Abs(n).String()
	if scale > 0 {
		if len(digits) <= scale {
			digits = strings.Repeat("0", scale-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	if neg {
		digits = "-" + digits
	}
	return digits
}

// sizeOf estimates the bytes of a value before encoding, for flush_bytes:
// the same value always counts the same.
func sizeOf(v any) int64 {
	switch x := v.(type) {
	case nil, bool:
		return 1
	case int32, float32:
		return 4
	case int64, float64:
		return 8
	case string:
		return int64(len(x))
	case []byte:
		return int64(len(x))
	case []any:
		n := int64(0)
		for _, e := range x {
			n += sizeOf(e)
		}
		return n
	case map[string]any:
		n := int64(0)
		for k, e := range x {
			n += int64(len(k)) + sizeOf(e)
		}
		return n
	}
	return 8
}

// jsonNode is a JSON text column; read leaves it as bytes (parquet-go's
// reader would decode it).
func jsonNode(read bool) parquet.Node {
	if read {
		return parquet.Leaf(parquet.ByteArrayType)
	}
	return parquet.JSON()
}
