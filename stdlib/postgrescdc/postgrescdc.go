package postgrescdc

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
)

// Schema is the configuration of source "postgres_cdc".
var Schema = configschema.Schema{
	Kind:         configschema.Source,
	Type:         "postgres_cdc",
	KeyConverter: "json", // the key is a map of the primary key
	Description:  "Streams every insert, update, delete and truncate of PostgreSQL tables (logical replication, pgoutput) after an initial snapshot consistent with the replication slot. One task per pipeline.",
	Attributes: []configschema.Attribute{
		{Name: "dsn", Type: configschema.String, Required: true, NonEmpty: true, Sensitive: true, ForcesReplacement: true, Description: "Connection string of the database (\"postgres://user:password@host:5432/db\" or \"host=... user=... dbname=...\"); pass the password through a sensitive variable or env(). The user needs the REPLICATION attribute (or to own the tables and the publication), and the server wal_level = logical."},
		{Name: "tables", Type: configschema.ListOfString, Required: true, NonEmpty: true, ForcesReplacement: true, Description: "Tables to capture, as schema.table (a name without a schema is in public); a name with * or ? is a pattern (\"public.order_*\", \"sales.*\") over the tables there when the task starts. Each name must exist and each pattern match one table at least."},
		{Name: "slot", Type: configschema.String, Required: true, NonEmpty: true, ForcesReplacement: true, Description: "Logical replication slot (pgoutput), created when missing. It holds WAL until the source confirms it: drop it (SELECT pg_drop_replication_slot('NAME')) when the pipeline is destroyed for good."},
		{Name: "publication", Type: configschema.String, Description: "Publication to read, created FOR TABLE the tables when missing (missing tables are added to an existing one). Default: the slot's name."},
		{Name: "snapshot", Type: configschema.String, Default: "initial", Enum: []string{"initial", "never", "initial_only"}, Description: "initial: read every row of the tables first (op \"r\"), from the snapshot the slot exported when it was created, then stream changes; never: stream changes from the slot's position; initial_only: read every row once (a REPEATABLE READ transaction, no slot or publication) and finish."},
		{Name: "topic_prefix", Type: configschema.String, Description: "Prefix of the target topics: a table's changes go to PREFIX + schema + \".\" + table. Default: the fleet's name and a dot."},
		{Name: "topic", Type: configschema.Expression, ExprVars: tableVars, Description: "CEL expression over schema and table giving a table's target topic, such as \"'cdc.' + table\"; evaluated once per table. Overrides topic_prefix."},
		{Name: "heartbeat_interval", Type: configschema.Duration, Default: "10s", MinDuration: "100ms", Description: "How often the source confirms its position to PostgreSQL when no change arrives, so that an idle slot does not hold WAL."},
	},
	Check: check,
}

var tableVars = []configschema.ExprVar{
	{Name: "schema", Type: "string", Description: "The table's schema, e.g. public."},
	{Name: "table", Type: "string", Description: "The table's name, e.g. orders."},
}

// Config is the configuration of source "postgres_cdc", as Schema declares it.
type Config struct {
	DSN               string         `pipectl:"dsn"`
	Tables            []string       `pipectl:"tables"`
	Slot              string         `pipectl:"slot"`
	Publication       string         `pipectl:"publication"`
	Snapshot          string         `pipectl:"snapshot"`
	TopicPrefix       string         `pipectl:"topic_prefix"`
	Topic             connector.Expr `pipectl:"topic"`
	HeartbeatInterval time.Duration  `pipectl:"heartbeat_interval"`
}

// Source returns the plugin registration of source "postgres_cdc".
func Source() connector.Plugin {
	return connector.Plugin{Schema: Schema, Config: (*Config)(nil), NewSource: func() connector.Source { return new(source) }}
}

var identRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// splitTable splits schema.table; a name without a schema is in public.
func splitTable(name string) (schema, tbl string, ok bool) {
	schema, tbl, found := strings.Cut(name, ".")
	if !found {
		schema, tbl = "public", name
	}
	return schema, tbl, schema != "" && tbl != "" && !strings.Contains(tbl, ".")
}

func check(values map[string]any) []*configschema.Error {
	var errs []*configschema.Error
	fail := func(attr, summary, format string, args ...any) {
		errs = append(errs, &configschema.Error{Rule: configschema.RuleCheck, Attribute: attr, Summary: summary, Detail: fmt.Sprintf(format, args...)})
	}
	for _, name := range []string{"slot", "publication"} {
		a := configschema.Attribute{Name: name, Type: configschema.String}
		if v, err := a.Coerce(values[name]); err == nil {
			if s, _ := v.(string); s != "" && !identRE.MatchString(s) {
				fail(name, "Invalid "+name+" name", "The %s name %q is not valid: use lower-case letters, digits and underscores (at most 63, not starting with a digit).", name, s)
			}
		}
	}
	a := configschema.Attribute{Name: "tables", Type: configschema.ListOfString}
	if v, err := a.Coerce(values["tables"]); err == nil {
		ts, _ := v.([]string)
		for _, t := range ts {
			if _, _, ok := splitTable(t); !ok {
				fail("tables", "Invalid table name", "The table %q is not schema.table or table: write it like \"public.orders\".", t)
			} else if _, err := path.Match(t, ""); err != nil {
				fail("tables", "Invalid table pattern", "The table pattern %q is malformed (%v): use * and ? as in \"public.order_*\".", t, err)
			}
		}
	}
	ta := configschema.Attribute{Name: "tasks", Type: configschema.Int}
	if v, err := ta.Coerce(values["tasks"]); err == nil {
		if n, _ := v.(int64); n > 1 {
			fail("tasks", "Too many tasks", "A replication slot is read by one connection: remove tasks or set it to 1.")
		}
	}
	return errs
}
