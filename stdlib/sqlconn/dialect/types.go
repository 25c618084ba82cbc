package dialect

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/pipectl/pipectl/runtime/connector"
)

// Kind is how a column's values are represented in a record (the
// representation of its schema type, see connector's schema.go).
type Kind uint8

// The kinds of column values.
const (
	KindString    Kind = iota + 1 // string
	KindInt                       // int64
	KindFloat                     // float64
	KindBool                      // bool
	KindBytes                     // []byte
	KindDecimal                   // decimal text
	KindTimestamp                 // time.Time
	KindDate                      // time.Time, midnight UTC
	KindTime                      // time.Duration since midnight
	KindJSON                      // decoded JSON
	KindUUID                      // string 8-4-4-4-12
)

// Column is a column of a result set as the source reads it.
type Column struct {
	Name   string
	Kind   Kind
	Schema *connector.Schema
}

// ColumnOf maps a column of a result set (database/sql's ColumnType:
// DatabaseTypeName, DecimalSize, Nullable) to its kind and field schema:
//
//	integers (smallint … bigint, MySQL's unsigned too)   int16/int32/int64
//	numeric/decimal(p,s)                                  decimal(p,s); a numeric without a declared precision is a string
//	real, double precision, float, double                 float32/float64
//	boolean (PostgreSQL), tinyint(1) is a MySQL integer   boolean / int8
//	char, varchar, text, enum, set, and anything unknown  string
//	bytea, binary, varbinary, blob                        bytes
//	timestamp, timestamptz, datetime                      timestamp-micros
//	date                                                  date
//	time                                                  time-micros
//	json, jsonb                                           json
//	uuid                                                  uuid
func ColumnOf(d Dialect, name, dbType string, precision, scale int64, hasDecimal, nullable bool) Column {
	t := strings.ToUpper(strings.TrimSpace(dbType))
	unsigned := strings.HasPrefix(t, "UNSIGNED ")
	t = strings.TrimPrefix(t, "UNSIGNED ")
	s := func(st connector.SchemaType) *connector.Schema {
		return &connector.Schema{Type: st, Optional: nullable}
	}
	c := Column{Name: name}
	switch t {
	case "INT2", "SMALLINT", "TINYINT", "YEAR":
		c.Kind, c.Schema = KindInt, s(connector.TypeInt16)
		if unsigned && t == "SMALLINT" {
			c.Schema = s(connector.TypeInt32)
		}
	case "INT4", "INT", "INTEGER", "MEDIUMINT", "SERIAL":
		c.Kind, c.Schema = KindInt, s(connector.TypeInt32)
		if unsigned && t != "MEDIUMINT" {
			c.Schema = s(connector.TypeInt64)
		}
	case "INT8", "BIGINT", "OID":
		c.Kind, c.Schema = KindInt, s(connector.TypeInt64)
		if unsigned {
			// An unsigned bigint may not fit an int64: decimal text.
			c.Kind, c.Schema = KindDecimal, &connector.Schema{Type: connector.TypeBytes, Logical: connector.LogicalDecimal, Precision: 20, Optional: nullable}
		}
	case "NUMERIC", "DECIMAL":
		if hasDecimal && precision > 0 && precision <= connector.MaxDecimalDigits && scale >= 0 && scale <= precision {
			c.Kind, c.Schema = KindDecimal, &connector.Schema{Type: connector.TypeBytes, Logical: connector.LogicalDecimal, Precision: int(precision), Scale: int(scale), Optional: nullable}
		} else {
			c.Kind, c.Schema = KindString, s(connector.TypeString)
		}
	case "FLOAT4", "REAL", "FLOAT":
		c.Kind, c.Schema = KindFloat, s(connector.TypeFloat32)
	case "FLOAT8", "DOUBLE", "DOUBLE PRECISION":
		c.Kind, c.Schema = KindFloat, s(connector.TypeFloat64)
	case "BOOL", "BOOLEAN":
		c.Kind, c.Schema = KindBool, s(connector.TypeBoolean)
	case "BYTEA", "BINARY", "VARBINARY", "BLOB", "TINYBLOB", "MEDIUMBLOB", "LONGBLOB", "BIT", "GEOMETRY":
		c.Kind, c.Schema = KindBytes, s(connector.TypeBytes)
	case "TIMESTAMP", "TIMESTAMPTZ", "DATETIME":
		c.Kind, c.Schema = KindTimestamp, &connector.Schema{Type: connector.TypeInt64, Logical: connector.LogicalTimestampMicros, Optional: nullable}
	case "DATE":
		c.Kind, c.Schema = KindDate, &connector.Schema{Type: connector.TypeInt32, Logical: connector.LogicalDate, Optional: nullable}
	case "TIME":
		c.Kind, c.Schema = KindTime, &connector.Schema{Type: connector.TypeInt64, Logical: connector.LogicalTimeMicros, Optional: nullable}
	case "JSON", "JSONB":
		c.Kind, c.Schema = KindJSON, &connector.Schema{Type: connector.TypeString, Logical: connector.LogicalJSON, Optional: nullable}
	case "UUID":
		c.Kind, c.Schema = KindUUID, &connector.Schema{Type: connector.TypeString, Logical: connector.LogicalUUID, Optional: nullable}
	default:
		c.Kind, c.Schema = KindString, s(connector.TypeString)
	}
	return c
}

// Value converts what the driver scanned into a column's representation.
func (c *Column) Value(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	bad := func() (any, error) {
		return nil, fmt.Errorf("column %q: cannot read %T as %s", c.Name, v, c.Schema.Type)
	}
	text, isText := "", false
	switch x := v.(type) {
	case []byte:
		text, isText = string(x), true
	case string:
		text, isText = x, true
	}
	switch c.Kind {
	case KindInt:
		switch x := v.(type) {
		case int64:
			return x, nil
		case int32:
			return int64(x), nil
		case uint64:
			if x > 1<<63-1 {
				return bad()
			}
			return int64(x), nil
		case bool:
			if x {
				return int64(1), nil
			}
			return int64(0), nil
		}
		if isText {
			n, err := strconv.ParseInt(text, 10, 64)
			if err != nil {
				return bad()
			}
			return n, nil
		}
	case KindFloat:
		switch x := v.(type) {
		case float64:
			return x, nil
		case float32:
			return float64(x), nil
		case int64:
			return float64(x), nil
		}
		if isText {
			f, err := strconv.ParseFloat(text, 64)
			if err != nil {
				return bad()
			}
			return f, nil
		}
	case KindBool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case int64:
			return x != 0, nil
		}
		if isText {
			b, err := strconv.ParseBool(text)
			if err != nil {
				return bad()
			}
			return b, nil
		}
	case KindDecimal:
		switch x := v.(type) {
		case int64:
			return strconv.FormatInt(x, 10), nil
		case uint64:
			return strconv.FormatUint(x, 10), nil
		case float64:
			return decimalText(strconv.FormatFloat(x, 'f', c.Schema.Scale, 64), c.Schema.Scale), nil
		}
		if isText {
			return decimalText(text, c.Schema.Scale), nil
		}
	case KindString, KindUUID:
		if isText {
			return text, nil
		}
		switch x := v.(type) {
		case time.Time:
			return x.UTC().Format(time.RFC3339Nano), nil
		case int64:
			return strconv.FormatInt(x, 10), nil
		case float64:
			return strconv.FormatFloat(x, 'g', -1, 64), nil
		case bool:
			return strconv.FormatBool(x), nil
		case [16]byte:
			return fmt.Sprintf("%x-%x-%x-%x-%x", x[0:4], x[4:6], x[6:8], x[8:10], x[10:16]), nil
		}
	case KindBytes:
		switch x := v.(type) {
		case []byte:
			return append([]byte(nil), x...), nil
		case string:
			return []byte(x), nil
		}
	case KindTimestamp, KindDate:
		var t time.Time
		switch x := v.(type) {
		case time.Time:
			t = x
		default:
			if !isText {
				return bad()
			}
			var err error
			t, err = parseTime(text)
			if err != nil {
				return bad()
			}
		}
		t = t.UTC()
		if c.Kind == KindDate {
			t = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		}
		return t, nil
	case KindTime:
		switch x := v.(type) {
		case time.Duration:
			return x, nil
		case time.Time:
			return time.Duration(x.Hour())*time.Hour + time.Duration(x.Minute())*time.Minute + time.Duration(x.Second())*time.Second + time.Duration(x.Nanosecond()), nil
		}
		if isText {
			d, err := parseTimeOfDay(text)
			if err != nil {
				return bad()
			}
			return d, nil
		}
	case KindJSON:
		if !isText {
			// pgx may hand over decoded JSON already.
			b, err := json.Marshal(v)
			if err != nil {
				return bad()
			}
			text = string(b)
		}
		var out any
		dec := json.NewDecoder(strings.NewReader(text))
		dec.UseNumber()
		if err := dec.Decode(&out); err != nil {
			return nil, fmt.Errorf("column %q: not JSON: %w", c.Name, err)
		}
		return FromJSONNumbers(out), nil
	}
	return bad()
}

// FromJSONNumbers turns json.Number into int64 where it is an integer,
// float64 otherwise, as the json converter decodes numbers.
func FromJSONNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = FromJSONNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = FromJSONNumbers(e)
		}
	}
	return v
}

// decimalText normalises a decimal from the database: no exponent, at
// most scale digits after the point (PostgreSQL writes NaN and infinities,
// which no decimal holds: those are kept and fail the schema check).
func decimalText(s string, scale int) string {
	if strings.ContainsAny(s, "eE") {
		if r, ok := new(big.Rat).SetString(s); ok {
			return r.FloatString(scale)
		}
	}
	return s
}

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999Z07", "2006-01-02 15:04:05.999999999", "2006-01-02"}

func parseTime(s string) (time.Time, error) {
	var err error
	for _, l := range timeLayouts {
		var t time.Time
		if t, err = time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}

func parseTimeOfDay(s string) (time.Duration, error) {
	t, err := time.Parse("15:04:05.999999999", s)
	if err != nil {
		return 0, err
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second + time.Duration(t.Nanosecond()), nil
}

// ColumnType is the SQL type auto_create and auto_evolve give a column of
// schema s; key says the column is part of the primary key (MySQL cannot
// index TEXT or BLOB without a length: keys get VARCHAR(255) and
// VARBINARY(255)).
func (d Dialect) ColumnType(s *connector.Schema, key bool) string {
	pg := d == Postgres
	pick := func(p, m string) string {
		if pg {
			return p
		}
		return m
	}
	switch s.Logical {
	case connector.LogicalDecimal:
		if s.Precision == 0 {
			return pick("numeric", "DECIMAL(65,30)")
		}
		return fmt.Sprintf(pick("numeric(%d,%d)", "DECIMAL(%d,%d)"), s.Precision, s.Scale)
	case connector.LogicalDate:
		return pick("date", "DATE")
	case connector.LogicalTimeMillis, connector.LogicalTimeMicros:
		return pick("time", "TIME(6)")
	case connector.LogicalTimestampMillis, connector.LogicalTimestampMicros:
		return pick("timestamptz", "DATETIME(6)")
	case connector.LogicalUUID:
		return pick("uuid", "CHAR(36)")
	case connector.LogicalJSON:
		return pick("jsonb", "JSON")
	}
	switch s.Type {
	case connector.TypeBoolean:
		return pick("boolean", "BOOLEAN")
	case connector.TypeInt8, connector.TypeInt16:
		return pick("smallint", "SMALLINT")
	case connector.TypeInt32:
		return pick("integer", "INT")
	case connector.TypeInt64:
		return pick("bigint", "BIGINT")
	case connector.TypeFloat32:
		return pick("real", "FLOAT")
	case connector.TypeFloat64:
		return pick("double precision", "DOUBLE")
	case connector.TypeBytes:
		if key {
			return pick("bytea", "VARBINARY(255)")
		}
		return pick("bytea", "LONGBLOB")
	case connector.TypeArray, connector.TypeMap, connector.TypeStruct:
		return pick("jsonb", "JSON")
	}
	if key {
		return pick("text", "VARCHAR(255)")
	}
	return pick("text", "LONGTEXT")
}

// Infer gives a value of a schemaless record a column schema, from its Go
// type: a string is a string, an int64 a bigint, a float64 a double, a
// bool a boolean, a time.Time a timestamp, []byte bytes, maps and lists
// JSON. ok is false for nil, whose type cannot be told.
func Infer(v any) (*connector.Schema, bool) {
	opt := func(st connector.SchemaType) *connector.Schema { return &connector.Schema{Type: st, Optional: true} }
	switch v.(type) {
	case string:
		return opt(connector.TypeString), true
	case int64, int, int32:
		return opt(connector.TypeInt64), true
	case float64, float32, json.Number:
		return opt(connector.TypeFloat64), true
	case bool:
		return opt(connector.TypeBoolean), true
	case time.Time:
		return &connector.Schema{Type: connector.TypeInt64, Logical: connector.LogicalTimestampMicros, Optional: true}, true
	case []byte:
		return opt(connector.TypeBytes), true
	case map[string]any, []any, json.RawMessage:
		return &connector.Schema{Type: connector.TypeString, Logical: connector.LogicalJSON, Optional: true}, true
	}
	return nil, false
}
