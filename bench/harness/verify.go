package harness

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// digest summarizes a run's output: how many records, and a hash of their
// canonical forms sorted, so that two outputs compare equal when they hold
// the same records in any order.
type digest struct {
	n    int
	sum  [sha256.Size]byte
	some []string // the first few canonical records, for a mismatch message
}

// digestOf canonicalizes each record (JSON text re-encoded by
// encoding/json: keys sorted, numbers in one form) and digests them.
func digestOf(recs []string) (digest, error) {
	canon := make([]string, len(recs))
	for i, r := range recs {
		c, err := canonical(r)
		if err != nil {
			return digest{}, err
		}
		canon[i] = c
	}
	slices.Sort(canon)
	h := sha256.New()
	for _, c := range canon {
		h.Write([]byte(c))
		h.Write([]byte{0})
	}
	d := digest{n: len(canon), some: canon[:min(3, len(canon))]}
	h.Sum(d.sum[:0])
	return d, nil
}

// canonical re-encodes JSON text; text that is not JSON stays as it is.
// A record read from a topic is "KEY\x00VALUE": the value is
// re-encoded.
func canonical(s string) (string, error) {
	if key, value, ok := strings.Cut(s, "\x00"); ok {
		c, err := canonical(value)
		return key + "\x00" + c, err
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return s, nil
	}
	v = normalizeNumbers(v)
	b, err := json.Marshal(v)
	return string(b), err
}

// normalizeNumbers turns json.Numbers into float64, so that 57 and 57.0
// compare equal.
func normalizeNumbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return v.String()
		}
		return f
	case map[string]any:
		for k, x := range v {
			v[k] = normalizeNumbers(x)
		}
	case []any:
		for i, x := range v {
			v[i] = normalizeNumbers(x)
		}
	}
	return v
}

func (d digest) compare(o digest) error {
	if d.n != o.n {
		return fmt.Errorf("%d records against %d", d.n, o.n)
	}
	if d.sum != o.sum {
		return fmt.Errorf("the same number of records (%d) but not the same records; pipectl's first: %q; the baseline's first: %q", d.n, d.some, o.some)
	}
	return nil
}

// readAll consumes a topic from its start until it has n records and
// returns each as "KEY\x00VALUE".
func (b *broker) readAll(ctx context.Context, topic string, n int64) ([]string, error) {
	out := make([]string, 0, n)
	err := b.each(ctx, topic, n, func(r *kgo.Record) { out = append(out, string(r.Key)+"\x00"+string(r.Value)) })
	return out, err
}

// each consumes a topic from its start (no consumer group) and calls fn
// for each of its first n records.
func (b *broker) each(ctx context.Context, topic string, n int64, fn func(*kgo.Record)) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var got int64
	for got < n {
		f := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("read %d of the %d records of %s: %w", got, n, topic, err)
		}
		var ferr error
		f.EachError(func(_ string, _ int32, err error) { ferr = err })
		if ferr != nil {
			return ferr
		}
		f.EachRecord(func(r *kgo.Record) {
			if got < n {
				fn(r)
			}
			got++
		})
	}
	return nil
}
