package recordschema

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// The Go values that represent each type, which CheckValue accepts and
// converters produce and take. They are the values transforms and CEL
// already see for schemaless records, plus time.Time and time.Duration:
//
//	boolean                     bool
//	int8, int16, int32, int64   int64, within the type's range
//	float32, float64            float64 (float32: within its range, or NaN or ±Inf)
//	string                      string
//	bytes                       []byte
//	array                       []any, each element of Items
//	map                         map[string]any, each value of Values; a key of an
//	                            integer or boolean key type is written as its
//	                            decimal text or "true"/"false" ("42", not "042")
//	struct                      map[string]any from field names to values: no key
//	                            that is not a field; a field that is absent or nil
//	                            must be optional or have a default
//	decimal                     string: the number in decimal, "-12.30" (an optional
//	                            sign, digits, a point and digits), at most Scale
//	                            digits after the point and at most Precision digits
//	                            in all, or MaxDecimalDigits when Precision is 0
//	                            (leading zeros of the integer part not counted); no
//	                            exponent
//	date                        time.Time: its date in UTC (the time of day is dropped)
//	time-millis, time-micros    time.Duration since midnight, from 0 to under 24h
//	timestamp-millis, -micros   time.Time
//	uuid                        string: 8-4-4-4-12 hexadecimal digits
//	json                        any JSON value as the json converter decodes it:
//	                            nil, bool, int64, float64, string, []any,
//	                            map[string]any
//
// nil is the null of an optional schema. Encoders truncate times to the
// unit of their logical type (a day, a millisecond, a microsecond).

// CheckValue reports whether v is a value of s, as described above; the
// error is an *Error whose Path says where inside v the problem is.
func (s *Schema) CheckValue(v any) error {
	if err := s.check("", v, 0); err != nil {
		return err
	}
	return nil
}

// maxDepth bounds how deeply values and schemas nest, as encoding/json
// bounds JSON text.
const maxDepth = 10000

func (s *Schema) check(path string, v any, depth int) *Error {
	if depth > maxDepth {
		return errorf(path, "nested more than %d levels deep", maxDepth)
	}
	if v == nil {
		if s.Optional || s.Default != nil {
			return nil
		}
		return errorf(path, "null, but the schema (%s) is not optional", s)
	}
	if s.Logical != "" {
		return s.checkLogical(path, v, depth)
	}
	switch s.Type {
	case Boolean:
		if _, ok := v.(bool); ok {
			return nil
		}
	case Int8, Int16, Int32, Int64:
		if i, ok := v.(int64); ok {
			if lo, hi := s.Type.intRange(); i < lo || i > hi {
				return errorf(path, "%d is out of the range of %s", i, s.Type)
			}
			return nil
		}
	case Float32, Float64:
		if f, ok := v.(float64); ok {
			if s.Type == Float32 && !math.IsInf(f, 0) && math.Abs(f) > math.MaxFloat32 {
				return errorf(path, "%g is out of the range of float32", f)
			}
			return nil
		}
	case String:
		if _, ok := v.(string); ok {
			return nil
		}
	case Bytes:
		if _, ok := v.([]byte); ok {
			return nil
		}
	case Array:
		if l, ok := v.([]any); ok {
			for i, e := range l {
				if err := s.Items.check(path+"["+strconv.Itoa(i)+"]", e, depth+1); err != nil {
					return err
				}
			}
			return nil
		}
	case Map:
		if m, ok := v.(map[string]any); ok {
			for k, e := range m {
				at := path + "[" + strconv.Quote(k) + "]"
				if err := s.Keys.checkKey(at, k); err != nil {
					return err
				}
				if err := s.Values.check(at, e, depth+1); err != nil {
					return err
				}
			}
			return nil
		}
	case Struct:
		if m, ok := v.(map[string]any); ok {
			return s.checkStruct(path, m, depth)
		}
	default:
		return errorf(path, "the schema has an unknown type %q", s.Type)
	}
	return errorf(path, "%s is not a value of %s (%s)", describeValue(v), s.Type, representation(s))
}

func (s *Schema) checkStruct(path string, m map[string]any, depth int) *Error {
	n := 0
	for _, f := range s.Fields {
		e, ok := m[f.Name]
		if ok {
			n++
		}
		if err := f.Schema.check(fieldPath(path, f.Name), e, depth+1); err != nil {
			if e == nil && !ok {
				err.Reason = "missing, but the field is not optional and has no default"
			}
			return err
		}
	}
	if n < len(m) {
		names := make(map[string]bool, len(s.Fields))
		for _, f := range s.Fields {
			names[f.Name] = true
		}
		for k := range m {
			if !names[k] {
				return errorf(fieldPath(path, k), "no such field in the schema (%s)", s)
			}
		}
	}
	return nil
}

// checkKey checks a map key's text against the key schema.
func (s *Schema) checkKey(path, k string) *Error {
	switch {
	case s.Type == String && s.Logical == UUID:
		if !isUUID(k) {
			return errorf(path, "the key %q is not a UUID", k)
		}
	case s.Type == String:
	case s.Type == Boolean:
		if k != "true" && k != "false" {
			return errorf(path, "the key %q is not a boolean (true or false)", k)
		}
	case s.Type.Integer():
		i, err := strconv.ParseInt(k, 10, 64)
		if err != nil || strconv.FormatInt(i, 10) != k {
			return errorf(path, "the key %q is not an integer in decimal", k)
		}
		if lo, hi := s.Type.intRange(); i < lo || i > hi {
			return errorf(path, "the key %d is out of the range of %s", i, s.Type)
		}
	default:
		return errorf(path, "map keys are strings, integers or booleans, not %s", s)
	}
	return nil
}

func (s *Schema) checkLogical(path string, v any, depth int) *Error {
	switch s.Logical {
	case Decimal:
		if d, ok := v.(string); ok {
			if reason := s.checkDecimal(d); reason != "" {
				return errorf(path, "%q is not a decimal(%d,%d): %s", d, s.Precision, s.Scale, reason)
			}
			return nil
		}
	case Date, TimestampMillis, TimestampMicros:
		if _, ok := v.(time.Time); ok {
			return nil
		}
	case TimeMillis, TimeMicros:
		if d, ok := v.(time.Duration); ok {
			if d < 0 || d >= 24*time.Hour {
				return errorf(path, "%v is not a time of day (from 0 to under 24h)", d)
			}
			return nil
		}
	case UUID:
		if u, ok := v.(string); ok {
			if !isUUID(u) {
				return errorf(path, "%q is not a UUID (8-4-4-4-12 hexadecimal digits)", u)
			}
			return nil
		}
	case JSON:
		return checkJSONValue(path, v, depth)
	default:
		return errorf(path, "the schema has an unknown logical type %q", s.Logical)
	}
	return errorf(path, "%s is not a value of %s (%s)", describeValue(v), s.Logical, representation(s))
}

// checkDecimal returns what is wrong with decimal text d, "" when nothing.
func (s *Schema) checkDecimal(d string) string {
	intDigits, fracDigits, ok := splitDecimal(d)
	if !ok {
		return "a decimal is written as digits with an optional sign and point, like -12.30"
	}
	if len(fracDigits) > s.Scale {
		return fmt.Sprintf("%d digits after the point, more than the scale", len(fracDigits))
	}
	for len(intDigits) > 1 && intDigits[0] == '0' {
		intDigits = intDigits[1:]
	}
	if intDigits == "0" {
		intDigits = ""
	}
	if s.Precision > 0 && len(intDigits)+s.Scale > s.Precision {
		return fmt.Sprintf("%d digits before the point, more than precision %d leaves beside scale %d", len(intDigits), s.Precision, s.Scale)
	}
	if len(intDigits)+s.Scale > MaxDecimalDigits {
		return fmt.Sprintf("more than %d digits", MaxDecimalDigits)
	}
	return ""
}

// MaxDecimalDigits bounds the precision and scale of a decimal, and the
// digits of one without a precision: 1000, as PostgreSQL's numeric.
const MaxDecimalDigits = 1000

// splitDecimal splits decimal text into its integer and fraction digits.
func splitDecimal(d string) (intDigits, fracDigits string, ok bool) {
	if d != "" && (d[0] == '-' || d[0] == '+') {
		d = d[1:]
	}
	i := 0
	for i < len(d) && d[i] >= '0' && d[i] <= '9' {
		i++
	}
	intDigits = d[:i]
	if i < len(d) {
		if d[i] != '.' {
			return "", "", false
		}
		j := i + 1
		for j < len(d) && d[j] >= '0' && d[j] <= '9' {
			j++
		}
		if j < len(d) {
			return "", "", false
		}
		fracDigits = d[i+1:]
	}
	if intDigits == "" && fracDigits == "" {
		return "", "", false
	}
	return intDigits, fracDigits, true
}

// isUUID reports whether u is 8-4-4-4-12 hexadecimal digits.
func isUUID(u string) bool {
	if len(u) != 36 {
		return false
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
				return false
			}
		}
	}
	return true
}

// checkJSONValue checks that v is a value the json converter decodes.
func checkJSONValue(path string, v any, depth int) *Error {
	if depth > maxDepth {
		return errorf(path, "nested more than %d levels deep", maxDepth)
	}
	switch v := v.(type) {
	case nil, bool, int64, string:
		return nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return errorf(path, "%g is not a JSON number", v)
		}
		return nil
	case []any:
		for i, e := range v {
			if err := checkJSONValue(path+"["+strconv.Itoa(i)+"]", e, depth+1); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		for k, e := range v {
			if err := checkJSONValue(path+"["+strconv.Quote(k)+"]", e, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return errorf(path, "%s is not a JSON value (null, a bool, a number, a string, a list or a map)", describeValue(v))
}

// representation names the Go type that represents a schema's values.
func representation(s *Schema) string {
	switch s.Logical {
	case Decimal:
		return "decimal text in a string"
	case Date, TimestampMillis, TimestampMicros:
		return "a time.Time"
	case TimeMillis, TimeMicros:
		return "a time.Duration since midnight"
	case UUID:
		return "a string"
	}
	switch s.Type {
	case Boolean:
		return "a bool"
	case Int8, Int16, Int32, Int64:
		return "an int64"
	case Float32, Float64:
		return "a float64"
	case String:
		return "a string"
	case Bytes:
		return "a []byte"
	case Array:
		return "a []any"
	}
	return "a map[string]any"
}

// describeValue names the type of a value for messages without quoting
// it: "a string", "an int", "a map", "bytes" …
func describeValue(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a bool"
	case int64, int, int32, int16, int8:
		return "an int"
	case uint64, uint, uint32, uint16, uint8:
		return "an unsigned int"
	case float64, float32:
		return "a double"
	case string:
		return "a string"
	case []byte:
		return "bytes"
	case []any:
		return "a list"
	case map[string]any:
		return "a map"
	case time.Time:
		return "a timestamp"
	case time.Duration:
		return "a duration"
	}
	return fmt.Sprintf("a value of Go type %T", v)
}
