package schemafile

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bufbuild/protocompile"
	"github.com/bufbuild/protocompile/reporter"
	"google.golang.org/protobuf/reflect/protoreflect"

	rs "github.com/pipectl/pipectl/lang/recordschema"
)

// ProtobufEnum is the parameter of a string that was a Protobuf enum, set
// to the enum's full name; each value V is a parameter ProtobufEnum+"."+V
// set to its number.
const ProtobufEnum = "io.confluent.connect.protobuf.Enum"

// ProtobufFile is the name a .proto text is compiled under (imports of
// other files name those by the keys of the imports map).
const ProtobufFile = "schema.proto"

// ParseProtobuf compiles .proto text with protocompile and returns its
// file. imports maps import paths to the text of other files the text
// imports (the registry's references); Google's well-known types are
// always there.
func ParseProtobuf(text string, imports map[string]string) (protoreflect.FileDescriptor, error) {
	files := map[string]string{ProtobufFile: text}
	for k, v := range imports {
		if k != ProtobufFile {
			files[k] = v
		}
	}
	var first error
	c := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
			Accessor: protocompile.SourceAccessorFromMap(files),
		}),
		Reporter: reporter.NewReporter(func(err reporter.ErrorWithPos) error {
			if first == nil {
				first = err
			}
			return err
		}, nil),
	}
	fds, err := compileSafely(c, ProtobufFile)
	if first != nil {
		err = first
	}
	if err != nil {
		e := &Error{Language: "protobuf", Reason: err.Error()}
		var pos reporter.ErrorWithPos
		if errors.As(err, &pos) {
			p := pos.GetPosition()
			e.Reason = pos.Unwrap().Error()
			if p.Filename == ProtobufFile || p.Filename == "" {
				e.Line, e.Column = p.Line, p.Col
			} else {
				e.Reason = p.Filename + ": " + p.String() + ": " + e.Reason
			}
		}
		return nil, e
	}
	return fds[0], nil
}

// compileSafely compiles, turning a panic of the compiler (it has had
// such bugs on odd input) into an error: nothing a user writes may crash
// pipectl.
func compileSafely(c protocompile.Compiler, name string) (fds []protoreflect.FileDescriptor, err error) {
	defer func() {
		if r := recover(); r != nil {
			fds, err = nil, fmt.Errorf("the compiler failed on this text: %v", r)
		}
	}()
	res, err := c.Compile(context.Background(), name)
	if err != nil {
		return nil, err
	}
	for _, f := range res {
		fds = append(fds, f)
	}
	return fds, nil
}

// ProtobufMessage finds a message of a file by its full name, or by its
// name relative to the file's package; "" names the file's first message,
// as Confluent's converters take it.
func ProtobufMessage(fd protoreflect.FileDescriptor, message string) (protoreflect.MessageDescriptor, error) {
	if message == "" {
		if fd.Messages().Len() == 0 {
			return nil, &Error{Language: "protobuf", Reason: "the file declares no message"}
		}
		return fd.Messages().Get(0), nil
	}
	name := protoreflect.FullName(strings.TrimPrefix(message, "."))
	if d := findMessage(fd.Messages(), name); d != nil {
		return d, nil
	}
	if pkg := fd.Package(); pkg != "" {
		if d := findMessage(fd.Messages(), pkg+"."+name); d != nil {
			return d, nil
		}
	}
	var names []string
	collectMessages(fd.Messages(), &names)
	return nil, &Error{Language: "protobuf", Reason: fmt.Sprintf("no message %q in the file; it declares %s", message, strings.Join(names, ", "))}
}

func findMessage(ms protoreflect.MessageDescriptors, name protoreflect.FullName) protoreflect.MessageDescriptor {
	for i := range ms.Len() {
		m := ms.Get(i)
		if m.IsMapEntry() {
			continue
		}
		if m.FullName() == name {
			return m
		}
		if d := findMessage(m.Messages(), name); d != nil {
			return d
		}
	}
	return nil
}

func collectMessages(ms protoreflect.MessageDescriptors, out *[]string) {
	for i := range ms.Len() {
		m := ms.Get(i)
		if m.IsMapEntry() {
			continue
		}
		*out = append(*out, string(m.FullName()))
		collectMessages(m.Messages(), out)
	}
}

// Protobuf reads a message of .proto text into a record schema (message
// as ProtobufMessage takes it).
func Protobuf(text, message string, imports map[string]string) (*rs.Schema, error) {
	fd, err := ParseProtobuf(text, imports)
	if err != nil {
		return nil, err
	}
	md, err := ProtobufMessage(fd, message)
	if err != nil {
		return nil, err
	}
	return FromProtobuf(md)
}

// FromProtobuf maps a message to a record schema (docs/schemas.md has the
// table). A message that contains itself has no record-schema form.
func FromProtobuf(md protoreflect.MessageDescriptor) (*rs.Schema, error) {
	open := map[protoreflect.FullName]bool{}
	s, err := protoMessage(md, "", open)
	if err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, &Error{Language: "protobuf", Reason: err.Error()}
	}
	return s, nil
}

// Well-known message types with a record-schema form of their own.
const (
	protoTimestamp = "google.protobuf.Timestamp"
	protoDate      = "google.type.Date"
)

// ProtobufWrapper reports whether a message is one of Google's wrapper
// types (google.protobuf.StringValue …), which stand for an optional
// value of their field "value".
func ProtobufWrapper(md protoreflect.MessageDescriptor) bool {
	n := string(md.FullName())
	return strings.HasPrefix(n, "google.protobuf.") && strings.HasSuffix(n, "Value") &&
		md.Fields().Len() == 1 && md.Fields().Get(0).Name() == "value" && n != "google.protobuf.Value"
}

func protoErr(path, format string, args ...any) *Error {
	r := fmt.Sprintf(format, args...)
	if path != "" {
		r = "at " + path + ": " + r
	}
	return &Error{Language: "protobuf", Reason: r}
}

func protoMessage(md protoreflect.MessageDescriptor, path string, open map[protoreflect.FullName]bool) (*rs.Schema, error) {
	switch string(md.FullName()) {
	case protoTimestamp:
		return &rs.Schema{Type: rs.Int64, Logical: rs.TimestampMicros}, nil
	case protoDate:
		return &rs.Schema{Type: rs.Int32, Logical: rs.Date}, nil
	}
	if ProtobufWrapper(md) {
		return protoField(md.Fields().Get(0), path, open)
	}
	if open[md.FullName()] {
		return nil, protoErr(path, "the message %s contains itself, and record schemas cannot be recursive", md.FullName())
	}
	open[md.FullName()] = true
	defer delete(open, md.FullName())
	out := &rs.Schema{Type: rs.Struct, Name: string(md.FullName())}
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		at := path + "." + string(fd.Name())
		fs, err := protoField(fd, at, open)
		if err != nil {
			return nil, err
		}
		if fd.HasPresence() && !fd.IsList() && !fd.IsMap() {
			cp := *fs
			cp.Optional = true
			fs = &cp
		}
		out.Fields = append(out.Fields, rs.Field{Name: string(fd.Name()), Schema: fs})
	}
	return out, nil
}

// protoField maps a field's type, ignoring its presence.
func protoField(fd protoreflect.FieldDescriptor, path string, open map[protoreflect.FullName]bool) (*rs.Schema, error) {
	if fd.IsMap() {
		k, err := protoKind(fd.MapKey(), path+"{key}", open)
		if err != nil {
			return nil, err
		}
		v, err := protoKind(fd.MapValue(), path+"{}", open)
		if err != nil {
			return nil, err
		}
		return &rs.Schema{Type: rs.Map, Keys: k, Values: v}, nil
	}
	s, err := protoKind(fd, path, open)
	if err != nil {
		return nil, err
	}
	if fd.IsList() {
		if s.Optional {
			cp := *s
			cp.Optional = false
			s = &cp
		}
		return &rs.Schema{Type: rs.Array, Items: s}, nil
	}
	return s, nil
}

// protoKind maps the type of one value of a field.
func protoKind(fd protoreflect.FieldDescriptor, path string, open map[protoreflect.FullName]bool) (*rs.Schema, error) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return &rs.Schema{Type: rs.Boolean}, nil
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return &rs.Schema{Type: rs.Int32}, nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind,
		protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return &rs.Schema{Type: rs.Int64}, nil
	case protoreflect.FloatKind:
		return &rs.Schema{Type: rs.Float32}, nil
	case protoreflect.DoubleKind:
		return &rs.Schema{Type: rs.Float64}, nil
	case protoreflect.StringKind:
		return &rs.Schema{Type: rs.String}, nil
	case protoreflect.BytesKind:
		return &rs.Schema{Type: rs.Bytes}, nil
	case protoreflect.EnumKind:
		ed := fd.Enum()
		p := map[string]string{ProtobufEnum: string(ed.FullName())}
		vals := ed.Values()
		for i := range vals.Len() {
			v := vals.Get(i)
			p[ProtobufEnum+"."+string(v.Name())] = fmt.Sprint(v.Number())
		}
		return &rs.Schema{Type: rs.String, Name: string(ed.FullName()), Parameters: p}, nil
	case protoreflect.MessageKind, protoreflect.GroupKind:
		s, err := protoMessage(fd.Message(), path, open)
		if err != nil {
			return nil, err
		}
		if ProtobufWrapper(fd.Message()) {
			cp := *s
			cp.Optional = true
			s = &cp
		}
		return s, nil
	}
	return nil, protoErr(path, "the field type %s has no record-schema form", fd.Kind())
}
