package schemaconv

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/pipectl/pipectl/lang/schemafile"
	"github.com/pipectl/pipectl/runtime/connector"
)

// protobufFormat is the protobuf converter's language: messages are
// dynamicpb messages of the descriptors protocompile builds from the
// registered .proto.
type protobufFormat struct{}

func (protobufFormat) name() string                         { return "protobuf" }
func (protobufFormat) registryType() connector.RegistryType { return connector.RegistryProtobuf }

func (protobufFormat) write(s *connector.Schema) (string, error) {
	return schemafile.ToProtobuf(s)
}

func (protobufFormat) compile(rsch connector.RegistrySchema, message string) (*codec, error) {
	fd, err := schemafile.ParseProtobuf(rsch.Schema, nil)
	if err != nil {
		return nil, err
	}
	md, err := schemafile.ProtobufMessage(fd, message)
	if err != nil {
		return nil, err
	}
	cd, err := protoCodec(md)
	if err != nil {
		return nil, err
	}
	cd.byIndex = func(index []int) (*codec, error) {
		md, err := messageAt(fd, index)
		if err != nil {
			return nil, err
		}
		return protoCodec(md)
	}
	return cd, nil
}

// messageAt finds the message of a Confluent message-index list: the
// index of a top-level message, then of nested ones.
func messageAt(fd protoreflect.FileDescriptor, index []int) (protoreflect.MessageDescriptor, error) {
	ms := fd.Messages()
	var md protoreflect.MessageDescriptor
	for _, i := range index {
		if i < 0 || i >= ms.Len() {
			return nil, fmt.Errorf("the message index %v names no message of the schema", index)
		}
		md = ms.Get(i)
		ms = md.Messages()
	}
	if md == nil {
		return nil, fmt.Errorf("the message index %v names no message", index)
	}
	return md, nil
}

// indexOf is the message-index list of a message.
func indexOf(md protoreflect.MessageDescriptor) []int {
	var index []int
	for d := protoreflect.Descriptor(md); ; d = d.Parent() {
		if _, ok := d.(protoreflect.MessageDescriptor); !ok {
			break
		}
		index = append([]int{d.Index()}, index...)
	}
	return index
}

func protoCodec(md protoreflect.MessageDescriptor) (*codec, error) {
	rs, err := schemafile.FromProtobuf(md)
	if err != nil {
		return nil, err
	}
	return &codec{
		schema: rs, name: string(md.FullName()), index: indexOf(md),
		decode: func(b []byte) (any, error) {
			m := dynamicpb.NewMessage(md)
			if err := unmarshalSafely(b, m); err != nil {
				return nil, fmt.Errorf("the bytes are not a %s message: %v", md.FullName(), err)
			}
			return protoValueOf(m, 0)
		},
		encode: func(dst []byte, v any) ([]byte, error) {
			m := dynamicpb.NewMessage(md)
			if err := protoFill(m, v, "", 0); err != nil {
				return nil, err
			}
			return proto.MarshalOptions{Deterministic: true}.MarshalAppend(dst, m)
		},
	}, nil
}

const maxProtoDepth = 100

// unmarshalSafely is proto.Unmarshal, turning a panic of the library (seen
// on a forged map entry of a dynamic message) into an error.
func unmarshalSafely(b []byte, m proto.Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed message (%v)", r)
		}
	}()
	return proto.Unmarshal(b, m)
}

// protoValueOf reads a message as its record value.
func protoValueOf(m protoreflect.Message, depth int) (any, error) {
	if depth > maxProtoDepth {
		return nil, errors.New("the message nests too deeply")
	}
	md := m.Descriptor()
	switch md.FullName() {
	case "google.protobuf.Timestamp":
		f := md.Fields()
		return time.Unix(m.Get(f.ByName("seconds")).Int(), m.Get(f.ByName("nanos")).Int()).UTC(), nil
	case "google.type.Date":
		f := md.Fields()
		return time.Date(int(m.Get(f.ByName("year")).Int()), time.Month(m.Get(f.ByName("month")).Int()),
			int(m.Get(f.ByName("day")).Int()), 0, 0, 0, 0, time.UTC), nil
	}
	if schemafile.ProtobufWrapper(md) {
		f := md.Fields().Get(0)
		return protoScalar(f, m.Get(f), depth)
	}
	fields := md.Fields()
	out := make(map[string]any, fields.Len())
	for i := range fields.Len() {
		f := fields.Get(i)
		name := string(f.Name())
		switch {
		case f.IsList():
			l := m.Get(f).List()
			vs := make([]any, l.Len())
			for j := range l.Len() {
				var err error
				if vs[j], err = protoScalar(f, l.Get(j), depth); err != nil {
					return nil, err
				}
			}
			out[name] = vs
		case f.IsMap():
			mp := m.Get(f).Map()
			vs := make(map[string]any, mp.Len())
			var err error
			mp.Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
				var e any
				if e, err = protoScalar(f.MapValue(), v, depth); err != nil {
					return false
				}
				vs[protoKeyText(f.MapKey(), k)] = e
				return true
			})
			if err != nil {
				return nil, err
			}
			out[name] = vs
		case f.HasPresence() && !m.Has(f):
			out[name] = nil
		default:
			v, err := protoScalar(f, m.Get(f), depth)
			if err != nil {
				return nil, err
			}
			out[name] = v
		}
	}
	return out, nil
}

func protoKeyText(f protoreflect.FieldDescriptor, k protoreflect.MapKey) string {
	switch f.Kind() {
	case protoreflect.BoolKind:
		return strconv.FormatBool(k.Bool())
	case protoreflect.StringKind:
		return k.String()
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return strconv.FormatInt(int64(k.Uint()), 10)
	}
	return strconv.FormatInt(k.Int(), 10)
}

// protoScalar reads one value of a field (an element of a list or map).
func protoScalar(f protoreflect.FieldDescriptor, v protoreflect.Value, depth int) (any, error) {
	switch f.Kind() {
	case protoreflect.BoolKind:
		return v.Bool(), nil
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return v.Int(), nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		// uint64 above the int64 range wraps around, as Confluent's
		// ProtobufData maps uint64 to int64.
		return int64(v.Uint()), nil
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return v.Float(), nil
	case protoreflect.StringKind:
		return v.String(), nil
	case protoreflect.BytesKind:
		return append([]byte{}, v.Bytes()...), nil
	case protoreflect.EnumKind:
		if ev := f.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return string(ev.Name()), nil
		}
		return strconv.Itoa(int(v.Enum())), nil
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return protoValueOf(v.Message(), depth+1)
	}
	return nil, fmt.Errorf("the field %s has the unsupported kind %s", f.FullName(), f.Kind())
}

// protoFill sets the fields of m from a record value.
func protoFill(m protoreflect.Message, v any, path string, depth int) error {
	if depth > maxProtoDepth {
		return errors.New("the value nests too deeply")
	}
	md := m.Descriptor()
	switch md.FullName() {
	case "google.protobuf.Timestamp":
		t, ok := v.(time.Time)
		if !ok {
			return fmt.Errorf("%s: %T is not a timestamp", orValue(path), v)
		}
		f := md.Fields()
		m.Set(f.ByName("seconds"), protoreflect.ValueOfInt64(t.Unix()))
		m.Set(f.ByName("nanos"), protoreflect.ValueOfInt32(int32(t.Nanosecond())))
		return nil
	case "google.type.Date":
		t, ok := v.(time.Time)
		if !ok {
			return fmt.Errorf("%s: %T is not a date", orValue(path), v)
		}
		t = t.UTC()
		f := md.Fields()
		m.Set(f.ByName("year"), protoreflect.ValueOfInt32(int32(t.Year())))
		m.Set(f.ByName("month"), protoreflect.ValueOfInt32(int32(t.Month())))
		m.Set(f.ByName("day"), protoreflect.ValueOfInt32(int32(t.Day())))
		return nil
	}
	if schemafile.ProtobufWrapper(md) {
		f := md.Fields().Get(0)
		pv, err := protoOf(m, f, v, path, depth)
		if err != nil {
			return err
		}
		m.Set(f, pv)
		return nil
	}
	rec, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: %T is not a %s message (a map of its fields)", orValue(path), v, md.FullName())
	}
	fields := md.Fields()
	var oneofs map[protoreflect.FullName]string
	for k, e := range rec {
		f := fields.ByName(protoreflect.Name(k))
		if f == nil {
			return fmt.Errorf("%s: the message %s has no field %q", orValue(path), md.FullName(), k)
		}
		if e == nil {
			continue
		}
		if o := f.ContainingOneof(); o != nil && !o.IsSynthetic() {
			if other, dup := oneofs[o.FullName()]; dup {
				return fmt.Errorf("%s: %s and %s are both set, and they are members of one oneof %s", orValue(path), other, k, o.Name())
			}
			if oneofs == nil {
				oneofs = map[protoreflect.FullName]string{}
			}
			oneofs[o.FullName()] = k
		}
		at := path + "." + k
		switch {
		case f.IsList():
			l, ok := e.([]any)
			if !ok {
				return fmt.Errorf("%s: %T is not a list", at, e)
			}
			pl := m.Mutable(f).List()
			for i, x := range l {
				pv, err := protoOf(m, f, x, at+"["+strconv.Itoa(i)+"]", depth)
				if err != nil {
					return err
				}
				pl.Append(pv)
			}
		case f.IsMap():
			mp, ok := e.(map[string]any)
			if !ok {
				return fmt.Errorf("%s: %T is not a map", at, e)
			}
			pm := m.Mutable(f).Map()
			for mk, x := range mp {
				key, err := protoKey(f.MapKey(), mk)
				if err != nil {
					return fmt.Errorf("%s[%q]: %v", at, mk, err)
				}
				var pv protoreflect.Value
				if f.MapValue().Message() != nil {
					sub := pm.NewValue()
					if err := protoFill(sub.Message(), x, at+"["+strconv.Quote(mk)+"]", depth+1); err != nil {
						return err
					}
					pv = sub
				} else if pv, err = protoOf(m, f.MapValue(), x, at+"["+strconv.Quote(mk)+"]", depth); err != nil {
					return err
				}
				pm.Set(key, pv)
			}
		default:
			pv, err := protoOf(m, f, e, at, depth)
			if err != nil {
				return err
			}
			m.Set(f, pv)
		}
	}
	return nil
}

func protoKey(f protoreflect.FieldDescriptor, text string) (protoreflect.MapKey, error) {
	switch f.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(text).MapKey(), nil
	case protoreflect.BoolKind:
		b, err := strconv.ParseBool(text)
		return protoreflect.ValueOfBool(b).MapKey(), err
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return protoreflect.MapKey{}, fmt.Errorf("the key is not an integer")
	}
	pv, err := protoInt(f, n)
	return pv.MapKey(), err
}

func protoInt(f protoreflect.FieldDescriptor, n int64) (protoreflect.Value, error) {
	switch f.Kind() {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		if n < math.MinInt32 || n > math.MaxInt32 {
			return protoreflect.Value{}, fmt.Errorf("%d is out of the range of %s", n, f.Kind())
		}
		return protoreflect.ValueOfInt32(int32(n)), nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		if n < 0 || n > math.MaxUint32 {
			return protoreflect.Value{}, fmt.Errorf("%d is out of the range of %s", n, f.Kind())
		}
		return protoreflect.ValueOfUint32(uint32(n)), nil
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(uint64(n)), nil
	}
	return protoreflect.ValueOfInt64(n), nil
}

// protoOf makes the protobuf value of one value of field f of m.
func protoOf(m protoreflect.Message, f protoreflect.FieldDescriptor, v any, path string, depth int) (protoreflect.Value, error) {
	bad := func() (protoreflect.Value, error) {
		return protoreflect.Value{}, fmt.Errorf("%s: %T does not fit the %s field %s", orValue(path), v, f.Kind(), f.Name())
	}
	switch f.Kind() {
	case protoreflect.BoolKind:
		if b, ok := v.(bool); ok {
			return protoreflect.ValueOfBool(b), nil
		}
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind,
		protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		if n, ok := v.(int64); ok {
			pv, err := protoInt(f, n)
			if err != nil {
				return pv, fmt.Errorf("%s: %v", orValue(path), err)
			}
			return pv, nil
		}
	case protoreflect.FloatKind:
		if x, ok := v.(float64); ok {
			return protoreflect.ValueOfFloat32(float32(x)), nil
		}
	case protoreflect.DoubleKind:
		if x, ok := v.(float64); ok {
			return protoreflect.ValueOfFloat64(x), nil
		}
	case protoreflect.StringKind:
		if s, ok := v.(string); ok {
			return protoreflect.ValueOfString(s), nil
		}
	case protoreflect.BytesKind:
		if b, ok := v.([]byte); ok {
			return protoreflect.ValueOfBytes(b), nil
		}
	case protoreflect.EnumKind:
		switch e := v.(type) {
		case string:
			if ev := f.Enum().Values().ByName(protoreflect.Name(e)); ev != nil {
				return protoreflect.ValueOfEnum(ev.Number()), nil
			}
			return protoreflect.Value{}, fmt.Errorf("%s: %q is not a value of enum %s", orValue(path), e, f.Enum().FullName())
		case int64:
			return protoreflect.ValueOfEnum(protoreflect.EnumNumber(e)), nil
		}
	case protoreflect.MessageKind, protoreflect.GroupKind:
		var sub protoreflect.Message
		if f.IsList() {
			sub = m.Mutable(f).List().NewElement().Message()
		} else {
			sub = m.NewField(f).Message()
		}
		if err := protoFill(sub, v, path, depth+1); err != nil {
			return protoreflect.Value{}, err
		}
		return protoreflect.ValueOfMessage(sub), nil
	}
	return bad()
}
