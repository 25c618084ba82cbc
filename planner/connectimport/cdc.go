package connectimport

import (
	"regexp"
	"strconv"
	"strings"
)

// debeziumPostgres maps Debezium's PostgresConnector to source
// "postgres_cdc".
func debeziumPostgres(cv *conv) {
	b := cv.pipe
	cfg := cv.c.Config
	d := dsnParts{scheme: "postgres", port: "5432"}
	if h, ok := cv.get("database.hostname"); ok && h != "" {
		cv.use("database.hostname")
		d.host = h
	} else {
		cv.warn("database.hostname", "Missing host", "The connector has no database.hostname; set dsn.")
		d.host = "CHANGE-ME"
	}
	if p, ok := cv.get("database.port"); ok {
		if n, err := strconv.Atoi(strings.TrimSpace(p)); err == nil && n > 0 && n < 65536 {
			cv.use("database.port")
			d.port = strconv.Itoa(n)
		} else {
			cv.warn("database.port", "Invalid setting", "database.port = %q is not a port number.", p)
		}
	}
	if db, ok := cv.get("database.dbname"); ok && db != "" {
		cv.use("database.dbname")
		d.db = db
	} else {
		cv.warn("database.dbname", "Missing database", "The connector has no database.dbname; set dsn.")
		d.db = "CHANGE-ME"
	}
	if m, ok := cv.get("database.sslmode"); ok && m != "" {
		cv.use("database.sslmode")
		d.sslmode = m
	}
	b.set("dsn", cv.dsnExpr(d, "database.user", "database.password"))

	if v, ok := cv.get("table.include.list"); ok && strings.TrimSpace(v) != "" {
		var tables []string
		for _, re := range splitList(v) {
			t, ok := tablePattern(re)
			if !ok {
				cv.warn("table.include.list", "Regular expression not read", "table.include.list holds %q, a regular expression that is not a schema.table name or a simple pattern; postgres_cdc's tables take names and * ? patterns.", re)
				continue
			}
			tables = append(tables, t)
		}
		if len(tables) > 0 && len(tables) == len(splitList(v)) {
			cv.use("table.include.list")
		}
		if len(tables) == 0 {
			tables = []string{"public.CHANGE-ME"}
		}
		b.set("tables", list(tables))
	} else {
		cv.warn("table.include.list", "Every table", "Without table.include.list Debezium captures every table of the database; the import writes tables = [\"*.*\"] (every table of every schema when the task starts): name the tables instead.")
		b.set("tables", list([]string{"*.*"}))
	}
	// Debezium's defaults: the slot debezium, the publication
	// dbz_publication.
	b.set("slot", quote(cv.pgName("slot.name", "debezium")))
	b.set("publication", quote(cv.pgName("publication.name", "dbz_publication")))
	if m, ok := cv.get("publication.autocreate.mode"); ok {
		switch m {
		case "filtered", "disabled":
			// postgres_cdc reads an existing publication, or creates
			// it for its tables.
			cv.use("publication.autocreate.mode")
		}
	}
	if p, ok := cv.get("plugin.name"); ok && p == "pgoutput" {
		cv.use("plugin.name")
	}
	if m, ok := cv.get("snapshot.mode"); ok {
		switch m {
		case "initial":
			cv.use("snapshot.mode")
		case "never", "no_data":
			cv.use("snapshot.mode")
			b.set("snapshot", quote("never"))
		case "initial_only":
			cv.use("snapshot.mode")
			b.set("snapshot", quote("initial_only"))
		default:
			cv.warn("snapshot.mode", "Snapshot mode not supported", "snapshot.mode = %q has no postgres_cdc equivalent (initial, never and initial_only); the import uses initial.", m)
		}
	}
	prefix, ok := cv.get("topic.prefix")
	key := "topic.prefix"
	if !ok {
		prefix, ok = cv.get("database.server.name") // Debezium 1.x
		key = "database.server.name"
	}
	if ok && prefix != "" && topicRE.MatchString(prefix+".") {
		cv.use(key)
		// Debezium's topics are <prefix>.<schema>.<table>; postgres_cdc's
		// PREFIX + schema + "." + table.
		b.set("topic_prefix", quote(prefix+"."))
	} else if ok {
		cv.warn(key, "Invalid topic prefix", "%s = %q does not make valid topic names.", key, prefix)
	}
	if v, ok := cv.get("heartbeat.interval.ms"); ok {
		ms, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		switch {
		case err != nil || ms < 0:
			cv.warn("heartbeat.interval.ms", "Invalid setting", "heartbeat.interval.ms = %q is not a number of milliseconds.", v)
		case ms == 0:
			// Debezium's default, no heartbeats; postgres_cdc always
			// confirms an idle slot's position.
			cv.use("heartbeat.interval.ms")
		default:
			cv.use("heartbeat.interval.ms")
			if ms < 100 {
				ms = 100
			}
			b.set("heartbeat_interval", quote(millis(ms)))
		}
	}
	if v, ok := cfg["tasks.max"]; ok {
		// Debezium's PostgreSQL connector runs one task whatever tasks.max
		// says; so does postgres_cdc.
		cv.use("tasks.max")
		if v != "1" {
			cv.warn("tasks.max", "One task", "Debezium's PostgreSQL connector runs one task (tasks.max = %s is ignored); so does postgres_cdc.", v)
		}
	}
	cv.warn("connector.class", "Record format differs", "postgres_cdc writes pipectl's change envelope (op, before, after, source { lsn, txid, schema, table, ts_ms, snapshot }; docs/cdc.md), not Debezium's: consumers and SMTs written for Debezium's records (ExtractNewRecordState) need changing. A format = \"debezium\" is not built yet.")
	// Its offsets ({"server"} → {"lsn_commit", …}) map onto postgres_cdc's
	// ({"slot"} → {"lsn"}): apply copies them from Connect's offsets
	// topic, and the source streams on from the same slot without a new
	// snapshot.
	cv.post = append(cv.post, connectOffsetsImport(cv, "postgres_cdc", "it streamed"))
}

var pgNameRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// pgName is a slot or publication name, def when it is not set; a name
// PostgreSQL would refuse is a warning and becomes change_me.
func (cv *conv) pgName(key, def string) string {
	v, ok := cv.get(key)
	if !ok || v == "" {
		return def
	}
	if !pgNameRE.MatchString(v) {
		cv.warn(key, "Invalid name", "%s = %q is not a PostgreSQL slot or publication name (lower-case letters, digits and underscores, at most 63).", key, v)
		return "change_me"
	}
	cv.use(key)
	return v
}

// tablePattern maps a Debezium table.include.list entry, a regular
// expression over schema.table, to postgres_cdc's names and patterns:
// \. is a dot, .* is *; anything else regular is not read.
func tablePattern(re string) (string, bool) {
	s := strings.ReplaceAll(re, `\.`, "\x00")
	s = strings.ReplaceAll(s, ".*", "*")
	if strings.ContainsAny(s, `\[](){}+|^$?`) {
		return "", false
	}
	s = strings.ReplaceAll(s, "\x00", ".")
	sch, tbl, _ := strings.Cut(s, ".")
	if strings.Count(s, ".") != 1 || sch == "" || tbl == "" || strings.IndexByte(s, 0) >= 0 {
		return "", false
	}
	return s, true
}
