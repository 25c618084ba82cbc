package generator

import (
	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
)

func i64(v int64) *int64 { return &v }

var seqVar = []configschema.ExprVar{{
	Name:        "seq",
	Type:        "int",
	Description: "The record's sequence number, from 0, counted per task and kept across restarts.",
}}

// Schema is the configuration of source "generator".
var Schema = configschema.Schema{
	Kind:        configschema.Source,
	Type:        "generator",
	Description: "Generates records from CEL expressions over a sequence number `seq`.",
	Attributes: []configschema.Attribute{
		{Name: "topic", Type: configschema.String, Required: true, Description: "Topic the records are written to."},
		{Name: "rate", Type: configschema.Number, Default: int64(0), Min: i64(0), Description: "Records per second across all tasks; 0 produces as fast as possible."},
		{Name: "count", Type: configschema.Int, Default: int64(0), Min: i64(0), Description: "Stop after this many records per task; 0 never stops."},
		{Name: "key", Type: configschema.Expression, ExprVars: seqVar, Description: "CEL expression for the record key; no key when absent."},
		{Name: "value", Type: configschema.Expression, Required: true, ExprVars: seqVar, Description: "CEL expression for the record value."},
		{Name: "seed", Type: configschema.Int, Default: int64(0), ForcesReplacement: true, Description: "Seed of the random functions, so that runs are reproducible; changing it restarts the sequence."},
	},
}

// Source returns the plugin registration of source "generator".
func Source() connector.Plugin { return connector.Plugin{Schema: Schema} }
