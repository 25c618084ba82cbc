package s3

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/pipectl/pipectl/runtime/connector"
)

// sink is one task of sink "s3".
//
// It keeps, for each partition it reads (by the topic and partition the
// record was read from), one object per path being filled, and uploads an
// object whole once it is full (flush_records, flush_bytes) or its next
// record is rotate_interval later than its first (record time) or has
// another schema; when one object of a partition closes, all the
// partition's objects close with it (as Confluent's TopicPartitionWriter).
// PreCommit answers, for each partition, the start offset of its oldest
// object still being filled, which is then the first record after the
// last close, shared by every path: the worker commits exactly that, so
// whatever a crash loses is read again, no uploaded object holds records
// past it, and since each rule depends only on the records themselves,
// the objects made again are the same objects with the same names.
type sink struct {
	connector.UnimplementedSink

	cfg   SinkConfig
	st    *store
	ext   string
	parts map[connector.TopicPartition]*partition
	vars  map[string]any
	// pathReadsRecord says the path expression reads key, value or
	// headers, which are decoded for it.
	pathReadsRecord bool
	log             *slog.Logger

	// The uploader: objects go to it through jobs (one waits while one
	// uploads); inflight counts those not uploaded yet; err is the first
	// upload that failed for good.
	jobs     chan job
	inflight sync.WaitGroup
	done     sync.WaitGroup
	bg       context.Context
	cancel   context.CancelFunc
	mu       sync.Mutex
	err      error
}

// partition is what the sink holds of one partition.
type partition struct {
	objects map[string]*object // by path
	// next is the offset after the last record added: a Write retried
	// after an upload error skips what it added already.
	next int64
}

// The interfaces the worker looks for.
var (
	_ connector.Committer       = (*sink)(nil)
	_ connector.PartitionsAware = (*sink)(nil)
)

var recordVars = regexp.MustCompile(`\b(key|value|headers)\b`)

func (s *sink) Open(ctx context.Context, tc *connector.TaskContext) error {
	if err := tc.DecodeConfig(&SinkSchema, &s.cfg); err != nil {
		return fmt.Errorf("sink s3: %w", err)
	}
	s.log = tc.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.cfg.Prefix = strings.Trim(s.cfg.Prefix, "/")
	s.ext = extension(s.cfg.Format, s.cfg.Compression)
	if s.cfg.Compression == "snappy" && s.cfg.Format != "parquet" {
		return fmt.Errorf("sink s3: snappy compresses Parquet columns only: use gzip or zstd for %s", s.cfg.Format)
	}
	st, err := openStore(ctx, s.cfg.Endpoint, s.cfg.Bucket, s.cfg.Region, s.cfg.AccessKeyID, s.cfg.SecretAccessKey)
	if err != nil {
		return fmt.Errorf("sink s3: %w", err)
	}
	s.st = st
	s.parts = map[connector.TopicPartition]*partition{}
	s.bg, s.cancel = context.WithCancel(context.Background())
	s.jobs = make(chan job, 1)
	s.done.Add(1)
	go s.uploads()
	s.vars = map[string]any{}
	if s.cfg.Path != nil {
		src, _ := tc.Config["path"].(string)
		s.pathReadsRecord = recordVars.MatchString(src)
		if s.cfg.Format == "raw" && rawPathVars.MatchString(src) {
			s.Close()
			return fmt.Errorf("sink s3: path: %s", rawPathDetail)
		}
	}
	return nil
}

// Write adds each record to its object and uploads the objects that are
// complete. A record that cannot be encoded, or whose path cannot be
// evaluated, fails alone (errors.tolerance decides); an upload that
// fails fails the Write, and a retried Write skips the records it added.
func (s *sink) Write(ctx context.Context, records []connector.Record) error {
	if err := s.failed(); err != nil {
		return err
	}
	var failed []error
	for i := range records {
		r := &records[i]
		tp := connector.TopicPartition{Topic: r.OriginalTopic, Partition: r.OriginalPartition}
		p := s.parts[tp]
		if p == nil {
			p = &partition{objects: map[string]*object{}, next: -1}
			s.parts[tp] = p
		}
		if r.Offset < p.next {
			continue
		}
		dir, err := s.path(r)
		if err != nil {
			failed = append(failed, connector.RecordFailed(i, err))
			continue
		}
		o := p.objects[dir]
		if o != nil && s.full(o) {
			if err := s.closeAll(ctx, tp, p); err != nil {
				return err
			}
			o = nil
		}
		// What the record adds, built before it is added: a record
		// that cannot be encoded leaves its object as it was.
		var (
			line     []byte
			row      map[string]any
			size     int64
			schema   *connector.Schema
			declared bool
		)
		switch s.cfg.Format {
		case "parquet":
			var v any
			v, schema, declared, err = parquetValue(r, o)
			if err == nil {
				if o != nil && !o.fits(v, schema, declared) {
					if err := s.closeAll(ctx, tp, p); err != nil {
						return err
					}
					o = nil
				}
				if o != nil && o.schema != nil {
					schema = o.schema // an inferred schema that holds v
				}
				row, size, err = parquetRow(r, v, schema, declared)
			}
		case "jsonl":
			line, err = appendLine(nil, r)
			line = append(line, '\n')
			size = int64(len(line))
		default:
			line, err = appendRaw(nil, r.Value)
			if err == nil && bytes.IndexByte(line, '\n') >= 0 {
				err = errors.New("a raw value holds a newline, which separates values in the object: use format jsonl or parquet")
			}
			line = append(line, '\n')
			size = int64(len(line))
		}
		if err != nil {
			failed = append(failed, connector.RecordFailed(i, fmt.Errorf("record at %s/%d offset %d: %w", tp.Topic, tp.Partition, r.Offset, err)))
			continue
		}
		if s.cfg.RotateInterval > 0 {
			// When an object of the partition (any path) has its first
			// record rotate_interval older than this one, it is complete,
			// as Confluent's rotate.interval.ms (an hour's object closes
			// with the next hour's records), and so are all the others.
			for _, old := range p.objects {
				if !old.first.IsZero() && r.Timestamp.Sub(old.first) >= s.cfg.RotateInterval {
					if err := s.closeAll(ctx, tp, p); err != nil {
						return err
					}
					o = nil
					break
				}
			}
		}
		if o == nil {
			o = &object{path: dir, start: r.Offset, first: r.Timestamp}
			p.objects[dir] = o
		}
		if o.count == 0 || o.schema == nil {
			o.schema, o.declared = schema, declared
		}
		if row != nil {
			o.rows = append(o.rows, row)
		} else {
			o.lines = append(o.lines, line...)
		}
		o.count++
		o.bytes += size
		p.next = r.Offset + 1
		if s.full(o) {
			if err := s.closeAll(ctx, tp, p); err != nil {
				return err
			}
		}
	}
	return errors.Join(failed...)
}

// closeAll uploads every object the partition fills, whatever its path,
// as Confluent's TopicPartitionWriter: objects of a partition close
// together, at the same record, so that the start of the oldest object
// still being filled (what PreCommit answers) is a boundary of every path,
// and no object uploaded holds records before it and after it.
func (s *sink) closeAll(ctx context.Context, tp connector.TopicPartition, p *partition) error {
	objs := make([]*object, 0, len(p.objects))
	for _, o := range p.objects {
		objs = append(objs, o)
	}
	slices.SortFunc(objs, func(a, b *object) int { return cmp.Compare(a.start, b.start) })
	for _, o := range objs {
		if err := s.upload(ctx, tp, p, o); err != nil {
			return err
		}
	}
	return nil
}

func (s *sink) full(o *object) bool {
	return o.count >= s.cfg.FlushRecords || o.bytes >= s.cfg.FlushBytes
}

// path evaluates the path expression for a record: the directory of its
// object under prefix, without leading or trailing slashes. By default
// the topic.
func (s *sink) path(r *connector.Record) (string, error) {
	if s.cfg.Path == nil {
		return r.OriginalTopic, nil
	}
	vars := s.vars
	vars["topic"] = r.OriginalTopic
	vars["partition"] = int64(r.OriginalPartition)
	vars["offset"] = r.Offset
	ts := r.Timestamp.UTC()
	vars["timestamp"] = ts
	vars["year"] = fmt.Sprintf("%04d", ts.Year())
	vars["month"] = fmt.Sprintf("%02d", int(ts.Month()))
	vars["day"] = fmt.Sprintf("%02d", ts.Day())
	vars["hour"] = fmt.Sprintf("%02d", ts.Hour())
	vars["key"], vars["value"], vars["headers"] = nil, nil, map[string]any{}
	if s.pathReadsRecord {
		var err error
		if vars["key"], err = structured(r.Key, r.Encoded); err != nil {
			return "", fmt.Errorf("path: key: %w", err)
		}
		if vars["value"], err = structured(r.Value, r.Encoded); err != nil {
			return "", fmt.Errorf("path: value: %w", err)
		}
		hs := make(map[string]any, len(r.Headers))
		for _, h := range r.Headers {
			hs[h.Key] = string(h.Value)
		}
		vars["headers"] = hs
	}
	v, err := s.cfg.Path.Eval(vars)
	if err != nil {
		return "", fmt.Errorf("path: %w", err)
	}
	dir, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("path: the expression gave a %T, not a string", v)
	}
	dir = strings.Trim(dir, "/")
	if dir != "" && path.Clean(dir) != dir {
		return "", fmt.Errorf("path: %q is not a clean object path (no //, . or .. parts)", dir)
	}
	return dir, nil
}

// structured decodes JSON text (a json converter's undecoded value) for
// the path expression.
func structured(v any, encoded bool) (any, error) {
	switch x := v.(type) {
	case []byte:
		if !encoded || x == nil {
			return v, nil
		}
		return decodeJSON(x)
	case interface{ MarshalJSON() ([]byte, error) }:
		b, _ := x.MarshalJSON()
		return decodeJSON(b)
	}
	return v, nil
}

// upload hands a complete object to the uploader and forgets it: the
// next object of its partition fills meanwhile. PreCommit and Revoked wait
// for the uploads in flight, so an object counts as in the bucket only once
// it is.
func (s *sink) upload(ctx context.Context, tp connector.TopicPartition, p *partition, o *object) error {
	if err := s.failed(); err != nil {
		return err
	}
	delete(p.objects, o.path)
	s.inflight.Add(1)
	select {
	case s.jobs <- job{tp: tp, o: o}:
		return nil
	case <-ctx.Done():
		s.inflight.Done()
		// The object is no longer held: nothing may be committed now.
		s.fail(fmt.Errorf("sink s3: stopped while handing over the object of %s/%d at offset %d", tp.Topic, tp.Partition, o.start))
		return ctx.Err()
	}
}

// job is an object to upload.
type job struct {
	tp connector.TopicPartition
	o  *object
}

// uploads encodes and puts the objects handed over, one at a time.
func (s *sink) uploads() {
	defer s.done.Done()
	for j := range s.jobs {
		if err := s.put(j.tp, j.o); err != nil {
			// The task fails and starts again from the last commit,
			// which does not pass this object.
			s.fail(err)
		}
		s.inflight.Done()
	}
}

// put encodes an object and uploads it whole (one PUT, or a multipart
// upload that completes only when every part is in), retrying errors that
// pass (the network, 5xx answers) a few times.
func (s *sink) put(tp connector.TopicPartition, o *object) error {
	body, err := o.encode(s.cfg.Format, s.cfg.Compression)
	if err != nil {
		return fmt.Errorf("sink s3: object of %s/%d at offset %d: %w", tp.Topic, tp.Partition, o.start, err)
	}
	o.rows, o.lines = nil, nil
	name := objectName(s.cfg.Prefix, o.path, tp.Topic, tp.Partition, o.start, s.ext)
	ctype := map[string]string{"parquet": "application/vnd.apache.parquet", "jsonl": "application/x-ndjson", "raw": "application/octet-stream"}[s.cfg.Format]
	for attempt := 0; ; attempt++ {
		// A deadline per attempt: an upload that hangs would hold
		// PreCommit and Revoked, which wait for it, forever.
		actx, cancel := context.WithTimeout(s.bg, s.cfg.UploadTimeout)
		_, err = s.st.c.PutObject(actx, s.st.bucket, name, bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{ContentType: ctype})
		timedOut := actx.Err() == context.DeadlineExceeded
		cancel()
		if timedOut && s.bg.Err() == nil {
			err = connector.Retriable(fmt.Errorf("uploading %s to %q at %s: no answer within upload_timeout (%s)", name, s.st.bucket, s.st.c.EndpointURL().Host, s.cfg.UploadTimeout))
			if attempt == 4 {
				return fmt.Errorf("sink s3: %w", err)
			}
			s.log.Warn("upload timed out, retrying", "object", name, "error", err)
			continue
		}
		if err == nil {
			s.log.Debug("uploaded", "object", name, "records", o.count, "bytes", len(body))
			return nil
		}
		err = s.st.explain(err, "uploading "+name+" to")
		if !connector.IsRetriable(err) || attempt == 4 || s.bg.Err() != nil {
			return fmt.Errorf("sink s3: %w", err)
		}
		s.log.Warn("upload failed, retrying", "object", name, "error", err)
		select {
		case <-time.After(time.Duration(200<<attempt) * time.Millisecond):
		case <-s.bg.Done():
		}
	}
}

// fail records the first upload failure.
func (s *sink) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

// failed returns the upload failure, if any: the task fails with it.
func (s *sink) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// PreCommit says how far each partition is in the bucket: up to the start
// of its oldest object being filled, or all the worker handled when it
// fills none.
func (s *sink) PreCommit(_ context.Context, written map[connector.TopicPartition]int64) (map[connector.TopicPartition]int64, error) {
	s.inflight.Wait()
	if err := s.failed(); err != nil {
		return nil, err
	}
	for tp := range written {
		p := s.parts[tp]
		if p == nil {
			continue
		}
		for _, o := range p.objects {
			if o.start < written[tp] {
				written[tp] = o.start
			}
		}
	}
	return written, nil
}

// Assigned needs nothing: a partition's objects start with its records.
func (s *sink) Assigned(context.Context, []connector.TopicPartition) error { return nil }

// Revoked drops what the sink fills of partitions taken from it: their
// next owner reads those records again from the last commit and makes the
// same objects.
func (s *sink) Revoked(_ context.Context, partitions []connector.TopicPartition) error {
	s.inflight.Wait() // what was handed over is the bucket's
	for _, tp := range partitions {
		delete(s.parts, tp)
	}
	return nil
}

// Flush is never called on a Committer.
func (s *sink) Flush(context.Context) error { return nil }

// Close drops the objects being filled (they were not committed) and
// stops the uploader, cutting an upload short.
func (s *sink) Close() error {
	s.parts = nil
	if s.jobs != nil {
		s.cancel()
		close(s.jobs)
		s.done.Wait()
		s.jobs = nil
	}
	return nil
}
