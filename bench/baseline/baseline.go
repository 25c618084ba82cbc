package baseline

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The batching of pipectl's sink loop (runtime/engine), which the
// consuming baselines copy.
const (
	// FetchMaxBytes bounds one fetch.
	FetchMaxBytes = 1 << 20
	// MaxPoll bounds one poll, which usually takes everything fetched.
	MaxPoll = 50_000
	// FlushInterval is how often, at most, a flush and a commit happen
	// while records arrive.
	FlushInterval = time.Second
	// FileBuffer is the file sink's write buffer.
	FileBuffer = 256 << 10
	// ProducerLinger is the linger of the worker's producer, which
	// pipectl's sources produce through.
	ProducerLinger = 5 * time.Millisecond
)

// Args says what a baseline reads and writes.
type Args struct {
	Brokers []string
	// TargetBrokers is the cluster Mirror writes to (it reads Brokers).
	TargetBrokers []string
	Input         string // topic the consuming baselines read, from its start
	Group         string // their consumer group
	Output        string // topic the producing baselines write
	Path          string // file the file baseline appends to
	Records       int64  // how many records Generate produces (SyslogTCP, HTTPSource: receives)
	Listen        string // address SyslogTCP and HTTPSource listen on
	DSN           string // the database SQLSink writes to
	Table         string // its table
	SchemaID      int    // the registry id AvroTransform writes its values with
}

// Names lists the baselines Run knows.
var Names = []string{"transform", "passthrough", "generator", "file_sink", "mirror", "syslog_tcp", "http_source", "sql_sink", "avro_transform"}

// Run runs the named baseline until it has nothing more to do (Generate,
// Mirror) or ctx ends (the consuming ones, which flush and commit what they
// hold first).
func Run(ctx context.Context, name string, a Args) error {
	switch name {
	case "transform":
		return Transform(ctx, a)
	case "passthrough":
		return Passthrough(ctx, a)
	case "generator":
		return Generate(ctx, a)
	case "file_sink":
		return FileSink(ctx, a)
	case "mirror":
		return Mirror(ctx, a)
	case "syslog_tcp":
		return SyslogTCP(ctx, a)
	case "http_source":
		return HTTPSource(ctx, a)
	case "sql_sink":
		return SQLSink(ctx, a)
	case "avro_transform":
		return AvroTransform(ctx, a)
	}
	return fmt.Errorf("no baseline %q; the baselines are %v", name, Names)
}

// Transform consumes Input, decodes each value with encoding/json into a
// map, keeps the records whose amount is at least 10, replaces email with
// its SHA-256 in hex, encodes the map again and produces it to Output, at
// least once.
func Transform(ctx context.Context, a Args) error {
	return kafkaToKafka(ctx, a, func(r *kgo.Record) ([]byte, bool, error) {
		var m map[string]any
		if err := json.Unmarshal(r.Value, &m); err != nil {
			return nil, false, fmt.Errorf("record at %s/%d offset %d: %w", r.Topic, r.Partition, r.Offset, err)
		}
		if amount, _ := m["amount"].(float64); !(amount >= MinAmount) {
			return nil, false, nil
		}
		if email, ok := m["email"].(string); ok {
			sum := sha256.Sum256([]byte(email))
			m["email"] = hex.EncodeToString(sum[:])
		}
		v, err := json.Marshal(m)
		return v, true, err
	})
}

// Passthrough consumes Input and produces each record's bytes to Output, at
// least once.
func Passthrough(ctx context.Context, a Args) error {
	return kafkaToKafka(ctx, a, func(r *kgo.Record) ([]byte, bool, error) { return r.Value, true, nil })
}

// kafkaToKafka is the consume → change → produce loop: fn returns the new
// value, or false to drop the record.
func kafkaToKafka(ctx context.Context, a Args, fn func(*kgo.Record) ([]byte, bool, error)) error {
	// pipectl's kafka sink builds its producer with kgo's defaults and
	// acks from all in-sync replicas (idempotent).
	prod, err := kgo.NewClient(kgo.SeedBrokers(a.Brokers...), kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		return err
	}
	defer prod.Close()
	var mu sync.Mutex
	var firstErr error
	promise := func(r *kgo.Record, err error) {
		if err != nil {
			mu.Lock()
			firstErr = cmpOr(firstErr, err)
			mu.Unlock()
		}
	}
	produce := func(recs []*kgo.Record) error {
		for _, r := range recs {
			v, keep, err := fn(r)
			if err != nil {
				return err
			}
			if !keep {
				continue
			}
			out := &kgo.Record{Topic: a.Output, Key: r.Key, Value: v, Timestamp: r.Timestamp, Headers: r.Headers}
			prod.Produce(ctx, out, promise)
		}
		return nil
	}
	flush := func(ctx context.Context) error {
		if err := prod.Flush(ctx); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		err := firstErr
		firstErr = nil
		return err
	}
	return consume(ctx, a, produce, flush)
}

// FileSink consumes Input and appends each value and a newline to Path
// through a buffer of FileBuffer bytes, which it writes out and fsyncs
// before each commit.
func FileSink(ctx context.Context, a Args) error {
	f, err := os.OpenFile(a.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, FileBuffer)
	write := func(recs []*kgo.Record) error {
		for _, r := range recs {
			w.Write(r.Value)
			if err := w.WriteByte('\n'); err != nil {
				return err
			}
		}
		return nil
	}
	flush := func(context.Context) error {
		if err := w.Flush(); err != nil {
			return err
		}
		return f.Sync()
	}
	err = consume(ctx, a, write, flush)
	return errors.Join(err, w.Flush(), f.Close())
}

// consume is pipectl's sink loop written out plainly: fetch at most
// FetchMaxBytes at a time, poll at most MaxPoll records (usually
// everything fetched), hand them to write, and
// every FlushInterval (waiting for no more records than that) flush and
// commit. It returns after a
// final flush and commit once ctx ends.
func consume(ctx context.Context, a Args, write func([]*kgo.Record) error, flush func(context.Context) error) error {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(a.Brokers...),
		kgo.ConsumerGroup(a.Group),
		kgo.ConsumeTopics(a.Input),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxBytes(FetchMaxBytes),
	)
	if err != nil {
		return err
	}
	defer func() {
		// With BlockRebalanceOnPoll, Close waits for AllowRebalance.
		cl.AllowRebalance()
		cl.Close()
	}()
	// The final flush and commit run after ctx ended.
	stopCtx := context.WithoutCancel(ctx)
	commit := func() error {
		if err := flush(stopCtx); err != nil {
			return err
		}
		return cl.CommitUncommittedOffsets(stopCtx)
	}
	dirty, last := false, time.Now()
	for {
		pollCtx, cancel := ctx, context.CancelFunc(func() {})
		if dirty {
			pollCtx, cancel = context.WithDeadline(ctx, last.Add(FlushInterval))
		}
		fetches := cl.PollRecords(pollCtx, MaxPoll)
		cancel()
		if fetches.IsClientClosed() {
			return kgo.ErrClientClosed
		}
		var fetchErr error
		fetches.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				fetchErr = cmpOr(fetchErr, fmt.Errorf("fetching %s/%d: %w", topic, p, err))
			}
		})
		if fetchErr != nil {
			return fetchErr
		}
		if recs := fetches.Records(); len(recs) > 0 {
			dirty = true
			if err := write(recs); err != nil {
				return err
			}
		}
		if ctx.Err() != nil {
			if dirty {
				return commit()
			}
			return nil
		}
		if dirty && time.Since(last) >= FlushInterval {
			if err := commit(); err != nil {
				return err
			}
			dirty, last = false, time.Now()
		}
		if !dirty {
			cl.AllowRebalance()
		}
	}
}

// Generate produces records 0 to Records-1 (NewRecord, encoded with
// encoding/json, no key) to Output and waits for their acknowledgement.
func Generate(ctx context.Context, a Args) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(a.Brokers...), kgo.ProducerLinger(ProducerLinger), kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		return err
	}
	defer cl.Close()
	var mu sync.Mutex
	var firstErr error
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			mu.Lock()
			firstErr = cmpOr(firstErr, err)
			mu.Unlock()
		}
	}
	for seq := range a.Records {
		v, err := json.Marshal(NewRecord(seq))
		if err != nil {
			return err
		}
		cl.Produce(ctx, &kgo.Record{Topic: a.Output, Value: v}, promise)
	}
	if err := cl.Flush(ctx); err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	return firstErr
}

// cmpOr returns a unless it is nil, else b.
func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
