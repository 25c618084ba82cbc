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
