package sqlconn_test

import (
	"strings"
	"testing"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/stdlib/sqlconn"
)

// TestValidate checks the rules validate reports without a database.
func TestValidate(t *testing.T) {
	pg := "postgres://u@h/db"
	cases := []struct {
		name   string
		schema *configschema.Schema
		values map[string]any
		want   string // a piece of the one error, "" for none
	}{
		{"sink ok", &sqlconn.SinkSchema, map[string]any{"dsn": pg, "mode": "upsert", "primary_key": []string{"id"}}, ""},
		{"sink stored config", &sqlconn.SinkSchema, map[string]any{"dsn": configschema.Sensitive{Value: pg}, "mode": "upsert", "primary_key": []any{"id"}}, ""},
		{"upsert without key", &sqlconn.SinkSchema, map[string]any{"dsn": pg, "mode": "upsert"}, "primary_key"},
		{"delete without key", &sqlconn.SinkSchema, map[string]any{"dsn": pg, "delete_enabled": true}, "primary_key"},
		{"unknown dialect", &sqlconn.SinkSchema, map[string]any{"dsn": "host=h user=u"}, "dialect"},
		{"dialect disagrees", &sqlconn.SinkSchema, map[string]any{"dsn": pg, "dialect": "mysql"}, "postgres URL"},
		{"keyword dsn with dialect", &sqlconn.SinkSchema, map[string]any{"dsn": "host=h user=u", "dialect": "postgres"}, ""},
		{"bad column", &sqlconn.SinkSchema, map[string]any{"dsn": pg, "mode": "upsert", "primary_key": []string{"a\x00b"}}, "NUL"},
		{"source ok", &sqlconn.SourceSchema, map[string]any{"dsn": pg, "table": "t", "mode": "incrementing", "incrementing_column": "id"}, ""},
		{"incrementing without column", &sqlconn.SourceSchema, map[string]any{"dsn": pg, "table": "t", "mode": "incrementing"}, "incrementing_column"},
		{"timestamp without column", &sqlconn.SourceSchema, map[string]any{"dsn": pg, "table": "t", "mode": "timestamp+incrementing", "incrementing_column": "id"}, "timestamp_column"},
		{"unused column", &sqlconn.SourceSchema, map[string]any{"dsn": pg, "table": "t", "mode": "bulk", "timestamp_column": "ts"}, "does not use"},
		{"table and query", &sqlconn.SourceSchema, map[string]any{"dsn": pg, "table": "t", "query": "SELECT 1", "mode": "bulk", "topic": "'x'"}, "table"},
		{"query without topic", &sqlconn.SourceSchema, map[string]any{"dsn": pg, "query": "SELECT 1", "mode": "bulk"}, "topic"},
		{"topic and prefix", &sqlconn.SourceSchema, map[string]any{"dsn": pg, "table": "t", "mode": "bulk", "topic": "'x'", "topic_prefix": "p."}, "topic_prefix"},
	}
	for _, c := range cases {
		errs := c.schema.CheckGroups(c.values)
		switch {
		case c.want == "" && len(errs) > 0:
			t.Errorf("%s: unexpected errors: %v", c.name, configschema.Errors(errs))
		case c.want != "" && len(errs) != 1:
			t.Errorf("%s: %d errors (%v), want one about %q", c.name, len(errs), configschema.Errors(errs), c.want)
		case c.want != "" && !strings.Contains(errs[0].Error()+errs[0].Attribute, c.want):
			t.Errorf("%s: error %q (at %s), want one about %q", c.name, errs[0], errs[0].Attribute, c.want)
		}
		for _, e := range errs {
			if strings.Contains(e.Error(), "u@h") || strings.Contains(e.Error(), "host=h") {
				t.Errorf("%s: the error quotes the dsn: %v", c.name, e)
			}
		}
	}
}
