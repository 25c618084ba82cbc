package kafka

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Topic is a topic to create.
type Topic struct {
	Name              string
	Partitions        int32 // 0 or -1: the broker's default (num.partitions)
	ReplicationFactor int16 // 0 or -1: the broker's default (default.replication.factor)
	Configs           map[string]string
}

// TopicError is the error of creating one topic.
type TopicError struct {
	Topic string
	Err   error // a kerr.Error when the broker refused
}

func (e *TopicError) Error() string { return fmt.Sprintf("create topic %q: %v", e.Topic, e.Err) }
func (e *TopicError) Unwrap() error { return e.Err }

// EnsureTopics creates every topic that does not exist yet. A topic that
// already exists is left as it is, whatever its partitions and configs:
// workers racing to create the same topics is normal, and the loser of the
// race succeeds too. Every failure is returned, joined, each a *TopicError.
func EnsureTopics(ctx context.Context, adm *kadm.Client, topics ...Topic) error {
	var errs []error
	for _, t := range topics {
		if t.Name == "" {
			errs = append(errs, &TopicError{Topic: t.Name, Err: errors.New("the topic name is empty")})
			continue
		}
		partitions, rf := t.Partitions, t.ReplicationFactor
		if partitions == 0 {
			partitions = -1
		}
		if rf == 0 {
			rf = -1
		}
		var configs map[string]*string
		if len(t.Configs) > 0 {
			configs = make(map[string]*string, len(t.Configs))
			for k, v := range t.Configs {
				configs[k] = &v
			}
		}
		_, err := adm.CreateTopic(ctx, partitions, rf, configs, t.Name)
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			errs = append(errs, &TopicError{Topic: t.Name, Err: err})
		}
	}
	return errors.Join(errs...)
}

// Partition counts of a fleet's internal topics. They cannot be lowered
// once the topics exist, and records are routed by key, so that all the
// records of one key stay ordered in one partition.
const (
	// ConfigsPartitions is 1: the configs topic is one ordered log, so
	// that an apply's state records and its commit record are read in the
	// order they were written (as Kafka Connect requires of
	// config.storage.topic).
	ConfigsPartitions = 1
	// OffsetsPartitions is Kafka Connect's offset.storage.partitions
	// default: source offsets are the most written internal records, one
	// key per source partition, and more partitions spread that load over
	// the brokers while costing a worker only a little more to read back.
	OffsetsPartitions = 25
	// StatusPartitions is Kafka Connect's status.storage.partitions
	// default: status records are small and rare.
	StatusPartitions = 5
)

// InternalTopics returns a fleet's internal topics: <fleet>.configs,
// <fleet>.offsets and <fleet>.status, all compacted, with the broker's
// default replication factor.
func InternalTopics(fleet string) []Topic {
	compact := func() map[string]string { return map[string]string{"cleanup.policy": "compact"} }
	return []Topic{
		{Name: fleet + ".configs", Partitions: ConfigsPartitions, ReplicationFactor: -1, Configs: compact()},
		{Name: fleet + ".offsets", Partitions: OffsetsPartitions, ReplicationFactor: -1, Configs: compact()},
		{Name: fleet + ".status", Partitions: StatusPartitions, ReplicationFactor: -1, Configs: compact()},
	}
}
