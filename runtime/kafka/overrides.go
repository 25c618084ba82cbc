package kafka

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ClientOverrides turns a pipeline's Kafka client properties (lang's
// ClientProperties, by Kafka's names, values checked by validate) into
// franz-go options, which go after the worker's own so that they win. An
// unknown property or a bad value is an error: the worker fails the task
// with it rather than run with a setting the user did not ask for.
func ClientOverrides(props map[string]string) ([]kgo.Opt, error) {
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	sort.Strings(names)
	var opts []kgo.Opt
	for _, name := range names {
		o, err := clientOverride(name, props[name])
		if err != nil {
			return nil, fmt.Errorf("the Kafka client property %s: %w", name, err)
		}
		opts = append(opts, o...)
	}
	return opts, nil
}

// clientOverride maps one property, as Kafka's producer and consumer
// configuration documents it.
func clientOverride(name, v string) ([]kgo.Opt, error) {
	num := func() (int64, error) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a non-negative integer", v)
		}
		return n, nil
	}
	ms := func() (time.Duration, error) {
		n, err := num()
		return time.Duration(n) * time.Millisecond, err
	}
	var opt kgo.Opt
	switch name {
	case "acks":
		switch v {
		case "all", "-1":
			opt = kgo.RequiredAcks(kgo.AllISRAcks())
		case "1":
			opt = kgo.RequiredAcks(kgo.LeaderAck())
		case "0":
			opt = kgo.RequiredAcks(kgo.NoAck())
		default:
			return nil, fmt.Errorf("%q is not all, -1, 1 or 0", v)
		}
	case "batch.size":
		n, err := num()
		if err != nil {
			return nil, err
		}
		opt = kgo.ProducerBatchMaxBytes(int32(min(n, 1<<30)))
	case "buffer.memory":
		n, err := num()
		if err != nil {
			return nil, err
		}
		opt = kgo.MaxBufferedBytes(int(n))
	case "compression.type":
		// A compressor, not kgo.ProducerBatchCompression: Config.Opts sets
		// one (uncompressed), which would win over the codec.
		if v == "none" {
			opt = kgo.WithCompressor(uncompressed{})
			break
		}
		c, ok := map[string]kgo.CompressionCodec{"gzip": kgo.GzipCompression(),
			"snappy": kgo.SnappyCompression(), "lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression()}[v]
		if !ok {
			return nil, fmt.Errorf("%q is not none, gzip, snappy, lz4 or zstd", v)
		}
		comp, err := kgo.DefaultCompressor(c)
		if err != nil {
			return nil, err
		}
		opt = kgo.WithCompressor(comp)
	case "delivery.timeout.ms":
		d, err := ms()
		if err != nil {
			return nil, err
		}
		opt = kgo.RecordDeliveryTimeout(d)
	case "enable.idempotence":
		switch v {
		case "true":
			return nil, nil // the default
		case "false":
			opt = kgo.DisableIdempotentWrite()
		default:
			return nil, fmt.Errorf("%q is not true or false", v)
		}
	case "linger.ms":
		d, err := ms()
		if err != nil {
			return nil, err
		}
		opt = kgo.ProducerLinger(d)
	case "max.in.flight.requests.per.connection":
		n, err := num()
		if err != nil || n == 0 {
			return nil, fmt.Errorf("%q is not a positive integer", v)
		}
		opt = kgo.MaxProduceRequestsInflightPerBroker(int(n))
	case "max.request.size":
		n, err := num()
		if err != nil {
			return nil, err
		}
		opt = kgo.BrokerMaxWriteBytes(int32(min(n, 1<<30)))
	case "request.timeout.ms":
		d, err := ms()
		if err != nil {
			return nil, err
		}
		opt = kgo.ProduceRequestTimeout(d)

	case "fetch.max.bytes":
		n, err := num()
		if err != nil {
			return nil, err
		}
		opt = kgo.FetchMaxBytes(int32(min(n, 1<<30)))
	case "fetch.max.wait.ms":
		d, err := ms()
		if err != nil {
			return nil, err
		}
		opt = kgo.FetchMaxWait(d)
	case "fetch.min.bytes":
		n, err := num()
		if err != nil {
			return nil, err
		}
		opt = kgo.FetchMinBytes(int32(min(n, 1<<30)))
	case "heartbeat.interval.ms":
		d, err := ms()
		if err != nil {
			return nil, err
		}
		opt = kgo.HeartbeatInterval(d)
	case "isolation.level":
		switch v {
		case "read_committed":
			opt = kgo.FetchIsolationLevel(kgo.ReadCommitted())
		case "read_uncommitted":
			opt = kgo.FetchIsolationLevel(kgo.ReadUncommitted())
		default:
			return nil, fmt.Errorf("%q is not read_committed or read_uncommitted", v)
		}
	case "max.partition.fetch.bytes":
		n, err := num()
		if err != nil {
			return nil, err
		}
		opt = kgo.FetchMaxPartitionBytes(int32(min(n, 1<<30)))
	case "session.timeout.ms":
		d, err := ms()
		if err != nil {
			return nil, err
		}
		opt = kgo.SessionTimeout(d)
	default:
		return nil, fmt.Errorf("pipectl does not override it")
	}
	return []kgo.Opt{opt}, nil
}
