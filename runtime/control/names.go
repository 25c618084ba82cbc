package control

import (
	"strconv"
	"strings"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/kafka"
)

// This file holds every name built from a fleet's name: its internal
// topics, its groups and its transactional and instance ids. Every process
// of a fleet (workers, plan and apply, pipectl's commands) must build the
// same names, so they are built here and nowhere else. A name is the
// fleet's name, a dot and what it names; an address may itself hold dots
// and quotes (sink.kafka.mirror["a.b"]).

// The internal topics of a fleet, by the suffix after <fleet>.
const (
	configsSuffix = "configs"
	offsetsSuffix = "offsets"
	statusSuffix  = "status"
	schemasSuffix = "schemas"
)

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

func fleetName(fleet, what string) string { return fleet + "." + what }

// ConfigsTopic names a fleet's configs topic, its state: <fleet>.configs.
func ConfigsTopic(fleet string) string { return fleetName(fleet, configsSuffix) }

// OffsetsTopic names a fleet's source offsets topic: <fleet>.offsets.
func OffsetsTopic(fleet string) string { return fleetName(fleet, offsetsSuffix) }

// StatusTopic names a fleet's status topic: <fleet>.status.
func StatusTopic(fleet string) string { return fleetName(fleet, statusSuffix) }

// SchemasTopic names a fleet's Schema Registry topic: <fleet>.schemas. It
// has one partition, so that every worker applies its records in one
// order (see runtime/schemaregistry).
func SchemasTopic(fleet string) string { return fleetName(fleet, schemasSuffix) }

// InternalTopics returns a fleet's internal topics, <fleet>.configs,
// <fleet>.offsets, <fleet>.status and <fleet>.schemas, all compacted, with the broker's
// default replication factor.
func InternalTopics(fleet string) []kafka.Topic {
	compact := func() map[string]string { return map[string]string{"cleanup.policy": "compact"} }
	return []kafka.Topic{
		{Name: ConfigsTopic(fleet), Partitions: ConfigsPartitions, ReplicationFactor: -1, Configs: compact()},
		{Name: OffsetsTopic(fleet), Partitions: OffsetsPartitions, ReplicationFactor: -1, Configs: compact()},
		{Name: StatusTopic(fleet), Partitions: StatusPartitions, ReplicationFactor: -1, Configs: compact()},
		{Name: SchemasTopic(fleet), Partitions: 1, ReplicationFactor: -1, Configs: compact()},
	}
}

// InternalTopic reports whether topic is one of the fleet's internal
// topics, and which: "configs", "offsets", "status" or "schemas".
func InternalTopic(fleet, topic string) (role string, ok bool) {
	role, ok = strings.CutPrefix(topic, fleet+".")
	switch {
	case !ok:
		return "", false
	case role == configsSuffix, role == offsetsSuffix, role == statusSuffix, role == schemasSuffix:
		return role, true
	}
	return "", false
}

// WorkersGroup names the group the workers of a fleet join: <fleet>.workers.
func WorkersGroup(fleet string) string { return fleetName(fleet, "workers") }

// ApplyTransactionalID is the fleet's one transactional id of apply (and
// pipectl dev), with which a newer apply fences an older one:
// <fleet>.apply.
func ApplyTransactionalID(fleet string) string { return fleetName(fleet, "apply") }

// SinkGroup names the consumer group of the sink pipeline at address:
// <fleet>.<address>. Its committed offsets are the sink's offsets.
func SinkGroup(fleet, address string) string { return fleetName(fleet, address) }

// TaskID names task number task of the pipeline at address:
// <fleet>.<address>.<task>. It is the static group instance id of a sink
// task's consumer (KIP-345) and the transactional id of an exactly-once
// source task, so that the task's next run, on whichever worker, takes its
// place in the group at once or fences its previous run's transactions.
// ParseTaskID reads it back.
func TaskID(fleet, address string, task int) string {
	return fleetName(fleet, address) + "." + strconv.Itoa(task)
}

// ParseTaskID reads an id that TaskID built for fleet back into the
// pipeline's address and the task number. ok is false when id is not such
// an id: another fleet's, or not a task's at all. The task number is after
// the last dot: an address may hold dots inside a for_each key, a task
// number never does.
func ParseTaskID(fleet, id string) (address string, task int, ok bool) {
	rest, ok := strings.CutPrefix(id, fleet+".")
	if !ok {
		return "", 0, false
	}
	i := strings.LastIndexByte(rest, '.')
	if i < 0 {
		return "", 0, false
	}
	address, num := rest[:i], rest[i+1:]
	task, err := strconv.Atoi(num)
	// Only the form TaskID writes: no sign, no leading zero.
	if err != nil || task < 0 || strconv.Itoa(task) != num || !pipelineAddress(address) {
		return "", 0, false
	}
	return address, task, true
}

// pipelineAddress reports whether address starts as a pipeline's does:
// source.TYPE.NAME or sink.TYPE.NAME.
func pipelineAddress(address string) bool {
	for _, k := range []configschema.Kind{configschema.Source, configschema.Sink} {
		if rest, ok := strings.CutPrefix(address, string(k)+"."); ok && rest != "" {
			return true
		}
	}
	return false
}
