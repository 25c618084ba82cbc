package kafka

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib/converters"
)

// deliveryTimeout bounds how long the records of one Write are retried
// before Flush reports them (as a retriable error). It is a context per
// Write, not kgo.RecordDeliveryTimeout: kgo measures that from the
// record's timestamp, which the sink keeps, so older records would time
// out at once.
const deliveryTimeout = 30 * time.Second

// producer is one task of sink "kafka".
type producer struct {
	connector.UnimplementedSink

	cl            *kgo.Client
	topic, prefix string
	names         map[string]string // record topic → target topic, with the prefix
	local         bool              // it writes to the fleet's own cluster (no brokers)

	// ctx is the lifetime of the produced records: Close cancels it.
	ctx    context.Context
	cancel context.CancelFunc

	// cancels releases the delivery deadlines of the Writes since the
	// last successful Flush.
	cancels []context.CancelFunc

	mu       sync.Mutex
	firstErr error // first failed record since the last Flush
	promise  func(*kgo.Record, error)
}

// pingTimeout bounds the check at Open that the cluster answers.
const pingTimeout = 10 * time.Second

func (s *producer) Open(ctx context.Context, tc *connector.TaskContext) error {
	var cfg SinkConfig
	if err := tc.DecodeConfig(&SinkSchema, &cfg); err != nil {
		return fmt.Errorf("sink kafka: %w", err)
	}
	opts, err := clusterOpts(cfg.ClusterConfig, tc.Cluster)
	if err != nil {
		return fmt.Errorf("sink kafka: %w", err)
	}
	s.topic, s.prefix, s.local = cfg.Topic, cfg.TopicPrefix, len(cfg.Brokers) == 0
	if cfg.Acks == "leader" {
		// Idempotence needs acks from all in-sync replicas.
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite())
	} else {
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
	}
	// Uncompressed, Kafka's producer default (franz-go would use snappy,
	// which some consumers cannot read).
	opts = append(opts, kgo.ProducerBatchCompression(kgo.NoCompression()))
	if s.cl, err = kgo.NewClient(opts...); err != nil {
		return fmt.Errorf("sink kafka: %w", err)
	}
	// A cluster that cannot be reached is said at once, while the task
	// starts (the engine retries Open), not at the first flush, which a
	// sink with no records yet never reaches.
	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	err = s.cl.Ping(pctx)
	cancel()
	if err != nil {
		s.cl.Close()
		s.cl = nil
		return classify(fmt.Errorf("sink kafka: reaching the brokers: %w", err))
	}
	s.names = map[string]string{}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.promise = func(r *kgo.Record, err error) {
		if err == nil {
			return
		}
		s.mu.Lock()
		if s.firstErr == nil {
			s.firstErr = fmt.Errorf("sink kafka: producing to %s: %w", r.Topic, err)
		}
		s.mu.Unlock()
	}
	return nil
}

// ExcludedTopics are the topics of the fleet's cluster this sink writes
// to, when it writes there: a pipeline reading by topics_regex leaves them
// out (connector.TopicsExcluder), so that it never reads its own output.
func (s *producer) ExcludedTopics() []string {
	switch {
	case !s.local:
		return nil
	case s.topic != "":
		return []string{regexp.QuoteMeta(s.topic)}
	case s.prefix != "":
		return []string{regexp.QuoteMeta(s.prefix) + ".*"}
	}
	return nil
}

// target returns the topic a record goes to.
func (s *producer) target(topic string) string {
	if s.topic != "" {
		return s.topic
	}
	if s.prefix == "" {
		return topic
	}
	name, ok := s.names[topic]
	if !ok {
		name = s.prefix + topic
		s.names[topic] = name
	}
	return name
}

// Write produces the records asynchronously: the producer chooses their
// partition from the key, as any producer would (the target topic may not
// have the partitions of the source one).
func (s *producer) Write(ctx context.Context, records []connector.Record) error {
	krs := make([]kgo.Record, len(records))
	for i := range records {
		r, kr := &records[i], &krs[i]
		var err error
		if kr.Key, err = wireBytes(r.Key); err != nil {
			return fmt.Errorf("sink kafka: key of the record at %s/%d offset %d: %w", r.Topic, r.Partition, r.Offset, err)
		}
		if kr.Value, err = wireBytes(r.Value); err != nil {
			return fmt.Errorf("sink kafka: value of the record at %s/%d offset %d: %w", r.Topic, r.Partition, r.Offset, err)
		}
		kr.Topic = s.target(r.Topic)
		kr.Timestamp = r.Timestamp
		if len(r.Headers) > 0 {
			kr.Headers = make([]kgo.RecordHeader, len(r.Headers))
			for j, h := range r.Headers {
				kr.Headers[j] = kgo.RecordHeader{Key: h.Key, Value: h.Value}
			}
		}
	}
	dctx, cancel := context.WithTimeout(s.ctx, deliveryTimeout)
	s.cancels = append(s.cancels, cancel)
	for i := range krs {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.cl.Produce(dctx, &krs[i], s.promise)
	}
	return nil
}

// wireBytes turns a key or value into the bytes to produce: []byte,
// json.RawMessage and strings as they are, nil as nil (a tombstone), and
// anything else (a map, a number …) as its JSON text.
func wireBytes(v any) ([]byte, error) {
	if b, ok := connector.WireBytes(v); ok {
		return b, nil
	}
	return converters.AppendJSON(nil, v)
}

// Flush waits until the other cluster has acknowledged every record
// written so far and returns the first error since the last Flush
// (retriable for timeouts and broker errors). After an error the records
// since the last successful Flush must be written again.
func (s *producer) Flush(ctx context.Context) error {
	if err := s.cl.Flush(ctx); err != nil {
		return classify(fmt.Errorf("sink kafka: %w", err))
	}
	for _, cancel := range s.cancels {
		cancel()
	}
	s.cancels = s.cancels[:0]
	s.mu.Lock()
	err := s.firstErr
	s.firstErr = nil
	s.mu.Unlock()
	return classify(err)
}

func (s *producer) Close() error {
	if s.cl == nil {
		return nil
	}
	s.cancel()
	s.cl.Close()
	s.cl = nil
	return nil
}
