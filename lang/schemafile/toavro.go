package schemafile

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	rs "github.com/pipectl/pipectl/lang/recordschema"
)

// ToAvro writes a record schema as an Avro schema document, the reverse of
// FromAvro and the way Confluent's AvroData writes a Kafka Connect schema:
// optional values as unions with null (null first, unless a default is
// set), int8 and int16 as ints marked with connect.type, unnamed structs as
// records named ConnectDefault, ConnectDefault2, … in the namespace
// io.confluent.connect.avro, the logical types as Avro's. A struct named
// AvroUnion becomes a union again, strings with AvroEnum an enum and bytes
// with AvroFixedSize a fixed. Maps with keys that are not strings have no
// Avro form here (an error).
func ToAvro(s *rs.Schema) (string, error) {
	if err := s.Validate(); err != nil {
		return "", &Error{Language: "avro", Reason: "the record schema: " + err.Error()}
	}
	w := avroWriter{defined: map[string]bool{}}
	j, err := w.schema(s, "")
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(j)
	if err != nil {
		return "", &Error{Language: "avro", Reason: err.Error()}
	}
	return string(b), nil
}

type avroWriter struct {
	defined map[string]bool
	unnamed int
}

// obj is a JSON object that keeps its keys in order.
type obj []kv

type kv struct {
	k string
	v any
}

func (o obj) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(e.k)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(e.v)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

func (w *avroWriter) name(s *rs.Schema) (name, namespace string) {
	n := s.Name
	if n == "" {
		w.unnamed++
		if w.unnamed == 1 {
			return "ConnectDefault", "io.confluent.connect.avro"
		}
		return "ConnectDefault" + strconv.Itoa(w.unnamed), "io.confluent.connect.avro"
	}
	n = avroName(n)
	if i := strings.LastIndexByte(n, '.'); i >= 0 {
		return n[i+1:], n[:i]
	}
	return n, ""
}

// avroName makes a valid Avro full name of a record schema's name.
func avroName(n string) string {
	parts := strings.Split(n, ".")
	for i, p := range parts {
		var b strings.Builder
		for j, c := range p {
			if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || j > 0 && c >= '0' && c <= '9' {
				b.WriteRune(c)
			} else {
				b.WriteByte('_')
			}
		}
		if b.Len() == 0 {
			b.WriteByte('_')
		}
		parts[i] = b.String()
	}
	return strings.Join(parts, ".")
}

func (w *avroWriter) params(o obj, s *rs.Schema, skip func(string) bool) obj {
	p := map[string]string{}
	for k, v := range s.Parameters {
		if !skip(k) {
			p[k] = v
		}
	}
	if len(p) > 0 {
		o = append(o, kv{connectParameters, p})
	}
	return o
}

func noSkip(string) bool { return false }

// schema writes s ignoring its Optional (the caller wraps it in a union).
func (w *avroWriter) schema(s *rs.Schema, path string) (any, error) {
	if s.Optional && !(s.Type == rs.Struct && s.Name == AvroUnion) {
		inner, err := w.bare(s, path)
		if err != nil {
			return nil, err
		}
		if s.Default != nil {
			return []any{inner, "null"}, nil
		}
		return []any{"null", inner}, nil
	}
	return w.bare(s, path)
}

func (w *avroWriter) bare(s *rs.Schema, path string) (any, error) {
	switch s.Logical {
	case rs.Decimal:
		prec := s.Precision
		if prec == 0 {
			prec = rs.MaxDecimalDigits
		}
		if size, ok := s.Parameters[AvroFixedSize]; ok {
			n, _ := strconv.Atoi(size)
			name, ns := w.name(s)
			return w.params(obj{{"type", "fixed"}, {"name", name}, {"namespace", ns}, {"size", n},
				{"logicalType", "decimal"}, {"precision", prec}, {"scale", s.Scale}}, s,
				func(k string) bool { return k == AvroFixedSize }), nil
		}
		return w.params(obj{{"type", "bytes"}, {"logicalType", "decimal"}, {"precision", prec}, {"scale", s.Scale}}, s, noSkip), nil
	case rs.Date:
		return obj{{"type", "int"}, {"logicalType", "date"}}, nil
	case rs.TimeMillis:
		return obj{{"type", "int"}, {"logicalType", "time-millis"}}, nil
	case rs.TimeMicros:
		return obj{{"type", "long"}, {"logicalType", "time-micros"}}, nil
	case rs.TimestampMillis:
		return obj{{"type", "long"}, {"logicalType", "timestamp-millis"}}, nil
	case rs.TimestampMicros:
		return obj{{"type", "long"}, {"logicalType", "timestamp-micros"}}, nil
	case rs.UUID:
		return obj{{"type", "string"}, {"logicalType", "uuid"}}, nil
	case rs.JSON:
		return obj{{"type", "string"}, {pipectlType, "json"}}, nil
	}
	switch s.Type {
	case rs.Boolean:
		return w.primitive("boolean", s), nil
	case rs.Int8:
		return w.params(obj{{"type", "int"}, {connectType, "int8"}}, s, noSkip), nil
	case rs.Int16:
		return w.params(obj{{"type", "int"}, {connectType, "int16"}}, s, noSkip), nil
	case rs.Int32:
		return w.primitive("int", s), nil
	case rs.Int64:
		return w.primitive("long", s), nil
	case rs.Float32:
		return w.primitive("float", s), nil
	case rs.Float64:
		return w.primitive("double", s), nil
	case rs.String:
		if enum, ok := s.Parameters[AvroEnum]; ok {
			if w.defined[enum] {
				return avroName(enum), nil
			}
			w.defined[enum] = true
			var syms []string
			for _, k := range slices.Sorted(maps.Keys(s.Parameters)) {
				if strings.HasPrefix(k, AvroEnum+".") {
					syms = append(syms, s.Parameters[k])
				}
			}
			name, ns := w.nameOf(enum)
			o := obj{{"type", "enum"}, {"name", name}}
			if ns != "" {
				o = append(o, kv{"namespace", ns})
			}
			if s.Doc != "" {
				o = append(o, kv{"doc", s.Doc})
			}
			o = append(o, kv{"symbols", syms})
			return o, nil
		}
		return w.primitive("string", s), nil
	case rs.Bytes:
		if size, ok := s.Parameters[AvroFixedSize]; ok {
			n, err := strconv.Atoi(size)
			if err != nil {
				return nil, avroErr(path, "the fixed size %q is not a number", size)
			}
			name, ns := w.name(s)
			full := name
			if ns != "" {
				full = ns + "." + name
			}
			if w.defined[full] {
				return full, nil
			}
			w.defined[full] = true
			return w.params(obj{{"type", "fixed"}, {"name", name}, {"namespace", ns}, {"size", n}}, s,
				func(k string) bool { return k == AvroFixedSize }), nil
		}
		return w.primitive("bytes", s), nil
	case rs.Array:
		items, err := w.schema(s.Items, path+"[]")
		if err != nil {
			return nil, err
		}
		return obj{{"type", "array"}, {"items", items}}, nil
	case rs.Map:
		if s.Keys.Type != rs.String {
			return nil, avroErr(path, "a map with %s keys has no Avro form here (Avro map keys are strings)", s.Keys)
		}
		values, err := w.schema(s.Values, path+"{}")
		if err != nil {
			return nil, err
		}
		return obj{{"type", "map"}, {"values", values}}, nil
	case rs.Struct:
		if s.Name == AvroUnion {
			var branches []any
			if s.Optional {
				branches = append(branches, "null")
			}
			for _, f := range s.Fields {
				cp := *f.Schema
				cp.Optional = false
				b, err := w.bare(&cp, path+"."+f.Name)
				if err != nil {
					return nil, err
				}
				branches = append(branches, b)
			}
			return branches, nil
		}
		name, ns := w.name(s)
		full := name
		if ns != "" {
			full = ns + "." + name
		}
		if w.defined[full] {
			return full, nil
		}
		w.defined[full] = true
		o := obj{{"type", "record"}, {"name", name}}
		if ns != "" {
			o = append(o, kv{"namespace", ns})
		}
		if s.Doc != "" {
			o = append(o, kv{"doc", s.Doc})
		}
		fields := make([]obj, 0, len(s.Fields))
		for _, f := range s.Fields {
			at := path + "." + f.Name
			ft, err := w.schema(f.Schema, at)
			if err != nil {
				return nil, err
			}
			fo := obj{{"name", avroName(strings.ReplaceAll(f.Name, ".", "_"))}, {"type", ft}}
			switch {
			case f.Schema.Default != nil:
				d, err := avroDefault(f.Schema, f.Schema.Default)
				if err != nil {
					return nil, avroErr(at, "the default: %v", err)
				}
				fo = append(fo, kv{"default", d})
			case f.Schema.Optional:
				fo = append(fo, kv{"default", nil})
			}
			fields = append(fields, fo)
		}
		o = append(o, kv{"fields", fields})
		return w.params(o, s, noSkip), nil
	}
	return nil, avroErr(path, "the type %s has no Avro form", s.Type)
}

func (w *avroWriter) nameOf(full string) (name, ns string) {
	full = avroName(full)
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		return full[i+1:], full[:i]
	}
	return full, ""
}

func (w *avroWriter) primitive(t string, s *rs.Schema) any {
	if len(s.Parameters) == 0 {
		return t
	}
	return w.params(obj{{"type", t}}, s, noSkip)
}

// avroDefault writes a default value of s in Avro's JSON form of defaults.
func avroDefault(s *rs.Schema, v any) (any, error) {
	switch s.Logical {
	case rs.Decimal:
		b, err := DecimalToBytes(v.(string), s.Scale)
		if err != nil {
			return nil, err
		}
		return latin1(b), nil
	case rs.Date:
		// Days since the epoch, floored: the day before it is -1, even
		// at noon.
		secs := v.(time.Time).Unix()
		days := secs / 86400
		if secs%86400 < 0 {
			days--
		}
		return days, nil
	case rs.TimeMillis:
		return int64(v.(time.Duration) / time.Millisecond), nil
	case rs.TimeMicros:
		return int64(v.(time.Duration) / time.Microsecond), nil
	case rs.TimestampMillis:
		return v.(time.Time).UnixMilli(), nil
	case rs.TimestampMicros:
		return v.(time.Time).UnixMicro(), nil
	case rs.JSON:
		b, err := json.Marshal(v)
		return string(b), err
	}
	switch s.Type {
	case rs.Bytes:
		return latin1(v.([]byte)), nil
	case rs.Array:
		l := v.([]any)
		out := make([]any, len(l))
		for i, e := range l {
			var err error
			if out[i], err = avroDefault(s.Items, e); err != nil {
				return nil, err
			}
		}
		return out, nil
	case rs.Map, rs.Struct:
		m := v.(map[string]any)
		out := make(map[string]any, len(m))
		for k, e := range m {
			es := s.Values
			if s.Type == rs.Struct {
				f, _ := s.Field(k)
				es = f.Schema
			}
			if e == nil {
				out[k] = nil
				continue
			}
			var err error
			if out[k], err = avroDefault(es, e); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return v, nil
}

// latin1 writes bytes as Avro writes a bytes default: a string whose code
// points 0–255 are the bytes.
func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}
