package pipetest

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/lang/testfile"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/engine"
)

// output is one record that came out.
type output struct {
	rec          connector.Record
	keyB, valueB []byte // a source's produced bytes
	hasBytes     bool
}

// failed is one record that failed.
type failed struct {
	index                 int // of the input record
	stage, class, message string
	rng                   hcl.Range
}

type outcome struct {
	outputs  []output
	filtered int
	failures []failed
	// taskFailed: a record failed with tolerance "none"; the records
	// after it did not run.
	taskFailed *failed
	// inputErr: a record of the test itself cannot be built.
	inputErr *hcl.Diagnostic
}

// feed runs the run's records through the pipeline, one after another.
func feed(o *engine.Offline, t *target, r *testfile.Run) *outcome {
	res := &outcome{}
	for i, in := range r.Records {
		var out engine.Outcome
		switch t.kind {
		case configschema.Source:
			rec, diag := sourceRecord(o, t, in)
			if diag != nil {
				res.inputErr = diag
				return res
			}
			out = o.Source(rec)
		case configschema.Sink:
			rec, kb, vb, diag := sinkRecord(o, t, in, i)
			if diag != nil {
				res.inputErr = diag
				return res
			}
			out = o.Sink(rec, kb, vb)
		default:
			out = o.Chain(chainRecord(in, i))
		}
		switch {
		case out.Err != nil:
			f := failed{index: i, stage: out.Stage.String(), class: out.Class, message: out.Err.Error(), rng: in.DeclRange}
			res.failures = append(res.failures, f)
			if !t.tolerate {
				res.taskFailed = &f
				return res
			}
		case !out.Kept:
			res.filtered++
		default:
			res.outputs = append(res.outputs, output{rec: out.Record, keyB: out.KeyBytes, valueB: out.ValueBytes, hasBytes: t.kind == configschema.Source})
		}
	}
	return res
}

func headersOf(hs []testfile.Header) []connector.Header {
	var out []connector.Header
	for _, h := range hs {
		out = append(out, connector.Header{Key: h.Name, Value: []byte(h.Value)})
	}
	return out
}

func topicOf(t *target, in *testfile.Record) (string, *hcl.Diagnostic) {
	if in.Topic != "" {
		return in.Topic, nil
	}
	if t.topic == "" {
		return "", errorf(&in.DeclRange, "Missing record topic",
			"The pipeline %s names no single topic, so each of its records needs one: topic = \"NAME\".", t.address)
	}
	return t.topic, nil
}

// sourceRecord is a record as the source's Poll would return it: with
// structured key and value, or Encoded when either is given raw (the
// other is then encoded with the pipeline's converter).
func sourceRecord(o *engine.Offline, t *target, in *testfile.Record) (connector.Record, *hcl.Diagnostic) {
	topic, diag := topicOf(t, in)
	if diag != nil {
		return connector.Record{}, diag
	}
	rec := connector.Record{Topic: topic, Partition: -1, Headers: headersOf(in.Headers), Timestamp: in.Timestamp}
	if in.Partition != nil {
		rec.Partition = int32(*in.Partition)
	}
	if !in.Key.IsRaw && !in.Value.IsRaw {
		rec.Key, rec.Value = in.Key.Value, in.Value.Value
		return rec, nil
	}
	rec.Encoded = true
	kb, diag := wire(o, false, topic, in.Key, in)
	if diag != nil {
		return rec, diag
	}
	vb, diag := wire(o, true, topic, in.Value, in)
	if diag != nil {
		return rec, diag
	}
	if kb != nil {
		rec.Key = kb
	}
	if vb != nil {
		rec.Value = vb
	}
	return rec, nil
}

// wire is a key or value as bytes: raw, or encoded with the pipeline's
// converter for topic; nil for none (a null key, a tombstone).
func wire(o *engine.Offline, value bool, topic string, f testfile.Field, in *testfile.Record) ([]byte, *hcl.Diagnostic) {
	if f.IsRaw {
		return f.Raw, nil
	}
	if !f.Set || f.Value == nil {
		return nil, nil
	}
	b, err := o.Encode(value, topic, f.Value)
	if err != nil {
		which := "key"
		if value {
			which = "value"
		}
		return nil, errorf(&in.DeclRange, "Cannot encode the record",
			"The pipeline's %s converter cannot encode this record's %s: %s. Give it as raw bytes with %s_raw instead.", which, which, err, which)
	}
	return b, nil
}

// sinkRecord is a record as the sink loop consumes it: key and value as
// bytes (raw, or encoded with the pipeline's converters as a producer
// would), partition 0 and the record's index as offset unless given.
func sinkRecord(o *engine.Offline, t *target, in *testfile.Record, i int) (connector.Record, []byte, []byte, *hcl.Diagnostic) {
	topic, diag := topicOf(t, in)
	if diag != nil {
		return connector.Record{}, nil, nil, diag
	}
	rec := connector.Record{Topic: topic, Headers: headersOf(in.Headers), Timestamp: in.Timestamp, Offset: int64(i)}
	if in.Partition != nil {
		rec.Partition = int32(*in.Partition)
	}
	if in.Offset != nil {
		rec.Offset = *in.Offset
	}
	kb, diag := wire(o, false, topic, in.Key, in)
	if diag != nil {
		return rec, nil, nil, diag
	}
	vb, diag := wire(o, true, topic, in.Value, in)
	if diag != nil {
		return rec, nil, nil, diag
	}
	return rec, kb, vb, nil
}

// chainRecord is a structured record for a chain of transforms: raw keys
// and values are bytes.
func chainRecord(in *testfile.Record, i int) connector.Record {
	rec := connector.Record{Topic: in.Topic, Headers: headersOf(in.Headers), Timestamp: in.Timestamp, Offset: int64(i)}
	if in.Partition != nil {
		rec.Partition = int32(*in.Partition)
	}
	if in.Offset != nil {
		rec.Offset = *in.Offset
	}
	rec.Key, rec.Value = fieldValue(in.Key), fieldValue(in.Value)
	return rec
}

func fieldValue(f testfile.Field) any {
	if f.IsRaw {
		return f.Raw
	}
	return f.Value
}
