package kafka

import (
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/connector"
)

var _ connector.LagReporter = (*mirror)(nil)

// lagTracker keeps, for each partition a mirror task reads, what its
// fetches said of the partition's end and what its Polls handed over, so
// that Lag can answer from another goroutine without asking the cluster.
type lagTracker struct {
	mu    sync.Mutex
	parts map[topicPartition]*partitionLag
}

type partitionLag struct {
	sp  map[string]any // the SourcePartition, shared with the records
	end int64          // the last stable offset the latest fetch saw; -1: none yet
	pos int64          // the offset after the last record handed over; -1: none yet
	// latency is the age of the last record handed over when its Poll
	// returned.
	latency time.Duration
}

// observe takes one Poll's fetches, all of whose records the Poll hands
// over, at now. Control records (transaction markers, which the client
// keeps so that the position passes them) move the position and are not
// handed over; they carry no record time.
//
// The end is the last stable offset: a read_committed consumer reads no
// further (Kafka's records-lag counts to it too); it is the high
// watermark when no transaction is open.
func (l *lagTracker) observe(fetches kgo.Fetches, partitions map[string]map[int32]map[string]any, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		if fp.Err != nil {
			return
		}
		sp, ok := partitions[fp.Topic][fp.Partition]
		if !ok {
			return
		}
		tp := topicPartition{fp.Topic, fp.Partition}
		p := l.parts[tp]
		if p == nil {
			if l.parts == nil {
				l.parts = map[topicPartition]*partitionLag{}
			}
			p = &partitionLag{sp: sp, end: -1, pos: -1}
			l.parts[tp] = p
		}
		end := fp.LastStableOffset
		if end < 0 {
			end = fp.HighWatermark
		}
		p.end = max(p.end, end)
		for i := len(fp.Records) - 1; i >= 0; i-- {
			r := fp.Records[i]
			if i == len(fp.Records)-1 {
				p.pos = r.Offset + 1
			}
			if !r.Attrs.IsControl() {
				p.latency = max(now.Sub(r.Timestamp), 0)
				break
			}
		}
	})
}

// lag answers Lag. A partition is left out until a Poll handed over one
// of its records: before, its position is not known here.
func (l *lagTracker) lag() []connector.SourceLag {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]connector.SourceLag, 0, len(l.parts))
	for _, p := range l.parts {
		if p.end < 0 || p.pos < 0 {
			continue
		}
		sl := connector.SourceLag{Partition: p.sp, Records: max(p.end-p.pos, 0)}
		if sl.Records > 0 {
			sl.Latency = p.latency
		}
		out = append(out, sl)
	}
	return out
}

// Lag reports, for each partition this task has handed records of over,
// how many records the source cluster holds past them (up to the last
// stable offset its latest fetch saw) and how old the last one was when
// it was polled.
func (s *mirror) Lag() []connector.SourceLag { return s.lags.lag() }
