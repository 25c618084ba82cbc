package generator

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib/converters"
)

func i64(v int64) *int64 { return &v }

var seqVar = []configschema.ExprVar{{
	Name:        "seq",
	Type:        "int",
	Description: "The record's sequence number: task i of n produces i, i+n, i+2n, …, so that the tasks together cover 0, 1, 2, … once each; kept across restarts.",
}}

// Schema is the configuration of source "generator".
var Schema = configschema.Schema{
	Kind: configschema.Source,
	Type: "generator",
	// The record's key and value are these expressions' results: a map
	// literal's checked type is the value's shape for validate.
	KeyExpression:   "key",
	ValueExpression: "value",
	Description:     "Generates records from CEL expressions over a sequence number `seq`.",
	Attributes: []configschema.Attribute{
		{Name: "topic", Type: configschema.String, Required: true, NonEmpty: true, Description: "Topic the records are written to."},
		{Name: "rate", Type: configschema.Number, Default: int64(0), Min: i64(0), Description: "Records per second across all tasks; 0 produces as fast as possible."},
		{Name: "count", Type: configschema.Int, Default: int64(0), Min: i64(0), Description: "Stop after this many records per task; 0 never stops."},
		{Name: "key", Type: configschema.Expression, ExprVars: seqVar, Description: "CEL expression for the record key; no key when absent."},
		{Name: "value", Type: configschema.Expression, Required: true, ExprVars: seqVar, Description: "CEL expression for the record value."},
		{Name: "seed", Type: configschema.Int, Default: int64(0), ForcesReplacement: true, Description: "Seed of the random functions, so that runs are reproducible; changing it restarts the sequence."},
	},
}

// Config is the configuration of source "generator", as Schema declares it.
type Config struct {
	Topic string         `pipectl:"topic"`
	Rate  float64        `pipectl:"rate"`
	Count int64          `pipectl:"count"`
	Key   connector.Expr `pipectl:"key"`
	Value connector.Expr `pipectl:"value"`
	// Seed is part of the configuration (changing it replaces the
	// pipeline), but the expression library has no seeded functions yet.
	Seed int64 `pipectl:"seed"`
}

// Source returns the plugin registration of source "generator".
func Source() connector.Plugin {
	return connector.Plugin{Schema: Schema, Config: (*Config)(nil), NewSource: func() connector.Source { return new(source) }}
}

const (
	// maxBatch is the most records one Poll returns.
	maxBatch = 500
	// maxWait is how long Poll waits for the rate limiter before it
	// returns no records.
	maxWait = time.Second
	// burst is how many seconds' worth of records the rate limiter saves
	// up while Poll is not called.
	burst = 0.25
)

// source is one task of a generator.
type source struct {
	connector.UnimplementedSource

	topic      string
	key, value connector.Expr
	tasks      int64
	next       int64 // seq of the next record
	end        int64 // seq at which the task stops; math.MaxInt64 for never

	// Token bucket of the rate limit; rate 0 is unlimited.
	rate, tokens, capacity float64
	last                   time.Time

	partition map[string]any
	vars      map[string]any
	failed    error // an evaluation error, returned by the next Poll

	// keySchema and valueSchema are the schemas of the key and value
	// expressions' results when their types are known
	// (connector.TypedExpr), for every record; nil otherwise.
	keySchema, valueSchema *connector.Schema

	// direct writes values as JSON text straight from the expression
	// (see eval); nil when the pipeline does not encode them as
	// JSON or the expression is outside the direct evaluator's subset.
	direct   connector.DirectExpr
	w        converters.JSONWriter
	avgBytes int // average size of a value written directly, for the next buffer
}

func (s *source) Open(_ context.Context, tc *connector.TaskContext) error {
	var cfg Config
	if err := tc.DecodeConfig(&Schema, &cfg); err != nil {
		return fmt.Errorf("source generator: %w", err)
	}
	s.topic, s.key, s.value = cfg.Topic, cfg.Key, cfg.Value
	rate, count := cfg.Rate, cfg.Count
	if d, ok := s.value.(connector.DirectExpr); ok && d.Direct() && tc.ValueJSON {
		s.direct = d
	}
	if te, ok := s.value.(connector.TypedExpr); ok && s.direct == nil {
		// A value written directly is JSON text, not a value of a schema;
		// the pipeline's converter writes no schema then anyway.
		s.valueSchema = te.OutputSchema()
	}
	if te, ok := s.key.(connector.TypedExpr); ok {
		s.keySchema = te.OutputSchema()
	}

	task, tasks := int64(tc.Task), int64(max(tc.Tasks, 1))
	if task < 0 || task >= tasks {
		return fmt.Errorf("source generator: task %d of %d", task, tasks)
	}
	s.tasks = tasks
	s.partition = map[string]any{"task": task}
	s.next = task
	if tc.Offset != nil {
		if off := tc.Offset(s.partition); off != nil {
			next, ok := configschema.AsInt64(off["seq"])
			if !ok {
				return fmt.Errorf("source generator: saved offset %v of task %d has no integer seq", off, task)
			}
			// After a change of the number of tasks, the saved seq may
			// not be one of this task's: move up to the next that is.
			if next < task {
				next = task
			}
			if r := (next - task) % tasks; r != 0 {
				next += tasks - r
			}
			s.next = next
		}
	}
	s.end = math.MaxInt64
	if count > 0 {
		s.end = task + count*tasks
	}
	if rate > 0 {
		s.rate = rate / float64(tasks)
		s.capacity = max(1, s.rate*burst)
		s.tokens = 1
		s.last = time.Now()
	}
	s.vars = map[string]any{"seq": int64(0)}
	return nil
}

func (s *source) Poll(ctx context.Context) ([]connector.Record, error) {
	if s.failed != nil {
		return nil, s.failed
	}
	if s.next >= s.end {
		return nil, io.EOF
	}
	n := int64(maxBatch)
	if s.end != math.MaxInt64 {
		n = min(n, (s.end-s.next+s.tasks-1)/s.tasks)
	}
	if s.rate > 0 {
		granted, err := s.take(ctx, n)
		if err != nil || granted == 0 {
			return nil, err
		}
		n = granted
	}
	recs := make([]connector.Record, 0, n)
	if s.direct != nil {
		// One buffer for the batch's values: records keep slices of it
		// until Kafka has them, so it is never reused (and a record kept
		// longer keeps the whole batch's buffer).
		s.w.Reset(make([]byte, 0, int(n)*max(s.avgBytes, 64)))
	}
	now := time.Now()
	for range n {
		seq := s.next
		s.vars["seq"] = seq
		value, err := s.eval()
		if err != nil {
			s.failed = fmt.Errorf("source generator: value for seq %d: %w", seq, err)
			break
		}
		var key any
		if s.key != nil {
			if key, err = s.key.Eval(s.vars); err != nil {
				s.failed = fmt.Errorf("source generator: key for seq %d: %w", seq, err)
				break
			}
		}
		s.next += s.tasks
		recs = append(recs, connector.Record{
			Key:             key,
			Value:           value,
			KeySchema:       s.keySchema,
			ValueSchema:     s.valueSchema,
			Topic:           s.topic,
			Partition:       -1,
			Timestamp:       now,
			SourcePartition: s.partition,
		})
	}
	if len(recs) == 0 {
		return nil, s.failed
	}
	// The engine saves the offset of a Poll's last record: one map a
	// batch instead of one a record.
	recs[len(recs)-1].SourceOffset = map[string]any{"seq": s.next}
	if s.direct != nil {
		s.avgBytes = len(s.w.B)/len(recs) + 1
	}
	return recs, nil
}

// eval evaluates the value expression: straight to JSON text when it can
// (TaskContext.ValueJSON: the json converter would write the same bytes),
// else to a structured value for the converter.
func (s *source) eval() (any, error) {
	if s.direct != nil {
		start := len(s.w.B)
		s.w.Reset(s.w.B) // a new value: no comma before it
		if s.direct.EvalTo(s.vars, &s.w) && s.w.Err() == nil {
			end := len(s.w.B)
			if string(s.w.B[start:end]) == "null" {
				// A null value is no value (a tombstone), as the
				// converter encodes Eval's nil.
				s.w.Reset(s.w.B[:start])
				return nil, nil
			}
			return json.RawMessage(s.w.B[start:end:end]), nil
		}
		// Outside the direct evaluator (an overflow, a NaN): Eval gives
		// the error, or the value for the converter to encode.
		s.w.Reset(s.w.B[:start])
	}
	return s.value.Eval(s.vars)
}

// take waits until the token bucket holds at least one token, at most
// maxWait, and takes up to want of them.
func (s *source) take(ctx context.Context, want int64) (int64, error) {
	s.refill()
	if s.tokens < 1 {
		wait := time.Duration((1 - s.tokens) / s.rate * float64(time.Second))
		wait = min(max(wait, time.Millisecond), maxWait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, ctx.Err()
		case <-t.C:
		}
		s.refill()
		if s.tokens < 1 {
			return 0, nil
		}
	}
	got := min(want, int64(s.tokens))
	s.tokens -= float64(got)
	return got, nil
}

func (s *source) refill() {
	now := time.Now()
	s.tokens = min(s.capacity, s.tokens+now.Sub(s.last).Seconds()*s.rate)
	s.last = now
}

func (s *source) Close() error { return nil }
