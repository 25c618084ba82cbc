package s3

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"
	"github.com/minio/minio-go/v7"
	"github.com/parquet-go/parquet-go"

	"github.com/pipectl/pipectl/runtime/connector"
)

// objectPattern matches the base name of an object sink "s3" wrote.
var objectPattern = regexp.MustCompile(`^(.+)\+(\d+)\+(\d+)\.(parquet|jsonl|bin)(\.gz|\.zst)?$`)

// source is one task of source "s3".
//
// Each original partition (topic and partition of the object names) is a
// source partition whose offset is the next original offset to hand on.
// A partition's objects are read in the order of their start offsets and
// merged by record offset, so that objects of several paths (a path by
// field) come back in the partition's order.
type source struct {
	connector.UnimplementedSource

	cfg   SourceConfig
	st    *store
	tc    *connector.TaskContext
	log   *slog.Logger
	parts map[connector.TopicPartition]*srcPartition
	seen  map[string]bool // objects listed already
	// listed is when the bucket was last listed.
	listed time.Time
	vars   map[string]any
}

type srcPartition struct {
	tp      connector.TopicPartition
	topic   string   // target topic
	next    int64    // next offset to hand on
	pending []objRef // not read yet, by start offset
	open    []*decoded
	// opened counts the objects opened: all start at or before the last
	// record handed on, and every object listed that does is opened. The
	// offset keeps it, so that the first listing after a restart finds an
	// object uploaded late among those that start before next.
	opened int64
	// known is the count the saved offset gave (-1: none, or checked),
	// knownSum its sum of starts; startSum the sum of the starts of the
	// objects opened. With one object late, the difference of the sums is
	// its start.
	known, knownSum, startSum int64
	// below are the objects of the first listing that start before next,
	// checked against known once the listing is done.
	below []objRef
}

type objRef struct {
	name     string
	start    int64
	modified time.Time
}

// decoded is an object read whole.
type decoded struct {
	name string
	raw  bool               // offsets are the start plus the line
	recs []connector.Record // with Offset the original offset
	i    int
}

func (s *source) Open(ctx context.Context, tc *connector.TaskContext) error {
	if err := tc.DecodeConfig(&SourceSchema, &s.cfg); err != nil {
		return fmt.Errorf("source s3: %w", err)
	}
	s.tc, s.log = tc, tc.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.cfg.Prefix = strings.Trim(s.cfg.Prefix, "/")
	st, err := openStore(ctx, s.cfg.Endpoint, s.cfg.Bucket, s.cfg.Region, s.cfg.AccessKeyID, s.cfg.SecretAccessKey)
	if err != nil {
		return fmt.Errorf("source s3: %w", err)
	}
	s.st = st
	s.parts = map[connector.TopicPartition]*srcPartition{}
	s.seen = map[string]bool{}
	s.vars = map[string]any{}
	if err := s.list(ctx); err != nil {
		return fmt.Errorf("source s3: %w", err)
	}
	return nil
}

// TopicsNeeded asks for the target topics with the partitions the bucket
// holds objects of, so that each record keeps its partition.
func (s *source) TopicsNeeded() []connector.TopicRequest {
	need := map[string]int32{}
	for tp, p := range s.parts {
		need[p.topic] = max(need[p.topic], tp.Partition+1)
	}
	var out []connector.TopicRequest
	for t, n := range need {
		out = append(out, connector.TopicRequest{Name: t, Partitions: n})
	}
	slices.SortFunc(out, func(a, b connector.TopicRequest) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// list lists the bucket under prefix and adds the objects not seen yet
// to their partitions.
func (s *source) list(ctx context.Context) error {
	initial := s.listed.IsZero()
	s.listed = time.Now()
	prefix := s.cfg.Prefix
	if prefix != "" {
		prefix += "/"
	}
	ext := "." + map[string]string{"parquet": "parquet", "jsonl": "jsonl", "raw": "bin"}[s.cfg.Format]
	for info := range s.st.c.ListObjects(ctx, s.st.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if info.Err != nil {
			return s.st.explain(info.Err, "listing")
		}
		if s.seen[info.Key] {
			continue
		}
		m := objectPattern.FindStringSubmatch(path.Base(info.Key))
		if m == nil || "."+m[4] != ext {
			continue // not an object of this format
		}
		s.seen[info.Key] = true
		part, err1 := strconv.ParseInt(m[2], 10, 32)
		start, err2 := strconv.ParseInt(m[3], 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		tp := connector.TopicPartition{Topic: m[1], Partition: int32(part)}
		if s.tc.Tasks > 1 && int(hashTP(tp)%uint32(s.tc.Tasks)) != s.tc.Task {
			continue
		}
		p := s.parts[tp]
		if p == nil {
			topic, err := s.target(tp)
			if err != nil {
				return err
			}
			p = &srcPartition{tp: tp, topic: topic, known: -1}
			if s.tc.Offset != nil {
				if off := s.tc.Offset(map[string]any{"topic": tp.Topic, "partition": int64(tp.Partition)}); off != nil {
					p.next = toInt64(off["offset"])
					if n, ok := off["objects"]; ok {
						p.known, p.knownSum = toInt64(n), toInt64(off["starts"])
					}
				}
			}
			s.parts[tp] = p
		}
		ref := objRef{name: info.Key, start: start, modified: info.LastModified}
		if initial && start < p.next {
			p.below = append(p.below, ref)
		}
		if !initial && start < p.next {
			// An object uploaded after records past its start were
			// handed on: its records would come out of order.
			return fmt.Errorf("object %s starts at offset %d, before offset %d that was already restored from other objects: it was uploaded late (a path that spreads a partition over several directories, while the sink was still writing); restore the bucket once the sink has written it", info.Key, start, p.next)
		}
		p.pending = append(p.pending, ref)
	}
	for _, p := range s.parts {
		slices.SortFunc(p.pending, func(a, b objRef) int { return cmp.Compare(a.start, b.start) })
		if err := p.checkRestart(); err != nil {
			return err
		}
	}
	return nil
}

// checkRestart compares, at the first listing after a restart, the
// objects that start before the saved position with the count of those
// opened before it: more means an object was uploaded late, after records
// past its start were handed on; its records would be skipped.
func (p *srcPartition) checkRestart() error {
	below, known := p.below, p.known
	p.below, p.known = nil, -1
	if known < 0 || int64(len(below)) <= known {
		return nil
	}
	var names []string
	if int64(len(below))-known == 1 {
		// One late: its start is what the sums of the starts differ by.
		var sum int64
		for _, r := range below {
			sum += r.start
		}
		for _, r := range below {
			if r.start == sum-p.knownSum {
				names = append(names, r.name)
			}
		}
	}
	if len(names) == 0 {
		// Several: most likely the last uploaded.
		slices.SortStableFunc(below, func(a, b objRef) int { return b.modified.Compare(a.modified) })
		for _, r := range below[:int64(len(below))-known] {
			names = append(names, r.name)
		}
	}
	return fmt.Errorf("%s/%d: %d objects start before offset %d, which was already restored, but %d were read: %s was uploaded late (after records past its start were restored; a path that spreads a partition over several directories, while the sink was still writing), and its records would be skipped; restore the bucket once the sink has written it", p.tp.Topic, p.tp.Partition, len(below), p.next, known, strings.Join(names, ", "))
}

func hashTP(tp connector.TopicPartition) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(tp.Topic); i++ {
		h = (h ^ uint32(tp.Topic[i])) * 16777619
	}
	return (h ^ uint32(tp.Partition)) * 16777619
}

func toInt64(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	case int:
		return int64(x)
	case json.Number:
		i, _ := x.Int64()
		return i
	}
	return 0
}

// target evaluates the topic expression for a partition.
func (s *source) target(tp connector.TopicPartition) (string, error) {
	if s.cfg.Topic == nil {
		return tp.Topic, nil
	}
	s.vars["topic"], s.vars["partition"] = tp.Topic, int64(tp.Partition)
	v, err := s.cfg.Topic.Eval(s.vars)
	if err != nil {
		return "", fmt.Errorf("topic: %w", err)
	}
	t, ok := v.(string)
	if !ok || t == "" {
		return "", fmt.Errorf("topic: the expression gave %v for %s/%d, not a topic name", v, tp.Topic, tp.Partition)
	}
	return t, nil
}

// pollBatch bounds the records of one Poll.
const pollBatch = 2000

func (s *source) Poll(ctx context.Context) ([]connector.Record, error) {
	if time.Since(s.listed) >= s.cfg.PollInterval {
		if err := s.list(ctx); err != nil {
			return nil, fmt.Errorf("source s3: %w", err)
		}
	}
	var out []connector.Record
	tps := make([]connector.TopicPartition, 0, len(s.parts))
	for tp := range s.parts {
		tps = append(tps, tp)
	}
	slices.SortFunc(tps, func(a, b connector.TopicPartition) int {
		if c := strings.Compare(a.Topic, b.Topic); c != 0 {
			return c
		}
		return cmp.Compare(a.Partition, b.Partition)
	})
	for _, tp := range tps {
		p := s.parts[tp]
		for len(out) < pollBatch {
			r, ok, err := s.nextRecord(ctx, p)
			if err != nil {
				return nil, fmt.Errorf("source s3: %w", err)
			}
			if !ok {
				break
			}
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		wait := time.Until(s.listed.Add(s.cfg.PollInterval))
		select {
		case <-ctx.Done():
		case <-time.After(min(wait, time.Second)):
		}
	}
	return out, nil
}

// nextRecord returns a partition's next record at or after its position:
// the smallest offset of the objects open, opening the next object first
// when it starts before that.
func (s *source) nextRecord(ctx context.Context, p *srcPartition) (connector.Record, bool, error) {
	for {
		var best *decoded
		for _, d := range p.open {
			if d.i < len(d.recs) && (best == nil || d.recs[d.i].Offset < best.recs[best.i].Offset) {
				best = d
			}
		}
		if len(p.pending) > 0 && (best == nil || p.pending[0].start <= best.recs[best.i].Offset) {
			ref := p.pending[0]
			p.pending = p.pending[1:]
			d, err := s.read(ctx, ref)
			if err != nil {
				return connector.Record{}, false, err
			}
			if err := overlap(p.open, d); err != nil {
				return connector.Record{}, false, err
			}
			p.opened++
			p.startSum += ref.start
			p.open = append(p.open, d)
			continue
		}
		if best == nil {
			p.open = p.open[:0]
			return connector.Record{}, false, nil
		}
		r := best.recs[best.i]
		best.recs[best.i] = connector.Record{}
		best.i++
		if best.i == len(best.recs) {
			p.open = slices.DeleteFunc(p.open, func(d *decoded) bool { return d == best })
		}
		if r.Offset < p.next {
			continue // restored before the restart
		}
		p.next = r.Offset + 1
		r.Topic = p.topic
		r.Partition = p.tp.Partition
		r.SourcePartition = map[string]any{"topic": p.tp.Topic, "partition": int64(p.tp.Partition)}
		r.SourceOffset = map[string]any{"offset": p.next, "objects": p.opened, "starts": p.startSum}
		return r, true, nil
	}
}

// overlap refuses a raw object that starts before the last position of
// another raw object still open: raw positions are the start plus the
// line, so the two would give several records the same position and one
// would be lost. Only a partition spread over paths makes such objects.
func overlap(open []*decoded, d *decoded) error {
	if !d.raw || len(d.recs) == 0 {
		return nil
	}
	for _, o := range open {
		if o.raw && o.i < len(o.recs) && o.recs[len(o.recs)-1].Offset >= d.recs[0].Offset {
			return fmt.Errorf("raw objects %s and %s of one partition overlap (positions %d to %d and from %d): raw objects carry no offsets, so their records cannot be ordered; the sink wrote them with a path that spreads a partition over several directories: write such a bucket as jsonl or parquet", o.name, d.name, o.recs[0].Offset, o.recs[len(o.recs)-1].Offset, d.recs[0].Offset)
		}
	}
	return nil
}

// read fetches and decodes one object.
func (s *source) read(ctx context.Context, ref objRef) (*decoded, error) {
	obj, err := s.st.c.GetObject(ctx, s.st.bucket, ref.name, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.st.explain(err, "reading "+ref.name+" from")
	}
	defer obj.Close()
	body, err := readAtMost(obj, s.cfg.MaxObjectBytes)
	if errors.Is(err, errTooLarge) {
		return nil, fmt.Errorf("object %s: %w", ref.name, err)
	}
	if err != nil {
		return nil, s.st.explain(err, "reading "+ref.name+" from")
	}
	recs, err := decodeObject(ref.name, body, ref.start, s.tc.ValueJSON, s.cfg.MaxObjectBytes)
	if err != nil {
		return nil, fmt.Errorf("object %s: %w", ref.name, err)
	}
	return &decoded{name: ref.name, raw: isRaw(ref.name), recs: recs}, nil
}

func isRaw(name string) bool {
	return path.Ext(strings.TrimSuffix(strings.TrimSuffix(name, ".gz"), ".zst")) == ".bin"
}

// errTooLarge is an object (or its decompressed body) over max_object_bytes.
var errTooLarge = errors.New("larger than max_object_bytes")

// readAtMost reads r whole, failing (never truncating) past limit bytes.
func readAtMost(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w (%d bytes): raise it, or have the sink write smaller objects (flush_bytes)", errTooLarge, limit)
	}
	return b, nil
}

// decodeObject decodes an object by its name's extension. Raw objects
// carry no offsets: a record's position is the object's start offset
// plus its line number, which stays below the next object's start.
func decodeObject(name string, body []byte, start int64, valueJSON bool, limit int64) ([]connector.Record, error) {
	var err error
	switch {
	case strings.HasSuffix(name, ".gz"):
		zr, e := gzip.NewReader(bytes.NewReader(body))
		if e != nil {
			return nil, e
		}
		body, err = readAtMost(zr, limit)
	case strings.HasSuffix(name, ".zst"):
		zr, e := zstd.NewReader(bytes.NewReader(body), zstd.WithDecoderConcurrency(1))
		if e != nil {
			return nil, e
		}
		body, err = readAtMost(zr, limit)
		zr.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("decompressing: %w", err)
	}
	base := strings.TrimSuffix(strings.TrimSuffix(name, ".gz"), ".zst")
	switch path.Ext(base) {
	case ".parquet":
		return decodeParquet(body)
	case ".jsonl":
		return decodeLines(body, valueJSON)
	}
	var recs []connector.Record
	for i, line := range bytes.SplitAfter(body, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		recs = append(recs, connector.Record{Value: bytes.Clone(line), Offset: start + int64(i)})
	}
	return recs, nil
}

// line is one line of a jsonl object (see appendLine).
type line struct {
	Topic       string          `json:"topic"`
	Partition   int32           `json:"partition"`
	Offset      *int64          `json:"offset"`
	Timestamp   *time.Time      `json:"timestamp"`
	Key         json.RawMessage `json:"key"`
	KeyBase64   *string         `json:"key_base64"`
	Value       json.RawMessage `json:"value"`
	ValueBase64 *string         `json:"value_base64"`
	Headers     []struct {
		Key         string  `json:"key"`
		Value       *string `json:"value"`
		ValueBase64 *string `json:"value_base64"`
	} `json:"headers"`
}

func decodeLines(body []byte, valueJSON bool) ([]connector.Record, error) {
	var recs []connector.Record
	for n, l := range bytes.Split(body, []byte("\n")) {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		var ln line
		if err := json.Unmarshal(l, &ln); err != nil {
			return nil, fmt.Errorf("line %d: %w", n+1, err)
		}
		if ln.Offset == nil {
			return nil, fmt.Errorf("line %d has no offset", n+1)
		}
		r := connector.Record{Offset: *ln.Offset}
		if ln.Timestamp != nil {
			r.Timestamp = *ln.Timestamp
		}
		var err error
		if r.Key, err = fieldValue(ln.Key, ln.KeyBase64, false); err != nil {
			return nil, fmt.Errorf("line %d: key: %w", n+1, err)
		}
		if r.Value, err = fieldValue(ln.Value, ln.ValueBase64, valueJSON); err != nil {
			return nil, fmt.Errorf("line %d: value: %w", n+1, err)
		}
		for _, h := range ln.Headers {
			hd := connector.Header{Key: h.Key}
			switch {
			case h.ValueBase64 != nil:
				if hd.Value, err = base64.StdEncoding.DecodeString(*h.ValueBase64); err != nil {
					return nil, fmt.Errorf("line %d: header %s: %w", n+1, h.Key, err)
				}
			case h.Value != nil:
				hd.Value = []byte(*h.Value)
			}
			r.Headers = append(r.Headers, hd)
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// fieldValue restores a key or value of a line: a JSON string as the
// string, other JSON as its structure (or its text when valueJSON), base64
// as bytes.
func fieldValue(raw json.RawMessage, b64 *string, valueJSON bool) (any, error) {
	if b64 != nil {
		return base64.StdEncoding.DecodeString(*b64)
	}
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] == '"' {
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	if valueJSON {
		return json.RawMessage(bytes.Clone(raw)), nil
	}
	return decodeJSON(raw)
}

func decodeParquet(body []byte) (_ []connector.Record, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("reading Parquet: %v", p)
		}
	}()
	if err := checkParquetFooter(body); err != nil {
		return nil, fmt.Errorf("reading Parquet: %w", err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		return nil, fmt.Errorf("reading Parquet: %w", err)
	}
	declared := true
	sj, ok := f.Lookup(metaValueSchema)
	if !ok {
		declared = false
		if sj, ok = f.Lookup(metaValueInferred); !ok {
			return nil, errors.New("not a Parquet object of sink \"s3\": it has no pipectl.value.schema metadata")
		}
	}
	vs, err := connector.ParseSchema([]byte(sj))
	if err != nil {
		return nil, fmt.Errorf("its value schema: %w", err)
	}
	r := parquet.NewReader(f, parquetSchema(vs, true))
	defer r.Close()
	var recs []connector.Record
	for {
		row := map[string]any{}
		if err := r.Read(&row); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("reading Parquet: %w", err)
		}
		rec := connector.Record{}
		if rec.Offset, err = asInt(row[colOffset]); err != nil {
			return nil, fmt.Errorf("offset: %w", err)
		}
		if ts := row[colTimestamp]; ts != nil {
			ms, err := asInt(ts)
			if err != nil {
				return nil, fmt.Errorf("timestamp: %w", err)
			}
			rec.Timestamp = time.UnixMilli(ms).UTC()
		}
		if k := row[colKey]; k != nil {
			b, err := asBytes(k)
			if err != nil {
				return nil, fmt.Errorf("key: %w", err)
			}
			if utf8.Valid(b) {
				rec.Key = string(b)
			} else {
				rec.Key = b
			}
		}
		if hs, ok := row[colHeaders].([]any); ok {
			for _, h := range hs {
				m, _ := h.(map[string]any)
				hd := connector.Header{}
				hd.Key, _ = asString(m["key"])
				if v := m["value"]; v != nil {
					hd.Value, _ = asBytes(v)
				}
				rec.Headers = append(rec.Headers, hd)
			}
		}
		if v := row[colValue]; v != nil {
			if rec.Value, err = fromParquet(vs, v); err != nil {
				return nil, fmt.Errorf("value at offset %d: %w", rec.Offset, err)
			}
			if declared {
				rec.ValueSchema = vs
			}
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

// maxParquetFooter bounds the footer (file metadata) of a Parquet object:
// parquet-go allocates the size the last 8 bytes give before reading it.
const maxParquetFooter = 64 << 20

// checkParquetFooter checks a Parquet object's frame before parquet-go
// opens it: magic at both ends and a footer size that fits the object
// and maxParquetFooter.
func checkParquetFooter(body []byte) error {
	n := len(body)
	if n < 12 || string(body[:4]) != "PAR1" || string(body[n-4:]) != "PAR1" {
		return errors.New("not a Parquet file (no PAR1 at both ends)")
	}
	size := int64(binary.LittleEndian.Uint32(body[n-8 : n-4]))
	if size > int64(n-12) || size > maxParquetFooter {
		return fmt.Errorf("its footer size %d does not fit the %d bytes of the file (or %d)", size, n, maxParquetFooter)
	}
	return nil
}

// Close forgets what it read.
func (s *source) Close() error {
	s.parts = nil
	return nil
}
