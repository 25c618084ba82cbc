package postgrescdc

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/pipectl/pipectl/runtime/connector"
)

// Type OIDs of PostgreSQL's built-in types (pg_type.dat); they never change.
const (
	oidBool        = 16
	oidBytea       = 17
	oidChar        = 18
	oidName        = 19
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidText        = 25
	oidOID         = 26
	oidJSON        = 114
	oidFloat4      = 700
	oidFloat8      = 701
	oidBpchar      = 1042
	oidVarchar     = 1043
	oidDate        = 1082
	oidTime        = 1083
	oidTimestamp   = 1114
	oidTimestamptz = 1184
	oidNumeric     = 1700
	oidUUID        = 2950
	oidJSONB       = 3802
)

// column is one column of a captured table.
type column struct {
	Name   string
	OID    uint32
	Typmod int32
	Key    bool
}

// table is what the source knows of one captured table: from a relation
// message, or from the catalog for the snapshot.
type table struct {
	Schema, Name string
	Columns      []column
	row          *connector.Schema // one column per field, all optional
	key          *connector.Schema // the key columns; nil without any
	value        *connector.Schema // the envelope
}

// columnSchema maps a column's type to a record schema. Types it does not
// know (arrays, enums, ranges, geometric types …) are strings holding
// PostgreSQL's text form, with the type's OID in the pg.oid parameter.
func columnSchema(oid uint32, typmod int32) *connector.Schema {
	s := &connector.Schema{Optional: true}
	switch oid {
	case oidBool:
		s.Type = connector.TypeBoolean
	case oidInt2:
		s.Type = connector.TypeInt16
	case oidInt4:
		s.Type = connector.TypeInt32
	case oidInt8, oidOID:
		s.Type = connector.TypeInt64
	case oidFloat4:
		s.Type = connector.TypeFloat32
	case oidFloat8:
		s.Type = connector.TypeFloat64
	case oidNumeric:
		if typmod < 4 {
			// numeric without precision and scale has no fixed scale,
			// which a decimal schema needs: its text, as a string.
			s.Type = connector.TypeString
			s.Parameters = map[string]string{"pg.type": "numeric"}
			break
		}
		s.Type, s.Logical = connector.TypeBytes, connector.LogicalDecimal
		s.Precision, s.Scale = int((typmod-4)>>16), int((typmod-4)&0xffff)
	case oidText, oidVarchar, oidBpchar, oidName, oidChar:
		s.Type = connector.TypeString
	case oidBytea:
		s.Type = connector.TypeBytes
	case oidDate:
		s.Type, s.Logical = connector.TypeInt32, connector.LogicalDate
	case oidTime:
		s.Type, s.Logical = connector.TypeInt64, connector.LogicalTimeMicros
	case oidTimestamp, oidTimestamptz:
		s.Type, s.Logical = connector.TypeInt64, connector.LogicalTimestampMicros
	case oidUUID:
		s.Type, s.Logical = connector.TypeString, connector.LogicalUUID
	case oidJSON, oidJSONB:
		s.Type, s.Logical = connector.TypeString, connector.LogicalJSON
	default:
		s.Type = connector.TypeString
		s.Parameters = map[string]string{"pg.oid": strconv.FormatUint(uint64(oid), 10)}
	}
	return s
}

// decodeText turns PostgreSQL's text form of a value of type oid into the
// representation of columnSchema(oid, typmod). Both connections run with
// TimeZone UTC, so timestamptz text ends in +00.
func decodeText(oid uint32, typmod int32, text []byte) (any, error) {
	s := string(text)
	switch oid {
	case oidBool:
		switch s {
		case "t":
			return true, nil
		case "f":
			return false, nil
		}
		return nil, fmt.Errorf("%q is not a boolean", s)
	case oidInt2:
		return strconv.ParseInt(s, 10, 16)
	case oidInt4:
		return strconv.ParseInt(s, 10, 32)
	case oidInt8, oidOID:
		return strconv.ParseInt(s, 10, 64)
	case oidFloat4, oidFloat8:
		return strconv.ParseFloat(s, 64)
	case oidNumeric:
		if typmod >= 4 && (s == "NaN" || strings.HasSuffix(s, "Infinity")) {
			return nil, fmt.Errorf("numeric %s has no decimal form", s)
		}
		if typmod >= 4 {
			// The server's text fits numeric(p,s); the check keeps a
			// record from carrying a value its schema refuses.
			if err := columnSchema(oid, typmod).CheckValue(s); err != nil {
				return nil, fmt.Errorf("numeric: %w", err)
			}
		}
		return s, nil
	case oidBytea:
		if !strings.HasPrefix(s, `\x`) {
			return nil, fmt.Errorf("bytea is not in hex format (bytea_output = hex)")
		}
		return hex.DecodeString(s[2:])
	case oidDate:
		return time.Parse("2006-01-02", s)
	case oidTime:
		t, err := time.Parse("15:04:05.999999", s)
		if err != nil {
			return nil, err
		}
		return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute +
			time.Duration(t.Second())*time.Second + time.Duration(t.Nanosecond()), nil
	case oidTimestamp:
		return time.Parse("2006-01-02 15:04:05.999999", s)
	case oidTimestamptz:
		return time.Parse("2006-01-02 15:04:05.999999-07", s)
	case oidJSON, oidJSONB:
		return decodeJSON(text)
	}
	return s, nil
}

// decodeJSON reads a json or jsonb value as the json converter decodes
// it: an integer is an int64 (a float64 would round those above 2^53),
// any other number a float64.
func decodeJSON(text []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("json: text after the value")
	}
	return jsonNumbers(v)
}

// jsonNumbers replaces the json.Number values in v.
func jsonNumbers(v any) (any, error) {
	switch v := v.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i, nil
		}
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return nil, fmt.Errorf("json: the number %s does not fit a float64", v)
		}
		return f, nil
	case []any:
		for i, e := range v {
			n, err := jsonNumbers(e)
			if err != nil {
				return nil, err
			}
			v[i] = n
		}
	case map[string]any:
		for k, e := range v {
			n, err := jsonNumbers(e)
			if err != nil {
				return nil, err
			}
			v[k] = n
		}
	}
	return v, nil
}

// build sets the schemas of t from its columns.
func (t *table) build() {
	name := t.Schema + "." + t.Name
	row := &connector.Schema{Type: connector.TypeStruct, Name: name + ".Value", Optional: true}
	key := &connector.Schema{Type: connector.TypeStruct, Name: name + ".Key"}
	for _, c := range t.Columns {
		cs := columnSchema(c.OID, c.Typmod)
		row.Fields = append(row.Fields, connector.Field{Name: c.Name, Schema: cs})
		if c.Key {
			k := *cs
			k.Optional = false
			key.Fields = append(key.Fields, connector.Field{Name: c.Name, Schema: &k})
		}
	}
	t.row = row
	t.key = nil
	if len(key.Fields) > 0 {
		t.key = key
	}
	str := &connector.Schema{Type: connector.TypeString}
	t.value = &connector.Schema{Type: connector.TypeStruct, Name: name + ".Envelope", Fields: []connector.Field{
		{Name: "op", Schema: str},
		{Name: "before", Schema: row},
		{Name: "after", Schema: row},
		{Name: "unchanged_toast", Schema: &connector.Schema{Type: connector.TypeArray, Optional: true, Items: str}},
		{Name: "source", Schema: sourceSchema},
	}}
}

var sourceSchema = &connector.Schema{Type: connector.TypeStruct, Name: "pipectl.postgres_cdc.Source", Fields: []connector.Field{
	{Name: "lsn", Schema: &connector.Schema{Type: connector.TypeString}},
	{Name: "txid", Schema: &connector.Schema{Type: connector.TypeInt64, Optional: true}},
	{Name: "schema", Schema: &connector.Schema{Type: connector.TypeString}},
	{Name: "table", Schema: &connector.Schema{Type: connector.TypeString}},
	{Name: "ts_ms", Schema: &connector.Schema{Type: connector.TypeInt64}},
	{Name: "snapshot", Schema: &connector.Schema{Type: connector.TypeBoolean, Optional: true}},
}}

// cell is one column's value as a tuple carries it.
type cell struct {
	Kind byte // 'n' null, 'u' unchanged TOASTed value, 't' text
	Data []byte
}

// row decodes a tuple into a map of column values. Unchanged TOASTed
// columns are left out and their names returned; a column the tuple does
// not hold (a key-only old tuple) is left out too.
func (t *table) decodeRow(cells []cell) (row map[string]any, toast []any, err error) {
	row = make(map[string]any, len(cells))
	for i, c := range cells {
		if i >= len(t.Columns) {
			return nil, nil, fmt.Errorf("tuple has %d columns, the relation %d", len(cells), len(t.Columns))
		}
		col := t.Columns[i]
		switch c.Kind {
		case 'n':
			row[col.Name] = nil
		case 'u':
			toast = append(toast, col.Name)
		case 't':
			v, err := decodeText(col.OID, col.Typmod, c.Data)
			if err != nil {
				return nil, nil, fmt.Errorf("column %s: %w", col.Name, err)
			}
			row[col.Name] = v
		default:
			return nil, nil, fmt.Errorf("column %s: tuple data of kind %q is not supported", col.Name, c.Kind)
		}
	}
	return row, toast, nil
}

// keyOf returns the key columns of a decoded row, nil without any (or when
// the row lacks one).
func (t *table) keyOf(row map[string]any) map[string]any {
	if t.key == nil || row == nil {
		return nil
	}
	k := make(map[string]any, len(t.key.Fields))
	for _, f := range t.key.Fields {
		v, ok := row[f.Name]
		if !ok || v == nil {
			return nil
		}
		k[f.Name] = v
	}
	return k
}
