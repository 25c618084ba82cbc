package control

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TopicMeta is what a metadata request says about one topic.
type TopicMeta struct {
	Partitions        int32
	ReplicationFactor int16 // replicas of partition 0
}

// DescribeTopics returns the topics among names that exist, asking a
// broker now: kadm's ListTopics may answer from the client's metadata
// cache, up to several seconds old, which misses a topic created or deleted
// just before. Planning and applying need the answer of now.
func (c *Control) DescribeTopics(ctx context.Context, names ...string) (map[string]TopicMeta, error) {
	out := map[string]TopicMeta{}
	if len(names) == 0 {
		return out, nil
	}
	req := kmsg.NewPtrMetadataRequest()
	for _, n := range names {
		t := kmsg.NewMetadataRequestTopic()
		t.Topic = kmsg.StringPtr(n)
		req.Topics = append(req.Topics, t)
	}
	resp, err := req.RequestWith(ctx, c.cl)
	if err != nil {
		return nil, fmt.Errorf("control: describe topics: %w", err)
	}
	for _, t := range resp.Topics {
		if t.Topic == nil {
			continue
		}
		err := kerr.ErrorForCode(t.ErrorCode)
		switch {
		case errors.Is(err, kerr.UnknownTopicOrPartition):
			continue
		case err != nil:
			return nil, fmt.Errorf("control: describe topic %s: %w", *t.Topic, err)
		}
		m := TopicMeta{Partitions: int32(len(t.Partitions))}
		for _, p := range t.Partitions {
			if p.Partition == 0 {
				m.ReplicationFactor = int16(len(p.Replicas))
			}
		}
		out[*t.Topic] = m
	}
	return out, nil
}
