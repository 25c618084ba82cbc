package connectimport

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/pipectl/pipectl/lang"
)

// Warning is something the import could not carry over as it was: Key is
// the Kafka Connect setting ("" for the whole connector).
type Warning struct {
	Connector string
	Key       string
	Summary   string
	Detail    string
}

// File is one configuration file the import writes.
type File struct {
	Name string // e.g. orders-sink.hcl
	Src  []byte // formatted HCL
}

// Result is what Convert produces: one file per connector (a
// MirrorCheckpointConnector or MirrorHeartbeatConnector folded into its
// MirrorSourceConnector has none of its own), and the warnings, in order.
type Result struct {
	Files    []File
	Warnings []Warning
}

// FleetFile is the fleet block the import writes into a directory that has
// none, so that the result validates at once.
var FleetFile = File{Name: "fleet.hcl", Src: []byte(`# Written by pipectl import connect. The fleet names the internal topics
# (<name>.configs, .offsets, .status) and the worker group: set it to your
# fleet's name.
fleet {
  name = "connect"
}
`)}

// conv is the translation of one connector.
type conv struct {
	c     Connector
	label string
	kind  string // "source" or "sink"
	// used are the settings already carried over (or knowingly ignored).
	used     map[string]bool
	warnings []Warning
	// pre are the blocks the pipeline refers to (predicates, transforms,
	// converters), written before it.
	pre        []*block
	pipe       *block
	post       []*block // import blocks
	transforms []string // transform.X references, in order
	// comments replace the pipeline when there is no built-in.
	commentOnly []string
	folded      []*conv         // checkpoint and heartbeat connectors folded in
	names       map[string]bool // block names given out
}

// blockName is a name for a transform, predicate or converter block of the
// connector, unique within it.
func (cv *conv) blockName(suffix string) string {
	if cv.names == nil {
		cv.names = map[string]bool{}
	}
	base := ident(cv.label + "_" + suffix)
	name := base
	for i := 2; cv.names[name]; i++ {
		name = base + "_" + strconv.Itoa(i)
	}
	cv.names[name] = true
	return name
}

// topicList checks topic names: a name Kafka refuses is a warning.
func (cv *conv) topicList(key string, names []string) ([]string, bool) {
	for _, n := range names {
		if !topicRE.MatchString(n) || n == "." || n == ".." {
			cv.warn(key, "Invalid topic name", "%q in %s is not a valid Kafka topic name.", n, key)
			return nil, false
		}
	}
	return names, len(names) > 0
}

func (cv *conv) use(keys ...string) {
	for _, k := range keys {
		cv.used[k] = true
	}
}

func (cv *conv) get(key string) (string, bool) {
	v, ok := cv.c.Config[key]
	return v, ok
}

func (cv *conv) warn(key, summary, format string, args ...any) {
	cv.warnings = append(cv.warnings, Warning{Connector: cv.c.Name, Key: key, Summary: summary, Detail: fmt.Sprintf(format, args...)})
}

// Convert translates connectors into pipectl configuration files.
func Convert(conns []Connector) (*Result, error) {
	res := &Result{}
	labels := map[string]bool{}
	var convs []*conv
	mirrors := map[string]*conv{} // by source and target alias
	for _, c := range conns {
		cv := &conv{c: c, used: map[string]bool{"name": true, "connector.class": true}}
		cv.label = ident(c.Name)
		for i := 2; labels[cv.label]; i++ {
			cv.label = ident(c.Name) + "_" + strconv.Itoa(i)
		}
		labels[cv.label] = true
		convs = append(convs, cv)
	}
	sort.SliceStable(convs, func(i, j int) bool { return foldOrder(convs[i]) < foldOrder(convs[j]) })
	var out []*conv
	for _, cv := range convs {
		class := cv.c.Config["connector.class"]
		m, known := lookupClass(class)
		switch {
		case known && m.fold != nil:
			target := mirrors[mirrorKey(cv.c.Config)]
			if target == nil {
				cv.kind = "source"
				cv.noBuiltin(fmt.Sprintf("%s is folded into the kafka source of its MirrorSourceConnector (same source.cluster.alias and target.cluster.alias), and none is imported with it. Import them together.", shortClass(class)))
				out = append(out, cv)
				continue
			}
			m.fold(target, cv)
			target.folded = append(target.folded, cv)
			continue
		case known && m.typ != "":
			cv.kind = m.kind
			cv.pipe = &block{header: fmt.Sprintf("%s %s %s", m.kind, quote(m.typ), quote(cv.label))}
			m.build(cv)
			cv.common()
			if class == mirrorSource {
				mirrors[mirrorKey(cv.c.Config)] = cv
			}
		case known:
			cv.kind = m.kind
			cv.noBuiltin(fmt.Sprintf("%s has no pipectl built-in yet (%s).", shortClass(class), m.planned))
		default:
			cv.kind = guessKind(cv.c)
			cv.noBuiltin(fmt.Sprintf("The connector class %s is unknown to pipectl import: there is no built-in it maps to.", class))
		}
		out = append(out, cv)
	}
	for _, cv := range out {
		src, err := cv.render()
		if err != nil {
			return nil, err
		}
		res.Files = append(res.Files, File{Name: cv.label + ".hcl", Src: src})
		res.Warnings = append(res.Warnings, cv.warnings...)
		for _, f := range cv.folded {
			res.Warnings = append(res.Warnings, f.warnings...)
		}
	}
	return res, nil
}

// foldOrder puts the connectors that fold into another after the others.
func foldOrder(cv *conv) int {
	if m, ok := lookupClass(cv.c.Config["connector.class"]); ok && m.fold != nil {
		return 1
	}
	return 0
}

func guessKind(c Connector) string {
	if c.Type == "source" || c.Type == "sink" {
		return c.Type
	}
	if _, ok := c.Config["topics"]; ok {
		return "sink"
	}
	if _, ok := c.Config["topics.regex"]; ok {
		return "sink"
	}
	return "source"
}

func shortClass(class string) string {
	if i := strings.LastIndexByte(class, '.'); i >= 0 {
		return class[i+1:]
	}
	return class
}

// noBuiltin writes the whole configuration as a comment, with a warning.
func (cv *conv) noBuiltin(why string) {
	cv.warn("connector.class", "Connector not imported", "%s Its configuration is kept in a comment in %s.hcl.", why, cv.label)
	cv.commentOnly = append(cv.commentOnly, "Warning: "+why, "", fmt.Sprintf("Kafka Connect connector %q, as it was configured (not imported):", cv.c.Name))
	for _, k := range sortedKeys(cv.c.Config) {
		cv.commentOnly = append(cv.commentOnly, "  "+settingText(k, cv.c.Config[k]))
		cv.used[k] = true
	}
}

// secretKeyRE matches the names of settings that hold secrets.
var secretKeyRE = regexp.MustCompile(`(?i)(password|passwd|secret|jaas|token|credential|api[._-]?key|private[._-]?key|access[._-]?key|\.key$|keystore\.key)`)

// providerRE matches a value that is one config-provider reference.
var providerRE = regexp.MustCompile(`^\$\{([A-Za-z0-9_.-]+):([^}]*)\}$`)

// settingText is a setting as a comment shows it: a secret is never shown,
// only a config-provider reference, which is no secret itself.
func settingText(k, v string) string {
	if secretKeyRE.MatchString(k) && !providerRE.MatchString(v) && v != "" {
		return k + " = " + lang.Redacted
	}
	return k + " = " + strconv.Quote(v)
}

// common maps what every connector shares: tasks.max, topics, converters,
// errors.*, transforms and predicates, and the consumer group.
func (cv *conv) common() {
	b := cv.pipe
	if v, ok := cv.get("tasks.max"); ok && !cv.used["tasks.max"] {
		cv.use("tasks.max")
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 1 && n <= 1024 {
			if n != 1 {
				b.set("tasks", strconv.Itoa(n))
			}
		} else {
			cv.used["tasks.max"] = false
			cv.warn("tasks.max", "Invalid setting", "tasks.max = %q is not a task count from 1 to 1024.", v)
		}
	}
	if cv.kind == "sink" {
		cv.sinkTopics()
	}
	cv.converter("key")
	cv.converter("value")
	cv.headerConverter()
	cv.transformChain()
	cv.errorsBlock()
	cv.clientOverrides()
	if cv.kind == "sink" {
		cv.sinkGroup()
	}
}

// clientOverrides carries producer.override.* (sources) and
// consumer.override.* (sinks) over into the kafka block, for the
// properties pipectl takes; the others stay unmapped, and so are reported.
func (cv *conv) clientOverrides() {
	client := "producer"
	if cv.kind == "sink" {
		client = "consumer"
	}
	props := map[string]string{}
	for _, p := range lang.ClientProperties {
		key := client + ".override." + p.Name
		if v, ok := cv.get(key); ok && p.Client == client {
			cv.use(key)
			props[p.Name] = v
		}
	}
	if len(props) == 0 {
		return
	}
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	sort.Strings(names)
	var sb strings.Builder
	sb.WriteString("{ ")
	for i, k := range names {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(quote(k) + " = " + quote(props[k]))
	}
	sb.WriteString(" }")
	kb := &block{header: "kafka"}
	kb.set(client, sb.String())
	cv.pipe.blocks = append(cv.pipe.blocks, kb)
}

func (cv *conv) sinkTopics() {
	b := cv.pipe
	if v, ok := cv.get("topics"); ok && strings.TrimSpace(v) != "" {
		if names, ok := cv.topicList("topics", splitList(v)); ok {
			cv.use("topics")
			b.set("topics", list(names))
		}
	}
	if v, ok := cv.get("topics.regex"); ok && strings.TrimSpace(v) != "" {
		cv.use("topics.regex")
		if _, err := regexp.Compile(v); err != nil {
			cv.used["topics.regex"] = false
			cv.warn("topics.regex", "Regular expression not RE2", "topics.regex %q is a Java regular expression that RE2 (Go) does not accept: %v. Rewrite it as topics_regex.", v, err)
		} else {
			// Connect matches the whole topic name; so does pipectl's
			// topics_regex.
			b.set("topics_regex", quote(v))
		}
	}
	if !cv.used["topics"] && !cv.used["topics.regex"] {
		cv.warn("topics", "Missing topics", "The sink has no valid topics or topics.regex; set topics.")
		b.set("topics", list([]string{"CHANGE-ME"}))
	}
	if v, ok := cv.get("consumer.override.auto.offset.reset"); ok {
		switch v {
		case "earliest":
			cv.use("consumer.override.auto.offset.reset")
		case "latest":
			cv.use("consumer.override.auto.offset.reset")
			b.set("start_from", quote("latest"))
		}
	}
}

// sinkGroup writes the import block that copies the offsets of the sink's
// Kafka Connect consumer group.
func (cv *conv) sinkGroup() {
	group := "connect-" + cv.c.Name
	if g, ok := cv.get("consumer.override.group.id"); ok && g != "" {
		cv.use("consumer.override.group.id")
		group = g
	}
	addr := fmt.Sprintf("sink.%s.%s", typeOf(cv.pipe), cv.label)
	imp := &block{header: "import", comments: []string{
		fmt.Sprintf("The sink starts where Kafka Connect's %s stopped: apply copies that group's", cv.c.Name),
		"committed offsets to the pipeline's consumer group before its tasks start.",
		"Stop the Connect connector first; remove this block once applied.",
	}}
	imp.set("to", addr)
	imp.set("consumer_group", quote(group))
	cv.post = append(cv.post, imp)
}

// typeOf is the plugin type of a pipeline block's header.
func typeOf(b *block) string {
	parts := strings.Split(b.header, " ")
	if len(parts) < 2 {
		return ""
	}
	t, _ := strconv.Unquote(parts[1])
	return t
}

// converter maps key.converter or value.converter.
func (cv *conv) converter(which string) {
	key := which + ".converter"
	class, ok := cv.get(key)
	if !ok {
		return
	}
	cv.use(key)
	prefix := key + "."
	sub := map[string]string{}
	for k, v := range cv.c.Config {
		if strings.HasPrefix(k, prefix) {
			sub[strings.TrimPrefix(k, prefix)] = v
		}
	}
	attr := which + "_converter"
	switch class {
	case "org.apache.kafka.connect.json.JsonConverter":
		schemas := true // JsonConverter's default
		if v, ok := sub["schemas.enable"]; ok {
			cv.use(prefix + "schemas.enable")
			schemas = strings.EqualFold(strings.TrimSpace(v), "true")
		}
		if !schemas {
			cv.pipe.set(attr, quote("json"))
			break
		}
		name := cv.blockName(which)
		cb := &block{header: "converter " + quote(name), comments: []string{
			fmt.Sprintf("%s: JsonConverter with schemas.enable (its default): the {\"schema\", \"payload\"} envelope.", key),
		}}
		cb.set("type", quote("json"))
		cb.set("schemas_enable", "true")
		cv.pre = append(cv.pre, cb)
		cv.pipe.set(attr, "converter."+name)
	case "org.apache.kafka.connect.storage.StringConverter":
		if enc, ok := sub["encoding"]; ok && strings.EqualFold(strings.ReplaceAll(enc, "-", ""), "utf8") {
			cv.use(prefix + "encoding")
		}
		cv.pipe.set(attr, quote("string"))
	case "org.apache.kafka.connect.converters.ByteArrayConverter":
		cv.pipe.set(attr, quote("bytes"))
	default:
		cv.used[key] = false
		if strings.Contains(class, "Avro") || strings.Contains(class, "Protobuf") || strings.Contains(class, "JsonSchema") {
			cv.warn(key, "Converter not supported yet", "%s = %s uses a schema registry (%s), which pipectl import does not map yet; the pipeline uses its default %s converter (docs/language.md) until you declare one.",
				key, shortClass(class), sub["schema.registry.url"], which)
		} else {
			cv.warn(key, "Converter not supported", "%s = %s has no pipectl converter; pipectl's converters are json, string and bytes.", key, class)
		}
	}
}

func (cv *conv) headerConverter() {
	class, ok := cv.get("header.converter")
	if !ok {
		return
	}
	switch class {
	case "org.apache.kafka.connect.storage.SimpleHeaderConverter", "org.apache.kafka.connect.storage.StringConverter":
		// pipectl's headers are strings, as these write them.
		cv.use("header.converter")
	}
}

// errorsBlock maps errors.*.
func (cv *conv) errorsBlock() {
	eb := &block{header: "errors"}
	tol, hasTol := cv.get("errors.tolerance")
	if hasTol {
		switch tol {
		case "none", "all":
			cv.use("errors.tolerance")
			if tol == "all" {
				eb.set("tolerance", quote("all"))
			}
		default:
			cv.warn("errors.tolerance", "Invalid setting", "errors.tolerance = %q is neither none nor all.", tol)
		}
	}
	dlq, hasDLQ := cv.get("errors.deadletterqueue.topic.name")
	if hasDLQ && dlq != "" && !topicRE.MatchString(dlq) {
		cv.warn("errors.deadletterqueue.topic.name", "Invalid topic name", "%q is not a valid Kafka topic name.", dlq)
		dlq = ""
	}
	if hasDLQ && dlq != "" {
		cv.use("errors.deadletterqueue.topic.name")
		if tol == "all" {
			eb.set("dead_letter_topic", quote(dlq))
		} else {
			cv.warn("errors.deadletterqueue.topic.name", "Dead-letter topic unused", "errors.deadletterqueue.topic.name only receives records with errors.tolerance = all, as in Kafka Connect; it is not carried over.")
		}
	}
	if tol == "all" && (!hasDLQ || dlq == "") {
		topic := cv.label + ".dlq"
		if !topicRE.MatchString(topic) {
			topic = "connect.dlq"
		}
		eb.set("dead_letter_topic", quote(topic))
		cv.warn("errors.tolerance", "Dead-letter topic added", "With errors.tolerance = all and no dead-letter queue, Kafka Connect drops failed records; pipectl keeps every failed record, so the import sends them to %q.", topic)
	}
	for _, m := range []struct{ key, attr string }{
		{"errors.retry.timeout", "retry_timeout"},
		{"errors.retry.delay.max.ms", "retry_backoff_max"},
	} {
		v, ok := cv.get(m.key)
		if !ok {
			continue
		}
		ms, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		switch {
		case err != nil:
			cv.warn(m.key, "Invalid setting", "%s = %q is not a number of milliseconds.", m.key, v)
		case ms < 0:
			cv.warn(m.key, "Unlimited retries not supported", "%s = -1 retries forever in Kafka Connect; pipectl's retry_timeout is finite. Set errors { retry_timeout } to a long duration.", m.key)
		default:
			cv.use(m.key)
			eb.set(m.attr, quote(millis(ms)))
		}
	}
	if v, ok := cv.get("errors.deadletterqueue.context.headers.enable"); ok {
		// pipectl always adds its error headers (pipectl.error.*).
		cv.use("errors.deadletterqueue.context.headers.enable")
		if v == "false" {
			cv.warn("errors.deadletterqueue.context.headers.enable", "Dead-letter headers always on", "pipectl always adds the pipectl.error.* and pipectl.source.* headers to dead-letter records.")
		}
	}
	if len(eb.attrs) > 0 {
		cv.pipe.blocks = append(cv.pipe.blocks, eb)
	}
}

var topicRE = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

// millis is a duration in milliseconds in Go syntax.
func millis(ms int64) string {
	switch {
	case ms == 0:
		return "0s"
	case ms%3600000 == 0:
		return strconv.FormatInt(ms/3600000, 10) + "h"
	case ms%60000 == 0:
		return strconv.FormatInt(ms/60000, 10) + "m"
	case ms%1000 == 0:
		return strconv.FormatInt(ms/1000, 10) + "s"
	}
	return strconv.FormatInt(ms, 10) + "ms"
}

// secretValue is the HCL expression for a secret setting: a config-provider
// reference becomes env() or file(); a literal secret is not written out,
// an environment variable stands for it.
func (cv *conv) secretValue(key, v string, schemaSensitive bool) string {
	expr, ok := cv.providerExpr(key, v)
	if !ok {
		name := envName(cv.c.Name + "_" + key)
		cv.warn(key, "Secret replaced by an environment variable", "The value of %s is a secret written in clear in the Kafka Connect configuration; the import does not copy it and reads the environment variable %s instead. Set it, or use file().", key, name)
		expr = fmt.Sprintf("env(%s)", quote(name))
	}
	if schemaSensitive {
		return expr
	}
	return "sensitive(" + expr + ")"
}

// plainValue is the HCL expression of a setting that is not a secret: a
// quoted string, or a config-provider reference as a sensitive value.
func (cv *conv) plainValue(key, v string) string {
	if providerRE.MatchString(v) {
		if expr, ok := cv.providerExpr(key, v); ok {
			return "sensitive(" + expr + ")"
		}
	}
	return quote(v)
}

// providerExpr maps a config-provider reference: ${env:NAME} → env("NAME"),
// ${directory:DIR:FILE} → file("DIR/FILE"); ${file:PATH:KEY} reads a key
// of a properties file, which file() cannot, so an environment variable
// named after the key stands for it (with a warning).
func (cv *conv) providerExpr(key, v string) (string, bool) {
	m := providerRE.FindStringSubmatch(v)
	if m == nil {
		return "", false
	}
	provider, rest := m[1], m[2]
	switch provider {
	case "env":
		return fmt.Sprintf("env(%s)", quote(rest)), rest != ""
	case "directory":
		dir, file, ok := strings.Cut(rest, ":")
		if !ok || file == "" {
			return "", false
		}
		return fmt.Sprintf("file(%s)", quote(strings.TrimRight(dir, "/")+"/"+file)), true
	case "file":
		path, k, ok := strings.Cut(rest, ":")
		if !ok || k == "" {
			return "", false
		}
		name := envName(k)
		cv.warn(key, "Properties file reference", "%s is read from the key %q of the properties file %s (FileConfigProvider); pipectl's file() reads a whole file, so the import reads the environment variable %s instead. Set it, or keep the value alone in a file and use file().", key, k, path, name)
		return fmt.Sprintf("env(%s)", quote(name)), true
	}
	cv.warn(key, "Config provider not supported", "%s refers to the config provider %q; pipectl resolves env: and file: references only.", key, provider)
	return "", false
}

// envName is s as an environment variable name: DB_PASSWORD.
func envName(s string) string {
	var sb strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			sb.WriteRune(r - 'a' + 'A')
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			sb.WriteRune(r)
		default:
			sb.WriteByte('_')
		}
	}
	out := sb.String()
	if out == "" || out[0] >= '0' && out[0] <= '9' {
		out = "_" + out
	}
	return out
}

// render writes the connector's file.
func (cv *conv) render() ([]byte, error) {
	var sb strings.Builder
	writeComment(&sb, "", fmt.Sprintf("Imported from Kafka Connect connector %q (%s, %s).", cv.c.Name, cv.c.Config["connector.class"], cv.c.Origin))
	if cv.pipe == nil {
		for _, c := range cv.commentOnly {
			writeComment(&sb, "", c)
		}
		return format(sb.String(), cv.label+".hcl")
	}
	for _, f := range cv.folded {
		writeComment(&sb, "", fmt.Sprintf("Folded in: Kafka Connect connector %q (%s).", f.c.Name, f.c.Config["connector.class"]))
	}
	sb.WriteString("\n")
	for _, b := range cv.pre {
		b.write(&sb, "")
		sb.WriteString("\n")
	}
	if len(cv.transforms) > 0 {
		cv.pipe.set("transforms", "["+strings.Join(cv.transforms, ", ")+"]")
	}
	cv.unmapped(cv.pipe, "")
	for _, f := range cv.folded {
		f.unmapped(cv.pipe, f.c.Name+": ")
	}
	cv.pipe.write(&sb, "")
	for _, b := range cv.post {
		sb.WriteString("\n")
		b.write(&sb, "")
	}
	return format(sb.String(), cv.label+".hcl")
}

// unmapped warns about every setting not carried over and keeps it in a
// comment at the end of the pipeline block.
func (cv *conv) unmapped(b *block, prefix string) {
	for _, k := range sortedKeys(cv.c.Config) {
		if cv.used[k] {
			continue
		}
		cv.warn(k, "Setting not imported", "pipectl import knows no equivalent of it; it is kept in a comment in the %s block.", b.header)
		b.trailer = append(b.trailer, "Not imported: "+prefix+settingText(k, cv.c.Config[k]))
	}
}

func format(src, name string) ([]byte, error) {
	out, diags := lang.Format([]byte(src), name)
	if diags.HasErrors() {
		// A bug of the import: what it writes must always parse.
		return nil, fmt.Errorf("pipectl import wrote invalid HCL for %s: %s", name, diags.Error())
	}
	return out, nil
}
