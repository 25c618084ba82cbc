package kafka

import (
	"fmt"
	"slices"
	"time"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
)

// clusterAttributes describe how to reach the other cluster; without
// brokers the connector uses the fleet's own cluster, with the fleet's
// SASL and TLS settings.
func clusterAttributes(forceReplace bool) []configschema.Attribute {
	return []configschema.Attribute{
		{Name: "brokers", Type: configschema.ListOfString, NonEmpty: true, ForcesReplacement: forceReplace, Description: "Bootstrap brokers of the other cluster, as HOST:PORT. Without brokers, the fleet's own cluster, reached with the fleet's SASL and TLS settings; topic or topic_prefix must then be set, so that records do not go back to the topic they came from."},
		{Name: "sasl_mechanism", Type: configschema.String, Enum: []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}, Description: "SASL mechanism for the other cluster; none when absent. Only with brokers."},
		{Name: "sasl_username", Type: configschema.String, Description: "SASL user name. Only with brokers."},
		{Name: "sasl_password", Type: configschema.String, Sensitive: true, Description: "SASL password. Only with brokers."},
		{Name: "tls", Type: configschema.Bool, Default: false, Description: "Connect with TLS, verifying the brokers against the system roots or tls_ca_file. Only with brokers."},
		{Name: "tls_ca_file", Path: true, PathMustExist: true, Type: configschema.String, Description: "PEM file of the certificate authorities to trust; TLS is on when it is set. Only with brokers."},
	}
}

// clusterRequirements are the rules of the attributes of clusterAttributes:
// SASL needs its mechanism, user name and password together; SASL and TLS
// settings are the other cluster's, so they need its brokers.
func clusterRequirements() []configschema.Requirement {
	return []configschema.Requirement{
		{Attribute: "sasl_mechanism", Requires: []string{"sasl_username", "sasl_password", "brokers"}},
		{Attribute: "sasl_username", Requires: []string{"sasl_mechanism", "brokers"}},
		{Attribute: "sasl_password", Requires: []string{"sasl_mechanism", "brokers"}},
		{Attribute: "tls", Requires: []string{"brokers"}},
		{Attribute: "tls_ca_file", Requires: []string{"brokers"}},
	}
}

// notItself is the group that keeps a connector on the fleet's own
// cluster from writing records back to the topic they came from.
var notItself = []string{"brokers", "topic", "topic_prefix"}

// ClusterConfig is the configuration of clusterAttributes: how to reach
// the other cluster.
type ClusterConfig struct {
	Brokers       []string `pipectl:"brokers"`
	SASLMechanism string   `pipectl:"sasl_mechanism"`
	SASLUsername  string   `pipectl:"sasl_username"`
	SASLPassword  string   `pipectl:"sasl_password"`
	TLS           bool     `pipectl:"tls"`
	TLSCAFile     string   `pipectl:"tls_ca_file"`
}

// SourceConfig is the configuration of source "kafka", as SourceSchema
// declares it.
type SourceConfig struct {
	ClusterConfig
	Topics      []string `pipectl:"topics"`
	TopicsRegex string   `pipectl:"topics_regex"`
	Topic       string   `pipectl:"topic"`
	TopicPrefix string   `pipectl:"topic_prefix"`
	StartFrom   string   `pipectl:"start_from"`

	OffsetSyncs         bool          `pipectl:"offset_syncs"`
	OffsetLagMax        int64         `pipectl:"offset_lag_max"`
	Groups              []string      `pipectl:"groups"`
	GroupsRegex         string        `pipectl:"groups_regex"`
	CheckpointInterval  time.Duration `pipectl:"checkpoint_interval"`
	SyncGroupOffsets    bool          `pipectl:"sync_group_offsets"`
	SkipOwnRecords      bool          `pipectl:"skip_own_records"`
	Heartbeats          bool          `pipectl:"heartbeats"`
	HeartbeatInterval   time.Duration `pipectl:"heartbeat_interval"`
	ReplicationPolicy   string        `pipectl:"replication_policy"`
	SourceAlias         string        `pipectl:"source_alias"`
	TargetAlias         string        `pipectl:"target_alias"`
	RefreshInterval     time.Duration `pipectl:"refresh_interval"`
	SyncTopicConfigs    bool          `pipectl:"sync_topic_configs"`
	SyncTopicACLs       bool          `pipectl:"sync_topic_acls"`
	TopicConfigsExclude []string      `pipectl:"topic_configs_exclude"`
}

// SinkConfig is the configuration of sink "kafka", as SinkSchema declares
// it.
type SinkConfig struct {
	ClusterConfig
	Topic       string `pipectl:"topic"`
	TopicPrefix string `pipectl:"topic_prefix"`
	Acks        string `pipectl:"acks"`
}

// SourceSchema is the configuration of source "kafka".
var SourceSchema = configschema.Schema{
	Kind:        configschema.Source,
	Type:        "kafka",
	Description: "Mirrors topics of another Kafka cluster, or of the fleet's own, into the fleet's cluster, keeping key, value, headers, timestamp and partition. Missing target topics are created with the source's partition count. On the fleet's own cluster, topics that are targets (they start with topic_prefix, or are topic) are never mirrored again. From another cluster, every record gets a pipectl.mirror.origin header with the cluster id of the cluster it was first written to (a record that has one keeps it), and a record whose origin is the fleet's cluster is skipped: an active/active pair of mirrors never loops.",
	Attributes: append(append(clusterAttributes(true),
		configschema.Attribute{Name: "topics", Type: configschema.ListOfString, NonEmpty: true, ForcesReplacement: true, Description: "Topics to mirror. Exactly one of topics and topics_regex is required."},
		configschema.Attribute{Name: "topics_regex", Type: configschema.String, Regexp: true, ForcesReplacement: true, Description: "Regular expression (RE2) of the topics to mirror; it must match a whole topic name."},
		configschema.Attribute{Name: "topic", Type: configschema.String, Description: "One fixed target topic for every mirrored record."},
		configschema.Attribute{Name: "topic_prefix", Type: configschema.String, Default: "", Description: "Prefix added to the source topic name to form the target topic (e.g. \"backup.\"); the same name when empty."},
		configschema.Attribute{Name: "start_from", Type: configschema.String, Default: "earliest", Enum: []string{"earliest", "latest"}, Description: "Where to start in a source partition with no saved offset."},
		configschema.Attribute{Name: "offset_syncs", Type: configschema.Bool, Default: true, Description: "Write offset syncs (where origin offsets were stored in the fleet's cluster) to the compacted topic <fleet>.mirror.<name>.offset-syncs, as MirrorMaker 2's mm2-offset-syncs; checkpoints need them."},
		configschema.Attribute{Name: "offset_lag_max", Type: configschema.Int, Default: int64(100), Min: ptr(int64(1)), Description: "At most this many records of a partition between two offset syncs (MirrorMaker 2's offset.lag.max): a failed-over group reads again at most this many records per partition."},
		configschema.Attribute{Name: "groups", Type: configschema.ListOfString, NonEmpty: true, Description: "Consumer groups of the origin to checkpoint: their committed offsets, translated, go to the compacted topic <fleet>.mirror.<name>.checkpoints, which pipectl mirror failover commits on the fleet's cluster."},
		configschema.Attribute{Name: "groups_regex", Type: configschema.String, Regexp: true, Description: "Regular expression (RE2) of the origin's consumer groups to checkpoint; it must match a whole group name."},
		configschema.Attribute{Name: "checkpoint_interval", Type: configschema.Duration, Default: "1m", MinDuration: "100ms", Description: "How often the groups' offsets are checkpointed (MirrorMaker 2's emit.checkpoints.interval.seconds)."},
		configschema.Attribute{Name: "sync_group_offsets", Type: configschema.Bool, Default: false, Description: "Also commit the checkpointed offsets as the groups' offsets in the fleet's cluster while a group has no member there, never moving it back (MirrorMaker 2's sync.group.offsets.enabled)."},
		configschema.Attribute{Name: "skip_own_records", Type: configschema.Bool, Default: true, Description: "Skip the records whose pipectl.mirror.origin header is the fleet's cluster: they came from it, and copying them back would loop in an active/active pair. false copies them too, to restore the fleet's cluster from its copy on the other one (while no mirror of the other direction runs). The records skipped count as filtered."},
		configschema.Attribute{Name: "heartbeats", Type: configschema.Bool, Default: false, Description: "Write a heartbeat every heartbeat_interval to the origin's topic heartbeats (created when missing, compacted) and mirror that topic too, as MirrorMaker 2's MirrorHeartbeatConnector: its copy in the fleet's cluster shows the replication latency end to end. Needs brokers, and write access to the origin."},
		configschema.Attribute{Name: "heartbeat_interval", Type: configschema.Duration, Default: "1s", MinDuration: "100ms", Description: "How often heartbeats are written (MirrorMaker 2's emit.heartbeats.interval.seconds)."},
		configschema.Attribute{Name: "replication_policy", Type: configschema.String, Default: "prefix", Enum: []string{"prefix", "default", "identity"}, Description: "How target topics are named, as MirrorMaker 2's replication policies. prefix: topic_prefix + the source topic, or the fixed topic. default: MirrorMaker 2's DefaultReplicationPolicy, <source_alias>.<topic> (\"us-east.orders\"); with target_alias, a source topic that came from the fleet's cluster by its name is never mirrored back. identity: MirrorMaker 2's IdentityReplicationPolicy, the source topic's own name; for active/active pairs, records that came from the fleet's cluster are told apart by their pipectl.mirror.origin header. default and identity need brokers, and neither topic nor topic_prefix."},
		configschema.Attribute{Name: "source_alias", Type: configschema.String, Description: "Alias of the cluster this source reads (e.g. \"us-east\"), the prefix of its target topics under replication_policy = \"default\"; required with that policy, and only for it. Letters, digits, \"_\" and \"-\"."},
		configschema.Attribute{Name: "target_alias", Type: configschema.String, Description: "Alias of the fleet's cluster, as the mirror of the other direction names it in its source_alias (only with replication_policy = \"default\"): a source topic whose name has it among its aliases (\"<target_alias>.orders\", \"x.<target_alias>.orders\"), MirrorMaker 2's cycle detection, came from the fleet's cluster and is never mirrored back; topics may not list one."},
	), refreshAttributes()...),
	ExactlyOneOf: [][]string{{"topics", "topics_regex"}},
	AtLeastOneOf: [][]string{notItself},
	// topic and topic_prefix name targets under the prefix policy only.
	ConflictsWith: [][]string{{"topic", "topic_prefix", "replication_policy"}, {"groups", "groups_regex"}},
	RequiredWith:  append(clusterRequirements(), configschema.Requirement{Attribute: "replication_policy", Requires: []string{"brokers"}}),
	Check:         checkMirror,
}

// SinkSchema is the configuration of sink "kafka".
var SinkSchema = configschema.Schema{
	Kind:        configschema.Sink,
	Type:        "kafka",
	Description: "Writes records to topics of another Kafka cluster, or to other topics of the fleet's own (a topic-to-topic copy).",
	Attributes: append(clusterAttributes(false),
		configschema.Attribute{Name: "topic", Type: configschema.String, Description: "One fixed target topic; by default each record keeps its topic name (after topic_prefix)."},
		configschema.Attribute{Name: "topic_prefix", Type: configschema.String, Default: "", Description: "Prefix added to each record's topic name to form the target topic."},
		configschema.Attribute{Name: "acks", Type: configschema.String, Default: "all", Enum: []string{"all", "leader"}, Description: "Acknowledgement the other cluster must give before offsets are committed."},
	),
	AtLeastOneOf:  [][]string{notItself},
	ConflictsWith: [][]string{{"topic", "topic_prefix"}},
	RequiredWith:  clusterRequirements(),
}

// Source returns the plugin registration of source "kafka".
func Source() connector.Plugin {
	return connector.Plugin{Schema: SourceSchema, Config: (*SourceConfig)(nil), NewSource: func() connector.Source { return new(mirror) }}
}

// Sink returns the plugin registration of sink "kafka".
func Sink() connector.Plugin {
	return connector.Plugin{Schema: SinkSchema, Config: (*SinkConfig)(nil), NewSink: func() connector.Sink { return new(producer) }}
}

// TopicRequest and TopicsNeeder are the SDK's; the kafka source is the
// built-in that needs them.
type (
	TopicRequest = connector.TopicRequest
	TopicsNeeder = connector.TopicsNeeder
)

var _ TopicsNeeder = (*mirror)(nil)

// ptr returns a pointer to v, for the bounds of an attribute.
func ptr[T any](v T) *T { return &v }

// checkSource refuses a mirror of the fleet's own cluster (no brokers) that
// lists its fixed target topic among the topics it reads: it would read
// what it writes. A topics_regex that matches the target leaves it out
// instead (skipTargets).
func checkSource(values map[string]any) []*configschema.Error {
	errs := append(checkIntoItself(values), checkCheckpoints(values)...)
	errs = append(errs, checkHeartbeats(values)...)
	return append(errs, checkSyncIntoOne(values)...)
}

// checkSyncIntoOne refuses copying topic configs or ACLs with a fixed
// topic: several source topics share that one target, whose settings
// would follow whichever was copied last.
func checkSyncIntoOne(values map[string]any) []*configschema.Error {
	if values["topic"] == nil {
		return nil
	}
	var errs []*configschema.Error
	for _, name := range []string{"sync_topic_configs", "sync_topic_acls"} {
		attr := configschema.Attribute{Name: name, Type: configschema.Bool}
		if on, err := attr.Coerce(values[name]); err == nil && on == true {
			errs = append(errs, &configschema.Error{Rule: configschema.RuleCheck, Attribute: name, Summary: "Settings copied into one topic",
				Detail: fmt.Sprintf("With topic, every source topic goes to that one topic, whose settings would follow whichever source topic was copied last: use topic_prefix or a replication policy, or remove %s.", name)})
		}
	}
	return errs
}

// checkHeartbeats refuses heartbeats without brokers: on the fleet's own
// cluster there is no replication to measure.
func checkHeartbeats(values map[string]any) []*configschema.Error {
	attr := configschema.Attribute{Name: "heartbeats", Type: configschema.Bool}
	on, err := attr.Coerce(values["heartbeats"])
	if err != nil || on != true {
		return nil
	}
	if values["topic"] != nil {
		return []*configschema.Error{{Rule: configschema.RuleCheck, Attribute: "heartbeats", Summary: "Heartbeats into one topic",
			Detail: "With topic, the heartbeats would be mirrored into that topic with the records: use topic_prefix or a replication policy, or remove heartbeats."}}
	}
	if values["brokers"] != nil {
		return nil
	}
	return []*configschema.Error{{Rule: configschema.RuleCheck, Attribute: "heartbeats", Summary: "Heartbeats without brokers",
		Detail: "Heartbeats measure the replication from another cluster: set brokers, or remove heartbeats."}}
}

// checkCheckpoints refuses groups to checkpoint without offset syncs, which
// translate their offsets.
func checkCheckpoints(values map[string]any) []*configschema.Error {
	if values["groups"] == nil && values["groups_regex"] == nil {
		return nil
	}
	if values["topic"] != nil {
		// Several source partitions would share a target partition,
		// and its checkpoints: one group offset per target partition
		// cannot say where each of them stopped.
		at := "groups"
		if values["groups"] == nil {
			at = "groups_regex"
		}
		return []*configschema.Error{{Rule: configschema.RuleCheck, Attribute: at, Summary: "Checkpoints into one topic",
			Detail: "With topic, the records of every source topic go to one topic, and a group's offset there cannot be translated: use topic_prefix or a replication policy, or remove groups and groups_regex."}}
	}
	attr := configschema.Attribute{Name: "offset_syncs", Type: configschema.Bool}
	on, err := attr.Coerce(values["offset_syncs"])
	if err != nil || on != false {
		return nil
	}
	return []*configschema.Error{{Rule: configschema.RuleCheck, Attribute: "offset_syncs", Summary: "Checkpoints without offset syncs",
		Detail: "Checkpoints translate the groups' offsets with the offset syncs: set offset_syncs = true, or remove groups and groups_regex."}}
}

// checkIntoItself is the rule of checkSource for a mirror of the fleet's
// own cluster.
func checkIntoItself(values map[string]any) []*configschema.Error {
	if values["brokers"] != nil {
		return nil
	}
	topicAttr := configschema.Attribute{Name: "topic", Type: configschema.String}
	topicsAttr := configschema.Attribute{Name: "topics", Type: configschema.ListOfString}
	fixed, err := topicAttr.Coerce(values["topic"])
	if err != nil {
		return nil // the attribute's own check says what is wrong
	}
	topics, err := topicsAttr.Coerce(values["topics"])
	if err != nil {
		return nil
	}
	name, _ := fixed.(string)
	list, _ := topics.([]string)
	if name == "" || !slices.Contains(list, name) {
		return nil
	}
	shown := fmt.Sprintf("%q", name)
	if _, hidden := values["topic"].(configschema.Sensitive); hidden {
		shown = configschema.Redacted
	}
	return []*configschema.Error{{Rule: configschema.RuleCheck, Attribute: "topic", Summary: "Mirror into itself",
		Detail: fmt.Sprintf("Topic %s is one of topics too: on the fleet's own cluster this source would read what it writes. Set another topic or topic_prefix, or brokers for another cluster.", shown)}}
}
