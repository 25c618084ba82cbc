package schemaconv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/pipectl/pipectl/lang/schemafile"
	"github.com/pipectl/pipectl/runtime/connector"
)

// avroFormat is the avro converter's language. Payloads are read and
// written with hamba/avro's Reader and Writer, walking the writer's
// schema beside its record schema so that values come out in the record
// representation (recordschema's value.go) without a second pass.
type avroFormat struct{}

func (avroFormat) name() string                         { return "avro" }
func (avroFormat) registryType() connector.RegistryType { return connector.RegistryAvro }
func (avroFormat) write(s *connector.Schema) (string, error) {
	return schemafile.ToAvro(s)
}

func (avroFormat) compile(rsch connector.RegistrySchema, _ string) (*codec, error) {
	as, err := schemafile.ParseAvro(rsch.Schema)
	if err != nil {
		return nil, err
	}
	rs, err := schemafile.FromAvro(as)
	if err != nil {
		return nil, err
	}
	n, err := avroNodeOf(as, rs, 0)
	if err != nil {
		return nil, err
	}
	name := ""
	if named, ok := as.(avro.NamedSchema); ok {
		name = named.FullName()
	}
	return &codec{
		schema: rs, name: name,
		decode: func(b []byte) (any, error) {
			r := readers.Get().(*avro.Reader)
			defer readers.Put(r)
			r.Reset(b)
			r.Error = nil
			d := avroDecoder{r: r, budget: len(b) + 1024}
			v := n.dec(&d)
			if r.Error != nil {
				return nil, avroReadError(r.Error)
			}
			if d.err != nil {
				return nil, d.err
			}
			return v, nil
		},
		encode: func(dst []byte, v any) ([]byte, error) {
			w := writers.Get().(*avro.Writer)
			defer writers.Put(w)
			w.Reset(nil)
			w.Error = nil
			if err := n.enc(w, v, ""); err != nil {
				return nil, err
			}
			if w.Error != nil {
				return nil, w.Error
			}
			return append(dst, w.Buffer()...), nil
		},
	}, nil
}

var (
	readers = sync.Pool{New: func() any { return avro.NewReader(nil, 0) }}
	writers = sync.Pool{New: func() any { return avro.NewWriter(nil, 512) }}
)

func avroReadError(err error) error {
	if errors.Is(err, errBudget) {
		return err
	}
	return fmt.Errorf("the bytes are not Avro of the writer's schema: %v", err)
}

var errBudget = errors.New("the bytes declare more array or map items than they can hold")

// avroDecoder is the state of one decode: the reader, and a budget of
// array and map items, so that a forged block count cannot make a few
// bytes loop for ever.
type avroDecoder struct {
	r      *avro.Reader
	budget int
	err    error
}

func (d *avroDecoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

// decimal reads a decimal of rs, refusing more digits than its precision
// (before the work of writing a huge number as text).
func (d *avroDecoder) decimal(b []byte, rs *connector.Schema) any {
	if !d.ok() {
		return nil
	}
	prec := rs.Precision
	if prec == 0 {
		prec = connector.MaxDecimalDigits
	}
	// prec digits take at most prec·log2(10)/8 + 1 bytes.
	if len(b) > prec*3322/8000+2 {
		d.fail(fmt.Errorf("a decimal of %d bytes has more digits than its precision %d", len(b), prec))
		return nil
	}
	text := schemafile.DecimalFromBytes(b, rs.Scale)
	if err := rs.CheckValue(text); err != nil {
		d.fail(fmt.Errorf("the decimal %s: %v", text, err))
		return nil
	}
	return text
}

// check returns v when it is a value of rs (a value the Avro type holds
// but the record schema does not: an int8 out of range, a time of day
// past midnight, a uuid that is not one), else fails the decode.
func (d *avroDecoder) check(rs *connector.Schema, v any) any {
	if !d.ok() {
		return nil
	}
	if err := rs.CheckValue(v); err != nil {
		d.fail(err)
		return nil
	}
	return v
}

func (d *avroDecoder) ok() bool { return d.r.Error == nil && d.err == nil }

// avroNode decodes and encodes the values of one schema.
type avroNode struct {
	dec func(d *avroDecoder) any
	enc func(w *avro.Writer, v any, path string) error
}

func mismatch(path string, v any, s *connector.Schema) error {
	at := path
	if at == "" {
		at = "the value"
	}
	return fmt.Errorf("%s: %T does not fit %s", at, v, s)
}

func avroNodeOf(as avro.Schema, rs *connector.Schema, depth int) (*avroNode, error) {
	if depth > 1000 {
		return nil, errors.New("the schema nests too deeply")
	}
	if ref, ok := as.(*avro.RefSchema); ok {
		as = ref.Schema()
	}
	switch s := as.(type) {
	case *avro.UnionSchema:
		return avroUnion(s, rs, depth)
	case *avro.RecordSchema:
		return avroRecord(s, rs, depth)
	case *avro.EnumSchema:
		syms := s.Symbols()
		index := make(map[string]int, len(syms))
		for i, sym := range syms {
			index[sym] = i
		}
		return &avroNode{
			dec: func(d *avroDecoder) any {
				i := int(d.r.ReadInt())
				if i < 0 || i >= len(syms) {
					d.fail(fmt.Errorf("enum %s has no symbol %d", s.FullName(), i))
					return nil
				}
				return syms[i]
			},
			enc: func(w *avro.Writer, v any, path string) error {
				str, ok := v.(string)
				i, known := index[str]
				if !ok || !known {
					return fmt.Errorf("%s: %v is not a symbol of enum %s (%v)", orValue(path), v, s.FullName(), syms)
				}
				w.WriteInt(int32(i))
				return nil
			},
		}, nil
	case *avro.FixedSchema:
		size := s.Size()
		if rs.Logical == connector.LogicalDecimal {
			scale := rs.Scale
			return &avroNode{
				dec: func(d *avroDecoder) any {
					b := make([]byte, size)
					d.r.Read(b)
					return d.decimal(b, rs)
				},
				enc: func(w *avro.Writer, v any, path string) error {
					str, ok := v.(string)
					if !ok {
						return mismatch(path, v, rs)
					}
					b, err := schemafile.DecimalToBytes(str, scale)
					if err != nil {
						return fmt.Errorf("%s: %v", orValue(path), err)
					}
					if len(b) > size {
						return fmt.Errorf("%s: %s does not fit in a fixed of %d bytes", orValue(path), str, size)
					}
					pad := byte(0)
					if len(b) > 0 && b[0]&0x80 != 0 {
						pad = 0xff
					}
					_, _ = w.Write(append(bytes.Repeat([]byte{pad}, size-len(b)), b...))
					return nil
				},
			}, nil
		}
		return &avroNode{
			dec: func(d *avroDecoder) any {
				b := make([]byte, size)
				d.r.Read(b)
				return b
			},
			enc: func(w *avro.Writer, v any, path string) error {
				b, ok := v.([]byte)
				if !ok || len(b) != size {
					return fmt.Errorf("%s: a fixed %s takes exactly %d bytes", orValue(path), s.FullName(), size)
				}
				_, _ = w.Write(b)
				return nil
			},
		}, nil
	case *avro.ArraySchema:
		items, err := avroNodeOf(s.Items(), rs.Items, depth+1)
		if err != nil {
			return nil, err
		}
		return &avroNode{
			dec: func(d *avroDecoder) any {
				out := []any{}
				for d.ok() {
					n, _ := d.r.ReadBlockHeader()
					if n == 0 || !d.ok() {
						break
					}
					if d.budget -= int(min(n, math.MaxInt32)); d.budget < 0 {
						d.fail(errBudget)
						break
					}
					for range n {
						out = append(out, items.dec(d))
						if !d.ok() {
							break
						}
					}
				}
				return out
			},
			enc: func(w *avro.Writer, v any, path string) error {
				l, ok := v.([]any)
				if !ok {
					return mismatch(path, v, rs)
				}
				if len(l) > 0 {
					w.WriteLong(int64(len(l)))
					for i, e := range l {
						if err := items.enc(w, e, path+"["+strconv.Itoa(i)+"]"); err != nil {
							return err
						}
					}
				}
				w.WriteLong(0)
				return nil
			},
		}, nil
	case *avro.MapSchema:
		values, err := avroNodeOf(s.Values(), rs.Values, depth+1)
		if err != nil {
			return nil, err
		}
		return &avroNode{
			dec: func(d *avroDecoder) any {
				out := map[string]any{}
				for d.ok() {
					n, _ := d.r.ReadBlockHeader()
					if n == 0 || !d.ok() {
						break
					}
					if d.budget -= int(min(n, math.MaxInt32)); d.budget < 0 {
						d.fail(errBudget)
						break
					}
					for range n {
						k := d.r.ReadString()
						out[k] = values.dec(d)
						if !d.ok() {
							break
						}
					}
				}
				return out
			},
			enc: func(w *avro.Writer, v any, path string) error {
				m, ok := v.(map[string]any)
				if !ok {
					return mismatch(path, v, rs)
				}
				if len(m) > 0 {
					// Keys in order: the same value always gives the same bytes.
					w.WriteLong(int64(len(m)))
					for _, k := range slices.Sorted(maps.Keys(m)) {
						e := m[k]
						w.WriteString(k)
						if err := values.enc(w, e, path+"["+strconv.Quote(k)+"]"); err != nil {
							return err
						}
					}
				}
				w.WriteLong(0)
				return nil
			},
		}, nil
	case *avro.PrimitiveSchema:
		return avroPrimitive(s, rs)
	}
	return nil, fmt.Errorf("the Avro type %s has no codec", as.Type())
}

func orValue(path string) string {
	if path == "" {
		return "the value"
	}
	return path
}

func avroRecord(s *avro.RecordSchema, rs *connector.Schema, depth int) (*avroNode, error) {
	type field struct {
		name string
		node *avroNode
		rs   *connector.Schema
	}
	fields := make([]field, 0, len(s.Fields()))
	for _, f := range s.Fields() {
		rf, _ := rs.Field(f.Name())
		if rf == nil {
			return nil, fmt.Errorf("the record schema has no field %s", f.Name())
		}
		n, err := avroNodeOf(f.Type(), rf.Schema, depth+1)
		if err != nil {
			return nil, err
		}
		fields = append(fields, field{name: f.Name(), node: n, rs: rf.Schema})
	}
	return &avroNode{
		dec: func(d *avroDecoder) any {
			out := make(map[string]any, len(fields))
			for _, f := range fields {
				out[f.name] = f.node.dec(d)
				if !d.ok() {
					break
				}
			}
			return out
		},
		enc: func(w *avro.Writer, v any, path string) error {
			m, ok := v.(map[string]any)
			if !ok {
				return mismatch(path, v, rs)
			}
			for _, f := range fields {
				e := m[f.name]
				if e == nil && f.rs.Default != nil {
					e = f.rs.Default
				}
				if err := f.node.enc(w, e, path+"."+f.name); err != nil {
					return err
				}
			}
			if len(m) > len(fields) {
				for k := range m {
					if rf, _ := rs.Field(k); rf == nil {
						return fmt.Errorf("%s: the record %s has no field %q", orValue(path), s.FullName(), k)
					}
				}
			}
			return nil
		},
	}, nil
}

func avroUnion(s *avro.UnionSchema, rs *connector.Schema, depth int) (*avroNode, error) {
	types := s.Types()
	null := -1
	nodes := make([]*avroNode, len(types))
	names := make([]string, len(types))
	general := rs.Name == schemafile.AvroUnion && rs.Type == connector.TypeStruct
	byName := map[string]int{}
	for i, t := range types {
		if t.Type() == avro.Null {
			null = i
			continue
		}
		bs := rs
		if general {
			names[i] = schemafile.AvroUnionBranch(t)
			f, _ := rs.Field(names[i])
			if f == nil {
				return nil, fmt.Errorf("the union struct has no field %s", names[i])
			}
			bs = f.Schema
			byName[names[i]] = i
		}
		n, err := avroNodeOf(t, bs, depth+1)
		if err != nil {
			return nil, err
		}
		nodes[i] = n
	}
	return &avroNode{
		dec: func(d *avroDecoder) any {
			i := int(d.r.ReadLong())
			if !d.ok() {
				return nil
			}
			if i < 0 || i >= len(types) {
				d.fail(fmt.Errorf("the union has no branch %d", i))
				return nil
			}
			if i == null {
				return nil
			}
			v := nodes[i].dec(d)
			if general {
				return map[string]any{names[i]: v}
			}
			return v
		},
		enc: func(w *avro.Writer, v any, path string) error {
			if v == nil {
				if null < 0 {
					return fmt.Errorf("%s: null, but the union has no null branch", orValue(path))
				}
				w.WriteLong(int64(null))
				return nil
			}
			if !general {
				for i, n := range nodes {
					if n != nil {
						w.WriteLong(int64(i))
						return n.enc(w, v, path)
					}
				}
			}
			m, ok := v.(map[string]any)
			var branch string
			var value any
			set := 0
			if ok {
				for k, e := range m {
					if e != nil {
						branch, value = k, e
						set++
					}
				}
			}
			if set == 0 && null >= 0 {
				w.WriteLong(int64(null))
				return nil
			}
			i, known := byName[branch]
			if set != 1 || !known {
				return fmt.Errorf("%s: a union value is a map with exactly one of its branches set (%s)", orValue(path), rs)
			}
			w.WriteLong(int64(i))
			return nodes[i].enc(w, value, path+"."+branch)
		},
	}, nil
}

func avroPrimitive(s *avro.PrimitiveSchema, rs *connector.Schema) (*avroNode, error) {
	switch rs.Logical {
	case connector.LogicalDecimal:
		scale := rs.Scale
		return &avroNode{
			dec: func(d *avroDecoder) any { return d.decimal(d.r.ReadBytes(), rs) },
			enc: func(w *avro.Writer, v any, path string) error {
				str, ok := v.(string)
				if !ok {
					return mismatch(path, v, rs)
				}
				b, err := schemafile.DecimalToBytes(str, scale)
				if err != nil {
					return fmt.Errorf("%s: %v", orValue(path), err)
				}
				w.WriteBytes(b)
				return nil
			},
		}, nil
	case connector.LogicalDate:
		return &avroNode{
			dec: func(d *avroDecoder) any { return time.Unix(int64(d.r.ReadInt())*86400, 0).UTC() },
			enc: func(w *avro.Writer, v any, path string) error {
				t, ok := v.(time.Time)
				if !ok {
					return mismatch(path, v, rs)
				}
				days := t.Unix() / 86400
				if t.Unix() < 0 && t.Unix()%86400 != 0 {
					days--
				}
				w.WriteInt(int32(days))
				return nil
			},
		}, nil
	case connector.LogicalTimeMillis, connector.LogicalTimeMicros:
		unit := time.Millisecond
		if rs.Logical == connector.LogicalTimeMicros {
			unit = time.Microsecond
		}
		return &avroNode{
			dec: func(d *avroDecoder) any {
				var t time.Duration
				if unit == time.Millisecond {
					t = time.Duration(d.r.ReadInt()) * unit
				} else {
					t = time.Duration(d.r.ReadLong()) * unit
				}
				return d.check(rs, t)
			},
			enc: func(w *avro.Writer, v any, path string) error {
				t, ok := v.(time.Duration)
				if !ok {
					return mismatch(path, v, rs)
				}
				if unit == time.Millisecond {
					w.WriteInt(int32(t / unit))
				} else {
					w.WriteLong(int64(t / unit))
				}
				return nil
			},
		}, nil
	case connector.LogicalTimestampMillis, connector.LogicalTimestampMicros:
		millis := rs.Logical == connector.LogicalTimestampMillis
		return &avroNode{
			dec: func(d *avroDecoder) any {
				if millis {
					return time.UnixMilli(d.r.ReadLong()).UTC()
				}
				return time.UnixMicro(d.r.ReadLong()).UTC()
			},
			enc: func(w *avro.Writer, v any, path string) error {
				t, ok := v.(time.Time)
				if !ok {
					return mismatch(path, v, rs)
				}
				if millis {
					w.WriteLong(t.UnixMilli())
				} else {
					w.WriteLong(t.UnixMicro())
				}
				return nil
			},
		}, nil
	case connector.LogicalJSON:
		return &avroNode{
			dec: func(d *avroDecoder) any {
				str := d.r.ReadString()
				if !d.ok() {
					return nil
				}
				v, err := plainJSON(str)
				if err != nil {
					d.fail(err)
				}
				return v
			},
			enc: func(w *avro.Writer, v any, path string) error {
				b, err := json.Marshal(v)
				if err != nil {
					return fmt.Errorf("%s: %v", orValue(path), err)
				}
				w.WriteString(string(b))
				return nil
			},
		}, nil
	}
	switch s.Type() {
	case avro.Boolean:
		return &avroNode{
			dec: func(d *avroDecoder) any { return d.r.ReadBool() },
			enc: func(w *avro.Writer, v any, path string) error {
				b, ok := v.(bool)
				if !ok {
					return mismatch(path, v, rs)
				}
				w.WriteBool(b)
				return nil
			},
		}, nil
	case avro.Int:
		lo, hi := int64(math.MinInt32), int64(math.MaxInt32)
		switch rs.Type {
		case connector.TypeInt8:
			lo, hi = math.MinInt8, math.MaxInt8
		case connector.TypeInt16:
			lo, hi = math.MinInt16, math.MaxInt16
		}
		return &avroNode{
			dec: func(d *avroDecoder) any {
				i := int64(d.r.ReadInt())
				if i < lo || i > hi {
					return d.check(rs, i)
				}
				return i
			},
			enc: func(w *avro.Writer, v any, path string) error {
				i, ok := v.(int64)
				if !ok {
					return mismatch(path, v, rs)
				}
				if i < lo || i > hi {
					return fmt.Errorf("%s: %d is out of the range of %s", orValue(path), i, rs.Type)
				}
				w.WriteInt(int32(i))
				return nil
			},
		}, nil
	case avro.Long:
		return &avroNode{
			dec: func(d *avroDecoder) any { return d.r.ReadLong() },
			enc: func(w *avro.Writer, v any, path string) error {
				i, ok := v.(int64)
				if !ok {
					return mismatch(path, v, rs)
				}
				w.WriteLong(i)
				return nil
			},
		}, nil
	case avro.Float, avro.Double:
		double := s.Type() == avro.Double
		return &avroNode{
			dec: func(d *avroDecoder) any {
				if double {
					return d.r.ReadDouble()
				}
				return float64(d.r.ReadFloat())
			},
			enc: func(w *avro.Writer, v any, path string) error {
				f, ok := v.(float64)
				if !ok {
					if i, isInt := v.(int64); isInt {
						f, ok = float64(i), true
					}
				}
				if !ok {
					return mismatch(path, v, rs)
				}
				if double {
					w.WriteDouble(f)
				} else {
					w.WriteFloat(float32(f))
				}
				return nil
			},
		}, nil
	case avro.Bytes:
		return &avroNode{
			dec: func(d *avroDecoder) any { return d.r.ReadBytes() },
			enc: func(w *avro.Writer, v any, path string) error {
				b, ok := v.([]byte)
				if !ok {
					return mismatch(path, v, rs)
				}
				w.WriteBytes(b)
				return nil
			},
		}, nil
	case avro.String:
		uuid := rs.Logical == connector.LogicalUUID
		return &avroNode{
			dec: func(d *avroDecoder) any {
				str := d.r.ReadString()
				if uuid {
					return d.check(rs, str)
				}
				return str
			},
			enc: func(w *avro.Writer, v any, path string) error {
				str, ok := v.(string)
				if !ok {
					return mismatch(path, v, rs)
				}
				w.WriteString(str)
				return nil
			},
		}, nil
	}
	return nil, fmt.Errorf("the Avro type %s has no codec", s.Type())
}

// plainJSON reads JSON text into the values of the json logical type:
// int64 for integer literals that fit, float64 for other numbers.
func plainJSON(text string) (any, error) {
	d := json.NewDecoder(bytes.NewReader([]byte(text)))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("a json string: %v", err)
	}
	js := &connector.Schema{Type: connector.TypeString, Logical: connector.LogicalJSON, Optional: true}
	return js.FromJSONForm(v)
}
