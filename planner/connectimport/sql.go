package connectimport

import (
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// sqlNames checks column or table names as the sql connectors take them
// (not empty, UTF-8, no NUL, at most 63 bytes, each once): names it cannot
// take are a warning, and CHANGE-ME stands for the list.
func (cv *conv) sqlNames(key string, names []string) []string {
	seen := map[string]bool{}
	for _, n := range names {
		if n == "" || !utf8.ValidString(n) || strings.IndexByte(n, 0) >= 0 || len(n) > 63 || seen[n] {
			cv.used[key] = false
			cv.warn(key, "Invalid name", "%s holds a name the sql connectors cannot take (empty, repeated, longer than 63 bytes or not text).", key)
			return []string{"CHANGE-ME"}
		}
		seen[n] = true
	}
	return names
}

// The JDBC connectors (Confluent's source and sink, Debezium's sink) map to
// source "sql" and sink "sql"; Debezium's PostgreSQL connector to source
// "postgres_cdc". Their connection becomes a dsn, a template whose password
// part is an env() or file() reference: a password is never copied.

// template is an HCL template string of literal text and interpolated
// expressions, written in order.
type template struct{ parts []string }

func (t *template) lit(s string) {
	if s == "" {
		return
	}
	q := quote(s)
	q = q[1 : len(q)-1]
	// A literal ending in $ or % followed by ${ would read as an escape.
	if strings.HasSuffix(q, "$") || strings.HasSuffix(q, "%") {
		t.parts = append(t.parts, q[:len(q)-1], "${"+quote(q[len(q)-1:])+"}")
		return
	}
	t.parts = append(t.parts, q)
}

func (t *template) expr(e string) { t.parts = append(t.parts, "${"+e+"}") }

func (t *template) String() string { return `"` + strings.Join(t.parts, "") + `"` }

// dsnParts is a database address: the scheme of pipectl's dsn
// (postgres, mysql), host, port and database.
type dsnParts struct {
	scheme, host, port, db string
	sslmode                string
}

// jdbcURL reads jdbc:postgresql://, jdbc:mysql:// and jdbc:mariadb:// URLs.
// Parameters other than PostgreSQL's sslmode are JDBC driver properties
// that neither pgx nor go-sql-driver take: they are named in a warning
// (without their values, which may hold a password) and left out.
func (cv *conv) jdbcURL(key, raw string) (dsnParts, bool) {
	var d dsnParts
	rest, ok := strings.CutPrefix(raw, "jdbc:")
	if !ok {
		cv.warn(key, "Connection URL not read", "%s is not a jdbc: URL; set dsn.", key)
		return d, false
	}
	scheme, _, _ := strings.Cut(rest, ":")
	switch scheme {
	case "postgresql":
		d.scheme, d.port = "postgres", "5432"
	case "mysql", "mariadb":
		d.scheme, d.port = "mysql", "3306"
	default:
		cv.warn(key, "Database not supported", "%s is a jdbc:%s: URL; pipectl's sql connectors speak PostgreSQL and MySQL/MariaDB.", key, scheme)
		return d, false
	}
	u, err := url.Parse(rest)
	if err != nil || u.Host == "" || strings.Contains(u.Host, ",") || u.Hostname() == "" {
		cv.warn(key, "Connection URL not read", "%s is not a jdbc:postgresql://HOST:PORT/DB, jdbc:mysql:// or jdbc:mariadb:// URL with one host that the import reads; set dsn.", key)
		return d, false
	}
	d.host = u.Hostname()
	if p := u.Port(); p != "" {
		d.port = p
	}
	d.db = strings.TrimPrefix(u.Path, "/")
	var dropped []string
	for _, k := range sortedKeys(u.Query()) {
		if d.scheme == "postgres" && k == "sslmode" {
			d.sslmode = u.Query().Get(k)
			continue
		}
		dropped = append(dropped, k)
	}
	if len(dropped) > 0 {
		cv.warn(key, "Connection properties not imported", "The JDBC driver properties %s of %s are not carried over into the dsn; add pgx's or go-sql-driver's equivalents after ? if you need them.", strings.Join(dropped, ", "), key)
	}
	if u.User != nil {
		cv.warn(key, "Credentials in the URL", "%s holds credentials, which the import does not copy; set the user and password settings, or edit dsn.", key)
	}
	return d, true
}

// dsnExpr is the dsn of d with the user and password settings (either may
// be missing). The password becomes an env() or file() reference.
func (cv *conv) dsnExpr(d dsnParts, userKey, passKey string) string {
	t := &template{}
	t.lit(d.scheme + "://")
	user, hasUser := cv.get(userKey)
	pass, hasPass := cv.get(passKey)
	if hasUser && user != "" {
		cv.use(userKey)
		if providerRE.MatchString(user) {
			if e, ok := cv.providerExpr(userKey, user); ok {
				t.expr(e)
			} else {
				cv.used[userKey] = false
				t.lit("CHANGE-ME")
			}
		} else {
			t.lit(url.User(user).String())
		}
		if hasPass && pass != "" {
			cv.use(passKey)
			t.lit(":")
			t.expr(cv.secretValue(passKey, pass, true))
			cv.warn(passKey, "Password in the dsn", "The dsn takes %s from the reference written in it: characters such as @ : / %% # ? in the password must be percent-encoded there.", passKey)
		}
		t.lit("@")
	}
	host := d.host
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	t.lit(host + ":" + d.port + "/" + url.PathEscape(d.db))
	if d.sslmode != "" {
		t.lit("?sslmode=" + url.QueryEscape(d.sslmode))
	}
	return t.String()
}

// placeholderDSN is the dsn written when the import cannot read the
// connection: it validates, and CHANGE-ME is easy to find.
const placeholderDSN = `"postgres://CHANGE-ME:5432/CHANGE-ME"`

// jdbcDSN sets dsn from connection.url and the user and password settings
// (Confluent's connection.user, Debezium's connection.username).
func (cv *conv) jdbcDSN() {
	b := cv.pipe
	raw, ok := cv.get("connection.url")
	switch {
	case !ok || raw == "":
		cv.warn("connection.url", "Missing connection URL", "The connector has no connection.url; set dsn.")
		b.set("dsn", placeholderDSN)
		return
	case providerRE.MatchString(raw):
		// A JDBC URL kept in a secret: pipectl's dsn is another format.
		cv.warn("connection.url", "Connection URL is a reference", "connection.url is read from a config provider and holds a JDBC URL, which is not a dsn; set dsn to postgres://USER:PASSWORD@HOST:5432/DB or mysql://USER:PASSWORD@HOST:3306/DB (env() or a sensitive variable).")
		b.set("dsn", placeholderDSN)
		return
	}
	d, ok := cv.jdbcURL("connection.url", raw)
	if !ok {
		b.set("dsn", placeholderDSN)
		return
	}
	cv.use("connection.url")
	userKey := "connection.user"
	if _, ok := cv.get(userKey); !ok {
		userKey = "connection.username" // Debezium's JDBC sink
	}
	b.set("dsn", cv.dsnExpr(d, userKey, "connection.password"))
}

// jdbcSink maps Confluent's and Debezium's JdbcSinkConnector.
func jdbcSink(cv *conv) {
	b := cv.pipe
	cfg := cv.c.Config
	cv.jdbcDSN()
	if f, ok := cv.get("table.name.format"); ok {
		if expr, ok := tableFormat(f); ok {
			cv.use("table.name.format")
			if expr != "topic" {
				b.set("table", quote(expr))
			}
		} else {
			cv.warn("table.name.format", "Table name format not read", "table.name.format = %q holds a placeholder other than ${topic}; set table to a CEL expression over the record.", f)
		}
	}
	mode := "insert"
	if m, ok := cv.get("insert.mode"); ok {
		switch strings.ToLower(strings.TrimSpace(m)) {
		case "insert":
			cv.use("insert.mode")
		case "upsert":
			cv.use("insert.mode")
			mode = "upsert"
		case "update":
			cv.warn("insert.mode", "Update mode not supported", "insert.mode = update only updates existing rows; pipectl's sql sink inserts (mode = \"insert\") or inserts and updates (mode = \"upsert\"). The import keeps the default, insert: choose one.")
		default:
			cv.warn("insert.mode", "Invalid setting", "insert.mode = %q is none of insert, upsert and update.", m)
		}
	}
	if mode == "upsert" {
		b.set("mode", quote("upsert"))
	}
	// Confluent's pk.mode / pk.fields, Debezium's primary.key.mode /
	// primary.key.fields.
	pkModeKey, pkFieldsKey := "pk.mode", "pk.fields"
	if _, ok := cfg[pkModeKey]; !ok {
		if _, ok := cfg["primary.key.mode"]; ok {
			pkModeKey, pkFieldsKey = "primary.key.mode", "primary.key.fields"
		}
	}
	pkMode := strings.ToLower(strings.TrimSpace(cfg[pkModeKey]))
	fields := splitList(cfg[pkFieldsKey])
	var pk []string
	switch pkMode {
	case "", "none":
		cv.use(pkModeKey)
		if len(fields) > 0 {
			// Connect ignores pk.fields without a pk.mode.
			cv.use(pkFieldsKey)
		}
	case "record_key", "record_value":
		cv.use(pkModeKey)
		if len(fields) > 0 {
			cv.use(pkFieldsKey)
			pk = cv.sqlNames(pkFieldsKey, fields)
		} else {
			cv.warn(pkModeKey, "Primary key columns not named", "%s = %s without %s takes every field of the record's %s, which the import cannot know; set primary_key to their names.", pkModeKey, pkMode, pkFieldsKey, strings.TrimPrefix(pkMode, "record_"))
			pk = []string{"CHANGE-ME"}
		}
	case "kafka":
		cv.warn(pkModeKey, "Primary key mode not supported", "%s = kafka keys rows by topic, partition and offset (__connect_topic, __connect_partition, __connect_offset); pipectl's sql sink takes primary_key columns from the record's value or key. Add them with a transform (set) if you need them.", pkModeKey)
	default:
		cv.warn(pkModeKey, "Invalid setting", "%s = %q is none of none, kafka, record_key and record_value.", pkModeKey, pkMode)
	}
	needPK := mode == "upsert"
	del := false
	if v, ok := cv.get("delete.enabled"); ok {
		if bv, err := strconv.ParseBool(strings.TrimSpace(v)); err == nil {
			cv.use("delete.enabled")
			del = bv
		} else {
			cv.warn("delete.enabled", "Invalid setting", "delete.enabled = %q is not true or false.", v)
		}
	}
	if del {
		needPK = true
	}
	if needPK && len(pk) == 0 {
		cv.warn(pkModeKey, "Missing primary key", "Upserts and deletes need the primary key columns; set primary_key.")
		pk = []string{"CHANGE-ME"}
	}
	if len(pk) > 0 {
		b.set("primary_key", list(pk))
	}
	if del {
		b.set("delete_enabled", "true")
	}
	if v, ok := cv.get("schema.evolution"); ok { // Debezium's JDBC sink
		switch v {
		case "none":
			cv.use("schema.evolution")
		case "basic":
			cv.use("schema.evolution")
			b.set("auto_create", "true")
			b.set("auto_evolve", "true")
		default:
			cv.warn("schema.evolution", "Invalid setting", "schema.evolution = %q is neither none nor basic.", v)
		}
	}
	boolAttr(cv, "auto.create", "auto_create", false)
	boolAttr(cv, "auto.evolve", "auto_evolve", false)
	if _, ok := cv.get("batch.size"); ok {
		cv.warn("batch.size", "Batch size not configurable", "pipectl's sql sink writes what each poll hands it in one transaction, as multi-row statements of up to 1,000 rows; it has no batch size setting.")
	}
	if _, ok := cv.get("dialect.name"); ok {
		// The dsn's scheme tells the dialect.
		cv.use("dialect.name")
	}
}

// tableFormat maps table.name.format to the sink's table expression:
// ${topic} is the record's topic.
func tableFormat(f string) (string, bool) {
	var parts []string
	rest := f
	for rest != "" {
		i := strings.Index(rest, "${")
		if i < 0 {
			parts = append(parts, celString(rest))
			break
		}
		if i > 0 {
			parts = append(parts, celString(rest[:i]))
		}
		if !strings.HasPrefix(rest[i:], "${topic}") {
			return "", false
		}
		parts = append(parts, "topic")
		rest = rest[i+len("${topic}"):]
	}
	if len(parts) == 0 {
		return "", false
	}
	return strings.Join(parts, " + "), true
}

// jdbcSource maps Confluent's JdbcSourceConnector.
func jdbcSource(cv *conv) {
	b := cv.pipe
	cv.jdbcDSN()
	query, hasQuery := cv.get("query")
	hasQuery = hasQuery && strings.TrimSpace(query) != ""
	tablesKey := "table.whitelist"
	if _, ok := cv.get(tablesKey); !ok {
		tablesKey = "table.include.list"
	}
	prefix, hasPrefix := cv.get("topic.prefix")
	switch {
	case hasQuery:
		cv.use("query")
		b.set("query", quote(query))
		if v, ok := cv.get(tablesKey); ok && v == "" {
			cv.use(tablesKey)
		}
		// With a query, topic.prefix is the whole topic name.
		if hasPrefix && topicRE.MatchString(prefix) {
			cv.use("topic.prefix")
			b.set("topic", quote(celString(prefix)))
		} else {
			cv.warn("topic.prefix", "Missing topic", "With a query, Kafka Connect's JDBC source writes to the topic named by topic.prefix, which is missing or not a valid topic name; set topic.")
			b.set("topic", quote(celString("CHANGE-ME")))
		}
	default:
		var tables []string
		if v, ok := cv.get(tablesKey); ok && strings.TrimSpace(v) != "" {
			cv.use(tablesKey)
			qualified := false
			for _, t := range splitList(v) {
				if i := strings.LastIndexByte(t, '.'); i >= 0 {
					qualified = true
					t = t[i+1:]
				}
				tables = append(tables, t)
			}
			if qualified {
				cv.warn(tablesKey, "Schema left out of table names", "pipectl's sql source reads tables in the dsn's schema (PostgreSQL's search_path) or database and takes a name whole; the import keeps the table names of %s without their schema or catalog, as the topic names Connect gives them are. Add search_path to the dsn if the schema is not the default.", tablesKey)
			}
		} else {
			cv.warn(tablesKey, "Every table not supported", "Without table.whitelist or a query, Kafka Connect's JDBC source polls every table of the database; pipectl's sql source polls the tables it names: set tables.")
			tables = []string{"CHANGE-ME"}
		}
		b.set("tables", list(cv.sqlNames(tablesKey, tables)))
		if hasPrefix {
			cv.use("topic.prefix")
			if prefix != "" {
				b.set("topic_prefix", quote(prefix))
			}
		}
	}
	mode := "bulk"
	if m, ok := cv.get("mode"); ok {
		switch m {
		case "bulk", "incrementing", "timestamp", "timestamp+incrementing":
			cv.use("mode")
			mode = m
		default:
			cv.warn("mode", "Invalid setting", "mode = %q is none of bulk, incrementing, timestamp and timestamp+incrementing; the import polls in bulk.", m)
		}
	} else {
		cv.warn("mode", "Missing mode", "The JDBC source has no mode; the import polls in bulk.")
	}
	b.set("mode", quote(mode))
	inc, hasInc := cv.get("incrementing.column.name")
	ts, hasTS := cv.get("timestamp.column.name")
	if hasInc {
		cv.use("incrementing.column.name") // unused by bulk and timestamp, as in Connect
	}
	if hasTS {
		cv.use("timestamp.column.name")
	}
	if strings.Contains(mode, "incrementing") {
		if strings.TrimSpace(inc) == "" {
			cv.warn("incrementing.column.name", "Missing incrementing column", "Mode %s needs incrementing.column.name (Connect would look for an auto-increment column); set incrementing_column.", mode)
			inc = "CHANGE-ME"
		}
		b.set("incrementing_column", quote(cv.sqlNames("incrementing.column.name", []string{strings.TrimSpace(inc)})[0]))
	}
	if strings.HasPrefix(mode, "timestamp") {
		cols := splitList(ts)
		if len(cols) == 0 {
			cv.warn("timestamp.column.name", "Missing timestamp column", "Mode %s needs timestamp.column.name; set timestamp_column.", mode)
			cols = []string{"CHANGE-ME"}
		}
		if len(cols) > 1 {
			cv.warn("timestamp.column.name", "One timestamp column", "Kafka Connect reads COALESCE(%s); pipectl's sql source reads one timestamp column, the first: %s.", strings.Join(cols, ", "), cols[0])
		}
		b.set("timestamp_column", quote(cv.sqlNames("timestamp.column.name", cols[:1])[0]))
		if v, ok := cv.get("timestamp.delay.interval.ms"); ok {
			if ms, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && ms >= 0 {
				cv.use("timestamp.delay.interval.ms")
				if ms > 0 {
					b.set("timestamp_delay", quote(millis(ms)))
				}
			} else {
				cv.warn("timestamp.delay.interval.ms", "Invalid setting", "timestamp.delay.interval.ms = %q is not a number of milliseconds.", v)
			}
		}
	} else if _, ok := cv.get("timestamp.delay.interval.ms"); ok {
		cv.use("timestamp.delay.interval.ms")
	}
	if v, ok := cv.get("poll.interval.ms"); ok {
		if ms, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && ms >= 10 {
			cv.use("poll.interval.ms")
			if ms != 5000 {
				b.set("poll_interval", quote(millis(ms)))
			}
		} else {
			cv.warn("poll.interval.ms", "Invalid setting", "poll.interval.ms = %q is not a number of milliseconds of 10 or more.", v)
		}
	}
	if v, ok := cv.get("batch.max.rows"); ok {
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && n >= 1 && n <= 100000 {
			cv.use("batch.max.rows")
			b.set("batch_size", strconv.FormatInt(n, 10))
		} else {
			cv.warn("batch.max.rows", "Invalid setting", "batch.max.rows = %q is not a row count from 1 to 100000.", v)
		}
	}
	if _, ok := cv.get("dialect.name"); ok {
		cv.use("dialect.name")
	}
	for _, k := range []string{"table.blacklist", "table.exclude.list"} {
		if v, ok := cv.get(k); ok && strings.TrimSpace(v) == "" {
			cv.use(k) // empty: excludes nothing
		}
	}
	cv.warn("connector.class", "Offsets and keys differ", "The sql source keeps its own offsets: it starts from the beginning of each table (Connect's offsets are not imported), and it keys records by the primary key, where Connect's JDBC source writes no key.")
}
