package pipetest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"

	"github.com/pipectl/pipectl/lang/testfile"
	"github.com/pipectl/pipectl/runtime/connector"
)

// check compares what came out with the run's expectations.
func check(r *testfile.Run, t *target, got *outcome) []*Failure {
	if got.inputErr != nil {
		return nil
	}
	if f := got.taskFailed; f != nil {
		return []*Failure{{Diag: errorf(&f.rng, "Task failed",
			"Record %d failed in stage %s (%s): %s. The pipeline's errors.tolerance is \"none\", so its task would fail here and the records after it were not run. To send such records to the dead-letter topic, set tolerance = \"all\" with a dead_letter_topic in its errors block.",
			f.index+1, f.stage, f.class, f.message)}}
	}
	var out []*Failure
	e := r.Expect
	if e == nil {
		e = &testfile.Expect{DeclRange: r.DeclRange}
	}
	out = append(out, checkDeadLetters(e, got.failures)...)
	if e.Filtered != nil && int64(got.filtered) != *e.Filtered {
		out = append(out, &Failure{Diag: errorf(&e.DeclRange, "Wrong number of filtered records",
			"The run expects %d filtered %s; the filters dropped %d.", *e.Filtered, plural(*e.Filtered, "record", "records"), got.filtered)})
	}
	if e.HasRecords {
		if f := checkRecords(e, got.outputs); f != nil {
			out = append(out, f)
		}
	}
	// An assertion over no records holds vacuously: that passes only when
	// the run says nothing must come out (records = []).
	noneExpected := e.HasRecords && len(e.Records) == 0
	for _, a := range r.Asserts {
		if len(got.outputs) == 0 && !noneExpected {
			rng := a.Condition.Range
			out = append(out, &Failure{Diag: errorf(&rng, "Assertion checked no records",
				"No record came out of the run (%d filtered, %d dead-lettered), so the condition %s was checked against nothing. If no output is what the run expects, say so in its expect block: records = [].",
				got.filtered, len(got.failures), a.Condition.Source)})
			continue
		}
		if f := checkAssert(a, got.outputs); f != nil {
			out = append(out, f)
		}
	}
	return out
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func checkDeadLetters(e *testfile.Expect, fs []failed) []*Failure {
	want := e.DeadLetters
	ok := len(want) == len(fs)
	for i := 0; ok && i < len(want); i++ {
		w, f := want[i], fs[i]
		ok = w.Stage == f.stage && (w.Class == "" || w.Class == f.class) && strings.Contains(f.message, w.Message)
	}
	if ok {
		return nil
	}
	if len(want) == 0 {
		var out []*Failure
		for _, f := range fs {
			out = append(out, &Failure{Diag: errorf(&f.rng, "Record failed",
				"Record %d failed in stage %s (%s): %s. If that is expected, list it in the expect block: dead_letters = [{ stage = %q, class = %q }].",
				f.index+1, f.stage, f.class, f.message, f.stage, f.class)})
		}
		return out
	}
	wl := make([]map[string]any, len(want))
	for i, w := range want {
		m := map[string]any{"stage": w.Stage}
		if w.Class != "" {
			m["class"] = w.Class
		}
		if w.Message != "" {
			m["message"] = w.Message
		}
		wl[i] = m
	}
	gl := make([]map[string]any, len(fs))
	for i, f := range fs {
		gl[i] = map[string]any{"record": f.index + 1, "stage": f.stage, "class": f.class, "message": f.message}
	}
	rng := e.DeclRange
	if len(want) > 0 {
		rng = hcl.RangeOver(want[0].Range, want[len(want)-1].Range)
	}
	return []*Failure{{
		Diag: errorf(&rng, "Wrong dead-lettered records",
			"The run expects %d dead-lettered %s; %d failed. A message given is a part of the error message to find.", len(want), plural(int64(len(want)), "record", "records"), len(fs)),
		Want: render(wl), Got: render(gl),
	}}
}

// fieldsOf lists the fields an expected record compares, in output order.
func fieldsOf(w *testfile.WantRecord) []string {
	var fs []string
	if w.Topic != nil {
		fs = append(fs, "topic")
	}
	if w.Key.Set {
		fs = append(fs, rawName("key", w.Key))
	}
	if w.Value.Set {
		fs = append(fs, rawName("value", w.Value))
	}
	if w.HasHeaders {
		fs = append(fs, "headers")
	}
	if w.Timestamp != nil {
		fs = append(fs, "timestamp")
	}
	return fs
}

func rawName(name string, f testfile.Field) string {
	if f.IsRaw {
		return name + "_raw"
	}
	return name
}

func checkRecords(e *testfile.Expect, outs []output) *Failure {
	ok := len(e.Records) == len(outs)
	wl, gl := []map[string]any{}, []map[string]any{} // [] rather than null when none
	var last []string
	for i := 0; i < max(len(e.Records), len(outs)); i++ {
		fields := last
		if i < len(e.Records) {
			w := e.Records[i]
			fields = fieldsOf(w)
			wl = append(wl, wantFields(w))
		}
		if fields == nil {
			fields = []string{"key", "value"}
		}
		last = fields
		if i < len(outs) {
			g := gotFields(outs[i], fields)
			gl = append(gl, g)
			if i < len(e.Records) && !reflect.DeepEqual(g, wl[i]) {
				ok = false
			}
		}
	}
	if ok {
		return nil
	}
	rng := e.DeclRange
	if len(e.Records) > 0 {
		rng = hcl.RangeOver(e.Records[0].Range, e.Records[len(e.Records)-1].Range)
	}
	detail := "The output records differ from the expected ones (only the fields each expected record gives are compared)."
	if len(e.Records) != len(outs) {
		detail = fmt.Sprintf("The run expects %d output %s; %d came out.", len(e.Records), plural(int64(len(e.Records)), "record", "records"), len(outs))
	}
	return &Failure{Diag: errorf(&rng, "Wrong output records", "%s", detail), Want: render(wl), Got: render(gl)}
}

func wantFields(w *testfile.WantRecord) map[string]any {
	m := map[string]any{}
	if w.Topic != nil {
		m["topic"] = *w.Topic
	}
	put := func(name string, f testfile.Field) {
		if !f.Set {
			return
		}
		if f.IsRaw {
			m[name+"_raw"] = canonical(f.Raw)
			return
		}
		m[name] = canonical(f.Value)
	}
	put("key", w.Key)
	put("value", w.Value)
	if w.HasHeaders {
		hs := map[string]any{}
		for _, h := range w.Headers {
			hs[h.Name] = h.Value
		}
		m["headers"] = hs
	}
	if w.Timestamp != nil {
		m["timestamp"] = canonical(*w.Timestamp)
	}
	return m
}

func gotFields(o output, fields []string) map[string]any {
	m := map[string]any{}
	for _, f := range fields {
		switch f {
		case "topic":
			m[f] = o.rec.Topic
		case "key":
			m[f] = canonical(o.rec.Key)
		case "value":
			m[f] = canonical(o.rec.Value)
		case "key_raw":
			m[f] = rawOf(o.hasBytes, o.keyB, o.rec.Key)
		case "value_raw":
			m[f] = rawOf(o.hasBytes, o.valueB, o.rec.Value)
		case "headers":
			hs := map[string]any{}
			for _, h := range o.rec.Headers {
				hs[h.Key] = string(h.Value)
			}
			m[f] = hs
		case "timestamp":
			m[f] = canonical(o.rec.Timestamp)
		}
	}
	return m
}

// rawOf is a key or value as bytes: what a source produced, or what a
// sink is given when that is bytes or text.
func rawOf(hasBytes bool, b []byte, v any) any {
	if hasBytes {
		return canonical(b)
	}
	if wb, ok := connector.WireBytes(v); ok {
		return canonical(wb)
	}
	return canonical(v)
}

func checkAssert(a *testfile.Assert, outs []output) *Failure {
	bad, first := 0, -1
	var firstErr error
	for i, o := range outs {
		hs := map[string]string{}
		for _, h := range o.rec.Headers {
			hs[h.Key] = string(h.Value)
		}
		v, err := a.Condition.Program.Eval(map[string]any{
			"key": o.rec.Key, "value": o.rec.Value, "headers": hs, "topic": o.rec.Topic,
			"partition": int64(o.rec.Partition), "offset": o.rec.Offset, "timestamp": o.rec.Timestamp,
		})
		if b, _ := v.(bool); err != nil || !b {
			bad++
			if first < 0 {
				first, firstErr = i, err
			}
		}
	}
	if bad == 0 {
		return nil
	}
	rng := a.Condition.Range
	detail := fmt.Sprintf("%s\n\nThe condition %s is false for %d of %d output records, the first being output record %d.",
		a.ErrorMessage, a.Condition.Source, bad, len(outs), first+1)
	if firstErr != nil {
		detail = fmt.Sprintf("%s\n\nThe condition %s failed for output record %d: %s.", a.ErrorMessage, a.Condition.Source, first+1, strings.TrimSuffix(firstErr.Error(), "."))
	}
	return &Failure{Diag: errorf(&rng, "Test assertion failed", "%s", detail),
		Got: render(gotFields(outs[first], []string{"topic", "key", "value", "headers"}))}
}

// canonical turns a value into the form comparisons and output use: one
// number type (int64 for a whole number that fits, else float64), text
// for bytes (base64: and the base64 text when they are not UTF-8), RFC
// 3339 for times, and maps and lists of those.
func canonical(v any) any {
	switch v := v.(type) {
	case nil, string, bool:
		return v
	case int:
		return int64(v)
	case int32:
		return int64(v)
	case int64:
		return v
	case uint64:
		if v <= math.MaxInt64 {
			return int64(v)
		}
		return float64(v)
	case float32:
		return canonical(float64(v))
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return int64(v)
		}
		return v
	case []byte:
		if v == nil {
			return nil // a null key or value, not an empty one
		}
		if utf8.Valid(v) {
			return string(v)
		}
		return "base64:" + base64.StdEncoding.EncodeToString(v)
	case json.RawMessage:
		return string(v)
	case time.Time:
		if v.IsZero() {
			return nil
		}
		return v.UTC().Format(time.RFC3339Nano)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = canonical(e)
		}
		return out
	case map[string]string:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = e
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = canonical(e)
		}
		return out
	}
	return canonicalOther(reflect.ValueOf(v))
}

// unsupported stands for a value of a Go type the comparisons do not
// know: it equals no expected value, so the run fails and shows the type,
// rather than comparing the value's text.
type unsupported struct {
	GoType string `json:"unsupported_go_type"`
}

// canonicalOther is canonical for the other kinds of numbers, strings,
// maps with string keys and lists.
func canonicalOther(rv reflect.Value) any {
	switch rv.Kind() {
	case reflect.Bool:
		return rv.Bool()
	case reflect.String:
		return rv.String()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return canonical(rv.Uint())
	case reflect.Float32, reflect.Float64:
		return canonical(rv.Float())
	case reflect.Slice, reflect.Array:
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = canonical(rv.Index(i).Interface())
		}
		return out
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			break
		}
		out := make(map[string]any, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			out[it.Key().String()] = canonical(it.Value().Interface())
		}
		return out
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil
		}
		return canonical(rv.Elem().Interface())
	}
	return unsupported{GoType: rv.Type().String()}
}

// render is indented JSON with sorted keys.
func render(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return buf.String()
}
