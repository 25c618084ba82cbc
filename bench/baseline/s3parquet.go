package baseline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/parquet-go/parquet-go"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// S3FlushRecords is the rotation of the s3_parquet scenario: an object per
// partition every this many records, on both sides.
const S3FlushRecords = 10_000

// s3Row is one Parquet row of the s3_parquet baseline: the columns sink
// "s3" writes (topic, partition, offset, timestamp, key, headers, value).
type s3Row struct {
	Topic     string     `parquet:"topic"`
	Partition int32      `parquet:"partition"`
	Offset    int64      `parquet:"offset"`
	Timestamp int64      `parquet:"timestamp,timestamp(millisecond)"`
	Key       []byte     `parquet:"key,optional"`
	Headers   []s3Header `parquet:"headers,list"`
	Value     s3Value    `parquet:"value"`
}

type s3Header struct {
	Key   string `parquet:"key"`
	Value []byte `parquet:"value,optional"`
}

type s3Value struct {
	Amount  float64  `parquet:"amount" json:"amount"`
	Country string   `parquet:"country" json:"country"`
	Email   string   `parquet:"email" json:"email"`
	ID      int64    `parquet:"id" json:"id"`
	Items   []s3Item `parquet:"items,list" json:"items"`
	TS      string   `parquet:"ts" json:"ts"`
}

type s3Item struct {
	Price float64 `parquet:"price" json:"price"`
	Qty   int64   `parquet:"qty" json:"qty"`
	SKU   string  `parquet:"sku" json:"sku"`
}

// S3Parquet consumes Input and writes each partition's records as Parquet
// objects of S3FlushRecords rows (snappy), named as sink "s3" names them
// (PREFIX/TOPIC/TOPIC+PARTITION+START.parquet), each uploaded with one
// PutObject; every FlushInterval it commits, for each partition, the start
// of the rows it still holds: franz-go → encoding/json into a struct →
// parquet-go's typed writer → minio-go.
func S3Parquet(ctx context.Context, a Args) error {
	if a.Endpoint == "" || a.Bucket == "" {
		return errors.New("s3_parquet needs -endpoint and -bucket")
	}
	u, err := url.Parse(a.Endpoint)
	if err != nil {
		return err
	}
	mc, err := minio.New(u.Host, &minio.Options{Creds: credentials.NewEnvAWS(), Secure: u.Scheme == "https", Region: "us-east-1"})
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(a.Brokers...), kgo.ConsumerGroup(a.Group), kgo.ConsumeTopics(a.Input),
		kgo.DisableAutoCommit(), kgo.BlockRebalanceOnPoll(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(FetchMaxBytes))
	if err != nil {
		return err
	}
	defer func() { cl.AllowRebalance(); cl.Close() }()
	type buffer struct {
		start, next int64
		rows        []s3Row
	}
	bufs := map[int32]*buffer{}
	upload := func(p int32, b *buffer) error {
		var body bytes.Buffer
		w := parquet.NewGenericWriter[s3Row](&body, parquet.Compression(&parquet.Snappy))
		if _, err := w.Write(b.rows); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
		name := a.Prefix + "/" + a.Input + "/" + a.Input + "+" + strconv.Itoa(int(p)) + "+" + fmt.Sprintf("%010d", b.start) + ".parquet"
		_, err := mc.PutObject(ctx, a.Bucket, name, bytes.NewReader(body.Bytes()), int64(body.Len()), minio.PutObjectOptions{ContentType: "application/vnd.apache.parquet"})
		b.rows = b.rows[:0]
		return err
	}
	commit := func(ctx context.Context) error {
		offs := map[int32]kgo.EpochOffset{}
		for p, b := range bufs {
			o := b.next
			if len(b.rows) > 0 {
				o = b.start
			}
			offs[p] = kgo.EpochOffset{Epoch: -1, Offset: o}
		}
		var cerr error
		cl.CommitOffsetsSync(ctx, map[string]map[int32]kgo.EpochOffset{a.Input: offs}, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, _ *kmsg.OffsetCommitResponse, err error) { cerr = err })
		return cerr
	}
	last := time.Now()
	for {
		fetches := cl.PollRecords(ctx, MaxPoll)
		if fetches.IsClientClosed() || ctx.Err() != nil {
			return commit(context.WithoutCancel(ctx))
		}
		var ferr error
		fetches.EachError(func(t string, p int32, err error) { ferr = cmpOr(ferr, fmt.Errorf("fetching %s/%d: %w", t, p, err)) })
		if ferr != nil {
			return ferr
		}
		for _, r := range fetches.Records() {
			b := bufs[r.Partition]
			if b == nil {
				b = &buffer{}
				bufs[r.Partition] = b
			}
			if len(b.rows) == 0 {
				b.start = r.Offset
			}
			row := s3Row{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp.UnixMilli(), Key: r.Key, Headers: []s3Header{}}
			for _, h := range r.Headers {
				row.Headers = append(row.Headers, s3Header{Key: h.Key, Value: h.Value})
			}
			if err := json.Unmarshal(r.Value, &row.Value); err != nil {
				return err
			}
			b.rows = append(b.rows, row)
			b.next = r.Offset + 1
			if len(b.rows) >= S3FlushRecords {
				if err := upload(r.Partition, b); err != nil {
					return err
				}
			}
		}
		if time.Since(last) >= FlushInterval {
			if err := commit(ctx); err != nil {
				return err
			}
			last = time.Now()
		}
		cl.AllowRebalance()
	}
}
