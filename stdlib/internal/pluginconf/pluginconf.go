package pluginconf

import (
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// Config is a plugin's attributes by name.
type Config map[string]any

// typeError says that an attribute holds a value of the wrong type.
func typeError(name, want string, v any) error {
	return fmt.Errorf("attribute %q must be %s, not %T", name, want, v)
}

// String returns a string attribute, or def when it is absent or null.
func (c Config) String(name, def string) (string, error) {
	v, ok := c[name]
	if !ok || v == nil {
		return def, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", typeError(name, "a string", v)
	}
	return s, nil
}

// Bool returns a bool attribute, or def when it is absent or null.
func (c Config) Bool(name string, def bool) (bool, error) {
	v, ok := c[name]
	if !ok || v == nil {
		return def, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, typeError(name, "a bool", v)
	}
	return b, nil
}

// Int returns an integer attribute, or def when it is absent or null.
func (c Config) Int(name string, def int64) (int64, error) {
	v, ok := c[name]
	if !ok || v == nil {
		return def, nil
	}
	n, ok := ToInt64(v)
	if !ok {
		return 0, typeError(name, "an integer", v)
	}
	return n, nil
}

// Float returns a number attribute, or def when it is absent or null.
func (c Config) Float(name string, def float64) (float64, error) {
	v, ok := c[name]
	if !ok || v == nil {
		return def, nil
	}
	switch n := v.(type) {
	case float64:
		return n, nil
	case float32:
		return float64(n), nil
	case json.Number:
		f, err := n.Float64()
		if err != nil {
			return 0, typeError(name, "a number", v)
		}
		return f, nil
	}
	if n, ok := ToInt64(v); ok {
		return float64(n), nil
	}
	return 0, typeError(name, "a number", v)
}

// Duration returns a duration attribute (a string in Go syntax such as
// "30s"), or def when it is absent or null.
func (c Config) Duration(name string, def time.Duration) (time.Duration, error) {
	v, ok := c[name]
	if !ok || v == nil {
		return def, nil
	}
	switch d := v.(type) {
	case time.Duration:
		return d, nil
	case string:
		parsed, err := time.ParseDuration(d)
		if err != nil || parsed < 0 {
			return 0, fmt.Errorf("attribute %q must be a positive duration such as \"30s\", not %q", name, d)
		}
		return parsed, nil
	}
	return 0, typeError(name, "a duration string", v)
}

// Strings returns a list(string) attribute, or nil when it is absent or
// null.
func (c Config) Strings(name string) ([]string, error) {
	v, ok := c[name]
	if !ok || v == nil {
		return nil, nil
	}
	switch l := v.(type) {
	case []string:
		return l, nil
	case []any:
		out := make([]string, len(l))
		for i, e := range l {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("attribute %q must be a list of strings, but element %d is %T", name, i, e)
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, typeError(name, "a list of strings", v)
}

// ToInt64 converts an integer held in any numeric representation (int,
// int32, int64, uint64, a float64 without fraction, json.Number) to int64.
func ToInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case uint32:
		return int64(n), true
	case uint64:
		if n > math.MaxInt64 {
			return 0, false
		}
		return int64(n), true
	case float64:
		if n != math.Trunc(n) || n < math.MinInt64 || n >= math.MaxInt64 {
			return 0, false
		}
		return int64(n), true
	case json.Number:
		i, err := n.Int64()
		if err != nil {
			f, ferr := n.Float64()
			if ferr != nil {
				return 0, false
			}
			return ToInt64(f)
		}
		return i, true
	}
	return 0, false
}
