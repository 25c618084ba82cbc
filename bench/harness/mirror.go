package harness

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	stdkafka "github.com/pipectl/pipectl/stdlib/kafka"
)

// The mirror scenario copies the input topic from one broker (the origin,
// the scenario's seeded broker) to another (the target, where the fleets
// run), as MirrorMaker 2 does: pipectl with source "kafka" and checkpoints
// of a consumer group of the origin, the baseline with a plain franz-go
// consume → produce loop.

// mirrorGroup is the origin's consumer group the mirror checkpoints; its
// offsets are committed at half of each partition before the runs.
const mirrorGroup = "bench"

// mirrorAddress is the address of the mirror pipeline.
const mirrorAddress = "source.kafka.bench"

// mirrorTasks is how many tasks the mirror pipeline has: one reads the six
// partitions; with the two brokers and the worker on two cores a second
// task was slower, one more consumer, syncer and checkpointer to start (see
// docs/performance.md).
const mirrorTasks = 1

func runMirror(ctx context.Context, e *env) (*Result, error) {
	target, err := startBroker(ctx, e.cfg.Pipectl, e.logPath("target-broker"))
	if err != nil {
		return nil, err
	}
	defer target.close()
	e.fleet = target
	defer func() { e.fleet = nil }()
	if err := commitHalf(ctx, e.broker, mirrorGroup, e.input.Topic); err != nil {
		return nil, err
	}
	topicOut := topicOutput(func(e *env) int64 { return e.input.Records })
	return runThroughput(ctx, e, throughput{
		records: e.input.Records,
		bytes:   e.input.Bytes + e.input.KeyBytes,
		output: func(ctx context.Context, e *env, name string) (*output, error) {
			// The target is <prefix><input>: a topic_prefix per run, as
			// checkpoints need (not one fixed topic).
			out, err := topicOut(ctx, e, name+"."+e.input.Topic)
			if err != nil {
				return nil, err
			}
			// The partition too: the mirror keeps it.
			out.records = func(ctx context.Context) ([]string, error) {
				return target.readAllPartitioned(ctx, out.target, e.input.Records)
			}
			if i, ok := strings.CutPrefix(name, "pipectl."); ok {
				// The fleet's offset syncs and checkpoints: logged, and
				// deleted with the output.
				fleet := e.fleetName(atoi(i))
				syncs, ckpts := stdkafka.OffsetSyncsTopic(fleet, mirrorAddress), stdkafka.CheckpointsTopic(fleet, mirrorAddress)
				out.verify = func() error {
					ns, err1 := target.count(ctx, syncs)
					nc, err2 := target.count(ctx, ckpts)
					if err1 != nil || err2 != nil {
						return fmt.Errorf("counting the offset syncs and checkpoints: %v %v", err1, err2)
					}
					if ns == 0 {
						return fmt.Errorf("%s holds no offset sync: the mirror ran without them", syncs)
					}
					e.logf("%s: %d offset syncs, %d checkpoint records", fleet, ns, nc)
					return nil
				}
				cleanup := out.cleanup
				out.cleanup = func() {
					cleanup()
					if err := target.deleteTopics(context.WithoutCancel(ctx), syncs, ckpts); err != nil {
						e.logf("deleting %s, %s: %v", syncs, ckpts, err)
					}
				}
			}
			return out, nil
		},
		pipeline: func(e *env, out string) string {
			return fmt.Sprintf(`source "kafka" "bench" {
  brokers             = [%q]
  topics              = [%q]
  topic_prefix        = %q
  key_converter       = "bytes"
  value_converter     = "bytes"
  tasks               = %d
  groups              = [%q]
  checkpoint_interval = "1s"
}
`, e.broker.addr, e.input.Topic, strings.TrimSuffix(out, e.input.Topic), mirrorTasks, mirrorGroup)
		},
		baseline: func(e *env, out, _ string) []string {
			return []string{"-name", "mirror", "-brokers", e.broker.addr, "-target-brokers", target.addr,
				"-input", e.input.Topic, "-output", out}
		},
	})
}

// commitHalf commits group's offsets on b at half of each partition of
// topic, as a consumer halfway through would have.
func commitHalf(ctx context.Context, b *broker, group, topic string) error {
	ends, err := b.adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return err
	}
	offs := kadm.Offsets{}
	ends.Each(func(o kadm.ListedOffset) { offs.AddOffset(topic, o.Partition, o.Offset/2, -1) })
	resp, err := b.adm.CommitOffsets(ctx, group, offs)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		return fmt.Errorf("committing the offsets of group %s on the origin: %w", group, err)
	}
	return nil
}

// readAllPartitioned is readAll with each record's partition first:
// "PARTITION\x00KEY\x00VALUE".
func (b *broker) readAllPartitioned(ctx context.Context, topic string, n int64) ([]string, error) {
	out := make([]string, 0, n)
	err := b.each(ctx, topic, n, func(r *kgo.Record) {
		out = append(out, strconv.Itoa(int(r.Partition))+"\x00"+string(r.Key)+"\x00"+string(r.Value))
	})
	return out, err
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
