package engine

import (
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
)

// Offline runs a compiled pipeline's converters and transforms on one
// record at a time, with the code of the task loops but without Kafka and
// without the connector: what pipectl test runs. It is not safe for
// concurrent use.
type Offline struct {
	p    *Pipeline
	tr   *transformer
	orig original
}

// Outcome is what became of one record.
type Outcome struct {
	// Kept is false when a filter dropped the record or it failed.
	Kept bool
	// Err is a record failure: with tolerance "all" the record goes to
	// the dead-letter topic with Stage and Class in its headers.
	Err   error
	Stage Stage
	Class string
	// Record is the record that comes out, when Kept. From a source:
	// what is produced, its key and value decoded back with the
	// pipeline's converters (KeyBytes and ValueBytes hold the bytes);
	// from a sink: what the sink is given, JSON text the converter only
	// checked decoded as the json converter decodes it.
	Record               connector.Record
	KeyBytes, ValueBytes []byte
}

// Offline returns a runner of the pipeline's records.
func (p *Pipeline) Offline() *Offline { return &Offline{p: p, tr: newTransformer(p)} }

// TolerateAll says the pipeline's errors block sends failed records to the
// dead-letter topic instead of failing the task.
func (p *Pipeline) TolerateAll() bool { return p.policy.tolerateAll }

// Source runs rec as the source loop does after a Poll: a record the
// connector skipped (Skip) is filtered, one it could not read (Err) fails
// at the source stage; the others go through the transforms, then the
// converters.
func (o *Offline) Source(rec connector.Record) Outcome {
	if rec.Skip {
		return Outcome{}
	}
	if rec.Err != nil {
		return failure(StageSource, rec.Err)
	}
	var slab []kgo.RecordHeader
	kr, keep, stage, err := convertSource(o.p, o.tr, &o.orig, &rec, &slab)
	if err != nil {
		return failure(stage, err)
	}
	if !keep {
		return Outcome{}
	}
	out := Outcome{Kept: true, KeyBytes: kr.Key, ValueBytes: kr.Value}
	out.Record = connector.Record{Topic: kr.Topic, Partition: -1, Timestamp: kr.Timestamp}
	if kr.Context == manualPartition {
		out.Record.Partition = kr.Partition
	}
	for _, h := range kr.Headers {
		out.Record.Headers = append(out.Record.Headers, connector.Header{Key: h.Key, Value: h.Value})
	}
	if out.Record.Key, out.Record.KeySchema, err = fromBytes(o.p.keyConv, nil, kr.Key, true); err != nil {
		return failure(StageConverter, fmt.Errorf("key: the produced bytes do not decode: %w", err))
	}
	if out.Record.Value, out.Record.ValueSchema, err = fromBytes(o.p.valueConv, nil, kr.Value, true); err != nil {
		return failure(StageConverter, fmt.Errorf("value: the produced bytes do not decode: %w", err))
	}
	return out
}

// Sink runs a consumed record as the sink loop does before a Write: the
// converters turn key and value into what the sink sees, then the
// transforms. rec holds the record's topic, partition, offset, timestamp
// and headers.
func (o *Offline) Sink(rec connector.Record, key, value []byte) Outcome {
	keep, stage, err := convertSink(o.p, o.tr, nil, nil, &rec, key, value)
	if err != nil {
		return failure(stage, err)
	}
	if !keep {
		return Outcome{}
	}
	if rec.Key, err = unraw(rec.Key); err == nil {
		rec.Value, err = unraw(rec.Value)
	}
	if err != nil {
		return failure(StageConverter, err)
	}
	return Outcome{Kept: true, Record: rec}
}

// Chain runs only the transforms on a structured record (a pipeline from
// CompileChain).
func (o *Offline) Chain(rec connector.Record) Outcome {
	keep, err := o.tr.apply(&rec, false)
	if err != nil {
		return failure(StageTransform, err)
	}
	if !keep {
		return Outcome{}
	}
	return Outcome{Kept: true, Record: rec}
}

// Encode encodes a key (value false) or a value written to topic with the
// pipeline's converter, as a producer of the records a sink consumes would.
func (o *Offline) Encode(value bool, topic string, v any) ([]byte, error) {
	c := o.p.keyConv
	if value {
		c = o.p.valueConv
	}
	if c == nil {
		return nil, errors.New("the pipeline has no converters")
	}
	return toBytes(c, topic, v, nil)
}

func failure(stage Stage, err error) Outcome {
	return Outcome{Err: err, Stage: stage, Class: classOf(err)}
}

// CompileChain compiles a list of transforms on their own, as Compile
// compiles a pipeline's: a pipeline without connector or converters, for
// Offline.Chain. name names it in errors.
func CompileChain(name string, specs []control.TransformSpec) (*Pipeline, error) {
	c := &compiler{address: name}
	p := &Pipeline{address: name, spec: &control.PipelineSpec{Transforms: specs}}
	for i := range specs {
		if t := c.transform(&specs[i]); t != nil {
			p.transforms = append(p.transforms, t)
		}
	}
	p.uses = usesOf(p.transforms)
	p.policy.tolerateAll = true
	if err := errors.Join(c.errs...); err != nil {
		return nil, err
	}
	return p, nil
}
