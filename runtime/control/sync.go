package control

import (
	"context"
	"fmt"

	"github.com/pipectl/pipectl/runtime/kafka"
)

// Sync makes the state hold exactly the given resources, in one commit:
// it writes the new and changed ones and deletes the others. It returns the
// new serial and the changed addresses; with nothing to change it commits
// nothing and returns the current serial. It is the whole apply of
// pipectl dev; plan/apply replaces it with a reviewed plan.
func (c *Control) Sync(ctx context.Context, resources []*Resource, info CommitInfo) (int64, []string, error) {
	st, err := c.ReadState(ctx)
	if err != nil {
		return 0, nil, err
	}
	want := map[string]*Resource{}
	var changes []Change
	for _, r := range resources {
		want[r.Address] = r
		if old, ok := st.Resources[r.Address]; !ok || old.Hash() != r.Hash() {
			changes = append(changes, Change{Address: r.Address, Resource: r})
		}
	}
	for _, old := range st.Sorted() {
		if _, ok := want[old.Address]; !ok {
			changes = append(changes, Change{Address: old.Address})
		}
	}
	if len(changes) == 0 {
		return st.Serial, nil, nil
	}
	serial, err := c.Commit(ctx, changes, st.Serial, info)
	if err != nil {
		return 0, nil, err
	}
	changed := make([]string, len(changes))
	for i, ch := range changes {
		changed[i] = ch.Address
	}
	return serial, changed, nil
}

// EnsureTopicResources creates the topics of the given resources that do
// not exist and adds partitions to those that have fewer than declared
// (partitions only grow).
func (c *Control) EnsureTopicResources(ctx context.Context, resources []*Resource) error {
	var topics []kafka.Topic
	want := map[string]int32{}
	for _, r := range resources {
		if r.Kind != KindTopic || r.Topic == nil {
			continue
		}
		t := r.Topic
		topics = append(topics, kafka.Topic{Name: t.Name, Partitions: t.Partitions, ReplicationFactor: t.ReplicationFactor, Configs: t.Config})
		want[t.Name] = t.Partitions
	}
	if len(topics) == 0 {
		return nil
	}
	if err := kafka.EnsureTopics(ctx, c.adm, topics...); err != nil {
		return err
	}
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	details, err := c.adm.ListTopics(ctx, names...)
	if err != nil {
		return fmt.Errorf("describe topics: %w", err)
	}
	for _, d := range details.Sorted() {
		if have := int32(len(d.Partitions)); d.Err == nil && have < want[d.Topic] {
			resp, err := c.adm.UpdatePartitions(ctx, int(want[d.Topic]), d.Topic)
			if err == nil {
				err = resp.Error()
			}
			if err != nil {
				return fmt.Errorf("grow topic %s from %d to %d partitions: %w", d.Topic, have, want[d.Topic], err)
			}
		}
	}
	return nil
}
