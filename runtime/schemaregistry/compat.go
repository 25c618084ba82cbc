package schemaregistry

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/hamba/avro/v2"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// checkLevel checks candidate against the earlier versions prev (oldest
// first) under level and returns why it is incompatible, nil when it is
// compatible. Non-transitive levels check against the latest only.
func checkLevel(level Compatibility, candidate *parsed, prev []*parsed) []string {
	if level == None || len(prev) == 0 {
		return nil
	}
	against := prev
	if !level.transitive() {
		against = prev[len(prev)-1:]
	}
	var msgs []string
	for i := len(against) - 1; i >= 0; i-- {
		old := against[i]
		if old.typ != candidate.typ {
			msgs = append(msgs, fmt.Sprintf("the schema type changed from %s to %s", old.typ, candidate.typ))
			continue
		}
		if level.backward() {
			for _, m := range compatible(candidate, old) {
				msgs = append(msgs, "BACKWARD: "+m)
			}
		}
		if level.forward() {
			for _, m := range compatible(old, candidate) {
				msgs = append(msgs, "FORWARD: "+m)
			}
		}
	}
	return msgs
}

// compatible says why a reader of schema reader cannot read data written
// with schema writer; nil when it can.
func compatible(reader, writer *parsed) []string {
	switch {
	case reader.avro != nil:
		if err := avro.NewSchemaCompatibility().Compatible(reader.avro, writer.avro); err != nil {
			return []string{err.Error()}
		}
		return nil
	case reader.proto != nil:
		return protoCompatible(reader.proto, writer.proto)
	default:
		return jsonCompatible("#", reader.json, writer.json)
	}
}

// protoCompatible applies the subset of Confluent's Protobuf rules that
// pipectl checks, going from the original (writer) to the update
// (reader): the package may not change; no message may be removed; a
// field number kept in a message keeps a compatible kind (the same scalar
// wire group, or the same message or enum type), its cardinality and its
// oneof membership; a required field may be neither added nor removed.
func protoCompatible(reader, writer protoreflect.FileDescriptor) []string {
	var msgs []string
	if reader.Package() != writer.Package() {
		msgs = append(msgs, fmt.Sprintf("the package changed from %q to %q", writer.Package(), reader.Package()))
		return msgs
	}
	rmsgs := map[protoreflect.FullName]protoreflect.MessageDescriptor{}
	eachMessage(reader.Messages(), func(m protoreflect.MessageDescriptor) { rmsgs[m.FullName()] = m })
	eachMessage(writer.Messages(), func(w protoreflect.MessageDescriptor) {
		r, ok := rmsgs[w.FullName()]
		if !ok {
			msgs = append(msgs, fmt.Sprintf("message %s was removed", w.FullName()))
			return
		}
		wf, rf := w.Fields(), r.Fields()
		for i := range wf.Len() {
			f := wf.Get(i)
			g := rf.ByNumber(f.Number())
			if g == nil {
				if f.Cardinality() == protoreflect.Required {
					msgs = append(msgs, fmt.Sprintf("required field %s (%d) was removed", f.FullName(), f.Number()))
				}
				continue
			}
			if !sameKind(f, g) {
				msgs = append(msgs, fmt.Sprintf("field %d of %s changed its type from %s to %s", f.Number(), w.FullName(), kindName(f), kindName(g)))
			}
			if f.Cardinality() != g.Cardinality() && (f.IsList() || g.IsList() || f.Cardinality() == protoreflect.Required || g.Cardinality() == protoreflect.Required) {
				msgs = append(msgs, fmt.Sprintf("field %d of %s changed its label from %s to %s", f.Number(), w.FullName(), f.Cardinality(), g.Cardinality()))
			}
			if wo, ro := realOneof(f), realOneof(g); wo == nil && ro != nil {
				msgs = append(msgs, fmt.Sprintf("field %d of %s moved into oneof %s", f.Number(), w.FullName(), ro.Name()))
			} else if wo != nil && ro == nil {
				msgs = append(msgs, fmt.Sprintf("field %d of %s moved out of oneof %s", f.Number(), w.FullName(), wo.Name()))
			}
		}
		for i := range rf.Len() {
			g := rf.Get(i)
			if wf.ByNumber(g.Number()) == nil && g.Cardinality() == protoreflect.Required {
				msgs = append(msgs, fmt.Sprintf("required field %s (%d) was added", g.FullName(), g.Number()))
			}
		}
	})
	return msgs
}

func eachMessage(ms protoreflect.MessageDescriptors, fn func(protoreflect.MessageDescriptor)) {
	for i := range ms.Len() {
		m := ms.Get(i)
		if m.IsMapEntry() {
			continue
		}
		fn(m)
		eachMessage(m.Messages(), fn)
	}
}

func realOneof(f protoreflect.FieldDescriptor) protoreflect.OneofDescriptor {
	o := f.ContainingOneof()
	if o == nil || o.IsSynthetic() {
		return nil
	}
	return o
}

// wireGroup numbers the scalar kinds that read each other's bytes, as
// Confluent's rules group them.
func wireGroup(k protoreflect.Kind) int {
	switch k {
	case protoreflect.Int32Kind, protoreflect.Uint32Kind, protoreflect.Int64Kind, protoreflect.Uint64Kind, protoreflect.BoolKind:
		return 1
	case protoreflect.Sint32Kind, protoreflect.Sint64Kind:
		return 2
	case protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind:
		return 3
	case protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind:
		return 4
	case protoreflect.StringKind, protoreflect.BytesKind:
		return 5
	}
	return 0
}

func sameKind(f, g protoreflect.FieldDescriptor) bool {
	if f.IsMap() != g.IsMap() {
		return false
	}
	if f.IsMap() {
		return sameKind(f.MapKey(), g.MapKey()) && sameKind(f.MapValue(), g.MapValue())
	}
	fk, gk := f.Kind(), g.Kind()
	switch {
	case fk == gk && (fk == protoreflect.MessageKind || fk == protoreflect.GroupKind):
		return f.Message().FullName() == g.Message().FullName()
	case fk == gk && fk == protoreflect.EnumKind:
		return f.Enum().FullName() == g.Enum().FullName()
	case fk == gk:
		return true
	}
	wg := wireGroup(fk)
	return wg != 0 && wg == wireGroup(gk)
}

func kindName(f protoreflect.FieldDescriptor) string {
	switch f.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return string(f.Message().FullName())
	case protoreflect.EnumKind:
		return string(f.Enum().FullName())
	}
	return f.Kind().String()
}

// jsonCompatible applies the subset of Confluent's JSON Schema rules that
// pipectl checks, reader against writer, at path: a reader's types include
// the writer's (integer within number); a reader's enum holds the
// writer's; a reader's string lengths and numeric bounds are no tighter;
// properties recurse; a property the writer has is not dropped from a
// closed reader (additionalProperties false); a property the reader adds
// is not constrained where the writer's content model was open; the reader
// requires no property the writer did not; items recurse. $ref, allOf,
// anyOf, oneOf, not, patternProperties and dependencies are compared only
// for equality.
func jsonCompatible(path string, reader, writer any) []string {
	if reflect.DeepEqual(reader, writer) {
		return nil
	}
	rb, rIsBool := reader.(bool)
	wb, wIsBool := writer.(bool)
	switch {
	case rIsBool && rb, wIsBool && !wb:
		return nil
	case rIsBool:
		return []string{path + ": the schema became false"}
	case wIsBool:
		// The writer accepted anything: a reader with any constraint
		// may refuse what was written.
		if r, _ := reader.(map[string]any); len(r) == 0 {
			return nil
		}
		return []string{path + ": the schema was narrowed from one that accepted anything"}
	}
	r, _ := reader.(map[string]any)
	w, _ := writer.(map[string]any)
	var msgs []string
	for _, k := range []string{"$ref", "allOf", "anyOf", "oneOf", "not", "patternProperties", "dependencies", "dependentSchemas", "const"} {
		if !reflect.DeepEqual(r[k], w[k]) {
			msgs = append(msgs, fmt.Sprintf("%s: %s changed", path, k))
		}
	}
	rt, wt := jsonTypes(r["type"]), jsonTypes(w["type"])
	if rt != nil {
		if wt == nil {
			msgs = append(msgs, fmt.Sprintf("%s: the type was narrowed to %v", path, rt))
		} else {
			for _, t := range wt {
				if !slices.Contains(rt, t) && !(t == "integer" && slices.Contains(rt, "number")) {
					msgs = append(msgs, fmt.Sprintf("%s: type %s is no longer allowed", path, t))
				}
			}
		}
	}
	if re, ok := r["enum"].([]any); ok {
		we, _ := w["enum"].([]any)
		if we == nil {
			msgs = append(msgs, path+": an enum was added")
		}
		for _, v := range we {
			if !slices.ContainsFunc(re, func(x any) bool { return reflect.DeepEqual(x, v) }) {
				msgs = append(msgs, fmt.Sprintf("%s: enum value %v was removed", path, v))
			}
		}
	}
	for _, b := range []struct {
		key   string
		upper bool
	}{{"maxLength", true}, {"maximum", true}, {"exclusiveMaximum", true}, {"maxItems", true}, {"maxProperties", true},
		{"minLength", false}, {"minimum", false}, {"exclusiveMinimum", false}, {"minItems", false}, {"minProperties", false}} {
		rv, rok := r[b.key].(float64)
		if !rok {
			continue
		}
		wv, wok := w[b.key].(float64)
		if !wok || (b.upper && rv < wv) || (!b.upper && rv > wv) {
			msgs = append(msgs, fmt.Sprintf("%s: %s was tightened", path, b.key))
		}
	}
	rp, _ := r["properties"].(map[string]any)
	wp, _ := w["properties"].(map[string]any)
	for _, name := range sortedKeys(wp) {
		if rs, ok := rp[name]; ok {
			msgs = append(msgs, jsonCompatible(path+"/properties/"+name, rs, wp[name])...)
			continue
		}
		if ra, ok := r["additionalProperties"]; ok {
			msgs = append(msgs, jsonCompatible(path+"/properties/"+name, ra, wp[name])...)
		}
	}
	for _, name := range sortedKeys(rp) {
		if _, ok := wp[name]; ok {
			continue
		}
		wa, ok := w["additionalProperties"]
		if !ok {
			wa = true // an open content model
		}
		for _, m := range jsonCompatible(path+"/properties/"+name, rp[name], wa) {
			msgs = append(msgs, m+" (a property added to a content model that allowed it with any value)")
		}
	}
	if ra, ok := r["additionalProperties"]; ok {
		wa, wok := w["additionalProperties"]
		if !wok {
			wa = true
		}
		msgs = append(msgs, jsonCompatible(path+"/additionalProperties", ra, wa)...)
	}
	rr, wr := jsonStrings(r["required"]), jsonStrings(w["required"])
	for _, name := range rr {
		if !slices.Contains(wr, name) {
			msgs = append(msgs, fmt.Sprintf("%s: property %s became required", path, name))
		}
	}
	if ri, ok := r["items"]; ok {
		wi, wok := w["items"]
		if !wok {
			wi = true
		}
		msgs = append(msgs, jsonCompatible(path+"/items", ri, wi)...)
	}
	return msgs
}

func jsonTypes(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		return jsonStrings(t)
	}
	return nil
}

func jsonStrings(v any) []string {
	l, _ := v.([]any)
	var out []string
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
