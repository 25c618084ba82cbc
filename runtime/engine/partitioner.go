package engine

import (
	"context"

	"github.com/twmb/franz-go/pkg/kgo"
)

// manualKey marks the records whose partition the source chose.
type manualKey struct{}

// manualPartition is the Context of a record that must go to its
// Partition. It is never cancelled, so franz-go never fails a record
// because of it.
var manualPartition = context.WithValue(context.Background(), manualKey{}, true)

// Partitioner returns the partitioner the fleet producer given to Run must
// use (kgo.RecordPartitioner(engine.Partitioner(nil))): a source record with
// Partition >= 0 goes to exactly that partition, every other record goes
// through inner (nil: franz-go's default, UniformBytesPartitioner(64 KiB,
// adaptive, keys hashed like Kafka)).
func Partitioner(inner kgo.Partitioner) kgo.Partitioner {
	if inner == nil {
		inner = kgo.UniformBytesPartitioner(64<<10, true, true, nil)
	}
	return partitioner{inner}
}

type partitioner struct{ inner kgo.Partitioner }

func (p partitioner) ForTopic(topic string) kgo.TopicPartitioner {
	in := p.inner.ForTopic(topic)
	if b, ok := in.(kgo.TopicBackupPartitioner); ok {
		return &backupTopicPartitioner{topicPartitioner{in}, b}
	}
	return &topicPartitioner{in}
}

func manual(r *kgo.Record) bool { return r.Context == manualPartition }

type topicPartitioner struct{ inner kgo.TopicPartitioner }

func (p *topicPartitioner) RequiresConsistency(r *kgo.Record) bool {
	return manual(r) || p.inner.RequiresConsistency(r)
}

func (p *topicPartitioner) Partition(r *kgo.Record, n int) int {
	if manual(r) {
		return int(r.Partition)
	}
	return p.inner.Partition(r, n)
}

func (p *topicPartitioner) OnNewBatch() {
	if o, ok := p.inner.(kgo.TopicPartitionerOnNewBatch); ok {
		o.OnNewBatch()
	}
}

type backupTopicPartitioner struct {
	topicPartitioner
	backup kgo.TopicBackupPartitioner
}

func (p *backupTopicPartitioner) PartitionByBackup(r *kgo.Record, n int, it kgo.TopicBackupIter) int {
	if manual(r) {
		return int(r.Partition)
	}
	return p.backup.PartitionByBackup(r, n, it)
}
