package schemas

// PlanPath is where the schema of `pipectl plan -json` is written.
const PlanPath = "schemas/plan.schema.json"

// planSchema describes the output of `pipectl plan -json` and
// `pipectl show -json FILE`: the contract of that view, which changes only
// together with this schema (and format_version).
func planSchema() map[string]any {
	str := map[string]any{"type": "string"}
	strings := map[string]any{"type": "array", "items": str}
	count := map[string]any{"type": "integer", "minimum": 0}
	change := map[string]any{
		"type":        "object",
		"description": "The plan for one resource, with Terraform's field names.",
		"properties": map[string]any{
			"address":          map[string]any{"type": "string", "description": "The resource address: topic.orders, source.generator.orders, sink.file.out[\"eu\"]."},
			"previous_address": map[string]any{"type": "string", "description": "The address a moved block moves the resource from."},
			"type":             map[string]any{"enum": []string{"topic", "source", "sink"}},
			"plugin_type":      map[string]any{"type": "string", "description": "The connector type of a source or sink, e.g. generator."},
			"name":             str,
			"actions": map[string]any{
				"type":        "array",
				"description": `Terraform's action list: ["no-op"], ["create"], ["update"], ["delete","create"] (replace) or ["delete"].`,
				"items":       map[string]any{"enum": []string{"no-op", "create", "update", "delete"}},
			},
			"before":           map[string]any{"type": []string{"object", "null"}, "description": "The resource as the state holds it (null when it does not exist): the topic or pipeline spec, sensitive values null."},
			"after":            map[string]any{"type": []string{"object", "null"}, "description": "The resource as it will be, sensitive values null."},
			"before_sensitive": map[string]any{"type": []string{"object", "boolean"}, "description": "Mirrors before with true where a sensitive value was left out; false when before is null."},
			"after_sensitive":  map[string]any{"type": []string{"object", "boolean"}, "description": "Mirrors after with true where a sensitive value was left out; false when after is null."},
			"replace_paths":    map[string]any{"type": "array", "items": strings, "description": "Paths in before/after of the attributes that force the replacement."},
			"action_reason":    map[string]any{"enum": []string{"replace_because_cannot_update", "replace_by_request", "delete_because_no_resource_config"}},
			"importing": map[string]any{
				"type":                 "object",
				"description":          "Set when the resource adopts an existing topic (an import block, or a topic an interrupted apply created).",
				"properties":           map[string]any{"id": str},
				"required":             []string{"id"},
				"additionalProperties": false,
			},
			"offsets": map[string]any{"enum": []string{"kept", "moved", "reset", "deleted", "imported"}, "description": "What happens to a pipeline's source offsets or sink consumer group offsets; imported: a new sink starts from the offsets of offsets_from's group."},
			"offsets_from": map[string]any{
				"type":        "object",
				"description": "With offsets imported: the consumer group (an import block's consumer_group) whose committed offsets apply copies to the new sink's group, and those offsets as plan read them.",
				"properties": map[string]any{
					"group": str,
					"partitions": map[string]any{"type": "array", "items": map[string]any{
						"type":                 "object",
						"properties":           map[string]any{"topic": str, "partition": map[string]any{"type": "integer", "minimum": 0}, "offset": map[string]any{"type": "integer", "minimum": 0}},
						"required":             []string{"topic", "partition", "offset"},
						"additionalProperties": false,
					}},
				},
				"required":             []string{"group"},
				"additionalProperties": false,
			},
			"connect_offsets_from": map[string]any{
				"type":        "object",
				"description": "With offsets imported on a new source: the Kafka Connect offsets topic and connector (an import block's connect_offsets_topic and connector) whose saved offsets apply copies, mapped to the source's, as plan read them.",
				"properties": map[string]any{
					"topic":     str,
					"connector": str,
					"offsets": map[string]any{"type": "array", "items": map[string]any{
						"type":                 "object",
						"properties":           map[string]any{"partition": map[string]any{"type": "object"}, "offset": map[string]any{"type": "object"}},
						"required":             []string{"partition", "offset"},
						"additionalProperties": false,
					}},
				},
				"required":             []string{"topic", "connector"},
				"additionalProperties": false,
			},
			"warnings": strings,
			"attribute_notes": map[string]any{
				"type":                 "object",
				"description":          "What the text plan shows as a comment beside an attribute, by its path: the files the tasks of a file sink write.",
				"additionalProperties": map[string]any{"type": "string"},
			},
		},
		"required":             []string{"address", "type", "name", "actions", "before", "after", "before_sensitive", "after_sensitive"},
		"additionalProperties": false,
	}
	note := map[string]any{
		"type":        "object",
		"description": "Something to know that is not a change: an operational pause or stop, a failed task, targeting in effect, no refresh, an adopted topic, a moved block with nothing to do, a dead-letter topic that no topic block declares.",
		"properties": map[string]any{
			"kind":    map[string]any{"enum": []string{"paused", "stopped", "failed", "targeting", "no_refresh", "adopted", "moved", "dead_letter", "import_ignored"}},
			"address": str,
			"message": str,
		},
		"required":             []string{"kind", "message"},
		"additionalProperties": false,
	}
	return map[string]any{
		"$schema":     draft,
		"$id":         BaseURL + PlanPath,
		"$comment":    generatedComment,
		"title":       "pipectl plan -json",
		"description": "A plan: the changes that apply would make to a fleet, the changes made outside pipectl (drift) and notes.",
		"type":        "object",
		"properties": map[string]any{
			"format_version":   map[string]any{"const": "1.0"},
			"fleet":            str,
			"serial":           map[string]any{"type": "integer", "minimum": -1, "description": "The state serial the plan was made against; -1 for a fleet never applied."},
			"config_hash":      map[string]any{"type": "string", "pattern": "^sha256:[0-9a-f]+$"},
			"destroy":          map[string]any{"type": "boolean", "description": "A destroy plan (plan -destroy, pipectl destroy)."},
			"refreshed":        map[string]any{"type": "boolean", "description": "False with -refresh=false: live topics and status were not read."},
			"targets":          strings,
			"replace":          strings,
			"resource_changes": map[string]any{"type": "array", "items": map[string]any{"$ref": "#/$defs/change"}, "description": "Every resource of the configuration or the state, no-ops included, in apply order."},
			"resource_drift":   map[string]any{"type": "array", "items": map[string]any{"$ref": "#/$defs/change"}, "description": "Objects have changed outside of pipectl: before is the state, after what is live."},
			"notes":            map[string]any{"type": "array", "items": map[string]any{"$ref": "#/$defs/note"}},
			"summary": map[string]any{
				"type": "object",
				"properties": map[string]any{
					"add": count, "change": count, "replace": count, "destroy": count, "move": count, "import": count,
				},
				"required":             []string{"add", "change", "replace", "destroy", "move", "import"},
				"additionalProperties": false,
			},
			"changes": map[string]any{"type": "boolean", "description": "Whether applying would change anything (what -detailed-exitcode reports); drift and notes alone do not."},
		},
		"required":             []string{"format_version", "fleet", "serial", "config_hash", "destroy", "refreshed", "targets", "replace", "resource_changes", "resource_drift", "notes", "summary", "changes"},
		"additionalProperties": false,
		"$defs":                map[string]any{"change": change, "note": note},
	}
}
