package connectimport_test

import (
	"strings"
	"testing"

	"github.com/pipectl/pipectl/planner/connectimport"
)

// TestDatabaseConnectors imports JDBC and Debezium PostgreSQL connector
// configurations: each result validates with the real plugins, holds the
// attributes the mapping promises, and never a secret.
func TestDatabaseConnectors(t *testing.T) {
	const (
		jdbcSink   = "io.confluent.connect.jdbc.JdbcSinkConnector"
		jdbcSource = "io.confluent.connect.jdbc.JdbcSourceConnector"
		debezium   = "io.debezium.connector.postgresql.PostgresConnector"
	)
	tests := []struct {
		name     string
		config   map[string]string
		want     []string // lines of the output (trimmed, spaces collapsed)
		warnings []string // summaries that must be among the warnings
		never    []string // must appear nowhere: files, comments, warnings
	}{
		{
			name: "sink: postgres URL defaults the port, literal password becomes env()",
			config: map[string]string{"connector.class": jdbcSink, "topics": "a", "connection.url": "jdbc:postgresql://db/shop",
				"connection.user": "app", "connection.password": "p@ss:w0rd"},
			want:     []string{`dsn = "postgres://app:${env("S_CONNECTION_PASSWORD")}@db:5432/shop"`},
			warnings: []string{"Secret replaced by an environment variable"},
			never:    []string{"p@ss:w0rd"},
		},
		{
			name: "sink: credentials in the URL's parameters are never copied",
			config: map[string]string{"connector.class": jdbcSink, "topics": "a",
				"connection.url": "jdbc:mysql://db:3306/shop?user=root&password=hunter2&useSSL=true"},
			want:     []string{`dsn = "mysql://db:3306/shop"`},
			warnings: []string{"Connection properties not imported"},
			never:    []string{"hunter2"},
		},
		{
			name:   "sink: IPv6 host, mariadb scheme",
			config: map[string]string{"connector.class": jdbcSink, "topics": "a", "connection.url": "jdbc:mariadb://[::1]:3307/db"},
			want:   []string{`dsn = "mysql://[::1]:3307/db"`},
		},
		{
			name:     "sink: another database is a warning, the dsn a placeholder",
			config:   map[string]string{"connector.class": jdbcSink, "topics": "a", "connection.url": "jdbc:sqlserver://db:1433;databaseName=x"},
			want:     []string{`dsn = "postgres://CHANGE-ME:5432/CHANGE-ME"`, `# Not imported: connection.url = "jdbc:sqlserver://db:1433;databaseName=x"`},
			warnings: []string{"Database not supported"},
		},
		{
			name: "sink: upsert on the record key, deletes, table format",
			config: map[string]string{"connector.class": jdbcSink, "topics": "a", "connection.url": "jdbc:postgresql://db:5432/x",
				"insert.mode": "upsert", "pk.mode": "record_key", "pk.fields": "id, region", "delete.enabled": "true",
				"auto.create": "true", "auto.evolve": "false", "table.name.format": "${topic}_v2"},
			want: []string{`mode = "upsert"`, `primary_key = ["id", "region"]`, `delete_enabled = true`, `auto_create = true`, `table = "topic + '_v2'"`},
		},
		{
			name: "sink: upsert without pk.fields is a placeholder, still valid",
			config: map[string]string{"connector.class": jdbcSink, "topics": "a", "connection.url": "jdbc:postgresql://db:5432/x",
				"insert.mode": "upsert", "pk.mode": "record_value"},
			want:     []string{`primary_key = ["CHANGE-ME"]`},
			warnings: []string{"Primary key columns not named"},
		},
		{
			name: "sink: pk.mode kafka and an unknown placeholder are warnings",
			config: map[string]string{"connector.class": jdbcSink, "topics": "a", "connection.url": "jdbc:postgresql://db:5432/x",
				"pk.mode": "kafka", "table.name.format": "${source.table}"},
			want:     []string{`# Not imported: pk.mode = "kafka"`, `# Not imported: table.name.format = "${source.table}"`},
			warnings: []string{"Primary key mode not supported", "Table name format not read"},
		},
		{
			name: "sink: a repeated primary key column is a warning, still valid",
			config: map[string]string{"connector.class": jdbcSink, "topics": "a", "connection.url": "jdbc:postgresql://db:5432/x",
				"insert.mode": "upsert", "pk.mode": "record_value", "pk.fields": "id,id"},
			want:     []string{`primary_key = ["CHANGE-ME"]`, `# Not imported: pk.fields = "id,id"`},
			warnings: []string{"Invalid name"},
		},
		{
			name: "postgres_cdc: a slot name PostgreSQL refuses is a warning, still valid",
			config: map[string]string{"connector.class": debezium, "database.hostname": "pg", "database.dbname": "d",
				"table.include.list": "public.a", "slot.name": "Bad-Slot"},
			want:     []string{`slot = "change_me"`, `# Not imported: slot.name = "Bad-Slot"`},
			warnings: []string{"Invalid name"},
		},
		{
			name: "source: timestamp mode leaves out the unused incrementing column",
			config: map[string]string{"connector.class": jdbcSource, "connection.url": "jdbc:postgresql://db:5432/x",
				"mode": "timestamp", "timestamp.column.name": "modified", "incrementing.column.name": "id", "table.whitelist": "t1",
				"timestamp.delay.interval.ms": "1500", "poll.interval.ms": "60000"},
			want: []string{`mode = "timestamp"`, `timestamp_column = "modified"`, `timestamp_delay = "1500ms"`, `poll_interval = "1m"`, `tables = ["t1"]`},
		},
		{
			name:     "source: every table is a placeholder",
			config:   map[string]string{"connector.class": jdbcSource, "connection.url": "jdbc:postgresql://db:5432/x", "mode": "bulk", "topic.prefix": "p."},
			want:     []string{`tables = ["CHANGE-ME"]`, `topic_prefix = "p."`},
			warnings: []string{"Every table not supported", "Offsets and keys differ"},
		},
		{
			name: "postgres_cdc: Debezium's defaults, never snapshot, literal password",
			config: map[string]string{"connector.class": debezium, "database.hostname": "pg", "database.user": "u", "database.password": "Sup3r$ecret",
				"database.dbname": "d", "topic.prefix": "srv", "snapshot.mode": "never", "table.include.list": "inventory\\.orders", "tasks.max": "1"},
			want: []string{`dsn = "postgres://u:${env("S_DATABASE_PASSWORD")}@pg:5432/d"`, `tables = ["inventory.orders"]`, `slot = "debezium"`,
				`publication = "dbz_publication"`, `snapshot = "never"`, `topic_prefix = "srv."`},
			warnings: []string{"Record format differs", "Secret replaced by an environment variable"},
			never:    []string{"Sup3r$ecret", "tasks ="},
		},
		{
			name: "postgres_cdc: an unsupported snapshot mode is a warning",
			config: map[string]string{"connector.class": debezium, "database.hostname": "pg", "database.dbname": "d", "snapshot.mode": "always",
				"table.include.list": "public.a", "heartbeat.interval.ms": "50"},
			want:     []string{`# Not imported: snapshot.mode = "always"`, `heartbeat_interval = "100ms"`},
			warnings: []string{"Snapshot mode not supported"},
		},
	}
	reg := registry(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := connectimport.Convert([]connectimport.Connector{{Name: "s", Config: tt.config, Origin: "test"}})
			if err != nil {
				t.Fatal(err)
			}
			validate(t, reg, res.Files)
			out := string(archive(res))
			lines := map[string]bool{}
			for _, l := range strings.Split(out, "\n") {
				lines[strings.Join(strings.Fields(l), " ")] = true
			}
			for _, w := range tt.want {
				if !lines[w] {
					t.Errorf("no line %s in\n%s", w, out)
				}
			}
			for _, w := range tt.warnings {
				found := false
				for _, got := range res.Warnings {
					found = found || got.Summary == w
				}
				if !found {
					t.Errorf("no warning %q in\n%s", w, out)
				}
			}
			for _, n := range tt.never {
				if strings.Contains(out, n) {
					t.Errorf("%q appears in\n%s", n, out)
				}
			}
		})
	}
}
