package sqlconn

import (
	"time"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib/sqlconn/dialect"
)

func i64(v int64) *int64 { return &v }

var dsnAttr = configschema.Attribute{
	Name: "dsn", Type: configschema.String, Required: true, NonEmpty: true, Sensitive: true,
	Description: "Connection string: postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=disable or mysql://USER:PASSWORD@HOST:PORT/DATABASE (go-sql-driver's parameters after ?); pass the password through a sensitive variable or env(). Sessions run in UTC.",
}

var dialectAttr = configschema.Attribute{
	Name: "dialect", Type: configschema.String, Enum: dialect.Names,
	Description: "postgres or mysql (MySQL and MariaDB); by default told from the dsn's scheme (postgres://, postgresql://, mysql://, mariadb://). Needed for a keyword=value or go-sql-driver dsn.",
}

var tableVars = []configschema.ExprVar{
	{Name: "topic", Type: "string", Description: "The record's topic."},
	{Name: "partition", Type: "int", Description: "The record's partition."},
	{Name: "key", Type: "dyn", Description: "The record's key."},
	{Name: "value", Type: "dyn", Description: "The record's value."},
	{Name: "headers", Type: "dyn", Description: "The record's headers, a map of strings (the last value of a repeated header)."},
}

// SinkSchema is the configuration of sink "sql".
var SinkSchema = configschema.Schema{
	Kind:        configschema.Sink,
	Type:        "sql",
	Description: "Writes records as rows of PostgreSQL or MySQL/MariaDB tables: insert or upsert by primary key, delete on tombstones, one transaction per flush (offsets are committed after it commits). A row the database refuses on its own (a constraint, a value too long) goes to the dead-letter topic with errors.tolerance = \"all\"; the rest of the batch is written.",
	Attributes: []configschema.Attribute{
		dsnAttr,
		dialectAttr,
		{Name: "table", Type: configschema.Expression, Default: "topic", ExprVars: tableVars, Description: "CEL expression over the record giving the table name, taken whole as one identifier (quoted; \"shop.orders\" is a table of that name in the dsn's schema or database). A constant is a CEL string literal: \"'orders'\"."},
		{Name: "mode", Type: configschema.String, Default: "insert", Enum: []string{"insert", "upsert"}, Description: "insert: INSERT each record (a duplicate key is a rejected row); upsert: insert or update by primary_key (ON CONFLICT … DO UPDATE on PostgreSQL, ON DUPLICATE KEY UPDATE on MySQL)."},
		{Name: "primary_key", Type: configschema.ListOfString, Description: "Primary key columns. Each is read from the record value, or else from the key (a field of a map key, or the key itself when there is one column). Required by upsert and delete_enabled; auto_create declares them as the table's primary key."},
		{Name: "delete_enabled", Type: configschema.Bool, Default: false, Description: "A tombstone (a record whose value is null) deletes the row of its key. When false, tombstones are skipped."},
		{Name: "auto_create", Type: configschema.Bool, Default: false, Description: "Create a missing table from the record's value schema (or, for a schemaless value, from the Go types of its fields) with primary_key as its primary key."},
		{Name: "auto_evolve", Type: configschema.Bool, Default: false, Description: "Add a column the table lacks (nullable, typed from the record). Columns are never dropped or altered. On MySQL, DDL commits the transaction in progress first."},
	},
	RequiredWith: []configschema.Requirement{{Attribute: "delete_enabled", Requires: []string{"primary_key"}}},
	Check:        checkSink,
}

// SinkConfig is the configuration of sink "sql", as SinkSchema declares
// it.
type SinkConfig struct {
	DSN           string         `pipectl:"dsn"`
	Dialect       string         `pipectl:"dialect"`
	Table         connector.Expr `pipectl:"table"`
	Mode          string         `pipectl:"mode"`
	PrimaryKey    []string       `pipectl:"primary_key"`
	DeleteEnabled bool           `pipectl:"delete_enabled"`
	AutoCreate    bool           `pipectl:"auto_create"`
	AutoEvolve    bool           `pipectl:"auto_evolve"`
}

// checkDialect refuses a dsn whose dialect cannot be told, when the dsn is
// known at validate time. Its errors never quote the dsn.
func checkDialect(values map[string]any) []*configschema.Error {
	v := values["dsn"]
	if sv, isSensitive := v.(configschema.Sensitive); isSensitive {
		v = sv.Value
	}
	dsn, ok := v.(string)
	if !ok || dsn == "" {
		return nil
	}
	explicit, _ := values["dialect"].(string)
	if _, err := dialect.Resolve(dsn, explicit); err != nil {
		return []*configschema.Error{{Rule: configschema.RuleCheck, Attribute: "dialect", Summary: "Unknown SQL dialect", Detail: "The " + err.Error() + "."}}
	}
	return nil
}

func checkSink(values map[string]any) []*configschema.Error {
	errs := checkDialect(values)
	pk := stringList(values["primary_key"])
	if mode, _ := values["mode"].(string); mode == "upsert" && len(pk) == 0 {
		errs = append(errs, &configschema.Error{Rule: configschema.RuleCheck, Attribute: "primary_key", Summary: "Missing primary key",
			Detail: `An upsert needs the primary key columns: set primary_key = ["id"] (the table must have a primary key or unique index on them).`})
	}
	errs = append(errs, checkIdentifiers(values, "primary_key")...)
	return errs
}

// checkIdentifiers refuses column names neither dialect takes.
func checkIdentifiers(values map[string]any, names ...string) []*configschema.Error {
	var errs []*configschema.Error
	for _, n := range names {
		list := stringList(values[n])
		seen := map[string]bool{}
		for _, id := range list {
			if err := dialect.Postgres.CheckIdentifier(id); err != nil {
				errs = append(errs, &configschema.Error{Rule: configschema.RuleCheck, Attribute: n, Summary: "Invalid identifier", Detail: "In " + n + ", " + err.Error() + "."})
			}
			if seen[id] {
				errs = append(errs, &configschema.Error{Rule: configschema.RuleCheck, Attribute: n, Summary: "Duplicate column", Detail: "The column " + id + " is listed twice in " + n + "."})
			}
			seen[id] = true
		}
	}
	return errs
}

// strings reads a string or list(string) value as Check gets it: from
// HCL a []string, from the stored configuration a []any.
func stringList(v any) []string {
	switch x := v.(type) {
	case configschema.Sensitive:
		return stringList(x.Value)
	case string:
		if x != "" {
			return []string{x}
		}
	case []string:
		return x
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// SourceSchema is the configuration of source "sql".
var SourceSchema = configschema.Schema{
	Kind:         configschema.Source,
	Type:         "sql",
	KeyConverter: "json", // the key is a struct of the primary key
	Description:  "Polls PostgreSQL or MySQL/MariaDB tables (or a query) as Kafka Connect's JDBC source does: bulk, incrementing, timestamp or timestamp+incrementing. Records are keyed by the primary key, values are structs with a record schema from the column types; the last id and timestamp are saved in the offsets topic so that a restart resumes where it stopped.",
	Attributes: []configschema.Attribute{
		dsnAttr,
		dialectAttr,
		{Name: "table", Type: configschema.String, NonEmpty: true, Description: "Table to poll, in the dsn's schema or database."},
		{Name: "tables", Type: configschema.ListOfString, NonEmpty: true, Description: "Tables to poll, spread over the pipeline's tasks (table i goes to task i % tasks)."},
		{Name: "query", Type: configschema.String, NonEmpty: true, Description: "A custom SELECT instead of a table; the mode's WHERE and ORDER BY are added around it (SELECT * FROM (query) AS q WHERE …). Needs topic; key_columns names the key."},
		{Name: "mode", Type: configschema.String, Required: true, Enum: []string{"bulk", "incrementing", "timestamp", "timestamp+incrementing"}, ForcesReplacement: true, Description: "bulk: the whole table every poll_interval; incrementing: rows whose incrementing_column is above the last one seen (new rows); timestamp: rows whose timestamp_column is after the last one seen (new and updated rows); timestamp+incrementing: both, exact even when rows share a timestamp."},
		{Name: "incrementing_column", Type: configschema.String, NonEmpty: true, Description: "A strictly increasing integer column (a serial, an AUTO_INCREMENT id), for incrementing and timestamp+incrementing."},
		{Name: "timestamp_column", Type: configschema.String, NonEmpty: true, Description: "A timestamp column set on insert and update, for timestamp and timestamp+incrementing; NULLs are never read."},
		{Name: "timestamp_delay", Type: configschema.Duration, Default: "0s", Description: "Only rows whose timestamp is older than the database's clock minus this delay are read, so that transactions still in flight when a poll runs are not passed over."},
		{Name: "key_columns", Type: configschema.ListOfString, NonEmpty: true, Description: "Columns of the record key (a struct); by default the table's primary key. Without either the records have no key."},
		{Name: "poll_interval", Type: configschema.Duration, Default: "5s", MinDuration: "10ms", Description: "How long to wait after a poll that reached the end of the new rows."},
		{Name: "batch_size", Type: configschema.Int, Default: int64(1000), Min: i64(1), Max: i64(100000), Description: "Most rows in one batch handed to Kafka (and one offset saved)."},
		{Name: "topic", Type: configschema.Expression, ExprVars: []configschema.ExprVar{{Name: "table", Type: "string", Description: "The table the row comes from (\"query\" for a custom query)."}}, Description: "CEL expression for the target topic over `table`; by default topic_prefix + table. A constant is a CEL string literal: \"'orders'\"."},
		{Name: "topic_prefix", Type: configschema.String, Default: "", Description: "Prefix of the default topic names: topic_prefix + table."},
	},
	ExactlyOneOf: [][]string{{"table", "tables", "query"}},
	Check:        checkSource,
}

// SourceConfig is the configuration of source "sql", as SourceSchema
// declares it.
type SourceConfig struct {
	DSN                string         `pipectl:"dsn"`
	Dialect            string         `pipectl:"dialect"`
	Table              string         `pipectl:"table"`
	Tables             []string       `pipectl:"tables"`
	Query              string         `pipectl:"query"`
	Mode               string         `pipectl:"mode"`
	IncrementingColumn string         `pipectl:"incrementing_column"`
	TimestampColumn    string         `pipectl:"timestamp_column"`
	TimestampDelay     time.Duration  `pipectl:"timestamp_delay"`
	KeyColumns         []string       `pipectl:"key_columns"`
	PollInterval       time.Duration  `pipectl:"poll_interval"`
	BatchSize          int64          `pipectl:"batch_size"`
	Topic              connector.Expr `pipectl:"topic"`
	TopicPrefix        string         `pipectl:"topic_prefix"`
}

func checkSource(values map[string]any) []*configschema.Error {
	errs := checkDialect(values)
	fail := func(attr, summary, detail string) {
		errs = append(errs, &configschema.Error{Rule: configschema.RuleCheck, Attribute: attr, Summary: summary, Detail: detail})
	}
	mode, _ := values["mode"].(string)
	inc, _ := values["incrementing_column"].(string)
	ts, _ := values["timestamp_column"].(string)
	if (mode == "incrementing" || mode == "timestamp+incrementing") && inc == "" {
		fail("incrementing_column", "Missing incrementing column", `Mode "`+mode+`" needs incrementing_column, an integer column that grows with every new row (e.g. "id").`)
	}
	if (mode == "timestamp" || mode == "timestamp+incrementing") && ts == "" {
		fail("timestamp_column", "Missing timestamp column", `Mode "`+mode+`" needs timestamp_column, a timestamp set on insert and update (e.g. "updated_at").`)
	}
	if (mode == "bulk" || mode == "timestamp") && inc != "" {
		fail("incrementing_column", "Unused incrementing column", `Mode "`+mode+`" does not use incrementing_column: remove it, or use mode = "incrementing" or "timestamp+incrementing".`)
	}
	if (mode == "bulk" || mode == "incrementing") && ts != "" {
		fail("timestamp_column", "Unused timestamp column", `Mode "`+mode+`" does not use timestamp_column: remove it, or use mode = "timestamp" or "timestamp+incrementing".`)
	}
	if q, _ := values["query"].(string); q != "" {
		if values["topic"] == nil {
			fail("topic", "Missing topic", `A custom query has no table to name its topic after: set topic = "'NAME'".`)
		}
	}
	if values["topic"] != nil {
		if p, _ := values["topic_prefix"].(string); p != "" {
			fail("topic_prefix", "Conflicting topic settings", "topic_prefix only builds the default topic names: with topic set, remove it (or use it in the expression).")
		}
	}
	errs = append(errs, checkIdentifiers(values, "table", "tables", "incrementing_column", "timestamp_column", "key_columns")...)
	return errs
}

// Sink returns the plugin registration of sink "sql".
func Sink() connector.Plugin {
	return connector.Plugin{Schema: SinkSchema, Config: (*SinkConfig)(nil), NewSink: func() connector.Sink { return new(sink) }}
}

// Source returns the plugin registration of source "sql".
func Source() connector.Plugin {
	return connector.Plugin{Schema: SourceSchema, Config: (*SourceConfig)(nil), NewSource: func() connector.Source { return new(source) }}
}
