package schemafile

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	rs "github.com/pipectl/pipectl/lang/recordschema"
)

// ToProtobuf writes a struct record schema as a proto3 file whose first
// message is the struct (its name's last part, in the package of the rest;
// "ConnectDefault" in none when unnamed), for auto-registration: fields
// numbered 1, 2 … in order; optional scalars as proto3 optional; the
// structs and enums inside as top-level messages and enums after it (one
// definition per name); arrays as repeated; maps as map<K, V>;
// timestamps and dates as google.protobuf.Timestamp; decimals and uuids as
// strings; strings with ProtobufEnum as enums. What has no such form is an
// error: a top level that is not a struct, times of day, json, arrays of
// arrays or of optional values, maps of arrays or maps.
func ToProtobuf(s *rs.Schema) (string, error) {
	if err := s.Validate(); err != nil {
		return "", &Error{Language: "protobuf", Reason: "the record schema: " + err.Error()}
	}
	if s.Type != rs.Struct {
		return "", &Error{Language: "protobuf", Reason: fmt.Sprintf("a Protobuf schema is a message, and the record schema is %s", s)}
	}
	pkg, name := "", "ConnectDefault"
	if s.Name != "" {
		full := avroName(s.Name)
		if i := strings.LastIndexByte(full, '.'); i >= 0 {
			pkg, name = full[:i], full[i+1:]
		} else {
			name = full
		}
	}
	w := &protoWriter{names: map[string]*rs.Schema{}}
	w.names[name] = s
	main, err := w.message(s, name, "")
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("syntax = \"proto3\";\n")
	if pkg != "" {
		b.WriteString("package " + pkg + ";\n")
	}
	if w.timestamp {
		b.WriteString("import \"google/protobuf/timestamp.proto\";\n")
	}
	b.WriteString("\n")
	b.WriteString(main)
	for _, d := range w.defs {
		b.WriteString(d)
	}
	return b.String(), nil
}

type protoWriter struct {
	defs      []string              // the definitions after the main message
	names     map[string]*rs.Schema // the names defined, and what as
	timestamp bool
}

// define returns the name of a top-level definition of s, and whether it
// still has to be written: a name already defined for an equal schema is
// used again, one defined for another gets a number.
func (w *protoWriter) define(name string, s *rs.Schema) (string, bool) {
	for i := 2; ; i++ {
		prev, ok := w.names[name]
		if !ok {
			w.names[name] = s
			return name, true
		}
		if prev.Equal(s) {
			return name, false
		}
		name = strings.TrimRight(name, "0123456789") + strconv.Itoa(i)
	}
}

func protoErrf(path, format string, args ...any) *Error {
	return protoErr(path, format, args...)
}

func (w *protoWriter) message(s *rs.Schema, name, path string) (string, error) {
	if len(path) > 10000 {
		return "", protoErrf(path, "nested too deeply")
	}
	var b strings.Builder
	b.WriteString("message " + name + " {\n")
	for i, f := range s.Fields {
		at := path + "." + f.Name
		if !isProtoIdent(f.Name) {
			return "", protoErrf(at, "%q is not a Protobuf field name", f.Name)
		}
		typ, label, err := w.fieldType(f.Schema, f.Name, at)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "  %s%s %s = %d;\n", label, typ, f.Name, i+1)
	}
	b.WriteString("}\n")
	return b.String(), nil
}

// fieldType returns the Protobuf type of a field and its label.
func (w *protoWriter) fieldType(s *rs.Schema, field, path string) (typ, label string, err error) {
	switch s.Type {
	case rs.Array:
		if s.Items.Optional || s.Items.Type == rs.Array || s.Items.Type == rs.Map {
			return "", "", protoErrf(path, "an array of %s has no Protobuf form (repeated fields hold no null, lists or maps)", s.Items)
		}
		t, err := w.valueType(s.Items, field, path+"[]")
		return t, "repeated ", err
	case rs.Map:
		if s.Values.Optional || s.Values.Type == rs.Array || s.Values.Type == rs.Map {
			return "", "", protoErrf(path, "a map of %s has no Protobuf form", s.Values)
		}
		k, err := w.valueType(s.Keys, field, path+"{key}")
		if err != nil {
			return "", "", err
		}
		v, err := w.valueType(s.Values, field, path+"{}")
		return "map<" + k + ", " + v + ">", "", err
	}
	t, err := w.valueType(s, field, path)
	if err != nil {
		return "", "", err
	}
	if s.Optional && s.Type != rs.Struct && s.Logical != rs.TimestampMillis && s.Logical != rs.TimestampMicros && s.Logical != rs.Date {
		return t, "optional ", nil
	}
	return t, "", nil
}

func (w *protoWriter) valueType(s *rs.Schema, field, path string) (string, error) {
	switch s.Logical {
	case rs.TimestampMillis, rs.TimestampMicros, rs.Date:
		w.timestamp = true
		return "google.protobuf.Timestamp", nil
	case rs.Decimal, rs.UUID:
		return "string", nil
	case rs.TimeMillis, rs.TimeMicros, rs.JSON:
		return "", protoErrf(path, "%s has no Protobuf form here", s.Logical)
	}
	switch s.Type {
	case rs.Boolean:
		return "bool", nil
	case rs.Int8, rs.Int16, rs.Int32:
		return "int32", nil
	case rs.Int64:
		return "int64", nil
	case rs.Float32:
		return "float", nil
	case rs.Float64:
		return "double", nil
	case rs.Bytes:
		return "bytes", nil
	case rs.String:
		if enum, ok := s.Parameters[ProtobufEnum]; ok {
			name, todo := w.define(enumName(enum, field), s)
			if !todo {
				return name, nil
			}
			var def strings.Builder
			def.WriteString("enum " + name + " {\n")
			type value struct {
				name string
				n    int
			}
			var vs []value
			for _, k := range slices.Sorted(maps.Keys(s.Parameters)) {
				if v, ok := strings.CutPrefix(k, ProtobufEnum+"."); ok {
					n, err := strconv.Atoi(s.Parameters[k])
					if err != nil {
						return "", protoErrf(path, "the enum value %s has no number", v)
					}
					vs = append(vs, value{v, n})
				}
			}
			slices.SortFunc(vs, func(a, b value) int { return a.n - b.n })
			if len(vs) == 0 || vs[0].n != 0 {
				return "", protoErrf(path, "a proto3 enum's first value is 0")
			}
			for _, v := range vs {
				fmt.Fprintf(&def, "  %s = %d;\n", v.name, v.n)
			}
			def.WriteString("}\n")
			w.defs = append(w.defs, def.String())
			return name, nil
		}
		return "string", nil
	case rs.Struct:
		bare := *s
		bare.Optional = false
		name, todo := w.define(messageName(s.Name, field), &bare)
		if !todo {
			return name, nil
		}
		at := len(w.defs)
		w.defs = append(w.defs, "")
		def, err := w.message(s, name, path)
		if err != nil {
			return "", err
		}
		w.defs[at] = def
		return name, nil
	}
	return "", protoErrf(path, "%s has no Protobuf form here", s)
}

// messageName names a nested message after the struct's name, else after
// its field.
func messageName(name, field string) string {
	if name != "" {
		full := avroName(name)
		return full[strings.LastIndexByte(full, '.')+1:]
	}
	return strings.ToUpper(field[:1]) + field[1:] + "Message"
}

func enumName(full, field string) string {
	if full != "" {
		full = avroName(full)
		return full[strings.LastIndexByte(full, '.')+1:]
	}
	return strings.ToUpper(field[:1]) + field[1:] + "Enum"
}

func isProtoIdent(s string) bool {
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
