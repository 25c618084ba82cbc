package connectimport

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// classMapping is one row of the connector class table: what a Kafka
// Connect connector class becomes. A class with a built-in has typ and
// build; one without names what it is planned to become; fold merges a
// connector into another's pipeline (MirrorMaker 2's checkpoint and
// heartbeat connectors).
type classMapping struct {
	kind    string // "source" or "sink"
	typ     string // the pipectl plugin type; "" when there is none yet
	planned string // without a built-in: what it will be
	build   func(*conv)
	fold    func(into, cv *conv)
}

const (
	mirrorSource     = "org.apache.kafka.connect.mirror.MirrorSourceConnector"
	mirrorCheckpoint = "org.apache.kafka.connect.mirror.MirrorCheckpointConnector"
	mirrorHeartbeat  = "org.apache.kafka.connect.mirror.MirrorHeartbeatConnector"
)

// classes maps Kafka Connect connector classes. Adding a built-in for a
// class is filling typ and build in its row.
var classes = map[string]classMapping{
	"org.apache.kafka.connect.file.FileStreamSourceConnector": {kind: "source", typ: "file", build: fileSource},
	"org.apache.kafka.connect.file.FileStreamSinkConnector":   {kind: "sink", typ: "file", build: fileSink},
	mirrorSource:     {kind: "source", typ: "kafka", build: mirrorSourceBuild},
	mirrorCheckpoint: {kind: "source", fold: foldCheckpoint},
	mirrorHeartbeat:  {kind: "source", fold: foldHeartbeat},

	"io.debezium.connector.postgresql.PostgresConnector":         {kind: "source", typ: "postgres_cdc", build: debeziumPostgres},
	"io.debezium.connector.mysql.MySqlConnector":                 {kind: "source", planned: `planned: source "mysql_cdc"`},
	"io.debezium.connector.mariadb.MariaDbConnector":             {kind: "source", planned: `planned: source "mysql_cdc"`},
	"io.confluent.connect.jdbc.JdbcSourceConnector":              {kind: "source", typ: "sql", build: jdbcSource},
	"io.confluent.connect.jdbc.JdbcSinkConnector":                {kind: "sink", typ: "sql", build: jdbcSink},
	"io.debezium.connector.jdbc.JdbcSinkConnector":               {kind: "sink", typ: "sql", build: jdbcSink},
	"io.confluent.connect.s3.S3SinkConnector":                    {kind: "sink", planned: `planned: sink "s3"`},
	"io.confluent.connect.s3.source.S3SourceConnector":           {kind: "source", planned: `planned: source "s3"`},
	"io.aiven.kafka.connect.s3.AivenKafkaConnectS3SinkConnector": {kind: "sink", planned: `planned: sink "s3"`},
	"io.confluent.connect.http.HttpSinkConnector":                {kind: "sink", planned: `planned: sink "http"`},
	"io.aiven.kafka.connect.http.HttpSinkConnector":              {kind: "sink", planned: `planned: sink "http"`},
	"io.confluent.connect.http.HttpSourceConnector":              {kind: "source", planned: `planned: source "http_poll"`},
	"io.confluent.connect.syslog.SyslogSourceConnector":          {kind: "source", planned: `planned: source "syslog"`},
}

func lookupClass(class string) (classMapping, bool) {
	m, ok := classes[class]
	return m, ok
}

func fileSource(cv *conv) {
	b := cv.pipe
	if f, ok := cv.get("file"); ok && f != "" {
		cv.use("file")
		b.set("paths", list([]string{f}))
	} else {
		cv.warn("file", "Standard input not supported", "Without file, FileStreamSource reads standard input, which pipectl's file source cannot; set paths to the files to read.")
		b.set("paths", list([]string{"CHANGE-ME"}))
	}
	topic := ""
	if t, ok := cv.get("topic"); ok {
		if _, ok := cv.topicList("topic", []string{t}); ok {
			cv.use("topic")
			topic = t
		}
	}
	if topic == "" {
		cv.warn("topic", "Missing topic", "The FileStreamSource has no valid topic; set topic.")
		topic = "CHANGE-ME"
	}
	b.set("topic", quote(topic))
	// FileStreamSource emits each line as a string value and no key.
	// Its offsets ({"filename"} → {"position"}) map onto the file
	// source's: apply copies them from Connect's offsets topic.
	cv.post = append(cv.post, connectOffsetsImport(cv, "file", "it read"))
}

func fileSink(cv *conv) {
	b := cv.pipe
	if f, ok := cv.get("file"); ok && f != "" {
		cv.use("file")
		b.set("path", quote(f))
	} else {
		cv.warn("file", "Standard output not supported", "Without file, FileStreamSink writes to standard output, which pipectl's file sink cannot; set path.")
		b.set("path", quote("CHANGE-ME"))
	}
	// FileStreamSink writes each value's toString(): the line itself for a
	// string or bytes value (raw), Java's rendering of a map otherwise,
	// which pipectl writes as JSON instead (value).
	switch cv.c.Config["value.converter"] {
	case "org.apache.kafka.connect.storage.StringConverter", "org.apache.kafka.connect.converters.ByteArrayConverter":
		b.set("format", quote("raw"))
	}
}

// mirrorKey identifies a MirrorMaker 2 flow: source and target aliases.
func mirrorKey(cfg map[string]string) string {
	return cfg["source.cluster.alias"] + "\x00" + cfg["target.cluster.alias"]
}

var aliasRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

var plainTopicRE = regexp.MustCompile(`^[a-zA-Z0-9_-]+(\\?\.[a-zA-Z0-9_-]+)*$`)

// regexList maps MirrorMaker 2's list of regular expressions (topics,
// groups): plain names become a list, anything else one RE2 alternation.
func regexList(s string) (names []string, regex string) {
	items := splitList(s)
	plain := true
	for _, it := range items {
		if !plainTopicRE.MatchString(it) || strings.Contains(it, `\.`) {
			plain = false
		}
	}
	if plain {
		return items, ""
	}
	return nil, "(?:" + strings.Join(items, "|") + ")"
}

func mirrorSourceBuild(cv *conv) {
	b := cv.pipe
	cfg := cv.c.Config
	if bs, ok := cv.get("source.cluster.bootstrap.servers"); ok {
		cv.use("source.cluster.bootstrap.servers")
		b.set("brokers", list(splitList(bs)))
	} else {
		cv.warn("source.cluster.bootstrap.servers", "Missing source cluster", "The MirrorSourceConnector names no source.cluster.bootstrap.servers; set brokers to the cluster to mirror.")
		b.set("brokers", list([]string{"CHANGE-ME:9092"}))
	}
	cv.mirrorSecurity()
	topics := ".*" // MirrorMaker 2's default
	if t, ok := cfg["topics"]; ok {
		cv.use("topics")
		topics = t
	}
	if names, re := regexList(topics); re == "" && len(names) > 0 {
		b.set("topics", list(names))
	} else {
		if _, err := regexp.Compile(re); err != nil {
			cv.used["topics"] = false
			cv.warn("topics", "Regular expression not RE2", "topics %q holds a Java regular expression RE2 does not accept: %v.", topics, err)
			re = ".*"
		}
		b.set("topics_regex", quote(re))
	}
	policy := cfg["replication.policy.class"]
	cv.use("replication.policy.class", "source.cluster.alias", "target.cluster.alias")
	switch policy {
	case "", "org.apache.kafka.connect.mirror.DefaultReplicationPolicy":
		alias := cfg["source.cluster.alias"]
		if !aliasRE.MatchString(alias) {
			cv.warn("source.cluster.alias", "Missing source alias", "MirrorMaker 2's default replication policy names target topics <source alias>.<topic>; source.cluster.alias %q is missing or holds characters other than letters, digits, \"_\" and \"-\", so the import uses \"source\".", alias)
			alias = "source"
		}
		b.set("replication_policy", quote("default"))
		b.set("source_alias", quote(alias))
		if t := cfg["target.cluster.alias"]; aliasRE.MatchString(t) {
			b.set("target_alias", quote(t))
		} else if t != "" {
			cv.warn("target.cluster.alias", "Invalid alias", "target.cluster.alias %q holds characters other than letters, digits, \"_\" and \"-\"; it is left out.", t)
		}
		if sep, ok := cfg["replication.policy.separator"]; ok && sep != "." {
			cv.warn("replication.policy.separator", "Separator not supported", "pipectl's default replication policy joins alias and topic with \".\", not %q.", sep)
		} else if ok {
			cv.use("replication.policy.separator")
		}
	case "org.apache.kafka.connect.mirror.IdentityReplicationPolicy":
		b.set("replication_policy", quote("identity"))
	default:
		cv.used["replication.policy.class"] = false
		cv.warn("replication.policy.class", "Replication policy not supported", "%s is not one of MirrorMaker 2's DefaultReplicationPolicy or IdentityReplicationPolicy, which pipectl implements.", policy)
	}
	boolAttr(cv, "sync.topic.configs.enabled", "sync_topic_configs", true)
	boolAttr(cv, "emit.offset-syncs.enabled", "offset_syncs", true)
	intAttr(cv, "offset.lag.max", "offset_lag_max")
	secondsAttr(cv, "refresh.topics.interval.seconds", "refresh_interval")
	// Settings MirrorMaker 2 needs and pipectl does not: the target is the
	// fleet's cluster, and its connectors' own plumbing.
	for _, k := range []string{"target.cluster.bootstrap.servers", "refresh.topics.enabled"} {
		if _, ok := cfg[k]; ok {
			cv.use(k)
		}
	}
	if v, ok := cfg["refresh.topics.enabled"]; ok && v == "false" {
		cv.warn("refresh.topics.enabled", "Topic refresh always on", "pipectl's kafka source always lists the source cluster's topics again every refresh_interval.")
	}
	cv.post = append(cv.post, connectOffsetsImport(cv, "kafka", "it copied"))
}

// connectOffsetsImport is the import block that starts a source at the
// offsets its Kafka Connect connector saved in Connect's offsets topic.
func connectOffsetsImport(cv *conv, typ, what string) *block {
	imp := &block{header: "import", comments: []string{
		fmt.Sprintf("The source starts where Kafka Connect's %s stopped: apply copies the offsets of what %s", cv.c.Name, what),
		"from Connect's offsets topic (the workers' offset.storage.topic; connect-offsets is",
		"the default of connect-distributed.properties). Stop the Connect connector first.",
	}}
	imp.set("to", fmt.Sprintf("source.%s.%s", typ, cv.label))
	imp.set("connect_offsets_topic", quote("connect-offsets"))
	imp.set("connector", quote(cv.c.Name))
	return imp
}

// mirrorSecurity maps source.cluster.security.protocol, sasl.mechanism and
// sasl.jaas.config (PLAIN and SCRAM login modules).
func (cv *conv) mirrorSecurity() {
	b := cv.pipe
	cfg := cv.c.Config
	proto, ok := cfg["source.cluster.security.protocol"]
	if !ok {
		return
	}
	cv.use("source.cluster.security.protocol")
	switch proto {
	case "PLAINTEXT":
		return
	case "SSL", "SASL_SSL":
		b.set("tls", "true")
	}
	if !strings.HasPrefix(proto, "SASL") {
		return
	}
	mech := cfg["source.cluster.sasl.mechanism"]
	if mech == "" {
		mech = "GSSAPI" // Kafka's default
	}
	switch mech {
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
	default:
		cv.warn("source.cluster.sasl.mechanism", "SASL mechanism not supported", "pipectl's kafka source speaks SASL PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512, not %s.", mech)
		return
	}
	jaas := cfg["source.cluster.sasl.jaas.config"]
	user, pass := jaasField(jaas, "username"), jaasField(jaas, "password")
	if user == "" || pass == "" {
		cv.warn("source.cluster.sasl.jaas.config", "JAAS configuration not read", "The import reads username and password from a PlainLoginModule or ScramLoginModule sasl.jaas.config; set sasl_username and sasl_password.")
		return
	}
	cv.use("source.cluster.sasl.mechanism", "source.cluster.sasl.jaas.config")
	b.set("sasl_mechanism", quote(mech))
	b.set("sasl_username", cv.plainValue("source.cluster.sasl.jaas.config", user))
	b.set("sasl_password", cv.secretValue("source.cluster.sasl.jaas.config", pass, true))
}

// jaasField reads name="value" from a JAAS configuration line.
func jaasField(jaas, name string) string {
	re := regexp.MustCompile(`(?:^|\s)` + name + `\s*=\s*"((?:[^"\\]|\\.)*)"`)
	m := re.FindStringSubmatch(jaas)
	if m == nil {
		return ""
	}
	return strings.ReplaceAll(strings.ReplaceAll(m[1], `\"`, `"`), `\\`, `\`)
}

func boolAttr(cv *conv, key, attr string, def bool) {
	v, ok := cv.get(key)
	if !ok {
		return
	}
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		cv.warn(key, "Invalid setting", "%s = %q is not true or false.", key, v)
		return
	}
	cv.use(key)
	// MirrorMaker 2's sync.topic.configs.enabled defaults to true,
	// pipectl's sync_topic_configs to false: write it whenever set.
	if b != def || attr == "sync_topic_configs" {
		cv.pipe.set(attr, strconv.FormatBool(b))
	}
}

func intAttr(cv *conv, key, attr string) {
	v, ok := cv.get(key)
	if !ok {
		return
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 1 {
		cv.warn(key, "Invalid setting", "%s = %q is not a positive integer.", key, v)
		return
	}
	cv.use(key)
	cv.pipe.set(attr, strconv.FormatInt(n, 10))
}

func secondsAttr(cv *conv, key, attr string) {
	v, ok := cv.get(key)
	if !ok {
		return
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 1 {
		cv.warn(key, "Invalid setting", "%s = %q is not a positive number of seconds.", key, v)
		return
	}
	cv.use(key)
	cv.pipe.set(attr, quote(millis(n*1000)))
}

// foldCheckpoint adds a MirrorCheckpointConnector's groups and intervals
// to the kafka source of its flow.
func foldCheckpoint(into, cv *conv) {
	cfg := cv.c.Config
	// Settings the two connectors share were mapped with the source.
	for _, k := range []string{"source.cluster.alias", "target.cluster.alias", "source.cluster.bootstrap.servers", "target.cluster.bootstrap.servers",
		"replication.policy.class", "replication.policy.separator", "tasks.max", "key.converter", "value.converter",
		"source.cluster.security.protocol", "source.cluster.sasl.mechanism", "source.cluster.sasl.jaas.config"} {
		if _, ok := cfg[k]; ok {
			cv.use(k)
		}
	}
	groups := ".*" // MirrorMaker 2's default
	if g, ok := cfg["groups"]; ok {
		cv.use("groups")
		groups = g
	}
	// MirrorMaker 2 leaves out its own and console consumers by default
	// (groups.exclude); pipectl checkpoints what groups names.
	if names, re := regexList(groups); re == "" && len(names) > 0 {
		into.pipe.set("groups", list(names), fmt.Sprintf("From the MirrorCheckpointConnector %q.", cv.c.Name))
	} else if _, err := regexp.Compile(re); err == nil {
		into.pipe.set("groups_regex", quote(re), fmt.Sprintf("From the MirrorCheckpointConnector %q.", cv.c.Name))
	} else {
		cv.used["groups"] = false
		cv.warn("groups", "Regular expression not RE2", "groups %q holds a Java regular expression RE2 does not accept: %v.", groups, err)
	}
	cv.pipe = into.pipe
	secondsAttr(cv, "emit.checkpoints.interval.seconds", "checkpoint_interval")
	if v, ok := cfg["sync.group.offsets.enabled"]; ok {
		cv.use("sync.group.offsets.enabled")
		if v == "true" {
			into.pipe.set("sync_group_offsets", "true")
		}
	}
	if _, ok := cfg["sync.group.offsets.interval.seconds"]; ok {
		// pipectl syncs at every checkpoint.
		cv.use("sync.group.offsets.interval.seconds")
	}
	if v, ok := cfg["emit.checkpoints.enabled"]; ok {
		cv.use("emit.checkpoints.enabled")
		if v == "false" {
			cv.warn("emit.checkpoints.enabled", "Checkpoints disabled", "The MirrorCheckpointConnector emits no checkpoints; the import still sets the groups to checkpoint. Remove them to checkpoint none.")
		}
	}
}

// foldHeartbeat turns on the heartbeats of the kafka source of its flow.
func foldHeartbeat(into, cv *conv) {
	cfg := cv.c.Config
	for _, k := range []string{"source.cluster.alias", "target.cluster.alias", "source.cluster.bootstrap.servers", "target.cluster.bootstrap.servers",
		"replication.policy.class", "replication.policy.separator", "tasks.max", "key.converter", "value.converter"} {
		if _, ok := cfg[k]; ok {
			cv.use(k)
		}
	}
	if v, ok := cfg["emit.heartbeats.enabled"]; ok {
		cv.use("emit.heartbeats.enabled")
		if v == "false" {
			return
		}
	}
	into.pipe.set("heartbeats", "true", fmt.Sprintf("From the MirrorHeartbeatConnector %q. pipectl writes heartbeats to the origin's heartbeats topic and mirrors them, so that their copy shows the latency end to end.", cv.c.Name))
	cv.pipe = into.pipe
	secondsAttr(cv, "emit.heartbeats.interval.seconds", "heartbeat_interval")
}
