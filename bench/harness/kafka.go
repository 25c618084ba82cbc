package harness

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/bench/baseline"
)

// brokerLine is the line `pipectl broker` prints once clients can connect.
var brokerLine = regexp.MustCompile(`^broker listening on (\S+)$`)

// broker is a `pipectl broker` process and an admin client of it.
type broker struct {
	proc *proc
	addr string
	cl   *kgo.Client
	adm  *kadm.Client
}

func startBroker(ctx context.Context, pipectl, logPath string) (*broker, error) {
	p, err := startProc("broker", []string{pipectl, "broker", "-listen", "127.0.0.1:0"}, nil, logPath)
	if err != nil {
		return nil, err
	}
	m, err := p.waitLine(ctx, brokerLine, 30*time.Second)
	if err != nil {
		p.kill()
		return nil, err
	}
	addr := m[0]
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		p.kill()
		return nil, err
	}
	return &broker{proc: p, addr: addr, cl: cl, adm: kadm.NewClient(cl)}, nil
}

func (b *broker) close() {
	b.cl.Close()
	if _, err := b.proc.stop(10 * time.Second); err != nil {
		b.proc.kill()
	}
}

// createTopic creates a topic (it must not exist).
func (b *broker) createTopic(ctx context.Context, name string, partitions int32) error {
	resp, err := b.adm.CreateTopic(ctx, partitions, -1, nil, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		return fmt.Errorf("create topic %s: %w", name, err)
	}
	return nil
}

// deleteTopics deletes topics, so that the broker's memory does not grow
// run after run.
func (b *broker) deleteTopics(ctx context.Context, names ...string) error {
	resps, err := b.adm.DeleteTopics(ctx, names...)
	if err != nil {
		return err
	}
	for _, r := range resps.Sorted() {
		if r.Err != nil && !errors.Is(r.Err, kerr.UnknownTopicOrPartition) {
			return fmt.Errorf("delete topic %s: %w", r.Topic, r.Err)
		}
	}
	return nil
}

// count returns the sum of the end offsets of topic's partitions: the
// number of records written to it (no transactions, no compaction).
func (b *broker) count(ctx context.Context, topic string) (int64, error) {
	ends, err := b.adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, err
	}
	var n int64
	var errs []error
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			errs = append(errs, fmt.Errorf("%s/%d: %w", o.Topic, o.Partition, o.Err))
			return
		}
		n += o.Offset
	})
	return n, errors.Join(errs...)
}

// pollInterval is how often the harness looks whether a run is done.
const pollInterval = 20 * time.Millisecond

// waitFor polls done every pollInterval until it reports true, and
// returns when it did. check, called about once a second, may end the wait
// with an error (a failed task, a process that exited); so does a lack of
// progress for stall.
func waitFor(ctx context.Context, stall time.Duration, done func() (progress int64, ok bool, err error), check func() error) (time.Time, error) {
	t, _, err := waitProgress(ctx, stall, done, check)
	return t, err
}

// waitProgress is waitFor that also returns when progress was first seen
// above zero (the zero Time if never).
func waitProgress(ctx context.Context, stall time.Duration, done func() (progress int64, ok bool, err error), check func() error) (end, first time.Time, err error) {
	lastProgress, lastChange, lastCheck := int64(-1), time.Now(), time.Now()
	for {
		p, ok, err := done()
		now := time.Now()
		if p > 0 && first.IsZero() {
			first = now
		}
		if err != nil {
			return now, first, err
		}
		if ok {
			return now, first, nil
		}
		if p != lastProgress {
			lastProgress, lastChange = p, now
		} else if now.Sub(lastChange) > stall {
			return now, first, fmt.Errorf("no progress for %s (at %d)", stall, p)
		}
		if check != nil && now.Sub(lastCheck) >= time.Second {
			lastCheck = now
			if err := check(); err != nil {
				return now, first, err
			}
		}
		select {
		case <-ctx.Done():
			return now, first, ctx.Err()
		case <-time.After(pollInterval):
		}
	}
}

// Input describes the seeded input topic.
type Input struct {
	Topic   string
	Records int64
	Kept    int64 // records the transform scenario's filter keeps
	Bytes   int64 // sum of the values' sizes
	// KeyBytes is the sum of the keys' sizes.
	KeyBytes int64
}

// inputTopic is the topic the harness seeds on every broker.
const inputTopic = "bench.input"

// inputPartitions is its partition count.
const inputPartitions = 6

// seed creates the input topic and produces records 0 to n-1 into it, keyed
// by id; it returns when all are acknowledged.
func (b *broker) seed(ctx context.Context, n int64) (Input, error) {
	in := Input{Topic: inputTopic, Records: n}
	if err := b.createTopic(ctx, inputTopic, inputPartitions); err != nil {
		return in, err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.addr), kgo.ProducerLinger(5*time.Millisecond),
		kgo.MaxBufferedRecords(100_000))
	if err != nil {
		return in, err
	}
	defer cl.Close()
	var once sync.Once
	var firstErr error
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			once.Do(func() { firstErr = err })
		}
	}
	for seq := range n {
		k, v := baseline.Key(seq), baseline.Value(seq)
		in.Bytes += int64(len(v))
		in.KeyBytes += int64(len(k))
		if baseline.Kept(seq) {
			in.Kept++
		}
		cl.Produce(ctx, &kgo.Record{Topic: inputTopic, Key: k, Value: v}, promise)
	}
	if err := cl.Flush(ctx); err != nil {
		return in, err
	}
	if firstErr != nil {
		return in, fmt.Errorf("seeding %s: %w", inputTopic, firstErr)
	}
	got, err := b.count(ctx, inputTopic)
	if err == nil && got != n {
		err = fmt.Errorf("seeding %s: %d records in the topic, want %d", inputTopic, got, n)
	}
	return in, err
}
