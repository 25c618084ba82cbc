package kafka

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/connector"
)

// A mirror keeps offset syncs, as MirrorMaker 2's mm2-offset-syncs topic
// does: points where a record of a source partition (upstream offset) was
// stored in the fleet's cluster (downstream topic, partition and offset).
// They are written, once the records are acknowledged, to a compacted topic
// of the fleet's cluster, <fleet>.mirror.<name>.offset-syncs, and kept in
// memory to translate the origin's consumer group offsets (checkpoints).
//
// A sync (u, d) says that origin record u is stored at d, and every origin
// record after u at an offset after d (a later record is produced after it,
// or again in a later run of the task, after everything before). So a group
// that committed o on the origin may commit d on the target when o == u,
// and d+1 when o > u: it reads again the records between u and o (at most
// offset_lag_max of them), and never skips one.

// mirrorTopic names one of a mirror's own topics in the fleet's cluster:
// <fleet>.mirror.<name>.<what>, where name is the address without
// "source.kafka." and with an instance key's brackets and quotes turned into
// a dot (source.kafka.dr["eu"] is dr.eu). Without a fleet (a task run by a
// test) the fleet part is "pipectl".
func mirrorTopic(fleet, address, what string) string {
	if fleet == "" {
		fleet = "pipectl"
	}
	name := strings.TrimPrefix(address, "source.kafka.")
	name = strings.NewReplacer(`["`, ".", `"]`, "", "[", ".", "]", "", `"`, "").Replace(name)
	var sb strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			sb.WriteRune(r)
		default:
			sb.WriteByte('_')
		}
	}
	return fleet + ".mirror." + sb.String() + "." + what
}

// mirrorInternalRE matches the names mirrorTopic builds.
var mirrorInternalRE = regexp.MustCompile(`\.mirror\.[A-Za-z0-9_.-]+\.(offset-syncs|checkpoints)$`)

// mirrorInternal reports whether topic is one of a mirror's own topics,
// which a topics_regex never mirrors (MirrorMaker 2 leaves its internal
// topics out the same way): in an active/active pair they would be copied
// into the other cluster.
func mirrorInternal(topic string) bool { return mirrorInternalRE.MatchString(topic) }

// OffsetSyncsTopic names the offset syncs topic of the mirror at address.
func OffsetSyncsTopic(fleet, address string) string {
	return mirrorTopic(fleet, address, "offset-syncs")
}

// CheckpointsTopic names the checkpoints topic of the mirror at address:
// the origin's group offsets, translated.
func CheckpointsTopic(fleet, address string) string {
	return mirrorTopic(fleet, address, "checkpoints")
}

// syncKey and syncValue are an offset sync record's key and value (JSON).
type syncKey struct {
	Topic     string `json:"topic"` // of the origin
	Partition int32  `json:"partition"`
}

type syncValue struct {
	Upstream   int64  `json:"upstream"`
	Topic      string `json:"downstream_topic"`
	Partition  int32  `json:"downstream_partition"`
	Downstream int64  `json:"downstream"`
}

// How many syncs a partition's history keeps. A group's offset translates
// to within offset_lag_max records when the syncs after it are all kept,
// so the syncs from the oldest offset of the checkpointed groups on (the
// floor) are kept, up to maxKept; the ones before the floor are thinned
// to about maxSyncs/2, reaching back to the first with points further
// apart the older they are.
const (
	maxSyncs = 64
	maxKept  = 8192
)

// syncHistory holds a source partition's offset syncs in the order they were
// written, for one downstream partition.
type syncHistory struct {
	topic     string
	partition int32
	syncs     []syncValue
	// floor is the oldest offset of the checkpointed groups on this
	// partition at the last checkpoint; -1 keeps every sync (up to
	// maxKept): no checkpoint yet, or no group has an offset here.
	floor int64
	// pending is the last acknowledged record, not yet a sync, when
	// hasPending.
	pending    syncValue
	hasPending bool
	lastAt     time.Time // when the last sync was written
}

func newSyncHistory() *syncHistory { return &syncHistory{floor: -1} }

// add records s, and thins the history when it is full (maxSyncs, maxKept).
func (h *syncHistory) add(s syncValue) {
	if h.topic != s.Topic || h.partition != s.Partition {
		// Records now go elsewhere (a transform routes them): what was
		// known translates into another partition.
		h.syncs, h.topic, h.partition = h.syncs[:0], s.Topic, s.Partition
	}
	h.syncs = append(h.syncs, s)
	if len(h.syncs) <= maxSyncs {
		return
	}
	old := 0 // the syncs before the floor, oldest first
	if h.floor >= 0 {
		for old < len(h.syncs) && h.syncs[old].Upstream < h.floor {
			old++
		}
	}
	switch {
	case old > maxSyncs/2:
		h.thin(old)
	case len(h.syncs) > maxKept:
		h.thin(len(h.syncs) / 2)
	}
}

// thin drops every other sync of the first n but the oldest and the
// newest of them (the one just before the floor, which translates the
// oldest group's offset).
func (h *syncHistory) thin(n int) {
	kept := h.syncs[:0]
	for i, x := range h.syncs {
		if i == 0 || i >= n-1 || i%2 == 1 {
			kept = append(kept, x)
		}
	}
	h.syncs = kept
}

// translate returns the downstream offset a group that committed offset
// (the next record to read) on the origin may commit: from the newest sync
// at or before it. ok is false when every sync is after it.
func (h *syncHistory) translate(offset int64) (int64, bool) {
	for i := len(h.syncs) - 1; i >= 0; i-- {
		s := h.syncs[i]
		switch {
		case s.Upstream == offset:
			return s.Downstream, true
		case s.Upstream < offset:
			return s.Downstream + 1, true
		}
	}
	return 0, false
}

// syncer writes a mirror task's offset syncs and keeps their history.
type syncer struct {
	cl      *kgo.Client // the fleet's cluster
	log     *slog.Logger
	topic   string
	lagMax  int64
	history map[syncKey]*syncHistory
	// keep is true when checkpoints translate with the history; without
	// them only the last sync of a partition is kept.
	keep   bool
	failed atomic.Bool // a write failed since the last one that did not
	polls  []poll      // Polls not acknowledged yet, oldest first
}

// syncIdle is how long the last record of a partition may wait to become a
// sync when no other record comes, so that a caught-up group translates
// exactly.
const syncIdle = time.Second

func newSyncer(ctx context.Context, fleet []kgo.Opt, topic string, lagMax int64, log *slog.Logger) (*syncer, error) {
	cl, err := kgo.NewClient(append(fleet, kgo.DefaultProduceTopic(topic), kgo.ProducerLinger(50*time.Millisecond))...)
	if err != nil {
		return nil, err
	}
	s := &syncer{cl: cl, log: log, topic: topic, lagMax: max(lagMax, 1), history: map[syncKey]*syncHistory{}}
	if err := ensureCompacted(ctx, cl, topic); err != nil {
		cl.Close()
		return nil, fmt.Errorf("creating the offset syncs topic %s: %w", topic, err)
	}
	return s, nil
}

// ensureCompacted creates topic, one compacted partition, unless it exists.
func ensureCompacted(ctx context.Context, cl *kgo.Client, topic string) error {
	compact := "compact"
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, 1, -1, map[string]*string{"cleanup.policy": &compact}, topic)
	if err == nil {
		err = resp.Err
	}
	if errors.Is(err, kerr.TopicAlreadyExists) {
		return nil
	}
	return classify(err)
}

// load reads the syncs written before, for the partitions this task
// mirrors, so that a restarted task translates offsets older than its own
// syncs.
func (s *syncer) load(ctx context.Context, mine map[string]map[int32]map[string]any) error {
	recs, err := readCompacted(ctx, s.cl, s.topic)
	if err != nil {
		return fmt.Errorf("reading the offset syncs topic %s: %w", s.topic, err)
	}
	for _, r := range recs {
		var k syncKey
		var v syncValue
		if json.Unmarshal(r.Key, &k) != nil || json.Unmarshal(r.Value, &v) != nil {
			s.log.Warn("offset sync record not understood, skipped", "topic", s.topic, "offset", r.Offset)
			continue
		}
		if _, ok := mine[k.Topic][k.Partition]; ok && s.keep {
			s.historyOf(k).add(v)
		}
	}
	return nil
}

func (s *syncer) historyOf(k syncKey) *syncHistory {
	h := s.history[k]
	if h == nil {
		h = newSyncHistory()
		s.history[k] = h
	}
	return h
}

// A poll is what the syncer needs of one Poll's records that are not
// acknowledged yet: where each came from in the origin. Their
// SourceOffset is set on the last record of each source partition only
// (the SDK asks no more), so the origin offset of each record is kept here,
// beside the records, instead of a map on every record.
type poll struct {
	first *connector.Record // &recs[0]: Acked gets the slice Poll returned
	n     int
	at    []int64   // at[i] is the origin offset of recs[i]
	runs  []pollRun // the records of each source partition, in order
}

// pollRun says that the records before end (from the previous run's end)
// came from the source partition key.
type pollRun struct {
	key syncKey
	end int
}

// maxPolls bounds the polls kept for acknowledgement: the source loop has
// at most a few dozen in flight; a Poll never acknowledged (a test, a task
// that failed) is dropped after that many more.
const maxPolls = 1024

// polled keeps where a Poll's records came from, for acked.
func (s *syncer) polled(p poll) {
	if p.n == 0 {
		return
	}
	if len(s.polls) >= maxPolls {
		s.polls[0] = poll{}
		s.polls = s.polls[1:]
	}
	s.polls = append(s.polls, p)
}

// take returns, and forgets, the poll of recs, and the polls before it
// (acknowledgements come in the order of the Polls, so those never will).
func (s *syncer) take(recs []connector.Record) (poll, bool) {
	if len(recs) == 0 {
		return poll{}, false
	}
	for i, p := range s.polls {
		if p.first == &recs[0] && p.n == len(recs) {
			clear(s.polls[:i+1])
			s.polls = s.polls[i+1:]
			return p, true
		}
	}
	return poll{}, false
}

// acked turns acknowledged records into syncs: the first of a partition in
// this run, one offset_lag_max after the last sync, and the last one of a
// partition after syncIdle (flush).
func (s *syncer) acked(recs []connector.Record) {
	p, ok := s.take(recs)
	if !ok {
		// Not a slice Poll returned: no sync is better than a wrong one.
		s.log.Warn("acknowledged records of no known poll: no offset syncs for them", "records", len(recs))
		s.flush(false)
		return
	}
	start := 0
	for _, run := range p.runs {
		h := s.historyOf(run.key)
		for i := start; i < run.end; i++ {
			r := &recs[i]
			if r.Offset < 0 {
				continue // filtered or dead-lettered: not in the target
			}
			v := syncValue{Upstream: p.at[i], Topic: r.Topic, Partition: r.Partition, Downstream: r.Offset}
			last := len(h.syncs) - 1
			switch {
			case last < 0, h.lastAt.IsZero(), h.topic != v.Topic, h.partition != v.Partition,
				v.Upstream-h.syncs[last].Upstream >= s.lagMax, v.Upstream < h.syncs[last].Upstream:
				s.write(run.key, h, v)
			default:
				h.pending, h.hasPending = v, true
			}
		}
		start = run.end
	}
	s.flush(false)
}

// flush writes the pending last records that waited syncIdle (all: every
// one).
func (s *syncer) flush(all bool) {
	now := time.Now()
	for k, h := range s.history {
		if h.hasPending && (all || now.Sub(h.lastAt) >= syncIdle) {
			s.write(k, h, h.pending)
		}
	}
}

func (s *syncer) write(k syncKey, h *syncHistory, v syncValue) {
	h.add(v)
	if !s.keep {
		h.syncs = append(h.syncs[:0], v)
	}
	h.hasPending, h.lastAt = false, time.Now()
	key, _ := json.Marshal(k)
	value, _ := json.Marshal(v)
	s.cl.Produce(context.Background(), &kgo.Record{Key: key, Value: value}, func(_ *kgo.Record, err error) {
		// A lost sync only makes translation coarser: the ones before
		// stay true.
		switch {
		case err == nil:
			s.failed.Store(false)
		case !s.failed.Swap(true):
			s.log.Warn("writing an offset sync failed", "topic", s.topic, "error", err)
		}
	})
}

func (s *syncer) close() {
	s.flush(true)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.cl.Flush(ctx)
	s.cl.Close()
}

// readCompacted reads topic from its start to its current end.
func readCompacted(ctx context.Context, cl *kgo.Client, topic string) ([]*kgo.Record, error) {
	adm := kadm.NewClient(cl)
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, classify(err)
	}
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, classify(err)
	}
	assign := map[int32]kgo.Offset{}
	left := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if start, ok := starts.Lookup(topic, o.Partition); ok && o.Offset > start.Offset {
			assign[o.Partition] = kgo.NewOffset().At(start.Offset)
			left[o.Partition] = o.Offset
		}
	})
	if len(assign) == 0 {
		return nil, nil
	}
	opts := cl.Opts()
	rd, err := kgo.NewClient(append(opts[:len(opts):len(opts)],
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: assign}), kgo.FetchMaxWait(200*time.Millisecond))...)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	var recs []*kgo.Record
	for len(left) > 0 {
		fs := rd.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var ferr error
		fs.EachError(func(_ string, _ int32, err error) { ferr = err })
		if ferr != nil {
			return nil, classify(ferr)
		}
		fs.EachRecord(func(r *kgo.Record) {
			end, ok := left[r.Partition]
			if !ok || r.Offset >= end {
				return
			}
			recs = append(recs, r)
			if r.Offset >= end-1 {
				delete(left, r.Partition)
			}
		})
		// A compacted tail may end before the end offset: stop at the
		// high watermark of what was fetched.
		fs.EachPartition(func(p kgo.FetchTopicPartition) {
			if end, ok := left[p.Partition]; ok && p.HighWatermark >= end && len(p.Records) == 0 {
				delete(left, p.Partition)
			}
		})
	}
	return recs, nil
}
