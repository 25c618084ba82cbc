package planner

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/pipectl/pipectl/lang"
	"github.com/pipectl/pipectl/planner/plan"
	"github.com/pipectl/pipectl/runtime/control"
)

// controlTopics reports which of the fleet's own topics exist.
func controlTopics(ctx context.Context, ctl *control.Control) (configs, status bool, err error) {
	td, err := ctl.DescribeTopics(ctx, ctl.ConfigsTopic(), ctl.StatusTopic())
	if err != nil {
		return false, false, fmt.Errorf("list the fleet's topics: %w", err)
	}
	ok := func(name string) bool { return td[name].Partitions > 0 }
	return ok(ctl.ConfigsTopic()), ok(ctl.StatusTopic()), nil
}

// ReadState reads the fleet's committed state. A fleet that was never
// applied (its configs topic does not exist yet) has an empty state at
// control.NoSerial; ReadState creates nothing.
func ReadState(ctx context.Context, ctl *control.Control) (*control.State, error) {
	configs, _, err := controlTopics(ctx, ctl)
	if err != nil {
		return nil, err
	}
	if !configs {
		return &control.State{Serial: control.NoSerial, Resources: map[string]*control.Resource{}}, nil
	}
	return readState(ctx, ctl)
}

// readState reads the state, retrying for a few seconds while the client
// does not know yet the configs topic that was just created.
func readState(ctx context.Context, ctl *control.Control) (*control.State, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := ctl.ReadState(ctx)
		if err == nil || !errors.Is(err, kerr.UnknownTopicOrPartition) || time.Now().After(deadline) {
			return st, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// TopicNames lists the Kafka topics a plan looks at: those of the
// configuration, of its import blocks and of the state.
func TopicNames(cfg *lang.Config, st *control.State) []string {
	set := map[string]bool{}
	if cfg != nil {
		for _, t := range cfg.Topics {
			set[t.Name] = true
		}
		for _, imp := range cfg.Imports {
			if imp.ID != "" {
				set[imp.ID] = true
			}
		}
		for name := range deadLetterTopics(cfg) {
			set[name] = true
		}
	}
	for _, r := range st.Resources {
		if r.Kind == control.KindTopic && r.Topic != nil {
			set[r.Topic.Name] = true
		}
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Refresh reads what the cluster says about the named topics (partitions,
// replication factor, the configs set on each), the fleet's status topic,
// the intents of interrupted applies, and the offsets that import blocks
// carry over to pipelines: the committed offsets of a consumer_group, the
// saved offsets of a Kafka Connect connector in connect_offsets_topic.
func Refresh(ctx context.Context, ctl *control.Control, topics []string, imports ...*lang.Import) (*Live, error) {
	live := &Live{Topics: map[string]LiveTopic{}, Intents: map[string]int64{},
		GroupOffsets: map[string][]plan.PartitionOffset{}, ConnectOffsets: map[string][]control.SourceOffset{}}
	for _, imp := range imports {
		switch {
		case imp.ConsumerGroup != "":
			offs, err := groupOffsets(ctx, ctl, imp.ConsumerGroup)
			if err != nil {
				return nil, err
			}
			if len(offs) > 0 {
				live.GroupOffsets[imp.ConsumerGroup] = offs
			}
		case imp.ConnectOffsetsTopic != "":
			offs, err := ctl.ReadConnectOffsets(ctx, imp.ConnectOffsetsTopic, imp.Connector)
			if err != nil {
				return nil, fmt.Errorf("read Kafka Connect's offsets topic %s: %w", imp.ConnectOffsetsTopic, err)
			}
			live.ConnectOffsets[connectKey(imp.ConnectOffsetsTopic, imp.Connector)] = offs
		}
	}
	configs, status, err := controlTopics(ctx, ctl)
	if err != nil {
		return nil, err
	}
	if status {
		if live.Status, err = ctl.ReadStatus(ctx); err != nil {
			return nil, err
		}
	}
	if configs {
		if live.Intents, err = ctl.ReadIntents(ctx); err != nil {
			return nil, err
		}
	}
	if len(topics) == 0 {
		return live, nil
	}
	adm := ctl.Admin()
	td, err := ctl.DescribeTopics(ctx, topics...)
	if err != nil {
		return nil, err
	}
	var existing []string
	for _, name := range topics {
		m, ok := td[name]
		if !ok {
			continue
		}
		live.Topics[name] = LiveTopic{Partitions: m.Partitions, ReplicationFactor: m.ReplicationFactor, Config: map[string]string{}}
		existing = append(existing, name)
	}
	if len(existing) == 0 {
		return live, nil
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, existing...)
	if err != nil {
		return nil, fmt.Errorf("describe topic configs: %w", err)
	}
	for _, rc := range rcs {
		if rc.Err != nil {
			return nil, fmt.Errorf("describe the configs of topic %s: %w", rc.Name, rc.Err)
		}
		lt, ok := live.Topics[rc.Name]
		if !ok {
			continue
		}
		for _, c := range rc.Configs {
			if c.Source == kmsg.ConfigSourceDynamicTopicConfig && c.Value != nil {
				lt.Config[c.Key] = *c.Value
			}
		}
	}
	return live, nil
}

// groupOffsets reads the committed offsets of a consumer group, sorted by
// topic and partition; none for a group that does not exist.
func groupOffsets(ctx context.Context, ctl *control.Control, group string) ([]plan.PartitionOffset, error) {
	resp, err := ctl.Admin().FetchOffsets(ctx, group)
	if err == nil {
		err = resp.Error()
	}
	if errors.Is(err, kerr.GroupIDNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the offsets of consumer group %s: %w", group, err)
	}
	var out []plan.PartitionOffset
	resp.Offsets().Each(func(o kadm.Offset) {
		if o.At >= 0 {
			out = append(out, plan.PartitionOffset{Topic: o.Topic, Partition: o.Partition, Offset: o.At})
		}
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Partition < out[j].Partition
	})
	return out, nil
}
