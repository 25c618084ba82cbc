package kafka

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Heartbeats are MirrorMaker 2's MirrorHeartbeatConnector: with heartbeats
// = true, task 0 of a mirror writes a record every heartbeat_interval to
// the origin's topic heartbeats, and the mirror copies that topic with the
// others (to <prefix>heartbeats, or as the replication policy names it).
// In the fleet's cluster each copy's timestamp, against the time it
// arrived, is the replication latency end to end, and the source's lag
// (pipectl.source.latency of partition heartbeats/0) shows it while no
// other record flows.

// HeartbeatsTopic is the origin's topic the heartbeats go to.
const HeartbeatsTopic = "heartbeats"

// Heartbeat is the value of a heartbeat record (JSON); its key names the
// mirror that wrote it.
type Heartbeat struct {
	Fleet    string    `json:"fleet"`
	Pipeline string    `json:"pipeline"`
	Time     time.Time `json:"time"`
}

type heartbeater struct {
	cl     *kgo.Client // the origin
	key    []byte
	fleet  string
	addr   string
	every  time.Duration
	next   time.Time
	log    *slog.Logger
	failed atomic.Bool
}

// newHeartbeater makes the origin's heartbeats topic exist and returns
// the writer of task 0.
func newHeartbeater(ctx context.Context, origin []kgo.Opt, tc fleetPipeline, every time.Duration, log *slog.Logger) (*heartbeater, error) {
	cl, err := kgo.NewClient(append(origin[:len(origin):len(origin)], kgo.DefaultProduceTopic(HeartbeatsTopic))...)
	if err != nil {
		return nil, err
	}
	if err := ensureCompacted(ctx, cl, HeartbeatsTopic); err != nil {
		cl.Close()
		return nil, fmt.Errorf("creating the origin's %s topic: %w", HeartbeatsTopic, err)
	}
	key, _ := json.Marshal(map[string]string{"fleet": tc.fleet, "pipeline": tc.pipeline})
	return &heartbeater{cl: cl, key: key, fleet: tc.fleet, addr: tc.pipeline, every: every, log: log}, nil
}

// fleetPipeline names the writer of the heartbeats.
type fleetPipeline struct{ fleet, pipeline string }

// beat writes a heartbeat when one is due. A failed write is logged once
// until one succeeds again; mirroring goes on.
func (h *heartbeater) beat(now time.Time) {
	if h == nil || now.Before(h.next) {
		return
	}
	h.next = now.Add(h.every)
	value, _ := json.Marshal(Heartbeat{Fleet: h.fleet, Pipeline: h.addr, Time: now.UTC()})
	h.cl.Produce(context.Background(), &kgo.Record{Key: h.key, Value: value, Timestamp: now}, func(_ *kgo.Record, err error) {
		switch {
		case err == nil:
			h.failed.Store(false)
		case !h.failed.Swap(true):
			h.log.Warn("writing a heartbeat to the origin failed", "topic", HeartbeatsTopic, "error", err)
		}
	})
}

func (h *heartbeater) close() {
	if h == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = h.cl.Flush(ctx)
	h.cl.Close()
}
